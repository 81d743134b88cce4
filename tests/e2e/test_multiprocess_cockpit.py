"""``wxai serve --workers 2``: two uvicorn processes share everything through the database.

On SQLite and on PostgreSQL: both processes serve, a sign-in works on either, a rate
limit is counted across them, a stream cut by its client is finished and fetched on
a new connection, a cancel sent on another connection stops it. On PostgreSQL the
database restarts while an answer streams: the server goes on answering and nothing
stored is lost. The model is a stand-in Ollama (NDJSON, a word every 50 ms).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import CockpitServer, _new_home, free_port

pytestmark = pytest.mark.e2e

ALIAS = "ollama-core"
WORDS = [f"word{i} " for i in range(60)]
QUESTION = "Tell me a long story about a cat named Max"


class StandInOllama(ThreadingHTTPServer):
    """Ollama's /api/tags and /api/chat: no tool call, then ``WORDS`` streamed slowly."""

    daemon_threads = True
    delay = 0.05


class _Handler(BaseHTTPRequestHandler):
    server: StandInOllama

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        names = ["qwen2.5:7b", "llama3.2:3b"]
        self._json({"models": [{"name": n, "model": n} for n in names]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = body.get("model", "")
        if not body.get("stream"):
            message = {"role": "assistant", "content": ""}
            self._json({"model": model, "message": message, "done": True, "done_reason": "stop"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        try:
            for word in WORDS:
                time.sleep(self.server.delay)
                line = {"model": model, "message": {"role": "assistant", "content": word}}
                self.wfile.write(json.dumps({**line, "done": False}).encode() + b"\n")
                self.wfile.flush()
            end = {"model": model, "message": {"role": "assistant", "content": ""}, "done": True}
            self.wfile.write(json.dumps({**end, "done_reason": "stop"}).encode() + b"\n")
        except OSError:
            pass


class MultiServer(CockpitServer):
    """``wxai serve --workers N`` instead of one uvicorn process."""

    workers = 2

    def start(self, timeout: float = 120.0) -> MultiServer:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WXAI_")}
        env.update(WXAI_HOME=str(self.home), MPLBACKEND="Agg", OMP_NUM_THREADS="1")
        env.update(PYTHONUNBUFFERED="1", **self.extra_env)
        wxai = str(Path(sys.executable).with_name("wxai"))
        command = [wxai, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wxai serve exited at startup:\n{self.log_tail()}")
            try:
                answer = httpx.get(f"{self.url}/api/health", timeout=2)
                if answer.status_code == 200 and len(self.worker_pids()) == self.workers:
                    self._read_first_link()
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"wxai serve did not answer within {timeout} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The worker processes uvicorn started (children of the serving process)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [p for p in pids if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(30)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandInOllama]:
    fake = StandInOllama(("127.0.0.1", 0), _Handler)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture(params=["sqlite", "postgresql"])
def multi(request, tmp_path, stand_in) -> Iterator[MultiServer]:
    env = {
        "WXAI_OLLAMA_URL": f"http://127.0.0.1:{stand_in.server_address[1]}",
        "WXAI_LLM_MODEL": ALIAS,
        "WXAI_RATE_LIMIT_PER_MINUTE": "0",
    }
    if request.param == "postgresql":
        env["WXAI_DATABASE_URL"] = request.getfixturevalue("new_postgres_database")()
    server = MultiServer(_new_home(tmp_path / "multi", request), tmp_path / "serve.log", env)
    server.start()
    yield server
    server.stop()


def _parts(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line.removeprefix("data: "))


def _poll(url: str, key: str, path: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    message: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as fresh:
            message = fresh.get(path).json()  # a new connection each time: any worker
        if message.get("status") != "streaming":
            return message
        time.sleep(0.2)
    raise AssertionError(f"{path} still streaming: {message}")


def test_two_workers_share_sign_ins_limits_and_streams(multi: MultiServer) -> None:
    pids = multi.worker_pids()
    assert len(pids) == 2
    key = multi.admin_key()
    # a browser sign-in made on one worker is valid on the other (fresh connections)
    link = multi.login_link("admin")
    with httpx.Client(base_url=multi.url, timeout=30) as browser:
        assert browser.get(link).status_code in (200, 303)
        cookie = browser.cookies.get("wxai_session")
    assert cookie
    for _ in range(10):
        with httpx.Client(base_url=multi.url, cookies={"wxai_session": cookie}) as fresh:
            assert fresh.get("/api/me").json()["name"] == "admin"
    # a rate limit counted across both processes
    with multi.client() as admin:
        made = admin.post("/api/admin/users", json={"name": "rita", "password": "long-password1"})
        assert made.status_code == 201, made.text
        limited = admin.put("/api/admin/users/rita/limits", json={"requests_per_minute": 6})
        assert limited.status_code == 200
        rita_key = multi.login_link("rita")
    with httpx.Client(base_url=multi.url, timeout=30) as rita_browser:
        rita_browser.get(rita_key)
        csrf = rita_browser.get("/api/me").json()["csrf_token"]
        rita = rita_browser.post(
            "/api/me/keys", json={"label": "t"}, headers={"X-CSRF-Token": csrf}
        ).json()["key"]
    codes = []
    for _ in range(10):  # a new connection per request: the kernel spreads them
        with httpx.Client(base_url=multi.url, headers={"Authorization": f"Bearer {rita}"}) as c:
            codes.append(c.get("/api/sessions").status_code)
    assert codes.count(429) >= 3 and codes.count(200) <= 6, codes  # 1 used by the key's POST
    # a stream cut by its client is finished by its worker and read on a new connection
    with multi.client() as admin:
        sid = admin.post("/api/sessions", json={"model": ALIAS}).json()["id"]
        with admin.stream("POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}) as r:
            assert r.status_code == 200
            first = next(_parts(r.iter_lines()))
    mid = first["message_id"]
    done = _poll(multi.url, key, f"/api/sessions/{sid}/messages/{mid}")
    assert done["status"] == "complete" and done["text"] == "".join(WORDS), done
    # a cancel sent on another connection reaches the worker that writes the answer
    with (
        multi.client() as admin,
        admin.stream("POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}) as r,
    ):
        parts = []
        for part in _parts(r.iter_lines()):
            parts.append(part)
            if part["type"] == "text" and part["delta"] and len(parts) == 3:
                mid = parts[0]["message_id"]
                with multi.client() as other:
                    stop = other.post(f"/api/sessions/{sid}/messages/{mid}/cancel")
                    assert stop.status_code == 200
    assert parts[-1]["type"] == "done" and parts[-1]["status"] == "cancelled", parts[-3:]
    stored = _poll(multi.url, key, f"/api/sessions/{sid}/messages/{mid}")
    assert stored["status"] == "cancelled" and 0 < len(stored["text"]) < len("".join(WORDS))
    assert len(multi.worker_pids()) == 2  # nobody crashed


def test_database_restart_while_streaming(
    tmp_path, request, stand_in, postgres_server, new_postgres_database
) -> None:
    env = {
        "WXAI_OLLAMA_URL": f"http://127.0.0.1:{stand_in.server_address[1]}",
        "WXAI_LLM_MODEL": ALIAS,
        "WXAI_DATABASE_URL": new_postgres_database(),
    }
    server = MultiServer(
        _new_home(tmp_path / "multi", request), tmp_path / "serve.log", env
    ).start()
    try:
        key = server.admin_key()
        with server.client() as admin:
            sid = admin.post("/api/sessions", json={"model": ALIAS}).json()["id"]
            with admin.stream(
                "POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}
            ) as r:
                parts = []
                for part in _parts(r.iter_lines()):
                    parts.append(part)
                    if len(parts) == 3:  # streaming: restart the database under it
                        data = postgres_server.root / "data"
                        pg_ctl = str(postgres_server.bin_dir / "pg_ctl")
                        log = str(postgres_server.root / "server.log")
                        restart = [pg_ctl, "-D", str(data), "-l", log, "-m", "fast", "-w"]
                        subprocess.run(  # no pipes: the new server would hold them open
                            postgres_server._command(*restart, "restart"), check=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90,
                        )  # fmt: skip
        assert parts[-1]["type"] in ("done", "error"), parts[-3:]
        mid = parts[0]["message_id"]
        stored = _poll(server.url, key, f"/api/sessions/{sid}/messages/{mid}")
        assert stored["status"] in ("complete", "failed"), stored
        if parts[-1]["type"] == "done":
            assert stored["text"] == "".join(WORDS)
        # the server answers afterwards, and what was stored before is there
        with server.client() as admin:
            listed = admin.get(f"/api/sessions/{sid}/messages").json()
            assert [m["role"] for m in listed] == ["user", "assistant"]
            assert listed[0]["text"] == QUESTION
            assert admin.get("/api/sessions").status_code == 200
    finally:
        server.stop()
