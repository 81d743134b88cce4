"""JupyterLab on the course notebooks, for one user: loopback only, a token, nothing fetched.

The server listens on ``127.0.0.1`` only, with a random token (``secrets``) handed to it
through its environment (``JUPYTER_TOKEN``), never on its command line, where other
users of a shared login node could read it. From another machine it is reached through
an SSH tunnel (docs/course-notebooks.md).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wxai.core.errors import ConfigError
from wxai.labs.notebooks import NotebookError, kernel_environment, notebooks_dir

#: Address JupyterLab listens on: the loopback interface only.
LOOPBACK = "127.0.0.1"


@dataclass
class LabServer:
    """A running JupyterLab server (stop it with :meth:`stop`, or use it as a context)."""

    process: subprocess.Popen
    port: int
    token: str = field(repr=False)
    root: Path
    log: Path

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The URL to open, token included."""
        return f"{self.base_url}/lab?token={self.token}"

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the server (and wait for it), killing it after ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


#: JupyterLab's own settings for wxai's server: no news (nor the prompt asking for it).
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": (
        '{"fetchNews": "false", "checkForUpdates": false}\n'
    ),
}


def lab_settings_dir() -> Path:
    """JupyterLab's user-settings folder under the wxai home, with news turned off.

    Written once; what the user changes in JupyterLab afterwards is kept.
    """
    from wxai.core.paths import ensure_dir, home_dir

    root = ensure_dir(home_dir() / "notebooks" / "lab-settings")
    for name, content in _LAB_SETTINGS.items():
        path = root / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    return root


def lab_command(root: Path, port: int, settings: Path | None = None) -> list[str]:
    """The JupyterLab command line: loopback only, no browser, nothing fetched from the web.

    No news feed, no update check, and the read-only extension manager (the default one
    searches PyPI). ``settings``: JupyterLab's user-settings folder
    (:func:`lab_settings_dir`). ``--allow-root`` only where this process already runs as
    root (containers), since JupyterLab refuses root otherwise.
    """
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    if settings is not None:
        command.append(f"--LabApp.user_settings_dir={settings}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def start_jupyterlab(
    directory: str | os.PathLike | None = None,
    *,
    port: int = 8888,
    token: str | None = None,
    log: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 90.0,
) -> LabServer:
    """Start JupyterLab on 127.0.0.1:``port`` in the notebooks folder and wait until it answers.

    Parameters
    ----------
    directory:
        The notebooks folder (see :func:`notebooks_dir`).
    port:
        TCP port; it must be free (no silent move to another port).
    token:
        The access token; default 32 random bytes from :mod:`secrets`.
    log:
        File receiving the server's output (default ``<wxai home>/notebooks/jupyterlab.log``).
    env:
        Extra environment of the server and its kernels.
    ready_timeout:
        Seconds to wait for ``/api/status`` to answer.

    Raises
    ------
    ConfigError
        If the port is out of range or in use.
    NotebookError
        If the server exits or does not answer in time (the message points at the log).
    """
    from wxai.core.paths import ensure_dir, home_dir

    if not 1 <= port <= 65535:
        raise ConfigError(f"port must be in 1..65535, got {port}")
    if not _port_free(port):
        raise ConfigError(f"port {port} on {LOOPBACK} is in use; choose another with --port")
    root = notebooks_dir(directory)
    token = token or secrets.token_urlsafe(32)
    log_path = Path(log) if log else ensure_dir(home_dir() / "notebooks") / "jupyterlab.log"
    server_env = kernel_environment({**(env or {}), "JUPYTER_TOKEN": token})
    # the log may show the token: readable by its owner only (0600)
    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    log_path.chmod(0o600)
    with os.fdopen(descriptor, "ab") as sink:
        process = subprocess.Popen(
            lab_command(root, port, lab_settings_dir()),
            cwd=root,
            env=server_env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LabServer(process=process, port=port, token=token, root=root, log=log_path)
    try:
        _wait_until_ready(server, ready_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def api_status(base_url: str, token: str | None = None, timeout: float = 5.0) -> int:
    """HTTP status of ``GET <base_url>/api/status`` (with ``Authorization: token``)."""
    request = urllib.request.Request(f"{base_url}/api/status")
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _wait_until_ready(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise NotebookError(
                f"JupyterLab exited with status {server.process.returncode} before answering; "
                f"see {server.log}"
            )
        try:
            if api_status(server.base_url, server.token, timeout=2.0) == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise NotebookError(f"JupyterLab did not answer within {timeout:.0f} s; see {server.log}")
