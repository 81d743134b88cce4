"""Point-wise error metrics named by what they compute."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError


def rmse(prediction: ArrayLike, truth: ArrayLike) -> float:
    """Root-mean-square error over all elements (same units as the inputs)."""
    diff = np.asarray(prediction, dtype=float) - np.asarray(truth, dtype=float)
    if diff.size == 0:
        raise ConfigError("rmse of empty arrays is undefined; pass at least one value")
    return float(np.sqrt(np.mean(diff**2)))


def mae(prediction: ArrayLike, truth: ArrayLike) -> float:
    """Mean absolute error over all elements (same units as the inputs)."""
    diff = np.asarray(prediction, dtype=float) - np.asarray(truth, dtype=float)
    if diff.size == 0:
        raise ConfigError("mae of empty arrays is undefined; pass at least one value")
    return float(np.mean(np.abs(diff)))
