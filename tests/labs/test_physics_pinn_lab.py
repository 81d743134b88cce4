"""The pinn-oscillator lab (U14, lecture 19) in its smoke preset: acceptance and contrasts."""

from pathlib import Path

import pytest

from wxai.core.errors import ConfigError
from wxai.labs.framework.runner import run_lab


def test_pinn_oscillator_fourier_features_extrapolate_where_the_plain_mlp_fails():
    result = run_lab("pinn-oscillator", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m, bound = result.metrics, result.config["max_error_bound"]
    # Acceptance: (c) below the bound over [0, 6 pi], 3x the training interval ...
    assert m["c_max_all"] < bound and m["c_max_out"] < bound
    # ... where (a), trained on the same residual interval, exceeds it, and only outside.
    assert m["a_max_in"] < bound < m["a_max_out"]
    # Fourier features with random frequencies fit the interval but do not extrapolate.
    assert m["c_random_max_in"] < bound < m["c_random_max_out"]
    # Enforcing the residual on the wide interval helps (b) outside compared with (a).
    assert m["b_max_out"] < m["a_max_out"]
    assert result.acceptance.baseline_value == m["a_max_all"]
    assert len(result.figures) == 2 and all(Path(p).is_file() for p in result.figures)


def test_pinn_oscillator_rejects_an_evaluation_shorter_than_three_training_intervals():
    with pytest.raises(ConfigError, match="eval_factor"):
        run_lab("pinn-oscillator", ["preset=smoke", "eval_factor=2"])
