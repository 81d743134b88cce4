"""Task storage: compare-and-set transitions, the restart rule, throttled progress."""

from __future__ import annotations

import threading

import pytest

from wxai.cockpit.app import create_app
from wxai.cockpit.jobs import TaskCancelled, WorkerStopping, _TaskReporter, describe_exception
from wxai.cockpit.schemas import finite
from wxai.cockpit.storage import INTERRUPTED, TaskNotFoundError, TaskState, TaskStore
from wxai.core.errors import TaskStateError, UnknownNameError


@pytest.fixture
def store(tmp_path):
    store = TaskStore(f"sqlite:///{tmp_path / 'db' / 'tasks.db'}")
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


def test_fail_interrupted_marks_checked_and_executing_only(store):
    created, checked, executing, completed = (store.add("lab", {}) for _ in range(4))
    store.transition(checked.id, [TaskState.CREATED], TaskState.CHECKED)
    store.transition(executing.id, [TaskState.CREATED], TaskState.EXECUTING)
    store.transition(completed.id, [TaskState.CREATED], TaskState.COMPLETED)
    assert store.fail_interrupted() == 2
    states = {task.id: task.state for task in store.list_tasks()}
    assert states == {
        created.id: "created",
        checked.id: "failed",
        executing.id: "failed",
        completed.id: "completed",
    }
    assert store.get(executing.id).error == INTERRUPTED


def test_startup_marks_a_task_left_executing_as_interrupted(wxai_home):
    """A task the previous process left 'executing' is failed, never lost; a queued one waits."""
    store = TaskStore(wxai_home.resolved_database_url)
    store.create_tables()
    left = store.add("lab", {"type": "lab", "params": {"name": "sine-regression"}})
    store.transition(left.id, [TaskState.CREATED], TaskState.EXECUTING)
    queued = store.add("lab", {"type": "lab", "params": {"name": "sine-regression"}})
    store.close()

    from cockpit_clients import as_admin
    from fastapi.testclient import TestClient

    with TestClient(create_app(wxai_home, start_worker=False)) as client:
        as_admin(client)
        failed = client.get(f"/api/tasks/{left.id}").json()
        assert failed["state"] == "failed"
        assert failed["error"] == "interrupted: the server stopped while the task was executing"
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
    assert columns[-1] == "owner_id"
    assert "ix_tasks_owner_id" in indexes
