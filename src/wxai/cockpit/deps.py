"""Dependencies injected into the route handlers (set up by the app's lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wxai.cockpit.jobs import Worker
from wxai.cockpit.storage import TaskStore
from wxai.core.settings import Settings


def get_store(request: Request) -> TaskStore:
    """The task store opened at startup."""
    return request.app.state.store


def get_worker(request: Request) -> Worker:
    """The task worker started at startup."""
    return request.app.state.worker


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


StoreDep = Annotated[TaskStore, Depends(get_store)]
WorkerDep = Annotated[Worker, Depends(get_worker)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
