"""``wxai worker``: run the cockpit's task worker in its own process."""

from __future__ import annotations

import signal

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
    from rich.console import Console
    from sqlalchemy.engine import make_url

    from wxai.cockpit.jobs import TaskLimits, Worker
    from wxai.cockpit.storage import TaskStore
    from wxai.cockpit.task_types import load_task_modules, task_type_names
    from wxai.core.settings import get_settings

    settings = get_settings()
    load_task_modules()
    limits = TaskLimits.from_settings(settings)
    store = TaskStore(settings.resolved_database_url)
    store.create_tables()
    runner = Worker(store, poll_interval=poll_interval, limits=limits)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: runner.request_stop())
    console = Console(stderr=True)
    database = make_url(store.url).render_as_string(hide_password=True)
    console.print(
        f"wxai worker: tasks from {database}; types {', '.join(task_type_names())}; "
        f"limits {limits.memory_mb} MiB, {limits.cpu_seconds:g} s CPU, "
        f"{limits.wall_seconds:g} s wall",
        highlight=False,
    )
    try:
        done = runner.run(max_tasks or None)
    finally:
        store.close()
    console.print(f"wxai worker: stopped after {done} task(s)", highlight=False)
