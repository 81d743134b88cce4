"""The course notebooks run top to bottom; ``wxai notebooks`` serves them on 127.0.0.1 only.

Each notebook is executed with nbclient (through jupytext) in a fresh kernel whose
``WXAI_HOME`` is the test's temporary home (set in the environment before the kernel
starts). One notebook runs in smoke mode in the default lane and every notebook's code is
checked against the library there; the others' smoke runs and all full presets are in
the slow lane.
"""

from __future__ import annotations

import ast
import importlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from wxai.labs.jupyter import api_status, free_port, lab_command, lab_settings_dir
from wxai.labs.notebooks import (
    INJECTED_TAG,
    NOTEBOOK_NAMES,
    NotebookError,
    execute_notebook,
    notebook_sources,
    notebooks_dir,
    read_notebook,
    write_ipynb,
)

SMOKE_CELL_TIMEOUT_S = 240


def _outputs(notebook: nbformat.NotebookNode, output_type: str) -> list[dict]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == output_type
    ]


def _stdout(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in _outputs(notebook, "stream") if o.name == "stdout")


# --------------------------------------------------------------------------- execution


#: The notebook executed in the default lane: it exercises the kernel, the injected SMOKE
#: cell and the temporary home like any other. The other four run in the slow lane; their
#: labs have tests of their own, and ``test_notebook_code_compiles_and_names_what_exists``
#: checks their code against the library in the default lane.
DEFAULT_LANE_NOTEBOOK = "day2_networks_and_retrieval"


@pytest.mark.parametrize(
    "name",
    [
        name if name == DEFAULT_LANE_NOTEBOOK else pytest.param(name, marks=pytest.mark.slow)
        for name in NOTEBOOK_NAMES
    ],
)
def test_notebook_runs_every_cell_in_smoke_mode(name: str, _isolated_wxai_home: Path) -> None:
    source = notebooks_dir() / f"{name}.py"
    run = execute_notebook(
        source,
        smoke=True,
        cell_timeout=SMOKE_CELL_TIMEOUT_S,
        env={"WXAI_HOME": str(_isolated_wxai_home)},
    )

    code = [cell for cell in run.notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "a cell did not run"
    assert not _outputs(run.notebook, "error")
    injected = [cell for cell in code if INJECTED_TAG in cell.metadata.get("tags", [])]
    assert [cell.source.splitlines()[-1] for cell in injected] == ["SMOKE = True"]
    text = _stdout(run.notebook)
    # every lab ran its smoke preset, reached its acceptance figure, and wrote to the temp home
    assert "(smoke, " in text
    assert "(full, " not in text
    assert ": FAIL" not in text
    assert str(_isolated_wxai_home) in text
    assert list((_isolated_wxai_home / "labs").iterdir()), "no lab result stored"
    images = [o for o in _outputs(run.notebook, "display_data") if "image/png" in o.data]
    assert images, "the notebook shows no figure"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_in_full_mode(name: str, _isolated_wxai_home: Path) -> None:
    run = execute_notebook(
        notebooks_dir() / f"{name}.py",
        smoke=False,
        cell_timeout=3600,
        env={"WXAI_HOME": str(_isolated_wxai_home)},
    )
    text = _stdout(run.notebook)
    assert "(full, " in text
    assert "(smoke, " not in text
    assert ": FAIL" not in text


# --------------------------------------------------------------------------- the files


def _imported_names(tree: ast.Module) -> list[tuple[str, str]]:
    """(module, name) of every ``from wxai... import name`` in ``tree``."""
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wxai")
        for alias in node.names
    ]


def _lab_names(tree: ast.Module) -> list[str]:
    """First arguments of ``run_lab("name", ...)`` calls in ``tree``."""
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "run_lab"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_code_compiles_and_names_what_exists(name: str) -> None:
    from wxai.labs.framework.registry import get_lab

    notebook = read_notebook(notebooks_dir() / f"{name}.py")
    code = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    tree = ast.parse(code, filename=f"{name}.py")
    imported = _imported_names(tree)
    assert imported, "the notebook imports nothing from wxai"
    for module, attribute in imported:
        assert hasattr(importlib.import_module(module), attribute), f"{module}.{attribute}"
    labs = _lab_names(tree)
    assert labs, "the notebook runs no lab"
    for lab_name in labs:
        get_lab(lab_name)  # raises for an unknown lab


def test_notebook_sources_are_percent_files_with_a_smoke_parameter() -> None:
    for source in notebook_sources():
        notebook = read_notebook(source)
        assert notebook.metadata.kernelspec.name == "python3", source.name
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, source.name
        assert "SMOKE = True" in tagged[0].source, source.name
        assert notebook.cells[0].cell_type == "markdown", source.name


def test_write_ipynb_writes_valid_notebooks_and_keeps_newer_ones(tmp_path: Path) -> None:
    for source in notebook_sources():
        (tmp_path / source.name).write_text(source.read_text())

    first = write_ipynb(tmp_path)
    assert [item.status for item in first] == ["written"] * len(NOTEBOOK_NAMES)
    for item in first:
        notebook = nbformat.read(item.target, as_version=4)
        nbformat.validate(notebook)
        assert any("parameters" in c.metadata.get("tags", []) for c in notebook.cells)

    assert {item.status for item in write_ipynb(tmp_path)} == {"unchanged"}
    assert {item.status for item in write_ipynb(tmp_path, overwrite=True)} == {"written"}


