"""Bad input to `wxai` ends with one clear line on stderr, never a traceback.

Every case runs the real command in a subprocess, as a user would, and fails early
(before any training, download or server start). The subprocesses run a few at a
time, once per module, and each test checks one of their results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from wxai.cli.app import app

WXAI = [sys.executable, "-m", "wxai.cli"]

#: (arguments, extra environment, expected exit status, text the message must contain).
#: ``{d}`` in an argument is the folder of the fixture files below.
CASES: list[tuple[list[str], dict[str, str], int, str]] = [
    # labs: unknown names, bad Hydra overrides, values the schema refuses
    (["lab", "run", "nope"], {}, 2, "unknown lab 'nope'"),
    (["lab", "run", "sine-regresion"], {}, 2, "did you mean 'sine-regression'"),
    (["lab", "run", "sine-regression", "nonsense=1"], {}, 2, "Could not override 'nonsense'"),
    (["lab", "run", "sine-regression", "preset=bogus"], {}, 2, "options in 'preset': full, smoke"),
    (["lab", "run", "sine-regression", "epochs=zero"], {}, 2, "epochs: Input should be"),
    (["lab", "run", "sine-regression", "seed=-1"], {}, 2, "seed: Input should be greater"),
    (["lab", "run", "sine-regression", "epochs=[1"], {}, 2, "invalid configuration"),
    (["lab", "run", "sine-regression", "+foo=1"], {}, 2, "foo: Extra inputs"),
    (["lab", "report", "--out", "{d}/notes.txt/site"], {}, 1, "notes.txt"),
    # data files: missing, not weather data, corrupt GRIB, unknown variable or projection
    (["data", "ls", "{d}/missing.grib2"], {}, 1, "no such file"),
    (["data", "ls", "{d}/notes.txt"], {}, 1, "unknown format"),
    (["data", "ls", "{d}/truncated.grib2"], {}, 1, "truncated.grib2"),
    (["data", "ls", "{d}"], {}, 1, "Zarr"),
    (["data", "plot", "{d}/notes.txt"], {}, 1, "unknown format"),
    (["data", "plot", "{d}/truncated.grib2"], {}, 1, "truncated.grib2"),
    (["data", "plot", "{d}/field.nc", "--var", "bogus"], {}, 2, "unknown variable 'bogus'"),
    (["data", "plot", "{d}/field.nc", "--projection", "Mercatorx"], {}, 2, "unknown projection"),
    (["data", "samples", "--out", "{d}/notes.txt/samples"], {}, 1, "notes.txt"),
    (["data", "fetch", "nosuchsource"], {}, 2, "unknown data source 'nosuchsource'"),
    (["data", "fetch", "icon-eu", "t_2m", "--offline"], {}, 2, "KEY=VALUE"),
    (["data", "fetch", "icon-eu", "variable=t_2m", "--offline"], {}, 1, "offline mode"),
    # language models and retrieval
    (["llm", "chat", "-m", "nosuchmodel", "-p", "hi"], {}, 2, "unknown model alias"),
    (["rag", "search", "wind", "--store", "nosuchstore"], {}, 2, "unknown RAG store"),
    (["rag", "ask", "wind?", "--store", "nosuchstore"], {}, 2, "wxai rag index"),
    (["rag", "ls", "--store", "nosuchstore"], {}, 2, "unknown RAG store"),
    (["rag", "rm", "a.md", "--store", "nosuchstore"], {}, 2, "unknown RAG store"),
    (["rag", "search", "wind", "--store", "{d}"], {}, 1, "not a RAG store"),
    # emulator: recipes, datasets, graphs, training configs
    (["emulator", "dataset", "create", "{d}/notes.txt", "{d}/out.zarr"], {}, 2, "notes.txt"),
    (["emulator", "dataset", "create", "{d}/recipe-q.yaml", "{d}/out.zarr"], {}, 2, "['q']"),
    (["emulator", "dataset", "create", "{d}/recipe-grid.yaml", "{d}/out.zarr"], {}, 2, "180"),
    (["emulator", "dataset", "inspect", "{d}/missing.zarr"], {}, 1, "missing.zarr"),
    (["emulator", "graph", "inspect", "{d}/notes.txt"], {}, 1, "notes.txt"),
    (
        ["emulator", "graph", "create", "{d}/notes.txt", "{d}/g.pt", "-d", "{d}/x.zarr"],
        {},
        2,
        "notes.txt",
    ),
    (["emulator", "train", "model=lstm"], {}, 2, "options in 'model'"),
    (["emulator", "train", "training.lr=-1"], {}, 2, "training.lr"),
    (["emulator", "train", "dataset.path={d}/missing.zarr"], {}, 1, "missing.zarr"),
    # settings from the environment
    (["serve"], {"WXAI_PORT": "abc"}, 2, "WXAI_PORT"),
]

#: typer's own usage errors keep typer's (multi-line) format: no traceback, status 2.
USAGE_CASES: list[tuple[list[str], str]] = [
    (["serve", "--port", "99999"], "Invalid value for '--port'"),
    (["serve", "--port", "http"], "Invalid value for '--port'"),
    (["lab", "bogus"], "No such command 'bogus'"),
    (["data", "ls"], "Missing argument"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder with a text file, a truncated GRIB file and a small NetCDF field."""
    folder = tmp_path_factory.mktemp("bad-input")
    (folder / "notes.txt").write_text("hello, this is not weather data\n")
    # indicator section of a GRIB2 message announcing 1000 bytes, then nothing
    header = b"GRIB" + b"\x00\x00" + b"\x00" + b"\x02" + (1000).to_bytes(8, "big")
    (folder / "truncated.grib2").write_bytes(header + b"\x00" * 12)
    field = xr.DataArray(
        np.zeros((3, 4), dtype="float32"),
        dims=("latitude", "longitude"),
        coords={"latitude": [50.0, 51.0, 52.0], "longitude": [5.0, 6.0, 7.0, 8.0]},
        name="t2m",
        attrs={"units": "K"},
    )
    field.to_dataset().to_netcdf(folder / "field.nc")
    recipe = (
        "name: bad\nsource: {kind: simulator}\nvariables: [%s]\n"
        "dates: {start: 2000-01-01T00:00, end: 2000-01-02T00:00}\ngrid: %s\n"
    )
    (folder / "recipe-q.yaml").write_text(recipe % ("u, q", "source"))
    (folder / "recipe-grid.yaml").write_text(recipe % ("u", "{regular: {resolution_deg: 7}}"))
    return folder


