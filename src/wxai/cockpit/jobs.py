"""The worker: runs queued tasks one at a time, each in its own limited child process.

Tasks are picked from the database (oldest ``created`` first), so a queue survives
a restart of the server. The worker claims a task (:meth:`TaskStore.claim_next`:
``created -> checked``, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on any
number of machines never run the same task), checks its parameters and starts
``python -m wxai.cockpit.task_process`` in a new session. While the task runs the
worker writes a heartbeat on it; every worker (and every server at start) fails the
tasks whose heartbeat is older than the timeout: their worker is gone.

The child limits its own address space (``RLIMIT_AS``) and CPU time
(``RLIMIT_CPU``), executes the task and writes progress and the outcome through its
own :class:`TaskStore`; each progress write also reads the task's cancel flag.

The parent enforces the wall-clock limit, polls the cancel flag (a cancel kills the
child's process group at once) and, when the child dies without storing an outcome,
marks the task failed with a message naming the limit it hit. A task that exhausts
its memory therefore fails alone; the server keeps serving.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import ValidationError

from wxai.cockpit.storage import (
    INTERRUPTED,
    TaskNotFoundError,
    TaskRecord,
    TaskState,
    TaskStore,
    new_worker_id,
)
from wxai.cockpit.task_types import TaskType, get_task_type
from wxai.core.errors import WxaiError

if TYPE_CHECKING:
    from wxai.core.settings import Settings

log = logging.getLogger(__name__)

#: Environment variable through which the child learns the database URL (kept off argv,
#: where a password in the URL would be visible to every user of the machine).
DATABASE_URL_ENV = "WXAI_TASK_DATABASE_URL"

#: Thread-pool variables of numpy/torch backends set in a task's environment.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

#: Text in a dead child's stderr that shows it ran out of address space.
MEMORY_HINTS = (
    "MemoryError",
    "bad_alloc",
    "Cannot allocate memory",
    "can't allocate memory",
    "failed to map segment",
    "out of memory",
)

CANCELLED_MESSAGE = "cancelled while executing"


class TaskCancelled(Exception):
    """Raised inside a running task at the progress report after a cancel request."""


class WorkerStopping(Exception):
    """Raised inside a running task at its next progress report when the worker stops."""


@dataclass(frozen=True)
class TaskLimits:
    """Resources one task's child process may use.

    Attributes
    ----------
    memory_mb:
        Address-space limit (``RLIMIT_AS``), in MiB.
    cpu_seconds:
        CPU-time limit (``RLIMIT_CPU``), in s.
    wall_seconds:
        Wall-clock limit enforced by the worker, in s.
    """

    memory_mb: int = 4096
    cpu_seconds: float = 3600.0
    wall_seconds: float = 7200.0

    @classmethod
    def from_settings(cls, settings: Settings) -> TaskLimits:
        """The limits set by ``WXAI_TASK_MEMORY_MB``, ``_CPU_SECONDS`` and ``_WALL_SECONDS``."""
        return cls(
            memory_mb=settings.task_memory_mb,
            cpu_seconds=settings.task_cpu_seconds,
            wall_seconds=settings.task_wall_seconds,
        )


def memory_message(memory_mb: int) -> str:
    """The error of a task that exhausted its address space."""
    return (
        f"ran out of memory: the task's limit is {memory_mb} MiB (WXAI_TASK_MEMORY_MB); "
        "make the task smaller or raise the limit"
    )


def cpu_message(cpu_seconds: float) -> str:
    """The error of a task that used up its CPU time."""
    return (
        f"used more than {cpu_seconds:g} s of CPU: the task's limit (WXAI_TASK_CPU_SECONDS); "
        "make the task smaller or raise the limit"
    )


def wall_message(wall_seconds: float) -> str:
    """The error of a task that ran past its wall-clock limit."""
    return (
        f"ran longer than {wall_seconds:g} s: the task's wall-clock limit "
        "(WXAI_TASK_WALL_SECONDS); make the task smaller or raise the limit"
    )


def describe_exception(exc: BaseException) -> str:
    """The message stored for a failed task: a WxaiError's own text, else type and text."""
    if isinstance(exc, WxaiError):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _TaskReporter:
    """Progress callback handed to a task: throttled DB writes and cancellation checks."""

    def __init__(
        self, store: TaskStore, task_id: str, stopping: threading.Event, interval: float
    ) -> None:
        self.store = store
        self.task_id = task_id
        self.stopping = stopping
        self.interval = interval
        self._last = float("-inf")

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.stopping.is_set():
            raise WorkerStopping(INTERRUPTED)
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if now - self._last < self.interval and fraction < 1.0:
            return
        self._last = now
        if self.store.report_progress(self.task_id, fraction, message):
            raise TaskCancelled(f"task {self.task_id} was cancelled")


