"""Distances between distributions given by samples: energy distance and 1D Wasserstein."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    import torch


def _as_points(samples: ArrayLike, name: str) -> np.ndarray:
    points = np.asarray(samples, dtype=float)
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2 or points.shape[0] == 0:
        raise ConfigError(f"{name} must be (n,) or (n, dim) with n >= 1, got shape {points.shape}")
    return points


def _mean_pairwise_distance(
    a: np.ndarray, b: np.ndarray, *, same: bool = False, chunk: int = 512
) -> float:
    """Mean Euclidean distance over all pairs ``(a_i, b_j)``, computed in row chunks.

    ``same=True`` (``a is b``) leaves out the ``n`` zero pairs ``i == j``.
    """
    total = 0.0
    for start in range(0, a.shape[0], chunk):
        block = a[start : start + chunk, None, :] - b[None, :, :]
        total += float(np.sqrt((block**2).sum(axis=-1)).sum())
    pairs = a.shape[0] * (b.shape[0] - 1) if same else a.shape[0] * b.shape[0]
    return total / max(pairs, 1)


def energy_distance(
    a: ArrayLike, b: ArrayLike, *, squared: bool = False, unbiased: bool = False
) -> float:
    """Energy distance between two samples, brute force over all pairs.

    ``D^2 = 2 E|X - Y| - E|X - X'| - E|Y - Y'|`` with the expectations replaced by
    means over all pairs (V-statistics, diagonal included), ``|.|`` the Euclidean
    norm. ``D`` is zero only for equal distributions; for 1D samples it equals
    :func:`scipy.stats.energy_distance`. Cost is ``O(n m)``: meant for a few
    thousand points.

    Parameters
    ----------
    a, b:
        Samples ``(n,)`` / ``(n, dim)`` and ``(m,)`` / ``(m, dim)``, same units.
    squared:
        Return ``D^2`` (Szekely's energy distance) instead of ``D``.
    unbiased:
        Leave the ``i == j`` pairs out of the within-sample means (U-statistics), so
        that ``D^2`` of two samples of one distribution is zero on average; the
        V-statistic is biased up by about ``E|X - X'| (1/n + 1/m)``. A negative
        estimate is clipped to 0.

    Returns
    -------
    ``D`` in the units of the samples (``D^2`` if ``squared``).
    """
    x, y = _as_points(a, "a"), _as_points(b, "b")
    if x.shape[1] != y.shape[1]:
        raise ConfigError(f"samples differ in dimension: {x.shape[1]} vs {y.shape[1]}")
    d2 = (
        2 * _mean_pairwise_distance(x, y)
        - _mean_pairwise_distance(x, x, same=unbiased)
        - _mean_pairwise_distance(y, y, same=unbiased)
    )
    d2 = max(d2, 0.0)
    return d2 if squared else float(np.sqrt(d2))


def wasserstein_1d(a: ArrayLike, b: ArrayLike, p: int = 1) -> float:
    """p-Wasserstein distance between two 1D samples from their sorted quantiles.

    ``W_p = (integral_0^1 |F_a^{-1}(u) - F_b^{-1}(u)|^p du)^(1/p)`` where the
    empirical quantile functions are step functions of the sorted samples. For
    equal sizes this is ``mean(|sort(a) - sort(b)|^p)^(1/p)``.

    Parameters
    ----------
    a, b:
        Samples ``(n,)`` and ``(m,)`` (sizes may differ).
    p:
        Order, ``>= 1``.

    Returns
    -------
    ``W_p`` in the units of the samples.
    """
    x = np.sort(np.asarray(a, dtype=float).ravel())
    y = np.sort(np.asarray(b, dtype=float).ravel())
    if x.size == 0 or y.size == 0:
        raise ConfigError("wasserstein_1d needs non-empty samples")
    if p < 1:
        raise ConfigError(f"p must be >= 1, got {p}")
    if x.size == y.size:
        return float(np.mean(np.abs(x - y) ** p) ** (1 / p))
    levels = np.union1d(np.arange(1, x.size + 1) / x.size, np.arange(1, y.size + 1) / y.size)
    widths = np.diff(levels, prepend=0.0)
    middle = levels - widths / 2
    qx = x[np.minimum((middle * x.size).astype(int), x.size - 1)]
    qy = y[np.minimum((middle * y.size).astype(int), y.size - 1)]
    return float(np.sum(widths * np.abs(qx - qy) ** p) ** (1 / p))


def sorted_quantile_loss(samples: torch.Tensor, target: torch.Tensor, p: int = 2) -> torch.Tensor:
    """Differentiable ``W_p^p`` between two equal-size 1D samples (torch).

    Sorting pairs the ``k``-th smallest generated value with the ``k``-th smallest
    target value; the loss is ``mean(|sort(samples) - sort(target)|^p)``. Gradients
    flow to ``samples``, which is how a generator learns a distribution without
    targets for individual inputs.

    Parameters
    ----------
    samples, target:
        Tensors with the same number of elements (flattened).
    p:
        1 or 2 (``W_1`` or ``W_2^2``).

    Returns
    -------
    Scalar tensor.
    """
    import torch

    generated = torch.sort(samples.reshape(-1)).values
    reference = torch.sort(target.reshape(-1)).values
    if generated.shape != reference.shape:
        raise ConfigError(
            f"sorted_quantile_loss needs equal sizes, got {generated.numel()} "
            f"and {reference.numel()}"
        )
    return torch.mean(torch.abs(generated - reference) ** p)
