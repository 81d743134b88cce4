"""A guard for the agents' network tests: only loopback, no real DNS.

Test modules that talk HTTP opt in with
``pytestmark = pytest.mark.usefixtures("only_loopback")``; a connection to any
address that is not loopback, or a DNS lookup of a name, fails the test before
a packet leaves the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


def _ip(host: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return None


@pytest.fixture
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test on any connection to a non-loopback address, or any real DNS lookup.

    Yields the list of refused attempts (a test of the guard itself empties it).
    """
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        ip = _ip(host)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not (ip and ip.is_loopback):
            attempts.append(str(address))
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and _ip(name) is None:  # a literal needs no lookup
            attempts.append(f"dns:{name}")
            raise AssertionError(f"test tried a real DNS lookup of {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert not attempts, f"non-loopback network access attempted: {attempts}"
