"""Task workers sharing one database: each task runs once; a killed worker's task fails.

Runs on SQLite and PostgreSQL (``database_url``): worker threads of this process and
real ``wxai worker`` processes claim from the same queue. The threads execute tasks in
their own process (the claim is what is tested; each child process costs seconds);
the full run of 20 tasks by three ``wxai worker`` processes is marked slow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cockpit_task_types import WaitTask

from wxai.cockpit.jobs import Worker
from wxai.cockpit.storage import TaskRecord, TaskState, TaskStore
from wxai.cockpit.task_process import execute
from wxai.cockpit.task_types import TaskType, register_task_type, unregister_task_type

HERE = Path(__file__).resolve().parent
TASKS = 20


@pytest.fixture
def store(database_url):
    store = TaskStore(database_url)
    store.create_tables()
    yield store
    store.close()


@pytest.fixture
def wait_type():
    task = WaitTask()
    register_task_type(task)
    yield task
    unregister_task_type(task.name)


class InProcessWorker(Worker):
    """A worker that executes the claimed task in its own thread, not a child process."""

    def _execute(self, task: TaskRecord, task_type: TaskType) -> None:
        execute(task.id, self.store.url, memory_mb=1024, progress_interval=0.0)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout} s")


def _queue(store: TaskStore, folder: Path, count: int, **params) -> list[tuple[str, Path]]:
    tasks = []
    for number in range(count):
        record = folder / f"task{number}.pids"
        data = {"type": "test-wait", "params": {"steps": 1, "record": str(record), **params}}
        tasks.append((store.add("test-wait", data).id, record))
    return tasks


def _all_final(store: TaskStore, ids: list[str]) -> bool:
    return all(store.get(i).state in {"completed", "failed", "cancelled"} for i in ids)


def _worker_env(database_url: str, plugin_root: Path, **extra: str) -> dict[str, str]:
    plugin = plugin_root / "plugin"  # registers the test task type in `wxai worker`
    plugin.mkdir(exist_ok=True)
    (plugin / "wait_plugin.py").write_text(
        "from cockpit_task_types import WaitTask\n"
        "from wxai.cockpit.task_types import register_task_type\n"
        "register_task_type(WaitTask())\n"
    )
    env = dict(os.environ)
    env.update(WXAI_DATABASE_URL=database_url, WXAI_TASK_MODULES="wait_plugin", **extra)
    paths = [str(plugin), str(HERE), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "wxai.cli", "worker", "--poll-interval", "0.05"]
    with log.open("wb") as stream:
        return subprocess.Popen(command, env=env, stdout=stream, stderr=subprocess.STDOUT)


def test_worker_threads_execute_each_of_20_tasks_once(store, wait_type, tmp_path):
    tasks = _queue(store, tmp_path, TASKS)
    workers = [InProcessWorker(TaskStore(store.url), poll_interval=0.02) for _ in range(4)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    try:
        _wait(lambda: _all_final(store, [i for i, _ in tasks]), 120, "20 tasks done")
    finally:
        for worker in workers:
            worker.request_stop()
        for thread in threads:
            thread.join(30)
        for worker in workers:
            worker.store.close()
    records = [store.get(i) for i, _ in tasks]
    assert {r.state for r in records} == {"completed"}, [r.error for r in records]
    assert [path.read_text().count("\n") for _, path in tasks] == [1] * TASKS
    names = {w.worker_id for w in workers}
    assert {r.worker_id for r in records} <= names and len(names) == 4


def _run_worker_processes(database_url: str, folder: Path, tasks: int, workers: int) -> None:
    store = TaskStore(database_url)
    store.create_tables()
    try:
        _check_worker_processes(store, database_url, folder, tasks, workers)
    finally:
        store.close()


def test_two_wxai_worker_processes_share_a_postgresql_queue(fresh_database_url, tmp_path):
    _run_worker_processes(fresh_database_url, tmp_path, tasks=6, workers=2)


@pytest.mark.slow
def test_wxai_worker_processes_execute_each_of_20_tasks_once(database_url, tmp_path):
    _run_worker_processes(database_url, tmp_path, tasks=TASKS, workers=3)


def _check_worker_processes(
    store: TaskStore, database_url: str, folder: Path, count: int, workers: int
) -> None:
    tmp_path = folder
    tasks = _queue(store, tmp_path, count)
    env = _worker_env(database_url, tmp_path)
    processes = [_start_worker(env, tmp_path / f"worker{n}.log") for n in range(workers)]
    try:
        _wait(lambda: _all_final(store, [i for i, _ in tasks]), 180, "20 tasks done")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
    records = [store.get(i) for i, _ in tasks]
    assert {r.state for r in records} == {"completed"}, [r.error for r in records]
    assert [path.read_text().count("\n") for _, path in tasks] == [1] * count
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(workers)]
    assert all("stopped after" in log for log in logs), logs
    worker_pids = {int(r.worker_id.split(":")[1]) for r in records}
    assert worker_pids <= {p.pid for p in processes}


def test_a_worker_killed_mid_task_fails_that_task_only(store, database_url, tmp_path):
    for name in "abc":
        (tmp_path / name).mkdir()
    done = _queue(store, tmp_path / "a", 1)[0][0]
    running = _queue(store, tmp_path / "b", 1, delay=60)[0][0]
    queued = _queue(store, tmp_path / "c", 1)[0][0]
    store.transition(done, [TaskState.CREATED], TaskState.COMPLETED, result={"kept": 1})
    store.transition(queued, [TaskState.CREATED], TaskState.CANCELLED)  # out of the queue
    env = _worker_env(database_url, tmp_path, WXAI_WORKER_HEARTBEAT_TIMEOUT="1")
    worker = _start_worker(env, tmp_path / "worker.log")
    try:
        record = tmp_path / "b" / "task0.pids"
        child = int(_wait(lambda: record.exists() and record.read_text().strip(), 60, "start"))
        first_beat = store.get(running).heartbeat_at
        time.sleep(1.5)  # longer than the timeout: only heartbeats keep the task alive
        assert store.fail_lost(timeout=1.0) == 0
        assert store.get(running).heartbeat_at > first_beat
        assert store.get(running).state == TaskState.EXECUTING
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    # the orphaned task process notices within a second and ends itself
    _wait(lambda: not _alive(child), 10, "the orphaned task process to end")
    assert store.fail_lost(timeout=1.0) == 1
    lost = store.get(running)
    assert lost.state == TaskState.FAILED
    assert lost.error.startswith(f"interrupted: the worker process {lost.worker_id} stopped")
    assert store.get(done).state == TaskState.COMPLETED and store.get(done).result == {"kept": 1}
    assert store.get(queued).state == TaskState.CANCELLED


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"  # a zombie (state Z) has ended
