"""Scores of ensemble forecasts: CRPS, spread and the spread-skill ratio.

An ensemble is an array with a member axis (``member_axis``, default 0) and the grid
cell as last axis, e.g. (member, lead, variable, N); the truth has the same shape
without the member axis (or broadcasts to it). Weights are area weights per cell,
shape (N,) (see :mod:`wxai.verify.fields`). A cell where a member or the truth is NaN
gets a NaN score and is skipped by the area means.

Definitions follow WeatherBench 2 (Rasp et al. 2024).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError
from wxai.verify.fields import Axes, mean_over
from wxai.verify.spatial import check_weights, weighted_cell_mean

__all__ = ["crps_ensemble", "ensemble_spread", "spread_skill_ratio"]


def _members_last(
    ensemble: ArrayLike, truth: ArrayLike | None, member_axis: int, name: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ensemble as (..., N, M) and the truth broadcast to (..., N)."""
    e = np.asarray(ensemble, dtype=float)
    if e.ndim < 2:
        raise ConfigError(
            f"{name} needs an ensemble with a member axis and a cell axis, got shape {e.shape}"
        )
    axis = member_axis + e.ndim if member_axis < 0 else member_axis
    if not 0 <= axis < e.ndim - 1:
        raise ConfigError(
            f"{name}: member_axis {member_axis} must be an axis of the ensemble {e.shape} "
            f"other than the last (the grid cells)"
        )
    e = np.moveaxis(e, axis, -1)
    if truth is None:
        return e, None
    t = np.asarray(truth, dtype=float)
    mismatch = ConfigError(
        f"{name}: truth {t.shape} does not match the ensemble {np.moveaxis(e, -1, axis).shape} "
        f"without its member axis {member_axis}, {e.shape[:-1]}"
    )
    if t.ndim == 0 or t.shape[-1] != e.shape[-2]:
        raise mismatch
    try:
        t = np.broadcast_to(t, e.shape[:-1])
    except ValueError:
        raise mismatch from None
    return e, t


def _pair_sum_sorted(members: np.ndarray) -> np.ndarray:
    """``0.5 sum_ij |x_i - x_j|`` over the last axis in O(M log M).

    With the members sorted, ``x_(k)`` exceeds ``k - 1`` members and is below
    ``M - k`` of them, so the half sum is ``sum_k (2k - M - 1) x_(k)``.
    """
    m = members.shape[-1]
    coefficients = 2.0 * np.arange(1, m + 1) - m - 1
    return np.sort(members, axis=-1) @ coefficients


def _pair_sum_pairwise(members: np.ndarray) -> np.ndarray:
    """``0.5 sum_ij |x_i - x_j|`` over the last axis by all pairs, O(M^2)."""
    total = np.zeros(members.shape[:-1])
    for i in range(members.shape[-1]):
        total += np.abs(members[..., i : i + 1] - members).sum(axis=-1)
    return 0.5 * total


def crps_ensemble(
    ensemble: ArrayLike,
    truth: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    fair: bool = True,
    member_axis: int = 0,
    method: Literal["sort", "pairwise"] = "sort",
) -> np.ndarray:
    """Continuous ranked probability score of an ensemble, kernel (energy) form.

    ``CRPS = E|X - y| - 0.5 E|X - X'|`` with the expectations over the members ``x_i``:
    ``(1/M) sum_i |x_i - y| - (1 / (2 M (M - 1))) sum_ij |x_i - x_j|`` for the fair
    estimator (unbiased for the CRPS of the distribution the members are drawn from,
    as WeatherBench 2 reports it), ``1 / (2 M^2)`` instead for the plain one (the CRPS
    of the empirical distribution of the members). With one member both reduce to the
    absolute error. Lower is better; 0 only for a perfect deterministic forecast.

    Parameters
    ----------
    ensemble
        Members, shape e.g. (M, ..., N) with the member axis at ``member_axis``.
    truth
        Verifying values, the ensemble's shape without the member axis, (..., N), or
        broadcastable to it; units of the ensemble.
    weights
        Area weights (N,): return the area-weighted mean over the cells. None: return
        the score of every cell.
    fair
        The fair (``M (M - 1)``) estimator; False: the plain (``M^2``) one.
    member_axis
        Axis of the members in ``ensemble``; must not be the last axis.
    method
        ``"sort"``: the pair sum from the sorted members, O(M log M); ``"pairwise"``:
        all pairs, O(M^2) work, for checks and small M. Both give the same values.

    Returns
    -------
    numpy.ndarray
        Shape (...) with weights, (..., N) without; units of the input.
    """
    if method not in ("sort", "pairwise"):
        raise ConfigError(f"crps_ensemble method must be 'sort' or 'pairwise', got {method!r}")
    members, t = _members_last(ensemble, truth, member_axis, "crps_ensemble")
    assert t is not None
    m = members.shape[-1]
    skill = np.abs(members - t[..., None]).mean(axis=-1)
    half_pair_sum = (_pair_sum_sorted if method == "sort" else _pair_sum_pairwise)(members)
    pairs = m * (m - 1) if fair else m * m
    score = skill - half_pair_sum / max(pairs, 1)
    if weights is None:
        return score
    return weighted_cell_mean(score, check_weights(weights, score.shape[-1]))


