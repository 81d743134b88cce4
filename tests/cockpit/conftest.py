"""Fixtures of the cockpit unit tests: a private wxai home, the app, a test task type."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from wxai.cockpit.app import create_app
from wxai.cockpit.task_types import register_task_type, unregister_task_type
from wxai.core.errors import ConfigError, WxaiError
from wxai.core.progress import ProgressReporter
from wxai.core.settings import Settings, reload_settings


class WaitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=3, ge=0)
    delay: float = Field(default=0.0, ge=0)
    fail: str | None = None


class WaitTask:
    """A task type for tests: reports ``steps`` progress steps, ``delay`` seconds apart."""

    name: ClassVar[str] = "test-wait"
    params: ClassVar[type[BaseModel]] = WaitParams
    started = threading.Event()

    def check(self, params: BaseModel) -> str:
        assert isinstance(params, WaitParams)
        if params.fail == "check":
            raise ConfigError("the check of this test task fails on purpose")
        return "checked"

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        assert isinstance(params, WaitParams)
        self.started.set()
        for step in range(params.steps):
            time.sleep(params.delay)
            progress((step + 1) / params.steps, f"step {step + 1}/{params.steps}")
            if params.fail == "runtime" and step == 0:
                raise RuntimeError("boom")
            if params.fail == "wxai" and step == 0:
                raise WxaiError("a wxai error with a clear message")
        return {"steps": params.steps, "value": float("nan")}


@pytest.fixture
def wxai_home(tmp_path, monkeypatch) -> Iterator[Settings]:
    """A fresh wxai home for this test (lab runs, tracking store and task DB)."""
    monkeypatch.setenv("WXAI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WXAI_DATABASE_URL", raising=False)
    monkeypatch.delenv("WXAI_TRACKING_URI", raising=False)
    settings = reload_settings()
    yield settings
    monkeypatch.undo()
    reload_settings()


@pytest.fixture
def wait_task() -> Iterator[WaitTask]:
    """The ``test-wait`` task type, registered for the duration of a test."""
    task = WaitTask()
    task.started.clear()
    register_task_type(task)
    yield task
    unregister_task_type(task.name)


@pytest.fixture
def make_client(wxai_home) -> Iterator[Callable[..., TestClient]]:
    """Start the app (lifespan included) with or without its worker thread."""
    clients: list[TestClient] = []

    def start(start_worker: bool = False) -> TestClient:
        client = TestClient(create_app(wxai_home, start_worker=start_worker))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    """The app without a running worker: tests drive it with ``run_once``."""
    return make_client(start_worker=False)


@pytest.fixture
def app(client) -> FastAPI:
    """The app behind ``client``."""
    assert isinstance(client.app, FastAPI)
    return client.app


def _wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(predicate, timeout)``: poll until ``predicate()`` is truthy, else fail."""
    return _wait_for
