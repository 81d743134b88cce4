"""Residual steps and rollouts feed the forecast back and take known inputs from the data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError
from wxai.train.rollout import residual_step, rollout


class _AddSecondChannel(torch.nn.Module):
    """Predicts a change equal to channel 1 (a known forcing)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 1:2]


def test_residual_step_adds_the_predicted_change():
    state = np.stack([np.full((1, 3, 3), 2.0), np.full((1, 3, 3), 0.5)], axis=1).astype("float32")
    step = residual_step(_AddSecondChannel())
    np.testing.assert_allclose(step(state), np.full((1, 3, 3), 2.5))


def test_rollout_feeds_back_the_forecast_channel_only():
    times = 6
    inputs = np.zeros((times, 2, 2, 2), dtype="float32")
    inputs[:, 0] = 100.0  # the archive's own values of the forecast channel: must be ignored
    inputs[:, 1] = np.arange(times, dtype="float32")[:, None, None]  # forcing = time index
    inputs[1, 0] = 10.0  # start value
    forecasts = rollout(residual_step(_AddSecondChannel()), inputs, start=1, n_steps=3)
    assert forecasts.shape == (3, 2, 2)
    # x(t+1) = x(t) + forcing(t): 10 + 1 = 11, + 2 = 13, + 3 = 16
    np.testing.assert_allclose(forecasts[:, 0, 0], [11.0, 13.0, 16.0])
    with pytest.raises(ConfigError):
        rollout(residual_step(_AddSecondChannel()), inputs, start=3, n_steps=3)
