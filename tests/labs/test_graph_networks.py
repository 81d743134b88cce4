"""Graph-network labs in their smoke presets."""

from __future__ import annotations

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_gnn_ring_advection_beats_persistence():
    result = run_lab("gnn-ring-advection", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["rmse_one_step"] <= 0.3 * metrics["rmse_persistence"]
    assert metrics["skill_ratio"] <= 0.3
    assert all(Path(path).is_file() for path in result.figures)


def test_gnn_sparse_reconstruction_coordinate_free_extrapolates():
    result = run_lab("gnn-sparse-reconstruction", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["rmse_coordinate_free"] <= 0.5 * metrics["rmse_coordinate_based"]
    # Inside the training domain both models are comparable; beyond pi only one holds up.
    assert metrics["rmse_coordinate_free_train_domain"] < metrics["rmse_zero_predictor"]
    assert metrics["rmse_coordinate_based_train_domain"] < metrics["rmse_zero_predictor"]
    assert metrics["rmse_coordinate_free_beyond_pi"] < metrics["rmse_zero_predictor"]
    assert (
        metrics["rmse_coordinate_based_beyond_pi"] > 2 * metrics["rmse_coordinate_free_beyond_pi"]
    )
    assert all(Path(path).is_file() for path in result.figures)
