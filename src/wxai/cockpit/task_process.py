"""The child process that executes one task: ``python -m wxai.cockpit.task_process TASK_ID``.

Started by :class:`wxai.cockpit.jobs.Worker` after it claimed the task and moved it to
``executing``. Before anything heavy is imported the process limits its own address
space (``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``), keeps numeric libraries to few
threads and matplotlib off screen. It then executes the task, writing progress (and
reading the cancel flag) through a :class:`~wxai.cockpit.storage.TaskStore` on the
database named by ``WXAI_TASK_DATABASE_URL``, and stores the outcome: completed,
failed with the task's error (or the memory message), or cancelled. When it dies
without storing one (a signal, the CPU limit), the worker records why. When the
worker itself dies (killed, machine reboots), the child ends its process group: nobody
would enforce its limits or cancel it, and the task is failed as lost.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import threading
import time
from typing import Any

MIB = 1 << 20

#: Errors of numeric libraries (not MemoryError) that mean an allocation was refused.
_ALLOCATION_ERRORS = (
    "can't allocate memory",
    "Cannot allocate memory",
    "bad_alloc",
    "failed to map segment",  # a shared library (torch, proj) that no longer fits
)


def apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    """Limit this process's address space to ``memory_mb`` MiB and CPU time to ``cpu_seconds`` s.

    At the CPU limit the kernel sends SIGXCPU (which ends the process), and SIGKILL
    5 s of CPU later. Limits already lower (set by the administrator) are kept.
    """
    for which, wanted, grace in (
        (resource.RLIMIT_AS, memory_mb * MIB, 0),
        (resource.RLIMIT_CPU, cpu_seconds, 5),
    ):
        _, old_hard = resource.getrlimit(which)
        soft, hard = wanted, wanted + grace
        if old_hard != resource.RLIM_INFINITY:
            hard = min(hard, old_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


def watch_parent(interval: float = 1.0) -> threading.Thread:
    """End this process group (SIGKILL) once the parent process is gone.

    A daemon thread compares ``os.getppid()`` with its value at the start every
    ``interval`` s: an orphan is re-parented to init (or a subreaper).
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.killpg(os.getpgid(0), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="wxai-task-parent-watch", daemon=True)
    thread.start()
    return thread


def _quiet_threads() -> None:
    threads = str(max(1, min(2, os.cpu_count() or 1)))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, threads)
    os.environ["MPLBACKEND"] = "Agg"


def _is_allocation_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return any(hint in text for hint in _ALLOCATION_ERRORS)


def execute(
    task_id: str,
    database_url: str,
    *,
    memory_mb: int,
    progress_interval: float = 0.25,
    type_module: str | None = None,
    type_class: str | None = None,
) -> str:
    """Execute the ``executing`` task ``task_id`` and store its outcome; return the new state.

    Returns ``"skipped"`` when the task is no longer executing (cancelled meanwhile).
    """
    from wxai.cockpit.jobs import (
        CANCELLED_MESSAGE,
        TaskCancelled,
        _TaskReporter,
        describe_exception,
        memory_message,
    )
    from wxai.cockpit.storage import TaskState, TaskStore
    from wxai.cockpit.task_types import load_task_modules, resolve_task_type

    store = TaskStore(database_url)
    try:
        task = store.get(task_id)
        if task.state != TaskState.EXECUTING:
            return "skipped"
        state: TaskState = TaskState.FAILED
        fields: dict[str, Any] = {"message": "failed"}
        try:
            load_task_modules()
            task_type = resolve_task_type(task.type, type_module, type_class)
            params = task_type.params.model_validate(task.data.get("params", {}))
            reporter = _TaskReporter(store, task_id, threading.Event(), progress_interval)
            result = task_type.execute(params, reporter)
        except TaskCancelled:
            state, fields = TaskState.CANCELLED, {"message": CANCELLED_MESSAGE}
        except Exception as exc:  # MemoryError included; the frames it holds are freed below
            fields["error"] = (
                memory_message(memory_mb) if _is_allocation_error(exc) else describe_exception(exc)
            )
        else:
            # the message keeps the task's last report (a lab's acceptance line)
            state, fields = TaskState.COMPLETED, {"result": result, "progress": 1.0}
        store.transition(task_id, [TaskState.EXECUTING], state, **fields)
        return str(state)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process; the exit status is 0 once an outcome is stored."""
    parser = argparse.ArgumentParser(prog="python -m wxai.cockpit.task_process")
    parser.add_argument("task_id")
    parser.add_argument("--memory-mb", type=int, required=True, help="RLIMIT_AS, in MiB")
    parser.add_argument("--cpu-seconds", type=int, required=True, help="RLIMIT_CPU, in s")
    parser.add_argument("--progress-interval", type=float, default=0.25, help="in s")
    parser.add_argument("--type-module", default=None)
    parser.add_argument("--type-class", default=None)
    args = parser.parse_args(argv)
    database_url = os.environ.get("WXAI_TASK_DATABASE_URL")
    if not database_url:
        parser.error("WXAI_TASK_DATABASE_URL is not set; this process is started by the worker")
    apply_limits(args.memory_mb, args.cpu_seconds)
    _quiet_threads()
    watch_parent()
    execute(
        args.task_id,
        database_url,
        memory_mb=args.memory_mb,
        progress_interval=args.progress_interval,
        type_module=args.type_module,
        type_class=args.type_class,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