def ensemble_spread(
    ensemble: ArrayLike, weights: ArrayLike, *, member_axis: int = 0, mean_axis: Axes = None
) -> np.ndarray:
    """Ensemble spread: square root of the area-weighted mean ensemble variance.

    ``sqrt(sum_i w_i s_i^2 / sum_i w_i)`` with ``s_i^2`` the unbiased (``M - 1``)
    variance of the members at cell ``i``.

    Parameters
    ----------
    ensemble
        Members, shape e.g. (M, ..., N) with ``M >= 2`` at ``member_axis``.
    weights
        Area weights, shape (N,).
    member_axis
        Axis of the members; must not be the last axis.
    mean_axis
        Axes of the result over which the variance is averaged before the square root
        (e.g. the initialisation times); None keeps all leading axes.

    Returns
    -------
    numpy.ndarray
        Shape (...) without member and cell axes (and ``mean_axis``); input units.
    """
    members, _ = _members_last(ensemble, None, member_axis, "ensemble_spread")
    _check_two_members(members, "ensemble_spread")
    variance = weighted_cell_mean(members.var(axis=-1, ddof=1), weights)
    return np.sqrt(mean_over(variance, mean_axis, "ensemble_spread"))


def spread_skill_ratio(
    ensemble: ArrayLike,
    truth: ArrayLike,
    weights: ArrayLike,
    *,
    member_axis: int = 0,
    mean_axis: Axes = None,
    finite_ensemble_correction: bool = False,
) -> np.ndarray:
    """Ratio of the ensemble spread to the RMSE of the ensemble mean.

    ``spread / skill`` with ``spread`` as :func:`ensemble_spread` and ``skill`` the
    area-weighted RMSE of the ensemble mean, both over the cells where members and
    truth are all finite. Near 1 for a reliable ensemble, below 1 for an
    under-dispersive (over-confident) one.

    For a reliable ensemble of ``M`` members the squared error of the ensemble mean is
    on average ``(M + 1) / M`` times the ensemble variance (the mean itself is an
    estimate), so the plain ratio tends to ``sqrt(M / (M + 1))``: 0.91 for 5 members,
    0.99 for 50. ``finite_ensemble_correction=True`` multiplies the spread by
    ``sqrt((M + 1) / M)`` (Fortin et al. 2014) so that a reliable ensemble of any size
    scores 1; the default is the plain ratio.

    Parameters
    ----------
    ensemble
        Members, shape e.g. (M, ..., N) with ``M >= 2`` at ``member_axis``.
    truth
        Verifying values (..., N), the ensemble's shape without the member axis.
    weights
        Area weights, shape (N,).
    member_axis
        Axis of the members; must not be the last axis.
    mean_axis
        Axes of the result over which variance and squared error are averaged before
        the square roots (e.g. initialisation times); None keeps all leading axes.
    finite_ensemble_correction
        Apply the ``sqrt((M + 1) / M)`` factor to the spread.

    Returns
    -------
    numpy.ndarray
        Dimensionless, shape (...) without member and cell axes (and ``mean_axis``).
    """
    members, t = _members_last(ensemble, truth, member_axis, "spread_skill_ratio")
    assert t is not None
    m = _check_two_members(members, "spread_skill_ratio")
    w = check_weights(weights, members.shape[-2])
    squared_error = (members.mean(axis=-1) - t) ** 2
    variance = members.var(axis=-1, ddof=1)
    valid = np.isfinite(squared_error) & np.isfinite(variance)
    spread2 = weighted_cell_mean(np.where(valid, variance, np.nan), w)
    skill2 = weighted_cell_mean(np.where(valid, squared_error, np.nan), w)
    spread2 = mean_over(spread2, mean_axis, "spread_skill_ratio")
    skill2 = mean_over(skill2, mean_axis, "spread_skill_ratio")
    factor = (m + 1) / m if finite_ensemble_correction else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(factor * spread2 / skill2)


def _check_two_members(members: np.ndarray, name: str) -> int:
    m = members.shape[-1]
    if m < 2:
        raise ConfigError(f"{name} needs at least 2 members for a variance, got {m}")
    return m
