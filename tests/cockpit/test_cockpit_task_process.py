"""Tasks in child processes: memory, CPU and wall-clock limits, cancel, claims, `wxai worker`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wxai.cockpit.app import create_app
from wxai.cockpit.jobs import TaskLimits, Worker
from wxai.cockpit.storage import TaskState, TaskStore
from wxai.core.settings import reload_settings

HERE = Path(__file__).resolve().parent


def wait_params(**params):
    return {"type": "test-wait", "params": params}


def create(client, **params):
    response = client.post("/api/tasks", json=wait_params(**params))
    assert response.status_code == 201, response.text
    return f"/api/tasks/{response.json()['id']}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def store(wxai_home):
    store = TaskStore(wxai_home.resolved_database_url)
    store.create_tables()
    yield store
    store.close()


def test_a_task_out_of_memory_fails_alone_while_the_server_answers(
    make_client, wait_task, wait_for
):
    client = make_client(start_worker=True)
    worker = client.app.state.worker
    worker.limits = TaskLimits(memory_mb=512, cpu_seconds=30, wall_seconds=60)
    url = create(client, allocate_mb=4096, steps=1)
    health = []

    def finished():
        health.append(client.get("/api/health").status_code)
        return client.get(url).json()["state"] in {"failed", "completed"}

    wait_for(finished, timeout=60)
    stored = client.get(url).json()
    assert stored["state"] == "failed"
    assert stored["error"].startswith(
        "ran out of memory: the task's limit is 512 MiB (WXAI_TASK_MEMORY_MB)"
    )
    assert health and set(health) == {200}
    # the server and its worker carry on: the next task runs to its end
    after = create(client, allocate_mb=16, steps=2)
    wait_for(lambda: client.get(after).json()["state"] == "completed", timeout=60)
    assert client.get("/api/health").status_code == 200


def test_a_spinning_task_hits_the_cpu_limit(store, wait_task):
    task = store.add("test-wait", wait_params(spin_seconds=60, steps=1))
    worker = Worker(store, limits=TaskLimits(memory_mb=1024, cpu_seconds=2, wall_seconds=60))
    started = time.monotonic()
    assert worker.run_once()
    stored = store.get(task.id)
    assert stored.state == TaskState.FAILED
    assert stored.error.startswith("used more than 2 s of CPU")
    assert "WXAI_TASK_CPU_SECONDS" in stored.error
    assert time.monotonic() - started < 30


def test_a_sleeping_task_hits_the_wall_clock_limit(store, wait_task):
    task = store.add("test-wait", wait_params(steps=1, delay=60))
    worker = Worker(store, limits=TaskLimits(memory_mb=1024, cpu_seconds=60, wall_seconds=2))
    started = time.monotonic()
    assert worker.run_once()
    stored = store.get(task.id)
    assert stored.state == TaskState.FAILED
    assert stored.error.startswith("ran longer than 2 s")
    assert 2 <= time.monotonic() - started < 20


def test_cancel_kills_the_child_promptly(make_client, wait_task, wait_for, tmp_path):
    client = make_client(start_worker=True)
    record = tmp_path / "pids.txt"
    # one step sleeping 60 s: the task never reports progress, so only a kill stops it
    url = create(client, steps=1, delay=60, record=str(record))
    wait_for(lambda: record.exists() and record.read_text().strip(), timeout=30)
    pid = int(record.read_text())
    assert pid_alive(pid)
    asked = time.monotonic()
    assert client.put(url, json={"action": "cancel"}).status_code == 200
    stopped = wait_for(lambda: (t := client.get(url).json())["state"] == "cancelled" and t, 10)
    assert time.monotonic() - asked < 5
    assert stopped["message"] == "cancelled while executing"
    wait_for(lambda: not pid_alive(pid), timeout=5)


def test_stopping_the_server_kills_the_child(make_client, wait_task, wait_for, tmp_path):
    client = make_client(start_worker=True)
    record = tmp_path / "pids.txt"
    url = create(client, steps=1, delay=60, record=str(record))
    wait_for(lambda: record.exists() and record.read_text().strip(), timeout=30)
    pid = int(record.read_text())
    client.__exit__(None, None, None)
    assert not pid_alive(pid)
    stored = make_client(start_worker=False).get(url).json()
    assert stored["state"] == "failed"
    assert stored["error"].startswith("interrupted")


def test_two_workers_never_execute_the_same_task(wxai_home, wait_task, wait_for, tmp_path):
    url = wxai_home.resolved_database_url
    stores = [TaskStore(url), TaskStore(url)]
    stores[0].create_tables()
    records = [tmp_path / f"task{i}.txt" for i in range(6)]
    ids = [stores[0].add("test-wait", wait_params(steps=1, record=str(r))).id for r in records]

    # a claimed task is no longer offered; a second worker handed it anyway does nothing
    workers = [Worker(s, poll_interval=0.05) for s in stores]
    first = stores[0].claim_next(workers[0].worker_id)
    assert first.id == ids[0] and stores[1].claim_next(workers[1].worker_id).id == ids[1]
    stores[1].transition(ids[1], [TaskState.CHECKED], TaskState.CREATED)  # back in the queue
    workers[0]._process(first)
    workers[1]._process(first)
    assert records[0].read_text().count("\n") == 1

    # then both loops race for the rest
    threads = [threading.Thread(target=w.run, kwargs={"max_tasks": 6}) for w in workers]
    for thread in threads:
        thread.start()
    try:
        wait_for(
            lambda: all(stores[0].get(i).state == TaskState.COMPLETED for i in ids), timeout=60
        )
    finally:
        for worker in workers:
            worker.request_stop()
        for thread in threads:
            thread.join(30)
        for s in stores:
            s.close()
    assert [r.read_text().count("\n") for r in records] == [1] * 6


def test_the_lifespan_leaves_tasks_to_wxai_worker_when_not_embedded(wxai_home, monkeypatch):
    monkeypatch.setenv("WXAI_EMBEDDED_WORKER", "false")
    monkeypatch.setenv("WXAI_TASK_MEMORY_MB", "1234")
    settings = reload_settings()
    with TestClient(create_app(settings, start_worker=True)) as client:
        worker = client.app.state.worker
        assert not worker.running
        assert worker.limits.memory_mb == 1234


def test_wxai_worker_processes_a_task_from_the_store(store, tmp_path):
    task = store.add("test-wait", wait_params(steps=2))
    plugin = tmp_path / "plugin"  # a module that registers task types when imported
    plugin.mkdir()
    (plugin / "wait_plugin.py").write_text(
        "from cockpit_task_types import WaitTask\n"
        "from wxai.cockpit.task_types import register_task_type\n"
        "register_task_type(WaitTask())\n"
    )
    env = dict(os.environ)
    env["WXAI_TASK_MODULES"] = "wait_plugin"
    paths = [str(plugin), str(HERE), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    done = subprocess.run(
        [sys.executable, "-m", "wxai.cli", "worker", "--max-tasks", "1", "--poll-interval", "0.1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped after 1 task(s)" in done.stderr
    stored = store.get(task.id)
    assert stored.state == TaskState.COMPLETED, stored.error
    assert stored.result["steps"] == 2


def test_an_unbounded_lab_size_fails_the_check(store):
    params = {"name": "sine-regression", "overrides": ["preset=smoke", "epochs=1000000000"]}
    task = store.add("lab", {"type": "lab", "params": params})
    assert Worker(store).run_once()
    stored = store.get(task.id)
    assert stored.state == TaskState.FAILED
    assert "epochs = 1000000000 is above its upper bound 100000" in stored.error
