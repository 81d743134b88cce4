"""Fixtures of the cockpit unit tests: a private wxai home, the app, a test task type."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cockpit_task_types import WaitTask
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wxai.cockpit.app import create_app
from wxai.cockpit.task_types import register_task_type, unregister_task_type
from wxai.core.settings import Settings, reload_settings


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
    register_task_type(task)
    yield task
    unregister_task_type(task.name)


@pytest.fixture
def make_client(wxai_home) -> Iterator[Callable[..., TestClient]]:
    """Start the app (lifespan included) with or without its worker thread.

    The client acts as the first admin (created at startup) through an API key.
    """
    clients: list[TestClient] = []

    def start(start_worker: bool = False) -> TestClient:
        client = TestClient(create_app(wxai_home, start_worker=start_worker))
        client.__enter__()
        clients.append(client)
        key = client.app.state.accounts.create_api_key("admin", "tests")  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {key.token}"
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
