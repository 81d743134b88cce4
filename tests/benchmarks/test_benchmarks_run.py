"""Every script in ``benchmarks/`` runs once, with its quickest arguments (the slow lane).

The benchmarks are scripts, not tests: the figures they print are quoted in the docs
and compared by hand. Here each is run as a subprocess on small inputs so that a
change that breaks one is noticed within a week (``make test-slow``, weekly workflow
``.github/workflows/slow.yml``). A run passes when it exits with status 0 and prints
its headline figure (a ratio or a rate); the figure's value is not judged.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
#: Wall-clock bound of one benchmark run (pytest-timeout would stop the whole test).
RUN_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Case:
    """How to run one benchmark quickly and what its output must contain."""

    args: tuple[str, ...]
    figure: str  # regular expression matched against stdout (multi-line)
    modules: tuple[str, ...] = ()  # importable modules it needs, else the case is skipped
    prepare: Callable[[], None] | None = None  # fetches its inputs (skip locally, fail in CI)


_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def _grib_reference_files() -> None:
    """Fetch the reference GRIB files that grib_decode.py reads by default (cached)."""
    from wxai.data.sources.reference_files import reference_grib_files

    spec = importlib.util.spec_from_file_location("grib_decode", BENCHMARKS / "grib_decode.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for package in module.DEFAULT_FILES:
        reference_grib_files(package)


CASES: dict[str, Case] = {
    "aivar_inference": Case(
        ("--cases", "50", "--n", "64", "--train", "200", "--epochs", "2"),
        rf"time ratio AI-Var / 3D-Var:\s+{_NUMBER}",
    ),
    "coding_agent": Case(
        ("--only", "hello", "sum-1-100", "--max-attempts", "2", "--max-tokens", "96"),
        rf"^local-fast\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}",
        ("xllamacpp",),
    ),
    "da_dapper_reference": Case(
        # one seed; 500 observation times leave 100 scored ones after Lorenz-96's burn-in
        ("--seeds", "1", "--obs-times", "500"),
        rf"largest relative deviation from DAPPER: {_NUMBER}%",
    ),
    "emulator_step": Case(
        ("--smoke",),
        rf"^graph_transformer\s+[\d,]+\s+{_NUMBER}\s+73\s+{_NUMBER}",
    ),
    "grib_decode": Case(
        (),  # the reference files: real multi-type GRIB files from public sdists
        rf"^\S+\.grib2?\s+\d+\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}",
        ("eccodes",),
        _grib_reference_files,
    ),
    "llm_runtimes": Case(
        ("--runtimes", "xllamacpp", "--threads", "1", "--max-tokens", "16"),
        rf"^xllamacpp\s+\S+\s+1\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}",
        ("xllamacpp",),
    ),
    "rag_backends": Case(
        ("--quick",),
        rf"^\| 2,000 \| pgvector hnsw \|.*\| {_NUMBER} \| {_NUMBER} \|$",
        ("faiss", "pgserver"),
    ),
    "rag_scaling": Case(
        (
            "--sizes",
            "2000",
            "--queries",
            "20",
            "--nprobe",
            "8",
            "--hnsw-max",
            "2000",
            "--loop-queries",
            "2",
            "--threads",
            "1",
            "--no-ingest",
        ),
        rf"^\s*2,000 hnsw M\d+/ef\d+\s.*\s{_NUMBER}$",
        ("faiss",),
    ),
    "cockpit_load": Case(
        ("--setup", "--database", "sqlite", "--duration", "10", "--streams", "2", "--users", "4"),
        rf"REST: \d+ requests, {_NUMBER} requests/s",
    ),
    "speech_wer": Case(
        ("--limit", "2"),
        rf"^de\s+whisper-base auto\s+2\s+{_NUMBER}",
        ("faster_whisper", "jiwer"),
    ),
    "standin_llm": Case(
        ("--selftest", "--tokens", "20", "--delay-ms", "1"), rf"tokens/s: {_NUMBER}"
    ),
    "tool_calling": Case(
        ("--only", "semantic (embedding route)"),
        rf"^semantic \(embedding route\).*\s{_NUMBER}$",
        ("xllamacpp",),
    ),
    "weather_workflow": Case(
        ("--limit", "6"),
        rf"^rules \+ local-fast\s+{_NUMBER}",
        ("xllamacpp",),
    ),
    "zarr_town_extraction": Case(
        ("--resolution", "1.0", "--lead-hours", "24", "--repeat", "1"),
        rf"ratio map / series = {_NUMBER}",
    ),
}


def test_every_benchmark_has_a_case() -> None:
    assert sorted(path.stem for path in BENCHMARKS.glob("*.py")) == sorted(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_benchmark_runs(name: str) -> None:
    case = CASES[name]
    missing = [m for m in case.modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"benchmarks/{name}.py needs {', '.join(missing)} (not installed)")
    if case.prepare is not None:
        from wxai.data.sources.errors import SourceUnavailable

        try:
            case.prepare()
        except SourceUnavailable as exc:
            if os.environ.get("CI"):
                pytest.fail(str(exc))
            pytest.skip(f"benchmarks/{name}.py has no input files: {exc}")
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *case.args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    output = f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, output
    assert re.search(case.figure, proc.stdout, re.MULTILINE), output
