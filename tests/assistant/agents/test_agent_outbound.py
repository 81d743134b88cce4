"""The outbound guard: a corpus of SSRF tricks, all refused before any connection.

Network safety of these tests: DNS is a fake (a dict), the only live server is a
uvicorn app on 127.0.0.1 started here, and an autouse guard fails the test if any
code tries to connect to a non-loopback address or to resolve a name for real.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from wxai.assistant.agents.outbound import (
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    address_problem,
    check_url,
    parse_host_rule,
    parse_ipv4_like_c,
)
from wxai.assistant.agents.outbound_http import post_json
from wxai.core.errors import ConfigError, OutboundBlocked

PUBLIC = "93.184.216.34"

#: Fake DNS: names -> addresses (nothing here is ever connected to).
FAKE_DNS: dict[str, list[str]] = {
    "allowed.test": [PUBLIC],
    "internal.test": ["10.0.0.5"],
    "home.test": ["192.168.1.10"],
    "corp.test": ["172.16.3.4"],
    "linklocal.test": ["169.254.10.1"],
    "meta.test": ["169.254.169.254"],
    "azure.test": ["168.63.129.16"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "mapped.test": ["::ffff:10.0.0.5"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "mixed.test": [PUBLIC, "10.0.0.5"],
    "cgnat.test": ["100.64.0.1"],
    "zero.test": ["0.0.0.0"],
    "mcast.test": ["224.0.0.1"],
    "ula.test": ["fd00::1"],
    "doc.test": ["192.0.2.10"],
}

pytestmark = pytest.mark.usefixtures("only_loopback")


def fake_resolver(host: str, port: int) -> list[str]:
    try:
        return list(FAKE_DNS[host])
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


# every name is allow-listed (and some literals): the refusals below come from the
# address rules, not merely from a missing allow-list entry
CORPUS_POLICY = OutboundPolicy(
    allowed_hosts=(
        *FAKE_DNS,
        "nowhere.test",
        "0.0.0.0",
        "127.0.0.1",
        "10.0.0.5",
        "169.254.169.254",
        "metadata.google.internal",
        "[::]",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    ),
    max_redirects=2,
)

TRICKS = [
    # IPv4 literals only C resolvers read
    ("decimal", "http://2130706433/", "non-canonical-ip"),
    ("octal", "http://0177.0.0.1/", "non-canonical-ip"),
    ("hex-dotted", "http://0x7f.0.0.1/", "non-canonical-ip"),
    ("hex-whole", "http://0x7f000001/", "non-canonical-ip"),
    ("short-form", "http://127.1/", "non-canonical-ip"),
    ("octal-private", "http://012.0.0.5/", "non-canonical-ip"),
    ("leading-zeros", "http://127.000.000.001/", "non-canonical-ip"),
    ("too-many-parts", "http://1.2.3.4.5/", "malformed-url"),
    # IPv6 forms carrying IPv4
    ("ipv4-mapped", "http://[::ffff:127.0.0.1]/", "embedded-ipv4"),
    ("ipv4-compatible", "http://[::127.0.0.1]/", "embedded-ipv4"),
    ("nat64", "http://[64:ff9b::7f00:1]/", "embedded-ipv4"),
    ("6to4", "http://[2002:7f00:1::]/", "embedded-ipv4"),
    ("teredo", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "embedded-ipv4"),
    # unspecified and loopback
    ("zero-v4", "http://0.0.0.0/", "unspecified-address"),
    ("zero-v6", "http://[::]/", "unspecified-address"),
    ("loopback-v6", "http://[::1]/", "loopback-address"),
    ("loopback-v4", "http://127.0.0.1/", "loopback-address"),
    ("localhost", "http://localhost/", "loopback-address"),
    ("nip-io-style", "http://127.0.0.1.nip.io/", "loopback-address"),
    ("fullwidth-digits", "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "loopback-address"),
    ("ideographic-dots", "http://127\u30020\u30020\u30021/", "loopback-address"),
    (
        "circled-localhost",
        "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",
        "loopback-address",
    ),
    # names resolving to private, link-local, metadata, other non-public addresses
    ("dns-10", "http://internal.test/", "private-address"),
    ("dns-192-168", "http://home.test/", "private-address"),
    ("dns-172-16", "http://corp.test/", "private-address"),
    ("dns-ula", "http://ula.test/", "private-address"),
    ("dns-link-local", "http://linklocal.test/", "link-local-address"),
    ("dns-metadata", "http://meta.test/latest/meta-data/", "metadata-address"),
    ("dns-azure-wire", "http://azure.test/", "metadata-address"),
    ("dns-mapped-private", "http://mapped.test/", "embedded-ipv4"),
    ("dns-nat64-metadata", "http://nat64.test/", "embedded-ipv4"),
    ("dns-one-bad-of-two", "http://mixed.test/", "private-address"),
    ("dns-cgnat", "http://cgnat.test/", "reserved-address"),
    ("dns-documentation", "http://doc.test/", "private-address"),
    ("dns-zero", "http://zero.test/", "unspecified-address"),
    ("dns-multicast", "http://mcast.test/", "multicast-address"),
    ("dns-fails", "http://nowhere.test/", "dns"),
    ("literal-private", "http://10.0.0.5/", "private-address"),
    ("metadata-ip", "http://169.254.169.254/latest/meta-data/", "metadata-address"),
    ("metadata-name", "http://metadata.google.internal/computeMetadata/v1/", "metadata-host"),
    ("metadata-name-dot", "http://METADATA.google.internal./", "metadata-host"),
    # URL parsing tricks
    ("userinfo", "http://allowed.test@evil.test/", "userinfo"),
    ("userinfo-allowed-host", "http://evil.test@allowed.test/", "userinfo"),
    ("userinfo-password", "http://user:pw@allowed.test/", "userinfo"),
    ("fragment-at", "http://evil.test#@allowed.test/", "host-not-allowed"),
    ("query-at", "http://evil.test?@allowed.test/", "host-not-allowed"),
    ("backslash-at", "http://allowed.test\\@evil.test/", "malformed-url"),
    ("backslash-path", "http://evil.test\\allowed.test/", "malformed-url"),
    ("tab-in-host", "http://allowed.test\t.evil.test/", "malformed-url"),
    ("newline-in-host", "http://evil.test\n.allowed.test/", "malformed-url"),
    ("percent-host", "http://127%2e0%2e0%2e1/", "malformed-url"),
    ("ipv6-zone", "http://[fe80::1%25eth0]/", "malformed-url"),
    ("broken-bracket", "http://[::1/", "malformed-url"),
    ("no-host", "http:///etc/passwd", "malformed-url"),
    ("no-slashes", "http:evil.test", "malformed-url"),
    ("port-zero", "http://allowed.test:0/", "malformed-url"),
    # host allow-list: exact, after normalisation
    ("not-allowed", "http://evil.test/", "host-not-allowed"),
    ("uppercase-not-allowed", "http://EVIL.TEST/", "host-not-allowed"),
    ("trailing-dot-not-allowed", "http://evil.test./", "host-not-allowed"),
    ("allowed-as-prefix", "http://allowed.test.evil.test/", "host-not-allowed"),
    ("allowed-as-suffix", "http://evilallowed.test/", "host-not-allowed"),
    ("port-not-allowed", "http://allowed.test:8080/", "port-not-allowed"),
    ("https-port-80", "https://allowed.test:80/", "port-not-allowed"),
    # schemes
    ("file", "file:///etc/passwd", "scheme"),
    ("gopher", "gopher://allowed.test:70/_HELO", "scheme"),
    ("ftp", "ftp://allowed.test/", "scheme"),
    ("dict", "dict://allowed.test:11211/stat", "scheme"),
    ("data", "data:text/plain,hello", "scheme"),
    ("scheme-relative", "//allowed.test/", "scheme"),
]


class NoConnection(httpx.BaseTransport):
    """A transport that records what reaches it: the corpus must never reach it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise AssertionError(f"connection attempted to {request.url}")


