"""Lab conservative-advection (U14, lecture 19) in its smoke preset: the mass budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.labs.framework.runner import run_lab

SHAPES = ("sine", "top_hat", "three_bumps")


def test_conservative_emulator_keeps_mass_where_the_free_one_drifts():
    result = run_lab("conservative-advection", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert len(result.figures) == 3 and all(Path(p).is_file() for p in result.figures)
    m = result.metrics
    # Acceptance: below 1e-10 over 1000 float64 steps, all test fields and unseen shapes.
    assert m["mass_drift_conservative"] < 1e-10
    # Baseline: the free CNN, same architecture, start and data, loses visible mass.
    assert m["mass_drift_free_median"] > 1e-3
    # The truth's flux form conserves to rounding.
    assert m["mass_drift_truth"] < 1e-13
    for shape in SHAPES:
        assert m[f"unseen_{shape}_mass_drift_conservative"] < 1e-10
        assert m[f"unseen_{shape}_mass_drift_free"] > 1e-3
    # Long rollouts: the conservative model stays closer to the truth.
    assert m["rmse_final_conservative"] < m["rmse_final_free"]
    unseen = {
        name: np.mean([m[f"unseen_{s}_rmse_final_{name}"] for s in SHAPES])
        for name in ("free", "conservative")
    }
    assert unseen["conservative"] < unseen["free"]


def test_a_cfl_above_one_is_refused():
    with pytest.raises(ConfigError, match="cfl"):
        run_lab("conservative-advection", ["preset=smoke", "cfl=1.5"])
