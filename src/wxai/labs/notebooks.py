"""The course notebooks: find them, write ``.ipynb`` files, execute them, serve JupyterLab.

The five notebooks (one per course day) are stored in the repository's ``notebooks/``
folder as jupytext percent-format ``.py`` files; the ``.ipynb`` files are generated
beside them and never committed. Each notebook has a cell tagged ``parameters`` that
sets ``SMOKE = True``; :func:`execute_notebook` injects the value asked for after it,
as papermill does.

JupyterLab is started on ``127.0.0.1`` only, with a random token (``secrets``) handed to
the server through its environment (``JUPYTER_TOKEN``), never on its command line, where
other users of a shared login node could read it.
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
from typing import Any, Literal

from wxai.core.errors import ConfigError, WxaiError
from wxai.labs.framework.result import LabResult

#: The course notebooks, in course order (stems of ``notebooks/<stem>.py``).
NOTEBOOK_NAMES: tuple[str, ...] = (
    "day1_data_and_foundations",
    "day2_networks_and_retrieval",
    "day3_agents_generative_products",
    "day4_emulator_and_mlops",
    "day5_assimilation_and_physics",
)
#: Environment variable naming another notebooks folder (e.g. a copy outside the checkout).
NOTEBOOKS_DIR_ENV = "WXAI_NOTEBOOKS_DIR"
#: Tag of the cell holding the notebook's parameters (papermill's convention).
PARAMETERS_TAG = "parameters"
#: Tag of the cell :func:`inject_parameters` adds after it.
INJECTED_TAG = "injected-parameters"
#: Default limit of one cell's execution [s].
CELL_TIMEOUT_S = 600
#: Address JupyterLab listens on: the loopback interface only.
LOOPBACK = "127.0.0.1"

WriteStatus = Literal["written", "unchanged"]


class NotebookError(WxaiError):
    """A notebook failed: its folder or file is missing, or one of its cells raised."""


@dataclass(frozen=True)
class WrittenNotebook:
    """One ``.ipynb`` file written (or kept) by :func:`write_ipynb`."""

    source: Path
    target: Path
    status: WriteStatus


@dataclass(frozen=True)
class NotebookRun:
    """A notebook executed by :func:`execute_notebook`.

    Attributes
    ----------
    name:
        The notebook's stem, e.g. ``"day1_data_and_foundations"``.
    seconds:
        Wall time of the execution, kernel start included [s].
    notebook:
        The executed notebook (an ``nbformat.NotebookNode`` with its outputs).
    """

    name: str
    seconds: float
    notebook: Any = field(repr=False)


# --------------------------------------------------------------------------- inside a notebook


def preset_override(smoke: bool) -> str:
    """The lab override for a notebook's ``SMOKE`` switch: ``preset=smoke`` or ``preset=full``."""
    return "preset=smoke" if smoke else "preset=full"


def show_result(result: LabResult, *, width: int = 760) -> None:
    """Print a lab result's acceptance line and summary, and display its figures.

    For notebooks: figures are shown with ``IPython.display.Image`` (PNG files of the run
    directory, ``width`` pixels wide).
    """
    from IPython.display import Image, display

    print(f"{result.lab} ({result.preset}, {result.duration_s:.1f} s): "
          f"{result.acceptance.describe()}")  # fmt: skip
    if result.summary:
        print(result.summary)
    for figure in result.figures:
        display(Image(filename=figure, width=width))


# --------------------------------------------------------------------------- finding them


def notebooks_dir(directory: str | os.PathLike | None = None) -> Path:
    """The folder holding the course notebooks.

    Looks at ``directory``, then ``WXAI_NOTEBOOKS_DIR``, then the ``notebooks/`` folder
    beside ``src/`` of a repository checkout. A wheel does not ship the notebooks.

    Raises
    ------
    NotebookError
        If the folder does not exist (the message says where it looked and what to do).
    """
    if directory is not None:
        candidate = Path(directory).expanduser()
    elif os.environ.get(NOTEBOOKS_DIR_ENV):
        candidate = Path(os.environ[NOTEBOOKS_DIR_ENV]).expanduser()
    else:
        candidate = Path(__file__).resolve().parents[3] / "notebooks"
    if not candidate.is_dir():
        raise NotebookError(
            f"no notebooks folder at {candidate}: the course notebooks ship with the "
            "repository checkout, not with the installed package; clone the repository "
            f"and run from it, or point {NOTEBOOKS_DIR_ENV} (or --dir) at its notebooks/ folder"
        )
    return candidate


def notebook_sources(directory: str | os.PathLike | None = None) -> list[Path]:
    """The jupytext ``.py`` files of the course, in course order.

    Raises
    ------
    NotebookError
        If the folder or one of the :data:`NOTEBOOK_NAMES` files is missing.
    """
    folder = notebooks_dir(directory)
    paths = [folder / f"{name}.py" for name in NOTEBOOK_NAMES]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise NotebookError(f"notebooks folder {folder} lacks {', '.join(missing)}")
    return paths


def find_notebook(name: str, directory: str | os.PathLike | None = None) -> Path:
    """The source of notebook ``name``: a stem (``day1_...``), ``day1`` .. ``day5``, or a path.

    Raises
    ------
    NotebookError
        If no such notebook exists.
    """
    as_path = Path(name).expanduser()
    if as_path.suffix in {".py", ".ipynb"} and as_path.is_file():
        return as_path
    for source in notebook_sources(directory):
        if name in {source.stem, source.stem.split("_", 1)[0]}:
            return source
    raise NotebookError(
        f"no course notebook {name!r}; choose one of {', '.join(NOTEBOOK_NAMES)} (or day1..day5)"
    )


