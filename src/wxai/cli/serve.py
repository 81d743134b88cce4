"""``wxai serve``: start the cockpit web server."""

from __future__ import annotations

import os
import socket
import sys

import typer

APP = "wxai.cockpit.app:create_app"


def tcp_listener(sock: socket.socket) -> socket.socket:
    """``sock`` (a bound TCP listener) re-wrapped so that Python knows it is TCP.

    uvicorn binds the shared socket of ``--workers N`` with protocol 0 (uvicorn issue
    #3149); accepted connections inherit it, asyncio then skips ``TCP_NODELAY``, and
    every keep-alive request after the first waited ~40 ms for a delayed ACK. Same
    descriptor, same address; only the protocol Python reports changes.
    """
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto != 0:
        return sock
    inheritable = sock.get_inheritable()
    wrapped = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    wrapped.set_inheritable(inheritable)
    return wrapped


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
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from wxai.core.settings import get_settings

    # The app (and every worker process) reads its settings from the environment: the
    # options go there, so links printed to people name the address actually served.
    if host:
        os.environ["WXAI_HOST"] = host
    if port:
        os.environ["WXAI_PORT"] = str(port)
    get_settings.cache_clear()
    settings = get_settings()
    config = uvicorn.Config(
        APP,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        # uvicorn kills a worker whose health ping waits longer (default 5 s): a busy
        # process (chat threads holding the GIL) was killed with its open streams.
        timeout_worker_healthcheck=60,
    )
    try:
        if workers > 1:  # what uvicorn.run does, with the listener's protocol set
            Multiprocess(config, sockets=[tcp_listener(config.bind_socket())]).run()
            return
        server = uvicorn.Server(config)
        server.run()
    except KeyboardInterrupt:
        return
    if not server.started:
        sys.exit(STARTUP_FAILURE)
