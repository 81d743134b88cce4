"""The cockpit behind Debian's nginx, configured by deploy/nginx/wxai.conf itself.

The deploy file is rendered for loopback ports (its ``${WXAI_...}`` placeholders, as the
nginx image's envsubst would) and included in a minimal main configuration in a temporary
prefix; a self-signed certificate is made here. A real uvicorn cockpit sits behind it,
talking to the stand-in Ollama of benchmarks/standin_llm.py, made slow so that the order
of arrival of the stream's events can be told apart from buffering.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import FIRST_LINK, CockpitServer, _new_home, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "wxai.conf"
PLACEHOLDER = re.compile(r"\$\{(WXAI_[A-Z_]+)\}")
UPLOAD_MAX_MB = 1  # the cockpit's limit; nginx's is 2 MiB
TOKENS, TOKEN_DELAY_S = 8, 0.4  # the slow model: about 3.2 s per answer


def _load_standin() -> Any:
    spec = importlib.util.spec_from_file_location(
        "standin_llm", ROOT / "benchmarks" / "standin_llm.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nginx_binary() -> str:
    """Debian's nginx; skipped only when missing and not installable (not root)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
    )
    if found:
        return found
    reason = "nginx is missing: install it with `apt-get install -y nginx` (scripts/system-deps.sh)"
    if os.geteuid() == 0 or os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def render(values: dict[str, str]) -> str:
    """deploy/nginx/wxai.conf with every ``${WXAI_...}`` replaced (all must be given)."""
    text = TEMPLATE.read_text()
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    assert not missing, f"placeholders without a value: {missing}"
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (also its own CA) and its key, as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wxai test proxy")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Proxy:
    """nginx (HTTP and HTTPS ports) before one cockpit."""

    http_port: int
    https_port: int
    cert: Path
    cockpit: CockpitServer
    standin: Any

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for the HTTPS side that trusts the test certificate."""
        trust = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=self.url, verify=trust, timeout=30, **kwargs)


def _start_nginx(prefix: Path, conf: str) -> subprocess.Popen[bytes]:
    binary = nginx_binary()
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    (prefix / "wxai.conf").write_text(conf)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # temp files in our prefix
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log {prefix}/logs/access.log;\n"
        f"  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n"
        f"  fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n"
        f"  scgi_temp_path {prefix}/scgi;\n  include {prefix}/wxai.conf;\n}}\n"
    )
    command = [
        binary,
        "-p",
        str(prefix),
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        str(prefix / "logs" / "error.log"),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"nginx rejects the rendered config:\n{checked.stderr}"
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def proxy(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Proxy]:
    """nginx on two free ports, a cockpit and a slow stand-in model, stopped at the end."""
    nginx_binary()
    base = tmp_path_factory.mktemp("nginx-proxy")
    standin = _load_standin().StandinLLM(("127.0.0.1", 0), tokens=TOKENS, delay_s=TOKEN_DELAY_S)
    standin.start_in_thread()
    http_port, https_port = free_port(), free_port()
    public = f"https://127.0.0.1:{https_port}"
    env = {
        "WXAI_OLLAMA_URL": standin.url,
        "WXAI_PUBLIC_URL": public,
        "WXAI_COOKIE_SECURE": "true",
        "WXAI_UPLOAD_MAX_MB": str(UPLOAD_MAX_MB),
        "WXAI_RATE_LIMIT_PER_MINUTE": "0",
    }
    cockpit = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    cert, key = self_signed(base)
    conf = render(
        {
            "WXAI_SERVER_NAME": "127.0.0.1 localhost",
            "WXAI_PUBLIC_URL": public,
            "WXAI_HTTP_PORT": str(http_port),
            "WXAI_HTTPS_PORT": str(https_port),
            "WXAI_TLS_CERT": str(cert),
            "WXAI_TLS_KEY": str(key),
            "WXAI_UPSTREAM_SERVERS": f"server 127.0.0.1:{cockpit.port};",
            "WXAI_CLIENT_MAX_BODY_SIZE": f"{UPLOAD_MAX_MB + 1}m",
        }
    )
    nginx = _start_nginx(base / "nginx", conf)
    proxy = Proxy(http_port, https_port, cert, cockpit, standin)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert nginx.poll() is None, (
                f"nginx exited: {nginx.stderr.read().decode() if nginx.stderr else ''}"
            )
            try:
                with proxy.client() as client:
                    if client.get("/api/health").status_code == 200:
                        break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not answer within 20 s"
                time.sleep(0.1)
        yield proxy
    finally:
        nginx.terminate()
        nginx.wait(10)
        cockpit.stop()
        standin.shutdown()
        standin.server_close()


@pytest.fixture(scope="module")
def browser_like(proxy: Proxy) -> Iterator[httpx.Client]:
    """A cookie session signed in through the proxy with the first-start link, as a browser."""
    assert proxy.cockpit.first_link, "the new cockpit printed no sign-in link"
    path = FIRST_LINK.findall(proxy.cockpit.first_link)[-1]
    with proxy.client(headers={"Origin": proxy.url}) as client:
        signed_in = client.get(path)
        assert signed_in.status_code in (200, 303), signed_in.text
        assert client.cookies.get("wxai_session"), "no session cookie over HTTPS"
        yield client


def _csrf(client: httpx.Client) -> str:
    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    return str(me.json()["csrf_token"])


def _admin_key(client: httpx.Client) -> str:
    made = client.post(
        "/api/me/keys", json={"label": "proxy"}, headers={"X-CSRF-Token": _csrf(client)}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


def test_https_answers_and_plain_http_redirects(proxy: Proxy) -> None:
    with proxy.client() as client:
        health = client.get("/api/health")
    assert health.status_code == 200
    assert "default-src 'self'" in health.headers["content-security-policy"]  # the app's headers
    assert health.headers.get("server") == "nginx"  # no version number
    with httpx.Client(timeout=10) as plain:
        moved = plain.get(
            f"http://127.0.0.1:{proxy.http_port}/api/sessions?q=rain",
            headers={"Host": "evil.example"},
        )
    assert moved.status_code == 301
    assert moved.headers["location"] == f"{proxy.url}/api/sessions?q=rain"  # not the sent Host
    with pytest.raises(httpx.ConnectError):  # the certificate is checked, not waved through
        httpx.get(f"{proxy.url}/api/health", verify=True, timeout=10)


def test_login_host_origin_and_csrf_through_the_proxy(
    proxy: Proxy, browser_like: httpx.Client
) -> None:
    csrf = _csrf(browser_like)
    assert browser_like.post("/api/me/keys", json={"label": "no token"}).status_code == 403
    cross = browser_like.post(
        "/api/me/keys",
        json={"label": "x"},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403, cross.text
    key = _admin_key(browser_like)  # same origin and the token: accepted
    # Links the cockpit makes carry the public https address: X-Forwarded-Proto is believed.
    with proxy.client(headers={"Authorization": f"Bearer {key}"}) as api:
        users = {u["name"]: u["id"] for u in api.get("/api/admin/users").json()}
        link = api.post(f"/api/admin/users/{users['admin']}/link")
        assert link.status_code == 200, link.text
        assert link.json()["url"].startswith(f"{proxy.url}/auth/link?token=")
        page = api.get("/labs", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert f'src="{proxy.url}/static/' in page.text  # no http:// script on an https page
        wrong_host = api.get("/api/me", headers={"Host": "evil.example"})
    assert wrong_host.status_code == 400  # the allow-list still sees the browser's Host


def test_a_chat_stream_arrives_event_by_event(proxy: Proxy, browser_like: httpx.Client) -> None:
    key = _admin_key(browser_like)
    with proxy.client(headers={"Authorization": f"Bearer {key}"}) as api:
        made = api.post("/api/sessions", json={"title": "through nginx", "model": "ollama-core"})
        assert made.status_code == 201, made.text
        arrivals: list[tuple[float, str]] = []
        started = time.monotonic()
        url = f"/api/sessions/{made.json()['id']}/messages"
        with api.stream("POST", url, json={"text": "Say something long"}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    arrivals.append((time.monotonic() - started, line[7:]))
    kinds = [kind for _, kind in arrivals]
    assert kinds[-1] == "done", kinds
    texts = [at for at, kind in arrivals if kind == "text"]
    assert len(texts) >= 3, kinds
    total = arrivals[-1][0]
    assert total >= TOKENS * TOKEN_DELAY_S * 0.9  # the model really was slow
    # Unbuffered: the first words arrived while the model was still producing the rest.
    assert texts[0] < total - 4 * TOKEN_DELAY_S, arrivals
    assert texts[1] - texts[0] > TOKEN_DELAY_S / 2, arrivals


def test_uploads_over_the_limits_get_413(proxy: Proxy, browser_like: httpx.Client) -> None:
    key = _admin_key(browser_like)
    with proxy.client(headers={"Authorization": f"Bearer {key}"}) as api:
        space = api.get("/api/dataspaces").json()[0]["id"]
        url = f"/api/dataspaces/{space}/files"
        # Over the cockpit's 1 MiB but under nginx's 2 MiB: nginx passes the whole body on
        # (a successful upload would cost the indexing: 20 s) and the cockpit refuses it.
        middle = api.post(url, files={"file": ("big.txt", b"a" * (3 * 2**19), "text/plain")})
        assert middle.status_code == 413, middle.text
        assert "WXAI_UPLOAD_MAX_MB" in middle.json()["detail"]  # the cockpit's own answer
        # Over nginx's limit: refused before the cockpit reads a byte, still as JSON.
        huge = api.post(url, files={"file": ("huge.txt", b"a" * (3 * 2**20), "text/plain")})
        assert huge.status_code == 413, huge.text
        assert "larger than this server accepts (2m)" in huge.json()["detail"]
        openai = api.post("/v1/chat/completions", content=b"{" + b" " * (3 * 2**20) + b"}")
        assert openai.status_code == 413
        assert openai.json()["error"]["type"] == "invalid_request_error"