# -- the corpus -------------------------------------------------------------------


@pytest.mark.parametrize(("url", "rule"), [t[1:] for t in TRICKS], ids=[t[0] for t in TRICKS])
def test_trick_is_refused_before_connecting(url: str, rule: str) -> None:
    transport = NoConnection()
    with pytest.raises(OutboundRefused) as caught:
        post_json(url, {"x": 1}, CORPUS_POLICY, resolve=fake_resolver, transport=transport)
    assert caught.value.rule == rule, str(caught.value)
    assert isinstance(caught.value, OutboundBlocked)
    assert transport.requests == []


def test_corpus_is_large_and_ids_unique() -> None:
    assert len(TRICKS) >= 30
    assert len({t[0] for t in TRICKS}) == len(TRICKS)


def test_messages_name_the_rule_and_the_way_out() -> None:
    with pytest.raises(OutboundRefused, match=r"allowed_networks \[private-address\]"):
        check_url("http://internal.test/", CORPUS_POLICY, resolve=fake_resolver)
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1 in a non-canonical form"):
        check_url("http://0x7f.1/", CORPUS_POLICY, resolve=fake_resolver)
    with pytest.raises(OutboundRefused, match="add it to allowed_hosts"):
        check_url("http://evil.test/", CORPUS_POLICY, resolve=fake_resolver)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0", "0.0.0.0"),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("08.1.1.1", None),
        ("1_0.0.0.1", None),
    ],
)
def test_ipv4_parsed_like_c(text: str, address: str | None) -> None:
    parsed = parse_ipv4_like_c(text)
    assert (str(parsed) if parsed else None) == address


