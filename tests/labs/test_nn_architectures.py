"""U3 architecture labs in their smoke presets: acceptance figures and what they rest on."""

from __future__ import annotations

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def _run(name: str):
    result = run_lab(name, ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.figures and all(Path(path).is_file() for path in result.figures)
    return result


def test_blob_forecast_cnn_beats_persistence_with_a_19_point_field():
    metrics = _run("blob-forecast-cnn").metrics
    assert metrics["rmse"] <= 0.2 * metrics["rmse_persistence"]
    assert metrics["receptive_field_formula"] == metrics["receptive_field_measured"] == 19
    assert metrics["receptive_field_matches"] == 1.0


def test_classifier_gradients_mlp_beats_linear():
    metrics = _run("classifier-gradients").metrics
    assert metrics["accuracy_mlp"] >= 0.95
    assert metrics["accuracy_mlp"] > metrics["accuracy_linear"] + 0.1


def test_cnn_function_classifier_accuracy():
    metrics = _run("cnn-function-classifier").metrics
    assert metrics["test_accuracy"] >= 0.9
    assert metrics["noisy_test_accuracy"] > metrics["chance_accuracy"]


def test_lstm_anomaly_auc():
    metrics = _run("lstm-anomaly").metrics
    assert metrics["roc_auc"] >= 0.9
    assert metrics["mean_score_anomalous"] > metrics["mean_score_normal"]


def test_wasserstein_sampler_beats_fitted_gaussian():
    metrics = _run("wasserstein-sampler").metrics
    assert metrics["w1_samples"] <= 0.3 * metrics["w1_fitted_gaussian"]


def test_ddpm_beats_fitted_gaussian_in_1d_and_2d():
    metrics = _run("ddpm").metrics
    for key in ("1d", "2d"):
        assert metrics[f"energy_{key}"] <= 0.3 * metrics[f"energy_gaussian_{key}"]
