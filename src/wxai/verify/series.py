"""Errors per sample: one score for each case, member or time of a batch."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["rmse_per_sample"]


def rmse_per_sample(prediction: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """Root-mean-square error of every sample over its remaining axes.

    Parameters
    ----------
    prediction, truth:
        Arrays ``(samples, ...)`` of the same shape (or broadcastable to it), same units.

    Returns
    -------
    np.ndarray
        ``(samples,)``, in the units of the inputs.
    """
    diff = np.asarray(prediction, dtype=float) - np.asarray(truth, dtype=float)
    if diff.ndim < 2 or diff.size == 0:
        raise ConfigError(
            f"rmse_per_sample needs non-empty (samples, ...) arrays, got {diff.shape}"
        )
    return np.sqrt(np.mean(diff**2, axis=tuple(range(1, diff.ndim))))
