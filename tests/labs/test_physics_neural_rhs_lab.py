"""The neural-rhs lab (U14, lecture 19) in its smoke preset: acceptance figure and key metrics."""

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_neural_rhs_box_training_wins_off_the_attractor_and_keeps_the_climate():
    result = run_lab("neural-rhs", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert len(result.figures) == 3 and all(Path(p).is_file() for p in result.figures)
    m = result.metrics
    # Acceptance: off the attractor, at lead 0.1, (b) is far better than (a).
    assert m["off_rmse_b"] < 0.2 * m["off_rmse_a"]
    assert m["off_rmse_b"] < 0.01 * m["off_rmse_persistence"]
    # Both climates are matched (means within 0.05 std, variances within 10 %), none escaped.
    for key in ("a", "b"):
        assert m[f"climate_matched_{key}"] == 1.0 and m[f"escaped_members_{key}"] == 0.0
        assert m[f"mean_error_max_{key}"] <= 0.05
        assert abs(m[f"variance_ratio_worst_{key}"] - 1) <= 0.1
        # Short range: both stay useful far longer than persistence and climatology.
        assert m[f"valid_time_{key}"] > 10 * m["valid_time_persistence"]
        assert m[f"rmse_{key}_lead_0p5"] < 0.05 * m["rmse_persistence_lead_0p5"]
    # On the attractor, where its data lie, (a) is the more accurate of the two.
    assert m["rmse_a_lead_0p5"] < m["rmse_b_lead_0p5"]