def _import_root(module_name: str) -> Path | None:
    """The directory to put on ``PYTHONPATH`` so a child can import ``module_name``."""
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    depth = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
    return path.parents[depth]


def child_environment(task_type: TaskType, database_url: str) -> dict[str, str]:
    """The environment of a task's child process.

    It inherits this process's environment (``WXAI_*`` settings included), gets the
    database URL, few numeric threads (the node's cores are shared), the Agg backend
    of matplotlib, few malloc arenas (each reserves address space) and the directory
    of a task type defined outside wxai on ``PYTHONPATH``.
    """
    env = dict(os.environ)
    env[DATABASE_URL_ENV] = database_url
    threads = str(max(1, min(2, os.cpu_count() or 1)))
    for name in THREAD_VARIABLES:
        env.setdefault(name, threads)
    env["MPLBACKEND"] = "Agg"
    env.setdefault("MALLOC_ARENA_MAX", "2")
    module_name = type(task_type).__module__
    if not module_name.startswith("wxai."):
        root = _import_root(module_name)
        if root is not None:
            paths = [str(root), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
            env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _tail(stream: IO[bytes], size: int = 4000) -> str:
    stream.seek(0, os.SEEK_END)
    stream.seek(max(0, stream.tell() - size))
    return stream.read().decode("utf-8", errors="replace")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class Worker:
    """Executes tasks from a :class:`TaskStore`, one at a time, each in a child process.

    Parameters
    ----------
    store:
        Where the tasks are.
    poll_interval:
        Seconds between looks at the database when nothing woke the worker
        (tasks may be added by another process).
    progress_interval:
        Least number of seconds between two progress writes of a task.
    limits:
        Memory, CPU and wall-clock limits of each task (default :class:`TaskLimits`).
    cancel_poll_interval:
        Seconds between two reads of a running task's cancel flag by the worker.
    heartbeat_timeout:
        Seconds without a heartbeat after which a claimed task counts as lost; this
        worker beats every quarter of it and fails other workers' lost tasks.
    worker_id:
        The name recorded on claimed tasks (default ``host:pid:random``).
    """

    def __init__(
        self,
        store: TaskStore,
        *,
        poll_interval: float = 1.0,
        progress_interval: float = 0.25,
        limits: TaskLimits | None = None,
        cancel_poll_interval: float = 0.2,
        heartbeat_timeout: float = 60.0,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self.heartbeat_timeout = heartbeat_timeout
        self.heartbeat_interval = heartbeat_timeout / 4
        self.worker_id = worker_id or new_worker_id()
        self._next_reap = 0.0
        self.poll_interval = poll_interval
        self.progress_interval = progress_interval
        self.limits = limits or TaskLimits()
        self.cancel_poll_interval = cancel_poll_interval
        self.child_pid: int | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the worker loop in a daemon thread (once)."""
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name="wxai-cockpit-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Tell the worker a task is waiting, so it does not wait for its next poll."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask the loop to end; a running task's child is killed and the task "interrupted".

        Safe to call from a signal handler.
        """
        self._stopping.set()
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker thread; a running task is killed and marked "interrupted"."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the cockpit worker did not stop within %.0f s", timeout)
            self._thread = None

    def run(self, max_tasks: int | None = None) -> int:
        """Process tasks until :meth:`stop` (or after ``max_tasks`` tasks); return how many."""
        done = 0
        while not self._stopping.is_set() and (max_tasks is None or done < max_tasks):
            try:
                worked = self.run_once()
            except Exception:  # a broken database must not end the loop silently
                log.exception("the cockpit worker failed to process a task")
                worked = False
            if worked:
                done += 1
            else:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        return done

    def run_once(self) -> bool:
        """Process the oldest waiting task, if any, to its end; return whether there was one.

        First fails lost tasks (no heartbeat for ``heartbeat_timeout``), at most once
        per heartbeat interval.
        """
        self.reap_lost()
        task = self.store.claim_next(self.worker_id)
        if task is None:
            return False
        self._process(task)
        return True

    def reap_lost(self, force: bool = False) -> int:
        """Fail the tasks of workers that stopped beating; return how many (throttled)."""
        now = time.monotonic()
        if not force and now < self._next_reap:
            return 0
        self._next_reap = now + self.heartbeat_interval
        lost = self.store.fail_lost(self.heartbeat_timeout)
        if lost:
            log.warning("failed %d task(s) whose worker stopped sending heartbeats", lost)
        return lost

    def _process(self, task: TaskRecord) -> None:
        """Check the claimed task's parameters (``checked``) and execute it."""
        store = self.store
        try:
            task_type = get_task_type(task.type)
            params = task_type.params.model_validate(task.data.get("params", {}))
            message = task_type.check(params)
        except Exception as exc:
            if not isinstance(exc, WxaiError | ValidationError):
                log.exception("checking task %s failed", task.id)
            store.transition(
                task.id,
                [TaskState.CHECKED],
                TaskState.FAILED,
                error=describe_exception(exc),
                message="check failed",
            )
            return
        if not store.transition(task.id, [TaskState.CHECKED], TaskState.CHECKED, message=message):
            return  # cancelled or deleted meanwhile
        if not store.transition(
            task.id, [TaskState.CHECKED], TaskState.EXECUTING, message="starting"
        ):
            return
        self._execute(task, task_type)

    def _execute(self, task: TaskRecord, task_type: TaskType) -> None:
        """Run ``task`` in a child process and record how the child ended."""
        limits = self.limits
        command = [
            sys.executable,
            "-m",
            "wxai.cockpit.task_process",
            task.id,
            "--memory-mb",
            str(limits.memory_mb),
            "--cpu-seconds",
            str(max(1, round(limits.cpu_seconds))),
            "--progress-interval",
            str(self.progress_interval),
            "--type-module",
            type(task_type).__module__,
            "--type-class",
            type(task_type).__qualname__,
        ]
        with tempfile.TemporaryFile(prefix="wxai-task-") as output:
            try:
                child = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=child_environment(task_type, self.store.url),
                    start_new_session=True,  # its own process group, killed as a whole
                )
            except OSError as exc:
                self._fail(task, f"could not start the task process: {exc}")
                return
            self.child_pid = child.pid
            try:
                killed, status, cpu = self._watch(task, child)
            finally:
                _kill_group(child.pid)  # helpers the task started (data loaders) go too
                self.child_pid = None
            self._record_end(task, killed, status, cpu, _tail(output))

    def _watch(self, task: TaskRecord, child: subprocess.Popen[bytes]) -> tuple[str, int, float]:
        """Wait for ``child``; kill it on cancel, stop or wall-clock limit.

        Returns
        -------
        tuple
            Why it was killed ("" if it ended by itself, "cancel", "stop", "wall"),
            its wait status and the CPU seconds it used.
        """
        started = time.monotonic()
        next_cancel_check = started + self.cancel_poll_interval
        next_beat = started + self.heartbeat_interval
        killed = ""
        while True:
            pid, status, usage = os.wait4(child.pid, 0 if killed else os.WNOHANG)
            if pid:
                child.returncode = os.waitstatus_to_exitcode(status)
                return killed, status, usage.ru_utime + usage.ru_stime
            now = time.monotonic()
            if self._stopping.is_set():
                killed = "stop"
            elif now - started > self.limits.wall_seconds:
                killed = "wall"
            elif now >= next_beat:
                next_beat = now + self.heartbeat_interval
                try:
                    self.store.heartbeat(task.id, self.worker_id)
                except Exception:  # the database is away: try again at the next beat
                    log.exception("could not write the heartbeat of task %s", task.id)
            elif now >= next_cancel_check:
                next_cancel_check = now + self.cancel_poll_interval
                try:
                    record = self.store.get(task.id)
                    if record.cancel_requested or record.state != TaskState.EXECUTING:
                        killed = "cancel"
                except TaskNotFoundError:  # deleted: nothing left to run for
                    killed = "cancel"
                except Exception:  # the database is busy or away: keep running, look again
                    log.exception("could not read the cancel flag of task %s", task.id)
            if killed:
                _kill_group(child.pid)
            else:
                self._stopping.wait(0.05)

    def _record_end(
        self, task: TaskRecord, killed: str, status: int, cpu: float, output: str
    ) -> None:
        store = self.store
        executing = [TaskState.EXECUTING]
        if killed == "cancel":
            store.transition(task.id, executing, TaskState.CANCELLED, message=CANCELLED_MESSAGE)
            return
        if killed == "stop":
            store.transition(
                task.id, executing, TaskState.FAILED, error=INTERRUPTED, message="interrupted"
            )
            return
        if killed == "wall":
            self._fail(task, wall_message(self.limits.wall_seconds))
            return
        if store.get(task.id).state != TaskState.EXECUTING:
            return  # the child stored the outcome itself
        if output.strip():
            log.warning("task %s (%s) ended without an outcome:\n%s", task.id, task.type, output)
        code = os.waitstatus_to_exitcode(status)
        out_of_memory = any(hint in output for hint in MEMORY_HINTS)
        if code < 0:
            signum = -code
            if signum == signal.SIGXCPU or (
                signum == signal.SIGKILL and cpu >= self.limits.cpu_seconds - 1
            ):
                error = cpu_message(self.limits.cpu_seconds)
            elif out_of_memory:
                error = memory_message(self.limits.memory_mb)
            else:
                name = signal.Signals(signum).name if signum in signal.valid_signals() else signum
                error = f"the task process was killed by signal {name}"
                if signum == signal.SIGKILL:
                    error += " (the machine may have run out of memory)"
        elif out_of_memory:
            error = memory_message(self.limits.memory_mb)
        elif code:
            error = f"the task process exited with status {code}: {_last_line(output)}"
        else:
            error = "the task process ended without storing an outcome"
        self._fail(task, error)

    def _fail(self, task: TaskRecord, error: str) -> None:
        self.store.transition(
            task.id, [TaskState.EXECUTING], TaskState.FAILED, error=error, message="failed"
        )


