"""``wxai serve``: start the cockpit web server."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option(None, help="Bind address (default WXAI_HOST or 127.0.0.1)."),
    port: int = typer.Option(
        None, min=1, max=65535, help="Port, 1-65535 (default WXAI_PORT or 8000)."
    ),
    workers: int = typer.Option(
        1, min=1, help="Server processes; they share all state through the database."
    ),
) -> None:
    """Serve the cockpit (web page, task API, OpenAPI docs at /docs)."""
    import uvicorn

    from wxai.core.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        "wxai.cockpit.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # uvicorn kills a worker whose health ping waits longer (default 5 s): a busy
        # process (chat threads holding the GIL) was killed with its open streams.
        timeout_worker_healthcheck=60,
    )
