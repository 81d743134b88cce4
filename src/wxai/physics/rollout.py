"""Stepping a prognostic model forward: one loop for every physics module."""

from __future__ import annotations

import numpy as np

from wxai.core.errors import ConfigError, DataFormatError
from wxai.core.typing import PrognosticModel

__all__ = ["integrate"]


def integrate(
    model: PrognosticModel, x0: np.ndarray, n_steps: int, dt: float, t0: float = 0.0
) -> np.ndarray:
    """States from ``x0`` ``(..., n)`` over ``n_steps`` model steps, ``(n_steps + 1, ..., n)``.

    Members that overflow become non-finite and stay so; no warning is issued for them.
    """
    x = np.asarray(x0, dtype=float)
    if x.ndim == 0 or x.shape[-1] != model.state_size:
        raise DataFormatError(
            f"x0 must have shape (..., {model.state_size}) (last axis = state vector), "
            f"got {x.shape}"
        )
    if n_steps < 0:
        raise ConfigError(f"n_steps must be >= 0, got {n_steps}")
    out = np.empty((n_steps + 1, *x.shape))
    out[0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_steps):
            x = model.step(x, t0 + k * dt, dt)
            out[k + 1] = x
    return out