# -- what is allowed ----------------------------------------------------------------


def test_allowed_host_normalised_and_pinned() -> None:
    target = check_url("HTTP://Allowed.Test./api?q=1#frag", CORPUS_POLICY, resolve=fake_resolver)
    assert target.url == "http://allowed.test/api?q=1"
    assert target.address == PUBLIC
    assert target.connect_url == f"http://{PUBLIC}:80/api?q=1"
    assert target.host_header == "allowed.test"


def test_allowed_network_is_the_only_exception() -> None:
    policy = OutboundPolicy(
        allowed_hosts=("internal.test:8443",), allowed_networks=("10.0.0.0/24",)
    )
    target = check_url("https://internal.test:8443/", policy, resolve=fake_resolver)
    assert target.address == "10.0.0.5"
    assert address_problem("10.0.1.5", policy) == (
        "private-address",
        "10.0.1.5 is a private address",
    )
    # an IPv4-mapped form of an allowed address is not the allowed address
    assert address_problem("::ffff:10.0.0.5", policy)[0] == "embedded-ipv4"  # type: ignore[index]


@pytest.mark.parametrize(
    "entry",
    ["http://a.test", "a.test/path", "user@a.test", "a.test:0", "a.test:x", "::1", "0x7f.1"],
)
def test_bad_allow_list_entries(entry: str) -> None:
    with pytest.raises(ConfigError, match="allowed host"):
        parse_host_rule(entry)


@pytest.mark.parametrize("network", ["0.0.0.0/0", "10.0.0.0/7", "::/0", "not-a-net"])
def test_too_broad_or_bad_networks(network: str) -> None:
    with pytest.raises(ConfigError, match="allowed network"):
        OutboundPolicy(allowed_networks=(network,))


def test_policy_limits_checked() -> None:
    with pytest.raises(ConfigError, match="max_redirects"):
        OutboundPolicy(max_redirects=99)
    with pytest.raises(ConfigError, match="lists"):
        OutboundPolicy(allowed_hosts="a.test")  # type: ignore[arg-type]


