"""Task storage: compare-and-set transitions, lost workers, throttled progress.

The store tests run on SQLite and PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from wxai.cockpit.app import create_app
from wxai.cockpit.db import utcnow
from wxai.cockpit.jobs import TaskCancelled, WorkerStopping, _TaskReporter, describe_exception
from wxai.cockpit.schemas import finite
from wxai.cockpit.storage import TaskNotFoundError, TaskRecord, TaskState, TaskStore
from wxai.core.errors import TaskStateError, UnknownNameError


@pytest.fixture
def store(database_url):
    store = TaskStore(database_url)
    store.create_tables()
    yield store
    store.close()


def test_transitions_are_compare_and_set(store):
    task = store.add("lab", {"type": "lab", "params": {}})
    assert store.transition(task.id, [TaskState.CREATED], TaskState.CHECKED)
    assert not store.transition(task.id, [TaskState.CREATED], TaskState.CHECKED)
    assert store.get(task.id).state == TaskState.CHECKED
    assert not store.transition("missing", [TaskState.CREATED], TaskState.CHECKED)


def test_timestamps_are_utc_aware(store):
    task = store.get(store.add("lab", {}).id)
    assert task.created_at.tzinfo is not None
    assert task.created_at.utcoffset().total_seconds() == 0


def test_cancel_and_delete_rules(store):
    task = store.add("lab", {})
    store.transition(task.id, [TaskState.CREATED], TaskState.CHECKED)
    store.transition(task.id, [TaskState.CHECKED], TaskState.EXECUTING)
    with pytest.raises(TaskStateError, match="cancel it with PUT"):
        store.delete(task.id)
    flagged = store.request_cancel(task.id)
    assert flagged.state == TaskState.EXECUTING and flagged.cancel_requested
    assert store.report_progress(task.id, 0.5, "half") is True
    store.transition(task.id, [TaskState.EXECUTING], TaskState.CANCELLED)
    with pytest.raises(TaskStateError, match="already cancelled"):
        store.request_cancel(task.id)
    store.delete(task.id)
    with pytest.raises(TaskNotFoundError):
        store.get(task.id)


def _age_heartbeat(store, task_id, seconds):
    with store._session.begin() as session:
        session.execute(
            update(TaskRecord)
            .where(TaskRecord.id == task_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_claims_record_the_worker_and_take_the_oldest_task_once(store):
    first, second = store.add("lab", {}), store.add("lab", {})
    claimed = store.claim_next("elsewhere:1:a")
    assert claimed.id == first.id and claimed.state == TaskState.CHECKED
    assert claimed.worker_id == "elsewhere:1:a" and claimed.heartbeat_at is not None
    assert store.claim_next("elsewhere:2:b").id == second.id
    assert store.claim_next("elsewhere:3:c") is None
    assert store.heartbeat(first.id, "elsewhere:1:a")
    assert not store.heartbeat(first.id, "elsewhere:2:b")  # not its task


def test_fail_lost_fails_only_tasks_without_a_recent_heartbeat(store):
    fresh, stale, done = (store.add("lab", {}) for _ in range(3))
    for task in (fresh, stale, done):
        assert store.claim_next(f"otherhost:{task.seq}:x").id == task.id
    created = store.add("lab", {})
    store.transition(stale.id, [TaskState.CHECKED], TaskState.EXECUTING)
    store.transition(done.id, [TaskState.CHECKED], TaskState.COMPLETED)
    _age_heartbeat(store, stale.id, 120)
    _age_heartbeat(store, done.id, 120)
    assert store.fail_lost(timeout=60) == 1
    states = {task.id: task.state for task in store.list_tasks()}
    assert states == {
        created.id: "created",
        fresh.id: "checked",
        stale.id: "failed",
        done.id: "completed",
    }
    error = store.get(stale.id).error
    assert error.startswith(f"worker lost: worker otherhost:{stale.seq}:x sent no heartbeat")
    assert store.fail_lost(timeout=60) == 0


def test_fail_lost_at_once_when_the_worker_process_of_this_host_ended(store):
    import socket
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(ended.stdout)
    task = store.add("lab", {})
    store.claim_next(f"{socket.gethostname()[:40]}:{pid}:dead")
    alive = store.add("lab", {})
    store.claim_next(f"{socket.gethostname()[:40]}:1:init")  # pid 1 lives
    assert store.fail_lost(timeout=3600) == 1
    assert store.get(task.id).error.startswith("interrupted: the worker process")
    assert store.get(alive.id).state == TaskState.CHECKED


def test_startup_fails_tasks_of_ended_workers_and_keeps_the_queue(wxai_home):
    """A task a killed process left 'executing' is failed, never lost; a queued one waits."""
    import socket

    store = TaskStore(wxai_home.resolved_database_url)
    store.create_tables()
    left = store.add("lab", {"type": "lab", "params": {"name": "sine-regression"}})
    store.claim_next(f"{socket.gethostname()[:40]}:999999999:gone")
    store.transition(left.id, [TaskState.CHECKED], TaskState.EXECUTING)
    queued = store.add("lab", {"type": "lab", "params": {"name": "sine-regression"}})
    store.close()

    from cockpit_clients import as_admin
    from fastapi.testclient import TestClient

    with TestClient(create_app(wxai_home, start_worker=False)) as client:
        as_admin(client)
        failed = client.get(f"/api/tasks/{left.id}").json()
        assert failed["state"] == "failed"
        assert failed["error"].startswith("interrupted: the worker process")
        assert client.get(f"/api/tasks/{queued.id}").json()["state"] == "created"


def test_reporter_throttles_writes_and_raises_on_cancel(store):
    task = store.add("lab", {})
    store.transition(task.id, [TaskState.CREATED], TaskState.EXECUTING)
    writes = []
    original = store.report_progress

    def counting(task_id, fraction, message):
        writes.append(fraction)
        return original(task_id, fraction, message)

    store.report_progress = counting  # type: ignore[method-assign]
    reporter = _TaskReporter(store, task.id, threading.Event(), interval=60.0)
    for step in range(100):
        reporter(step / 100, "working")
    assert writes == [0.0]  # the first report, then nothing for 60 s
    reporter(1.0, "done")  # the end is always written
    assert writes == [0.0, 1.0]
    assert store.get(task.id).progress == 1.0

    store.request_cancel(task.id)
    reporter.interval = 0.0
    with pytest.raises(TaskCancelled):
        reporter(0.5, "more")


def test_reporter_stops_when_the_worker_stops(store):
    stopping = threading.Event()
    reporter = _TaskReporter(store, "any", stopping, interval=0.0)
    stopping.set()
    with pytest.raises(WorkerStopping):
        reporter(0.1)


def test_describe_exception():
    assert describe_exception(RuntimeError("boom")) == "RuntimeError: boom"
    assert describe_exception(KeyError()) == "KeyError"
    assert describe_exception(UnknownNameError("lab", "x", ["y"])).startswith("unknown lab 'x'")


def test_finite_replaces_nan_and_inf():
    value = {"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": 2}, "e": "x"}
    assert finite(value) == {"a": None, "b": [1.0, None], "c": {"d": 2}, "e": "x"}


OLD_TASKS_TABLE = """
CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id VARCHAR(32) NOT NULL, type VARCHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL, data JSON NOT NULL, progress FLOAT NOT NULL, message TEXT NOT NULL,
    result JSON, error TEXT, cancel_requested BOOLEAN NOT NULL, created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
)
"""


def test_a_database_of_an_earlier_version_gets_the_owner_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute(OLD_TASKS_TABLE)
        connection.execute(
            "INSERT INTO tasks (id, type, state, data, progress, message, cancel_requested, "
            "created_at, updated_at) VALUES ('old1', 'lab', 'completed', '{}', 1.0, 'done', 0, "
            "'2024-01-01 00:00:00', '2024-01-01 00:00:00')"
        )
    store = TaskStore(f"sqlite:///{path}")
    try:
        store.create_tables()
        store.create_tables()  # a second start finds the column and adds nothing
        assert store.get("old1").owner_id is None
        mine = store.add("lab", {}, owner_id="alice")
        store.add("lab", {}, owner_id="bob")
        assert [t.id for t in store.list_tasks(owner_id="alice")] == [mine.id]
        assert len(store.list_tasks()) == 3
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(tasks)")]
        indexes = [row[1] for row in connection.execute("PRAGMA index_list(tasks)")]
    assert "owner_id" in columns and columns[-1] == "heartbeat_at"
    assert "ix_tasks_owner_id" in indexes
