"""A real cockpit: ``python -m uvicorn wxai.cockpit.app:create_app --factory`` in a subprocess.

The session server is shared by the HTTP and browser tests; tests that kill a
server start their own with :func:`server_factory`. Every route needs a login: a
new server prints a one-time sign-in link on stderr (:attr:`CockpitServer.first_link`),
:meth:`CockpitServer.admin_key` turns a sign-in into an admin API key for httpx, and
:func:`sign_in` / :func:`log_in` sign a Playwright page in.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_pages import CHROMIUM, CHROMIUM_ARGS

START_TIMEOUT_S = 120.0
FIRST_LINK = re.compile(r"(/auth/link\?token=[A-Za-z0-9_\-]+)")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CockpitServer:
    """One uvicorn process serving the cockpit on ``home``.

    Parameters
    ----------
    home:
        The ``WXAI_HOME`` of the server (task database, lab runs, tracking store).
    log_path:
        Where the server's stdout and stderr go (shown when a start fails).
    env:
        Extra environment variables of the server process.
    """

    def __init__(self, home: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.log_path = log_path
        self.extra_env = dict(env or {})
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.first_link: str | None = None  # the sign-in link printed at the first start
        self._admin_key: str | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self, timeout: float = START_TIMEOUT_S) -> CockpitServer:
        """Start the server on a free port and wait until ``/api/health`` answers."""
        self.port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("WXAI_")}
        env.update(
            WXAI_HOME=str(self.home),
            MPLBACKEND="Agg",
            OMP_NUM_THREADS="1",  # one compute thread keeps the server responsive on 2 cores
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        command = [sys.executable, "-m", "uvicorn", "wxai.cockpit.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the cockpit exited at startup:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    self._read_first_link()
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the cockpit did not answer within {timeout} s:\n{self.log_tail()}")

    def _read_first_link(self) -> None:
        """The one-time link of this start, when it printed one (a new home); printed before
        the server answers, and its host/port may differ from ours: only the path is kept."""
        found = FIRST_LINK.findall(self.log_tail(200_000))
        self.first_link = f"{self.url}{found[-1]}" if found else None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """``wxai ARGS`` against this server's home (its stdout)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("WXAI_")}
        env["WXAI_HOME"] = str(self.home)
        done = subprocess.run(
            [str(Path(sys.executable).with_name("wxai")), *args], env=env, input=stdin, text=True,
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"wxai {' '.join(args)} failed:\n{done.stderr}"
        return done.stdout

    def login_link(self, user: str = "admin") -> str:
        """A fresh one-time sign-in link for ``user`` (through the admin API, or the CLI)."""
        if self._admin_key is not None:
            with self.client() as client:
                users = {u["name"]: u["id"] for u in client.get("/api/admin/users").json()}
                answer = client.post(f"/api/admin/users/{users[user]}/link")
                assert answer.status_code == 200, answer.text
                return self.url + FIRST_LINK.findall(answer.json()["url"])[-1]
        return self.url + FIRST_LINK.findall(self.cli("users", "link", user))[-1]

    def admin_key(self) -> str:
        """An API key of ``admin``, made once per server (the first link, or a CLI link)."""
        if self._admin_key is None:
            link, self.first_link = self.first_link or self.login_link("admin"), None
            with httpx.Client(base_url=self.url, timeout=30) as browser_like:
                signed_in = browser_like.get(link)
                assert signed_in.status_code in (200, 303), signed_in.text
                csrf = browser_like.get("/api/me").json()["csrf_token"]
                made = browser_like.post(
                    "/api/me/keys", json={"label": "e2e"}, headers={"X-CSRF-Token": csrf}
                )
                assert made.status_code == 201, made.text
                self._admin_key = made.json()["key"]
        return self._admin_key

    def use_key(self, key: str) -> None:
        """Reuse an admin key of an earlier server on the same home (after a restart)."""
        self._admin_key = key

    def client(self, key: str | None = None) -> httpx.Client:
        """An httpx client with ``Authorization: Bearer`` (default: the admin key)."""
        headers = {"Authorization": f"Bearer {key or self.admin_key()}"}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, as a service manager would; SIGKILL if it does not end in 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def _new_home(base: Path, request: pytest.FixtureRequest) -> Path:
    home = base / "wxai-home"
    home.mkdir(parents=True)
    try:  # the suite's migrated, empty MLflow store saves seconds, where there is one
        template = request.getfixturevalue("_tracking_store_template")
        shutil.copyfile(template, home / "mlflow.db")
    except pytest.FixtureLookupError:
        pass
    return home


@pytest.fixture(scope="session")
def cockpit_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[CockpitServer]:
    """The cockpit of the session, on its own temporary wxai home."""
    base = tmp_path_factory.mktemp("cockpit")
    # Ollama is pointed at a port nobody listens on, so its aliases fail the same way everywhere.
    env = {"WXAI_OLLAMA_URL": "http://127.0.0.1:9"}
    server = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    yield server
    server.stop()


@pytest.fixture
def server_factory(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., CockpitServer]]:
    """Start extra servers (``factory(home, env)``; a new home when None), stopped at the end."""
    servers: list[CockpitServer] = []

    def start(home: Path | None = None, env: dict[str, str] | None = None) -> CockpitServer:
        home = home or _new_home(tmp_path / f"server-{len(servers)}", request)
        log = tmp_path / f"server-{len(servers)}.log"
        server = CockpitServer(home, log, env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(cockpit_server: CockpitServer) -> Iterator[httpx.Client]:
    """An HTTP client for the session cockpit, with an admin API key."""
    with cockpit_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium (Debian's, via Playwright); skipped locally when missing, a failure in CI."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install it with: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _poll_task(
    client: httpx.Client, task_id: str, states: set[str], timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/api/tasks/{task_id}")
        assert response.status_code == 200, response.text
        task = response.json()
        if task["state"] in states:
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} never reached {sorted(states)}; last: {task}")


@pytest.fixture
def fast_lab() -> list[str]:
    """Overrides that make sine-regression pass its acceptance figure in about a second."""
    return ["preset=smoke", "epochs=10", "n_train=1024", "lr=0.02"]


@pytest.fixture
def poll_task() -> Callable[..., dict[str, Any]]:
    """``poll_task(client, id, {"completed", ...}, timeout)``: the task once in a state."""
    return _poll_task