def run_wxai(args: list[str], home: Path, env: dict[str, str] | None = None):
    environ = {k: v for k, v in os.environ.items() if k != "WXAI_DEBUG"}
    environ.update(WXAI_HOME=str(home), MPLBACKEND="Agg", **(env or {}))
    return subprocess.run(
        [*WXAI, *args], env=environ, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def outcomes(files, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every case of CASES and USAGE_CASES run once, a few subprocesses at a time."""
    jobs = [(args, env) for args, env, _, _ in CASES] + [(args, {}) for args, _ in USAGE_CASES]

    def run(job: tuple[list[str], dict[str, str]]) -> subprocess.CompletedProcess:
        args, env = job
        home = tmp_path_factory.mktemp("home")
        return run_wxai([arg.format(d=files) for arg in args], home, env)

    with ThreadPoolExecutor(max_workers=max(2, min(6, os.cpu_count() or 2))) as pool:
        done = list(pool.map(run, jobs))
    return {" ".join(args): out for (args, _), out in zip(jobs, done, strict=True)}


@pytest.mark.parametrize(
    ("args", "status", "needle"),
    [(args, status, needle) for args, _, status, needle in CASES],
    ids=[" ".join(case[0]) for case in CASES],
)
def test_bad_input_is_one_line_without_traceback(outcomes, args, status, needle):
    out = outcomes[" ".join(args)]
    assert out.returncode == status, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "bug in wxai" not in lines[0]


def test_the_list_is_long_enough():
    assert len(CASES) + len(USAGE_CASES) >= 20


@pytest.mark.parametrize(
    ("args", "needle"), USAGE_CASES, ids=[" ".join(case[0]) for case in USAGE_CASES]
)
def test_usage_errors_stay_typer_messages(outcomes, args, needle):
    out = outcomes[" ".join(args)]
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert needle in out.stderr


@pytest.fixture
def injected_bug(monkeypatch) -> None:
    """`wxai doctor` fails with an exception that is not a WxaiError: a bug."""

    def broken() -> None:
        raise RuntimeError("injected bug")

    monkeypatch.setattr("wxai.core.diagnostics.run_checks", broken)
    monkeypatch.delenv("WXAI_DEBUG", raising=False)


def test_a_bug_is_one_line_pointing_at_debug(injected_bug):
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "internal error (RuntimeError: injected bug)" in result.output
    assert "bug in wxai" in result.output and "--debug" in result.output


@pytest.mark.parametrize(
    ("args", "env"), [(["--debug", "doctor"], {}), (["doctor"], {"WXAI_DEBUG": "1"})]
)
def test_debug_shows_the_traceback(injected_bug, args, env):
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output
    assert 'raise RuntimeError("injected bug")' in result.output
    assert "internal error (RuntimeError: injected bug)" in result.output
