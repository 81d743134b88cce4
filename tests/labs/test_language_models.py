"""Language-model labs in their smoke presets."""

from __future__ import annotations

from pathlib import Path

from wxai.labs.framework.runner import run_lab
from wxai.train.tracking import make_client


def test_tiny_transformer_learns_the_toy_corpus():
    result = run_lab("tiny-transformer", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["final_train_loss"] < 0.1
    assert metrics["greedy_contains_expected"] == 1.0
    assert metrics["expected_fraction_greedy"] == 1.0
    assert "greedy: hungry" in result.summary
    for strategy in ("temperature", "top-k", "top-p", "repetition penalty"):
        assert strategy in result.summary
    assert all(Path(path).is_file() for path in result.figures)
    artifacts = [a.path for a in make_client(result.tracking_uri).list_artifacts(result.run_id)]
    assert "samples.json" in artifacts