# --------------------------------------------------------------------------- reading, writing


def read_notebook(path: str | os.PathLike) -> Any:
    """Read a jupytext ``.py`` (or an ``.ipynb``) file as an ``nbformat.NotebookNode``.

    Raises
    ------
    NotebookError
        If the file is missing or cannot be parsed.
    """
    import jupytext

    source = Path(path)
    if not source.is_file():
        raise NotebookError(f"notebook {source} does not exist")
    try:
        return jupytext.read(source)
    except Exception as exc:  # jupytext raises many kinds; name the file
        raise NotebookError(f"notebook {source.name} cannot be read: {exc}") from exc


def write_ipynb(
    directory: str | os.PathLike | None = None, *, overwrite: bool = False
) -> list[WrittenNotebook]:
    """Write ``<stem>.ipynb`` beside each course ``.py`` file.

    An existing ``.ipynb`` newer than its ``.py`` is kept (it may hold the user's edits
    and outputs) unless ``overwrite``.
    """
    import jupytext

    written = []
    for source in notebook_sources(directory):
        target = source.with_suffix(".ipynb")
        fresh = target.is_file() and target.stat().st_mtime >= source.stat().st_mtime
        if fresh and not overwrite:
            written.append(WrittenNotebook(source, target, "unchanged"))
            continue
        jupytext.write(read_notebook(source), target, fmt="ipynb")
        written.append(WrittenNotebook(source, target, "written"))
    return written


def inject_parameters(notebook: Any, parameters: Mapping[str, Any]) -> Any:
    """Add a cell assigning ``parameters`` right after the cell tagged ``parameters``.

    Values are written with ``repr`` (numbers, strings, booleans, None). The notebook is
    changed in place and returned.

    Raises
    ------
    NotebookError
        If the notebook has no cell tagged ``parameters``.
    """
    import nbformat

    cells = notebook.cells
    index = next(
        (i for i, cell in enumerate(cells) if PARAMETERS_TAG in cell.metadata.get("tags", [])),
        None,
    )
    if index is None:
        raise NotebookError(f"notebook has no cell tagged {PARAMETERS_TAG!r} to inject into")
    lines = ["# Parameters injected by wxai.labs.notebooks"]
    lines += [f"{key} = {value!r}" for key, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    cells.insert(index + 1, cell)
    return notebook


# --------------------------------------------------------------------------- executing


def kernel_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: this process's, with ``extra`` on top."""
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel's debugger notice
    env.update(extra or {})
    return env


def execute_notebook(
    path: str | os.PathLike,
    *,
    smoke: bool = True,
    cell_timeout: int = CELL_TIMEOUT_S,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    kernel_name: str = "python3",
) -> NotebookRun:
    """Execute every cell of a notebook in a fresh kernel and return it with its outputs.

    Parameters
    ----------
    path:
        A jupytext ``.py`` (or ``.ipynb``) file.
    smoke:
        Injected as ``SMOKE`` after the ``parameters`` cell (smoke or full presets).
    cell_timeout:
        Limit of one cell [s].
    cwd:
        The kernel's working directory (default: the notebook's folder).
    env:
        Variables set in the kernel's environment on top of this process's
        (e.g. ``{"WXAI_HOME": ...}``).
    kernel_name:
        Jupyter kernel; ``python3`` is this interpreter's ipykernel.

    Raises
    ------
    NotebookError
        Naming the notebook and the cell (number, first line) when a cell raises, times
        out or the kernel dies.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    source = Path(path)
    notebook = inject_parameters(read_notebook(source), {"SMOKE": bool(smoke)})
    workdir = Path(cwd) if cwd is not None else source.resolve().parent
    client = NotebookClient(
        notebook,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(workdir)}},
    )
    clock = time.perf_counter()
    try:
        client.execute(env=kernel_environment(env))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        raise NotebookError(_failure_message(source, notebook, exc)) from exc
    return NotebookRun(source.stem, time.perf_counter() - clock, notebook)


def _failed_cell(notebook: Any) -> tuple[int, Any] | None:
    """(1-based code-cell number, cell) of the first cell with an error output."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            return number, cell
    return None


def _last_started_cell(notebook: Any) -> tuple[int, Any] | None:
    """(number, cell) of the last code cell that started (a timeout leaves no error output)."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    started = [
        (number, cell)
        for number, cell in enumerate(code_cells, start=1)
        if cell.get("execution_count") is not None or cell.get("outputs")
    ]
    return started[-1] if started else None


def _failure_message(source: Path, notebook: Any, exc: Exception) -> str:
    """One line: notebook, cell number and first source line, and what went wrong."""
    located = _failed_cell(notebook) or _last_started_cell(notebook)
    where = "a cell"
    if located is not None:
        number, cell = located
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        where = f"code cell {number} ({first.strip()[:80]!r})"
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = getattr(exc, "evalue", None)
    if evalue is None:
        evalue = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
    return f"notebook {source.name}: {where} failed: {ename}: {evalue}"


# --------------------------------------------------------------------------- JupyterLab


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
