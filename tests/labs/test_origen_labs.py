"""ORIGEN labs (U13, lecture 20) in their smoke presets: acceptance figures and key metrics."""

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def _run(name: str):
    result = run_lab(name, ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.figures and all(Path(p).is_file() for p in result.figures)
    return result


def test_origen_oscillator_converges_with_the_b_update():
    result = _run("origen-oscillator")
    m = result.metrics
    # Acceptance: final-cycle RMSE <= 0.3 sigma_o with the B update, falling every cycle.
    assert m["final_over_sigma_o"] <= 0.3 and m["max_rise_updated_b"] <= 1.05
    # Baseline: fixed-B 3D-Var cycling stalls at the observation-error level.
    assert m["fixed_final_over_sigma_o"] > 0.5
    assert m["rmse_final_updated_b"] < 0.5 * m["rmse_first_cycle"]
    # Two rounds: x_1 aligned after round 1, both after round 2 (sigma_o = 0.05).
    assert m["rmse_round2"] < 0.1 < m["rmse_round1"]
    assert len(result.figures) == 3


def test_origen_lorenz63_learned_model_beats_persistence_at_every_lead():
    m = _run("origen-lorenz63").metrics
    assert m["max_ratio_model_persistence"] < 1.0
    assert m["rmse_final_cycle"] < 0.5 * m["rmse_first_cycle"] and m["max_rise_per_cycle"] < 1.05
    assert m["rmse_model_lead_max"] < m["rmse_persistence_lead_max"]
    # Closing the loop: 3D-Var cycling with the learned model beats cycling with persistence.
    assert m["rmse_3dvar_cycling_learned"] < m["rmse_3dvar_cycling_persistence"]
