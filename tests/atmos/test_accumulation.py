"""De-accumulation of fields accumulated since the run start."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.atmos.accumulation import interval_amounts, mean_rates
from wxai.core.errors import ConfigError, DataFormatError


def test_constant_rate_gives_constant_amounts_and_rates() -> None:
    hours = np.array([0.0, 3.0, 6.0, 12.0])
    rate = np.array([[0.5, 2.0]])  # mm/h at two points
    accumulated = hours[:, None] * rate  # (lead, point)
    amounts = interval_amounts(accumulated)
    np.testing.assert_allclose(amounts, np.diff(hours)[:, None] * rate)
    np.testing.assert_allclose(mean_rates(accumulated, hours), np.repeat(rate, 3, axis=0))
    # lead time on another axis
    np.testing.assert_allclose(mean_rates(accumulated.T, hours, axis=1), np.repeat(rate, 3, 0).T)


def test_amounts_close_to_the_total() -> None:
    rng = np.random.default_rng(1)
    accumulated = np.cumsum(rng.gamma(0.5, 1.0, size=(7, 4, 5)), axis=0)
    amounts = interval_amounts(accumulated)
    np.testing.assert_allclose(amounts.sum(axis=0), accumulated[-1] - accumulated[0])


def test_packing_noise_clipped_but_real_decrease_refused() -> None:
    accumulated = np.array([0.0, 1.0, 0.999, 2.0])
    raw = interval_amounts(accumulated)
    assert raw.min() == pytest.approx(-0.001)
    clipped = interval_amounts(accumulated, clip_noise=0.002)
    assert clipped.min() == 0.0 and clipped[2] == pytest.approx(1.001)
    with pytest.raises(DataFormatError, match="not accumulated"):
        interval_amounts(accumulated, clip_noise=1e-4)


def test_invalid_arguments() -> None:
    with pytest.raises(ConfigError):
        interval_amounts(np.zeros((1, 3)))
    with pytest.raises(ConfigError):
        interval_amounts(np.zeros(3), clip_noise=-1.0)
    with pytest.raises(ConfigError, match="lead_hours"):
        mean_rates(np.zeros(3), [0.0, 6.0, 3.0])
