"""Day-1 labs in their smoke presets: acceptance figures and what they rest on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from wxai.core.device import torch_threads
from wxai.labs.framework.runner import run_lab
from wxai.nn.mlp import mlp_parameter_count
from wxai.train.tracking import make_client


def _assert_recorded(result) -> None:
    """Figures on disk and the acceptance figure in the MLflow run."""
    assert result.figures
    assert all(Path(path).is_file() for path in result.figures)
    run = make_client(result.tracking_uri).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert result.acceptance.metric in run.data.metrics
    assert run.data.tags["wxai.passed"] == "true"


def test_sine_regression_smoke_passes():
    result = run_lab("sine-regression", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["rmse"] < 0.05 < result.metrics["rmse_zero_predictor"]
    _assert_recorded(result)


def test_dataloader_shuffle_distinguishes_the_two_modes():
    result = run_lab("dataloader-shuffle", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    # Without shuffling every epoch repeats the same batches in the same order ...
    assert metrics["same_order_fraction_unshuffled"] == 1.0
    assert metrics["same_composition_fraction_unshuffled"] == 1.0
    # ... with shuffling no two epochs share even the set of batches.
    assert metrics["same_composition_fraction_shuffled"] == 0.0
    assert metrics["same_order_fraction_shuffled"] == 0.0
    # Either way each epoch visits every sample exactly once, and a seeded generator repeats.
    assert metrics["every_epoch_is_permutation_unshuffled"] == 1.0
    assert metrics["every_epoch_is_permutation_shuffled"] == 1.0
    assert metrics["seeded_shuffle_repeatable"] == 1.0
    assert metrics["batches_per_epoch"] == 5  # 20 samples, batch size 4
    _assert_recorded(result)


def test_ffnn_capacity_counts_and_compares():
    result = run_lab("ffnn-capacity", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    # Counted from the torch module == formula == the hand sum 32 + 272 + 17.
    assert metrics["params_1_16_16_1"] == metrics["params_formula_1_16_16_1"] == 321
    assert metrics["count_mismatches"] == 0
    assert abs(metrics["params_shallow"] - metrics["params_deep"]) <= 3
    # Both networks learned something; the verdict matches the errors.
    for name in ("shallow", "deep"):
        assert metrics[f"rmse_{name}"] < 0.6 * metrics["rmse_zero_predictor"]
    assert metrics["deep_fits_better"] == float(metrics["rmse_deep"] < metrics["rmse_shallow"])
    _assert_recorded(result)


def test_course_value_337_is_the_two_input_network():
    assert mlp_parameter_count([1, 16, 16, 1]) == 32 + 272 + 17 == 321
    assert mlp_parameter_count([2, 16, 16, 1]) == 337


def test_torch_threads_restores_the_setting():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
