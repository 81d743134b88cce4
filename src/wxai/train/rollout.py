"""Forecasts with a trained one-step model: residual steps and autoregressive rollouts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from wxai.train.loop import predict

#: ``step(state) -> next value of the forecast channel``; ``state`` ``(1, channel, ...)``,
#: result ``(1, ...)``.
Step = Callable[[np.ndarray], np.ndarray]


def residual_step(model: nn.Module, device: torch.device | str = "cpu", channel: int = 0) -> Step:
    """A step that adds the model's predicted change to ``state[:, channel]``.

    The model maps inputs ``(batch, channel, ...)`` to the change ``(batch, 1, ...)``
    of one channel over a step; the returned function works on NumPy arrays.
    """

    def step(state: np.ndarray) -> np.ndarray:
        change = predict(model, torch.from_numpy(state), device).numpy()[:, 0]
        return state[:, channel] + change

    return step


def rollout(
    step: Step, inputs: np.ndarray, start: int, n_steps: int, channel: int = 0
) -> np.ndarray:
    """Feed ``n_steps`` forecasts of one channel back, the other channels known in advance.

    From ``inputs[start]``, each step forecasts ``channel`` at the next time; the next
    state is ``inputs`` at that time (known inputs: other variables, forcings) with
    ``channel`` replaced by the forecast.

    Parameters
    ----------
    inputs:
        ``(time, channel, ...)``, with ``start + n_steps < time``.

    Returns
    -------
    ``(n_steps, ...)``: the forecasts for times ``start + 1 .. start + n_steps``.
    """
    if start + n_steps >= len(inputs):
        from wxai.core.errors import ConfigError

        raise ConfigError(
            f"a rollout of {n_steps} steps from time {start} needs inputs up to time "
            f"{start + n_steps}, got {len(inputs)} times"
        )
    state = inputs[start : start + 1].copy()
    forecasts = []
    for k in range(1, n_steps + 1):
        forecast = step(state)
        forecasts.append(forecast[0])
        state = inputs[start + k : start + k + 1].copy()
        state[:, channel] = forecast
    return np.stack(forecasts)
