"""anemoi-datasets itself opens a wxai dataset (it pins zarr 2, so it runs in its own venv)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from wxai.emulator.datasets.build import build_dataset

SCRIPT = Path(__file__).parents[2] / "scripts" / "check-anemoi-dataset.sh"


@pytest.mark.network  # installs anemoi-datasets from PyPI into a throwaway venv
def test_anemoi_datasets_opens_a_wxai_dataset(tmp_path):
    recipe = {
        "name": "anemoi-compat",
        "source": {"kind": "simulator", "truncation": 21, "layers": 4, "spin_up_days": 1},
        "variables": ["u", "v", "t", "sp"],
        "dates": {"start": "2000-01-01T00:00", "end": "2000-01-02T00:00", "frequency": "6h"},
        "forcings": ["cos_latitude", "insolation"],
    }
    dataset = build_dataset(recipe, tmp_path / "compat.zarr")
    done = subprocess.run(
        ["bash", str(SCRIPT), str(dataset)],  # the venv is kept in /tmp between runs
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "shape (5, 15, 1, 2048)" in done.stdout  # 4 x 3 level fields + sp + 2 forcings
    assert done.stdout.rstrip().endswith("OK")
