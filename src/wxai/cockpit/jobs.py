"""The worker: runs queued tasks one at a time in a background thread.

Tasks are picked from the database (oldest ``created`` first), so a queue survives
a restart of the server. Progress is written to the database at most every
``progress_interval`` seconds; each write also reads the task's cancel flag, which
is how a running task is cancelled cooperatively.
"""

from __future__ import annotations

import logging
import threading
import time

from pydantic import BaseModel, ValidationError

from wxai.cockpit.storage import INTERRUPTED, TaskRecord, TaskState, TaskStore
from wxai.cockpit.task_types import TaskType, get_task_type
from wxai.core.errors import WxaiError

log = logging.getLogger(__name__)


class TaskCancelled(Exception):
    """Raised inside a running task at the progress report after a cancel request."""


class WorkerStopping(Exception):
    """Raised inside a running task at its next progress report when the server stops."""


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


class Worker:
    """Executes tasks from a :class:`TaskStore`, one at a time, in a daemon thread.

    Parameters
    ----------
    store:
        Where the tasks are.
    poll_interval:
        Seconds between looks at the database when nothing woke the worker
        (tasks may be added by another process).
    progress_interval:
        Least number of seconds between two progress writes of a task.
    """

    def __init__(
        self, store: TaskStore, *, poll_interval: float = 1.0, progress_interval: float = 0.25
    ) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.progress_interval = progress_interval
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the worker thread (once)."""
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="wxai-cockpit-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Tell the worker a task is waiting, so it does not wait for its next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker; a running task is stopped at its next progress report.

        A task stopped this way is marked failed with the "interrupted" message.
        """
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the cockpit worker did not stop within %.0f s", timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception:  # a broken database must not kill the thread silently
                log.exception("the cockpit worker failed to process a task")
                worked = False
            if not worked:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def run_once(self) -> bool:
        """Process the oldest waiting task, if there is one; return whether there was."""
        task = self.store.next_created()
        if task is None:
            return False
        self._process(task)
        return True

    def _process(self, task: TaskRecord) -> None:
        store = self.store
        try:
            task_type = get_task_type(task.type)
            params = task_type.params.model_validate(task.data.get("params", {}))
            message = task_type.check(params)
        except (WxaiError, ValidationError) as exc:
            store.transition(
                task.id,
                [TaskState.CREATED],
                TaskState.FAILED,
                error=describe_exception(exc),
                message="check failed",
            )
            return
        except Exception as exc:
            log.exception("checking task %s failed", task.id)
            store.transition(
                task.id,
                [TaskState.CREATED],
                TaskState.FAILED,
                error=describe_exception(exc),
                message="check failed",
            )
            return
        if not store.transition(task.id, [TaskState.CREATED], TaskState.CHECKED, message=message):
            return  # cancelled or deleted while it was checked
        if not store.transition(
            task.id, [TaskState.CHECKED], TaskState.EXECUTING, message="starting"
        ):
            return
        reporter = _TaskReporter(store, task.id, self._stopping, self.progress_interval)
        self._execute(task, task_type, params, reporter)

    def _execute(
        self, task: TaskRecord, task_type: TaskType, params: BaseModel, reporter: _TaskReporter
    ) -> None:
        store = self.store
        executing = [TaskState.EXECUTING]
        try:
            result = task_type.execute(params, reporter)
        except TaskCancelled:
            store.transition(
                task.id, executing, TaskState.CANCELLED, message="cancelled while executing"
            )
        except WorkerStopping:
            store.transition(
                task.id, executing, TaskState.FAILED, error=INTERRUPTED, message="interrupted"
            )
        except Exception as exc:
            if not isinstance(exc, WxaiError):
                log.exception("task %s (%s) failed", task.id, task.type)
            store.transition(
                task.id,
                executing,
                TaskState.FAILED,
                error=describe_exception(exc),
                message="failed",
            )
        else:
            store.transition(
                task.id,
                executing,
                TaskState.COMPLETED,
                result=result,
                progress=1.0,
            )  # the message keeps the task's last report (a lab's acceptance line)