class Recorder(httpx.BaseTransport):
    """Answers every request with 200 and keeps it (no network)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"ok": True})


def test_dns_rebinding_cannot_swap_the_address() -> None:
    answers = iter([[PUBLIC], ["10.0.0.5"], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    transport = Recorder()
    policy = OutboundPolicy(allowed_hosts=("rebind.test",))
    post_json("https://rebind.test/hook", {"a": 1}, policy, resolve=rebinding, transport=transport)
    assert calls == ["rebind.test"]  # resolved exactly once
    (request,) = transport.requests
    assert request.url.host == PUBLIC  # connected to the checked address
    assert request.headers["host"] == "rebind.test"
    assert request.extensions["sni_hostname"] == "rebind.test"  # TLS checks the name


# -- against a live loopback server --------------------------------------------------


def _app() -> FastAPI:
    app = FastAPI()
    seen: list[dict[str, Any]] = []
    app.state.seen = seen

    @app.api_route("/echo", methods=["GET", "POST"])
    async def echo(request: Request) -> Response:
        body = await request.body()
        seen.append({"method": request.method, "body": body, "headers": dict(request.headers)})
        return JSONResponse({"method": request.method, "length": len(body)})

    @app.post("/redirect")
    async def redirect(to: str, code: int = 302) -> Response:
        seen.append({"method": "POST", "redirect": to})
        return RedirectResponse(to, status_code=code)

    @app.post("/loop")
    async def loop() -> Response:
        seen.append({"method": "POST", "loop": True})
        return RedirectResponse("/loop", status_code=307)

    @app.post("/slow")
    async def slow() -> Response:
        await asyncio.sleep(2.0)
        return PlainTextResponse("late")

    @app.post("/fail")
    async def fail() -> Response:
        return PlainTextResponse("boom", status_code=500)

    @app.post("/big")
    async def big() -> Response:
        return PlainTextResponse("x" * 50_000)

    @app.post("/bigstream")
    async def bigstream() -> Response:
        async def pieces() -> Any:
            for _ in range(50):
                yield b"y" * 1000

        return StreamingResponse(pieces(), media_type="text/plain")

    return app


class LoopbackServer:
    """A FastAPI app served by uvicorn on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(app, log_level="error", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "loopback server did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    @property
    def seen(self) -> list[dict[str, Any]]:
        return self.app.state.seen  # type: ignore[no-any-return]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    running = LoopbackServer(_app()).start()
    yield running
    running.stop()


def _loopback_policy(server: LoopbackServer, *extra: str, **limits: Any) -> OutboundPolicy:
    """The test server allow-listed explicitly: its host:port and 127.0.0.1/32."""
    return OutboundPolicy(
        allowed_hosts=(f"127.0.0.1:{server.port}", f"svc.test:{server.port}", *extra),
        allowed_networks=("127.0.0.1/32",),
        **limits,
    )


def _svc(host: str, port: int) -> list[str]:
    return {"svc.test": ["127.0.0.1"]}.get(host) or fake_resolver(host, port)


def test_happy_path_exact_payload(server: LoopbackServer) -> None:
    server.seen.clear()
    payload = {"session_id": "s1", "user": "anna", "function": {"name": "f", "arguments": {}}}
    response = post_json(server.url("/echo"), payload, _loopback_policy(server))
    assert response.ok and response.json() == {
        "method": "POST",
        "length": len(server.seen[0]["body"]),
    }
    assert httpx.Response(200, content=server.seen[0]["body"]).json() == payload
    assert server.seen[0]["headers"]["content-type"] == "application/json"


def test_name_pinned_to_checked_address_keeps_host_header(server: LoopbackServer) -> None:
    server.seen.clear()
    calls: list[str] = []

    def once(host: str, port: int) -> list[str]:
        calls.append(host)  # a second lookup would answer a private address
        return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.5"]

    url = f"http://svc.test:{server.port}/echo"
    response = post_json(url, {"a": 1}, _loopback_policy(server), resolve=once)
    assert response.ok and calls == ["svc.test"]
    assert server.seen[0]["headers"]["host"] == f"svc.test:{server.port}"


def test_allowed_redirect_is_followed_and_rechecked(server: LoopbackServer) -> None:
    server.seen.clear()
    policy = _loopback_policy(server, max_redirects=1)
    response = post_json(server.url("/redirect?to=/echo&code=307"), {"a": 1}, policy)
    assert response.ok and response.json()["method"] == "POST"
    assert len(response.hops) == 2
    response = post_json(server.url("/redirect?to=/echo&code=303"), {"a": 1}, policy)
    assert response.json() == {"method": "GET", "length": 0}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("target", "rule"),
    [
        ("http://127.0.0.1:{other}/", "port-not-allowed"),
        ("http://localhost:{port}/echo", "host-not-allowed"),
        ("http://10.0.0.5/", "private-address"),
        ("http://internal.test/", "private-address"),
        ("http://evil.test/", "host-not-allowed"),
        ("http://169.254.169.254/latest/meta-data/", "metadata-address"),
        ("http://2130706433:{port}/echo", "non-canonical-ip"),
        ("http://[::ffff:127.0.0.1]:{port}/echo", "host-not-allowed"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:{port}/", "scheme"),
    ],
    ids=[
        "loopback-other-port",
        "localhost-name",
        "private-ip",
        "name-to-private",
        "not-allow-listed",
        "metadata",
        "decimal-ip",
        "mapped-v6",
        "file",
        "gopher",
    ],
)
def test_redirect_hops_rechecked(server: LoopbackServer, target: str, rule: str) -> None:
    server.seen.clear()
    hop = target.format(other=_free_port(), port=server.port)
    policy = _loopback_policy(
        server, "10.0.0.5", "internal.test", "169.254.169.254", max_redirects=3
    )
    url = f"{server.url('/redirect')}?{httpx.QueryParams({'to': hop})}"
    with pytest.raises(OutboundRefused) as caught:
        post_json(url, {}, policy, resolve=_svc)
    assert caught.value.rule == rule, str(caught.value)
    assert len(server.seen) == 1  # the first hop reached the server, the second nothing


def test_redirect_loop_is_bounded(server: LoopbackServer) -> None:
    server.seen.clear()
    with pytest.raises(OutboundRefused) as caught:
        post_json(server.url("/loop"), {}, _loopback_policy(server, max_redirects=3))
    assert caught.value.rule == "redirect-limit"
    assert len(server.seen) == 4


def test_no_redirects_by_default_count(server: LoopbackServer) -> None:
    with pytest.raises(OutboundRefused, match="redirect-limit"):
        post_json(server.url("/redirect?to=/echo"), {}, _loopback_policy(server, max_redirects=0))


def test_timeout(server: LoopbackServer) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundFailed) as caught:
        post_json(server.url("/slow"), {}, _loopback_policy(server, timeout_s=0.3))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 1.5


