"""``wxai serve --workers N``: the shared listener makes connections with TCP_NODELAY.

uvicorn binds it with protocol 0 (uvicorn issue #3149), so asyncio left Nagle's
algorithm on and every keep-alive request after the first waited for a delayed ACK.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from wxai.cli.serve import tcp_listener


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection an asyncio server accepts on ``listener``."""

    async def main() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def _uvicorn_listener() -> socket.socket:
    return uvicorn.Config("x:y", host="127.0.0.1", port=0, workers=2).bind_socket()


def test_uvicorn_listener_loses_nodelay_and_ours_keeps_it() -> None:
    theirs = _uvicorn_listener()
    assert theirs.proto == 0  # the bug this works around; if uvicorn fixes it, drop ours
    assert _accepted_nodelay(theirs) == 0
    ours = tcp_listener(_uvicorn_listener())
    assert ours.proto == socket.IPPROTO_TCP and ours.get_inheritable()
    assert _accepted_nodelay(ours) != 0


def test_other_sockets_are_left_alone() -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        assert tcp_listener(unix) is unix
