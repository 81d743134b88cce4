"""The course notebooks: find them, write ``.ipynb`` files, execute them, serve JupyterLab.

The five notebooks (one per course day) are stored in the repository's ``notebooks/``
folder as jupytext percent-format ``.py`` files; the ``.ipynb`` files are generated
beside them and never committed. Each notebook has a cell tagged ``parameters`` that
sets ``SMOKE = True``; :func:`execute_notebook` injects the value asked for after it,
as papermill does.

JupyterLab on them is started by :mod:`wxai.labs.jupyter`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from wxai.core.errors import WxaiError
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