def test_http_error_status_is_returned(server: LoopbackServer) -> None:
    response = post_json(server.url("/fail"), {}, _loopback_policy(server))
    assert response.status == 500 and not response.ok and response.text == "boom"


@pytest.mark.parametrize("path", ["/big", "/bigstream"], ids=["content-length", "streamed"])
def test_oversized_response_refused(server: LoopbackServer, path: str) -> None:
    with pytest.raises(OutboundRefused) as caught:
        post_json(server.url(path), {}, _loopback_policy(server, max_response_bytes=10_000))
    assert caught.value.rule == "response-too-large"


def test_connection_refused_is_a_clear_error() -> None:
    port = _free_port()
    policy = OutboundPolicy(
        allowed_hosts=(f"127.0.0.1:{port}",), allowed_networks=("127.0.0.1/32",)
    )
    with pytest.raises(OutboundFailed, match="cannot reach") as caught:
        post_json(f"http://127.0.0.1:{port}/", {}, policy)
    assert caught.value.reason == "connection"


def test_guard_catches_outside_connections(only_loopback: list[str]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError, match="tried to connect"):
            sock.connect(("10.0.0.5", 80))
    finally:
        sock.close()
    assert only_loopback == ["('10.0.0.5', 80)"]
    only_loopback.clear()


def test_guard_sees_a_leak_through_httpx(only_loopback: list[str]) -> None:
    """Were a private network allow-listed, the request would go out: the guard stops it."""
    policy = OutboundPolicy(allowed_hosts=("internal.test",), allowed_networks=("10.0.0.0/8",))
    with pytest.raises(AssertionError, match="tried to connect"):
        post_json("http://internal.test/", {}, policy, resolve=fake_resolver)
    assert only_loopback == ["('10.0.0.5', 80)"]
    only_loopback.clear()


def test_caller_headers_stay_with_the_first_origin() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers["host"] == "a.test":
            return httpx.Response(307, headers={"location": "http://b.test/next"})
        return httpx.Response(200, text="done")

    dns = {"a.test": ["93.184.216.34"], "b.test": ["93.184.216.35"]}
    policy = OutboundPolicy(allowed_hosts=("a.test", "b.test"), max_redirects=1)
    response = post_json(
        "http://a.test/",
        {},
        policy,
        resolve=lambda host, port: dns[host],
        transport=httpx.MockTransport(handler),
        headers={"Authorization": "Bearer secret"},
    )
    assert response.text == "done" and response.hops == ("http://a.test/", "http://b.test/next")
    assert seen[0].headers["authorization"] == "Bearer secret"
    assert "authorization" not in seen[1].headers
    assert seen[1].url.host == "93.184.216.35" and seen[1].url.path == "/next"