def test_missing_notebooks_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match=r"no notebooks folder at .*missing.*repository"):
        notebooks_dir(tmp_path / "missing")

    (tmp_path / NOTEBOOK_NAMES[0]).with_suffix(".py").write_text("# %%\n")
    with pytest.raises(NotebookError, match=NOTEBOOK_NAMES[1]):
        notebook_sources(tmp_path)


def test_notebook_without_parameters_cell_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "plain.py"
    source.write_text("# %%\nx = 1\n")
    with pytest.raises(NotebookError, match="no cell tagged 'parameters'"):
        execute_notebook(source)


def test_broken_notebook_names_the_notebook_and_the_cell(tmp_path: Path) -> None:
    source = tmp_path / "broken_day.py"
    source.write_text(
        '# %% tags=["parameters"]\nSMOKE = True\n\n'
        "# %%\nvalue = 1.0\n\n"
        "# %%\nratio = value / 0  # the broken cell\n\n"
        "# %%\nprint('never reached')\n"
    )
    with pytest.raises(NotebookError) as caught:
        execute_notebook(source, cell_timeout=60)
    message = str(caught.value)
    # code cells: parameters (1), injected SMOKE (2), value (3), the broken one (4)
    assert "notebook broken_day.py" in message
    assert "code cell 4 ('ratio = value / 0  # the broken cell')" in message
    assert "ZeroDivisionError" in message


# --------------------------------------------------------------------------- the command


def _wxai(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wxai.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """stdout of ``process`` up to the first line containing ``marker`` (raw reads, no hang)."""
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:  # the command exited
            break
        seen += chunk
        text = seen.decode(errors="replace")
        if marker in text and text.endswith("\n"):
            return text
    process.kill()
    _, err = process.communicate(timeout=30)
    raise AssertionError(f"no {marker!r} in the output: {seen.decode(errors='replace')}{err}")


def _port_accepts(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.e2e
def test_wxai_notebooks_serves_jupyterlab_on_loopback_with_a_token(tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for source in notebook_sources():
        (folder / source.name).write_text(source.read_text())
    port = free_port()
    process = _wxai("notebooks", "--dir", str(folder), "--port", str(port), env=os.environ)
    try:
        output = _read_until(process, "Open http", timeout=120)
        url = output.split("Open ", 1)[1].split()[0]
        base, token = url.split("/lab?token=")
        assert base == f"http://127.0.0.1:{port}"
        assert len(token) >= 32
        assert output.count(token) == 1, "the token is printed once"
        assert sorted(p.name for p in folder.glob("*.ipynb")) == sorted(
            f"{name}.ipynb" for name in NOTEBOOK_NAMES
        )

        assert api_status(base) == 403
        assert api_status(base, "not-the-token") == 403
        assert api_status(base, token) == 200
        assert api_status(f"http://localhost:{port}", token) == 200
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl-C: the command stops JupyterLab
        process.wait(timeout=30)
    assert not _port_accepts(port), "JupyterLab still listens after the command ended"


def test_jupyterlab_gets_settings_without_news_and_keeps_the_users_own(
    tmp_path: Path, _isolated_wxai_home: Path
) -> None:
    settings = lab_settings_dir()
    assert settings.is_relative_to(_isolated_wxai_home)
    notification = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    assert '"fetchNews": "false"' in notification.read_text()
    command = lab_command(tmp_path, 8899, settings)
    assert f"--LabApp.user_settings_dir={settings}" in command
    assert "--ServerApp.ip=127.0.0.1" in command and "--LabApp.news_url=None" in command
    notification.write_text('{"fetchNews": "true"}')  # the user's choice in JupyterLab
    lab_settings_dir()
    assert notification.read_text() == '{"fetchNews": "true"}'


def test_wxai_notebooks_without_a_folder_fails_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    process = _wxai("notebooks", "--no-lab", "--dir", str(missing))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"no notebooks folder at {missing}" in " ".join(err.split())


def test_wxai_notebooks_execute_reports_the_failing_cell(tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for source in notebook_sources():
        (folder / source.name).write_text(source.read_text())
    broken = folder / f"{NOTEBOOK_NAMES[0]}.py"
    broken.write_text('# %% tags=["parameters"]\nSMOKE = True\n\n# %%\nraise KeyError("t2m")\n')

    process = _wxai("notebooks", "--dir", str(folder), "--execute", "--only", "day1")
    out, err = process.communicate(timeout=180)
    assert process.returncode == 1, out + err
    flat = " ".join(out.split())
    assert "FAILED" in flat
    assert f"notebook {broken.name}: code cell 3 ('raise KeyError(\"t2m\")')" in flat
    assert "KeyError: 't2m'" in flat

    process = _wxai("notebooks", "--dir", str(folder), "--full")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--execute" in err
