"""SINDy lab (U14, lecture 19) in its smoke preset: acceptance figure and key metrics."""

from pathlib import Path

import pytest

from wxai.core.errors import ConfigError
from wxai.labs.framework.runner import run_lab


def test_sindy_lorenz63_neural_variant_recovers_the_terms_finite_differences_miss():
    result = run_lab("sindy-lorenz63", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert len(result.figures) == 4 and all(Path(p).is_file() for p in result.figures)
    m = result.metrics
    # Noise-free: exact terms, each coefficient within 5 % (in fact within 1 %).
    assert m["noise_free_false_terms"] == 0 and m["noise_free_missing_terms"] == 0
    assert m["noise_free_max_relative_error"] < 0.01
    # Noise 0.5 (about 6 % of the state's spread): FD misses a term, neural SINDy does not.
    assert m["fd_exact_fraction"] == 0.0 and m["neural_exact_fraction"] == 1.0
    assert m["neural_coefficient_error"] < 0.5 * m["fd_coefficient_error"]
    # The network's autograd derivatives are far closer to the true tendency than FD's.
    assert m["neural_derivative_rmse"] < 0.2 * m["fd_derivative_rmse"]
    assert m["neural_state_rmse"] < 0.5  # below the observation noise


def test_sindy_lorenz63_rejects_an_acceptance_noise_outside_the_sweep():
    with pytest.raises(ConfigError, match="acceptance_noise"):
        run_lab("sindy-lorenz63", ["preset=smoke", "acceptance_noise=0.3"])
