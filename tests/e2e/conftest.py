"""A real cockpit: ``python -m uvicorn wxai.cockpit.app:create_app --factory`` in a subprocess.

The session server is shared by the HTTP and browser tests; tests that kill a
server start their own with :func:`server_factory`.
"""

from __future__ import annotations

import os
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

START_TIMEOUT_S = 120.0


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
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the cockpit did not answer within {timeout} s:\n{self.log_tail()}")

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
    """An HTTP client for the session cockpit."""
    with httpx.Client(base_url=cockpit_server.url, timeout=30) as client:
        yield client


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
