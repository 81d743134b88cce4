"""Reference predictions that a learned model must beat."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["linear_regression_baseline", "persistence_forecast"]


def linear_regression_baseline(
    x_train: ArrayLike, y_train: ArrayLike, x_test: ArrayLike
) -> np.ndarray:
    """Predictions of the least-squares fit ``y ~ a + b . x`` (ordinary least squares).

    Parameters
    ----------
    x_train
        Training inputs, shape (n, p).
    y_train
        Training targets, shape (n,) or (n, m).
    x_test
        Inputs to predict, shape (n_test, p).

    Returns
    -------
    numpy.ndarray
        Predictions, shape (n_test,) or (n_test, m) as ``y_train``.
    """
    x, y, xt = (np.asarray(a, dtype=float) for a in (x_train, y_train, x_test))
    if x.ndim != 2 or xt.ndim != 2 or x.shape[1] != xt.shape[1] or len(x) != len(y):
        raise ConfigError(
            f"need x_train (n, p), y_train (n, ...), x_test (m, p); got {x.shape}, "
            f"{y.shape}, {xt.shape}"
        )
    coefficients, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(x)), x]), y, rcond=None)
    return np.column_stack([np.ones(len(xt)), xt]) @ coefficients


def persistence_forecast(initial: ArrayLike, n_leads: int) -> np.ndarray:
    """The persistence baseline: the initial state repeated for every lead time.

    Parameters
    ----------
    initial
        State at the initialisation time, shape (...), e.g. (V, N).
    n_leads
        Number of lead times.

    Returns
    -------
    numpy.ndarray
        Shape (n_leads, ...), a copy, in the units of ``initial``.
    """
    state = np.asarray(initial, dtype=float)
    if n_leads < 1:
        raise ConfigError(f"persistence_forecast needs n_leads >= 1, got {n_leads}")
    return np.repeat(state[None], n_leads, axis=0)
