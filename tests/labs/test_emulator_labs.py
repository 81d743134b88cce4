"""Emulator labs in their smoke presets, run one after the other as a student would."""

from __future__ import annotations

from pathlib import Path

import pytest

from wxai.labs.framework.runner import run_lab


def test_emulator_labs_build_a_dataset_a_graph_and_train_on_them():
    dataset = run_lab("emulator-dataset", ["preset=smoke"])
    assert dataset.passed, dataset.acceptance.describe()
    assert dataset.metrics["dates"] == 21 and dataset.metrics["cells"] == 2048
    assert dataset.metrics["max_zonal_mean_u"] > 1.0  # westerlies spin up within 10 days

    graphs = run_lab("emulator-graphs", ["preset=smoke"])
    assert graphs.passed, graphs.acceptance.describe()
    assert graphs.metrics["hidden_nodes"] == 642
    assert graphs.metrics["edges_decoder"] == 3 * 2048

    training = run_lab("emulator-training", ["preset=smoke", "model=graph_transformer"])
    assert training.passed, training.acceptance.describe()
    assert training.metrics["val_loss_ratio"] < 0.95
    for result in (dataset, graphs, training):
        assert result.figures and all(Path(path).is_file() for path in result.figures)


def test_emulator_forecast_lab_scores_a_trained_model():
    result = run_lab("emulator-forecast", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["initial_times"] == 5
    assert result.metrics["mean_climatology_ratio_first_lead"] < 1.0
    names = {Path(path).name for path in result.figures}
    assert {"scorecard_persistence.png", "forecast_maps.png", "spectra.png"} <= names


def test_emulator_ensemble_lab_beats_its_control():
    result = run_lab("emulator-ensemble", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["crps_over_control_mae"] < 1.0
    assert result.metrics["spread_skill_first_lead"] > 0.0
    # calibrated on training dates: the amplitudes moved from the config's, in proportion
    assert result.metrics["calibration_spread_skill_before"] > 0.0
    assert result.metrics["initial_amplitude"] != 0.05
    assert result.metrics["initial_amplitude"] / result.metrics["model_amplitude"] == (
        pytest.approx(0.05 / 0.7)
    )
    assert result.metrics["white_crps_over_control_mae"] > 0.0


def test_emulator_transfer_lab_starts_the_fine_mesh_ahead():
    from wxai.emulator.training.transfer import steps_to_reach

    assert steps_to_reach([0.5, 0.3, 0.2], 0.3, 10) == 20
    assert steps_to_reach([0.5, 0.4], 0.3, 10) == float("inf")
    result = run_lab("emulator-transfer", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["first_epoch_loss_ratio"] < 1.0
    # the hidden nodes' vectors (162 -> 642) come from the coarse mesh's nearest nodes
    assert result.metrics["interpolated"] == 1
    assert result.metrics["reinitialised"] == 0


def test_emulator_icon_grid_lab_writes_icon_grib2():
    result = run_lab("emulator-icon-grid", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["cells"] == 1280
    assert result.metrics["unstructured_grib"] == 1.0
    assert result.metrics["grib_messages"] == 5 * 13  # 5 output times x 13 prognostic fields
