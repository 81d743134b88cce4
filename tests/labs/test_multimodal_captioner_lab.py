"""The wind-image captioner lab (U6, lecture 8) in its smoke preset."""

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_captioner_reads_direction_and_speed_and_beats_the_constant_caption():
    result = run_lab("wind-image-captioner", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m = result.metrics
    # Acceptance: on unseen fields, sector right and speed within 3 m/s at least 80 % each.
    assert m["sector_accuracy"] >= 0.8 and m["speed_within_tolerance"] >= 0.8
    assert m["grammatical_fraction"] == 1.0
    # Baseline: the training set's most common caption is far worse on both.
    assert m["baseline_sector_accuracy"] < 0.3 and m["baseline_speed_within_tolerance"] < 0.4
    assert m["speed_mae"] < 0.5 * m["baseline_speed_mae"]
    assert len(result.figures) == 3 and all(Path(p).is_file() for p in result.figures)
