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


def normwise_error(
    result: ArrayLike, reference: ArrayLike, scale: float | None = None
) -> tuple[float, float]:
    """Maximum absolute error and its size relative to a scale.

    The relative error is ``max |result - reference| / scale`` with ``scale`` defaulting
    to ``max |reference|`` (normwise, so values near zero cannot inflate it); for a sum
    such as a dot product pass the scale of its rounding error, ``sum |x_i y_i|``.

    Returns
    -------
    (absolute, relative)
    """
    diff = np.abs(np.asarray(result, dtype=float) - np.asarray(reference, dtype=float))
    if diff.size == 0:
        raise ConfigError("the error of empty arrays is undefined; pass at least one value")
    absolute = float(np.max(diff))
    if scale is None:
        scale = float(np.max(np.abs(reference)))
    return absolute, absolute / max(scale, 1e-300)