def run_worker(poll_interval: float = 1.0, max_tasks: int | None = None) -> int:
    """Run a worker in this process on ``WXAI_DATABASE_URL`` (``wxai worker``).

    Loads ``WXAI_TASK_MODULES``, applies the ``WXAI_TASK_*`` limits and stops on
    SIGINT or SIGTERM (a running task is then killed and marked "interrupted").

    Returns
    -------
    int
        The number of tasks processed.
    """
    from rich.console import Console
    from sqlalchemy.engine import make_url

    from wxai.cockpit.task_types import load_task_modules, task_type_names
    from wxai.core.settings import get_settings

    settings = get_settings()
    load_task_modules()
    limits = TaskLimits.from_settings(settings)
    store = TaskStore(settings.resolved_database_url)
    store.create_tables()
    worker = Worker(
        store,
        poll_interval=poll_interval,
        limits=limits,
        heartbeat_timeout=settings.worker_heartbeat_timeout,
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: worker.request_stop())
    console = Console(stderr=True)
    database = make_url(store.url).render_as_string(hide_password=True)
    console.print(
        f"wxai worker {worker.worker_id}: tasks from {database}; "
        f"types {', '.join(task_type_names())}; heartbeat timeout "
        f"{settings.worker_heartbeat_timeout:g} s; "
        f"limits {limits.memory_mb} MiB, {limits.cpu_seconds:g} s CPU, "
        f"{limits.wall_seconds:g} s wall",
        highlight=False,
    )
    try:
        done = worker.run(max_tasks)
    finally:
        store.close()
    console.print(f"wxai worker: stopped after {done} task(s)", highlight=False)
    return done
