"""The AI particle filter lab (U13) in its smoke preset: acceptance and the ablation."""

from __future__ import annotations

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_ai_particle_filter_beats_free_run_and_obs_only_ablation():
    result = run_lab("ai-particle-filter", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m = result.metrics
    # Assimilation with the learned update beats the wrong model running free ...
    assert m["rmse_analysis_full"] < 0.5 * m["rmse_free_run"]
    # ... and the Gaussian-mixture term beats the observation-only loss on first guesses.
    assert m["fg_error_full"] < m["fg_error_obs_only"]
    assert m["fg_error_difference"] > 0
    # The obs-only loss collapses the ensemble; the full loss keeps a spread.
    assert m["spread_full"] > m["spread_obs_only"]
    assert len(result.figures) == 3 and all(Path(p).is_file() for p in result.figures)
