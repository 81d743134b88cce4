"""``wxai worker``: run the cockpit's task worker in its own process."""

from __future__ import annotations

import importlib

import typer


def worker(
    poll_interval: float = typer.Option(
        1.0, min=0.05, max=3600.0, help="Seconds between looks at the database when idle."
    ),
    max_tasks: int = typer.Option(
        0, min=0, help="Stop after processing this many tasks (0: run until stopped)."
    ),
) -> None:
    """Execute cockpit tasks from WXAI_DATABASE_URL, each in a limited child process.

    Start one or more next to `wxai serve --workers N` with WXAI_EMBEDDED_WORKER=false.
    Limits: WXAI_TASK_MEMORY_MB, WXAI_TASK_CPU_SECONDS, WXAI_TASK_WALL_SECONDS; further
    task types: WXAI_TASK_MODULES. Ctrl-C or SIGTERM stops it; a running task is then
    killed and marked failed ("interrupted").
    """
    # cli and cockpit are sibling layers: reach the cockpit by name, as `wxai serve` does
    jobs = importlib.import_module("wxai.cockpit.jobs")
    jobs.run_worker(poll_interval=poll_interval, max_tasks=max_tasks or None)
