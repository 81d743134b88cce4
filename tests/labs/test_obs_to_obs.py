"""The obs-to-obs lab (U13, lecture 20) in its smoke preset: forecast skill against persistence."""

from __future__ import annotations

from pathlib import Path

from wxai.da.operators import station_columns
from wxai.labs.framework.runner import run_lab


def test_obs2obs_beats_half_the_persistence_error_on_profile_and_field():
    result = run_lab("obs2obs-toy-atmosphere", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert len(result.figures) == 3 and all(Path(p).is_file() for p in result.figures)
    m = result.metrics
    # Acceptance: the unseen-column profile and the full field at t+1 within 0.5 x persistence.
    assert m["mode_A_rmse_profile"] <= 0.5 * m["persistence_rmse_profile"]
    assert m["mode_A_rmse_field"] <= 0.5 * m["persistence_rmse_field"]
    assert m["mode_A_ratio_unseen_columns"] <= 0.5
    # The chosen column has no radiosonde, and the SAT forecast also beats persistence.
    assert int(m["unseen_column"]) not in station_columns(48, 7)
    assert m["mode_A_rmse_sat"] < m["persistence_rmse_sat"]
