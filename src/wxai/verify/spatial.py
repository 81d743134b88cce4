"""Area-weighted statistics of gridded fields: regular, Gaussian or unstructured grids.

A field is an array whose last axis is the grid cell (``N`` cells, a lat/lon grid
flattened latitude-major or the cells of an unstructured grid); area weights are one
number per cell, ``(N,)``. This module is the one home of the weighted cell mean that
the scores in :mod:`wxai.verify.fields`, :mod:`wxai.verify.ensemble` and
:mod:`wxai.verify.spectra` reduce with.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["area_mean", "cell_area_weights", "check_weights", "weighted_cell_mean"]


def cell_area_weights(latitudes: ArrayLike, n_lon: int | None = None) -> np.ndarray:
    """Area weights ``cos(latitude)`` of the cells of a regular or Gaussian grid.

    Parameters
    ----------
    latitudes
        Cell-centre latitudes [degrees north]: one per cell, shape (N,), or one per
        latitude row, shape (n_lat,), when ``n_lon`` is given.
    n_lon
        Cells per latitude row; the weights are then repeated for a grid flattened
        latitude-major, giving ``N = n_lat * n_lon`` weights.

    Returns
    -------
    numpy.ndarray
        Weights, shape (N,), dimensionless, normalised to mean 1. For an unstructured
        (e.g. ICON) grid pass the cell areas to the scores instead; any non-negative
        weights are accepted there and normalised by the scores themselves.

    Raises
    ------
    ConfigError
        For latitudes that are not a non-empty 1D array within [-90, 90] or a bad
        ``n_lon``.
    """
    lat = np.asarray(latitudes, dtype=float)
    if lat.ndim != 1 or lat.size == 0 or not np.all(np.abs(lat) <= 90.0):
        raise ConfigError(
            f"cell_area_weights needs a non-empty 1D array of latitudes in [-90, 90] "
            f"degrees, got shape {lat.shape}"
        )
    if n_lon is not None:
        if n_lon < 1:
            raise ConfigError(f"n_lon must be a positive number of cells per row, got {n_lon}")
        lat = np.repeat(lat, n_lon)
    weights = np.clip(np.cos(np.deg2rad(lat)), 0.0, None)
    mean = weights.mean()
    if mean <= 0.0:
        raise ConfigError("all latitudes are at the poles: cos(latitude) weights sum to zero")
    return weights / mean


def check_weights(weights: ArrayLike, n_cells: int, name: str = "weights") -> np.ndarray:
    """``weights`` as a float array (N,), checked against a field of ``n_cells`` cells.

    Raises
    ------
    ConfigError
        Unless the weights are finite, non-negative, not all zero and of shape
        ``(n_cells,)``.
    """
    w = np.asarray(weights, dtype=float)
    if w.shape != (n_cells,):
        raise ConfigError(
            f"{name} must have one value per grid cell, shape ({n_cells},) to match the "
            f"last axis of the field, got {w.shape}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0.0) or not np.any(w > 0.0):
        raise ConfigError(f"{name} must be finite, non-negative and not all zero")
    return w


def weighted_cell_mean(values: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """Weighted mean over the last (cell) axis, NaN cells skipped, leading axes kept.

    ``sum_i w_i v_i / sum_i w_i`` over the cells ``i`` where ``v`` is finite, so the
    weights are renormalised over the valid cells of each leading index.

    Parameters
    ----------
    values
        Field, shape (..., N), any units.
    weights
        Area weights, shape (N,), any positive scale.

    Returns
    -------
    numpy.ndarray
        Shape (...), in the units of ``values`` (a 0-d array for a 1D field); NaN where
        no cell is valid.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 0:
        raise ConfigError("weighted_cell_mean needs a field with a cell axis, got a scalar")
    w = check_weights(weights, v.shape[-1])
    valid = np.isfinite(v)
    total = np.where(valid, w, 0.0).sum(axis=-1)
    summed = np.where(valid, v * w, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0.0, summed / np.where(total > 0.0, total, 1.0), np.nan)


def area_mean(field: ArrayLike, latitude: ArrayLike) -> float:
    """Mean of a lat/lon field weighted by ``cos(latitude)`` (cell area), NaNs skipped.

    Parameters
    ----------
    field
        Values, shape (n_lat, n_lon), on a regular grid in latitude.
    latitude
        Cell-centre latitudes [degrees north], shape (n_lat,).

    Returns
    -------
    float
        The area-weighted mean in the units of ``field``; NaN if every value is NaN.

    Raises
    ------
    ConfigError
        If the shapes do not match.
    """
    values = np.asarray(field, dtype=float)
    lat = np.asarray(latitude, dtype=float)
    if values.ndim != 2 or lat.shape != (values.shape[0],):
        raise ConfigError(
            f"area_mean needs a (n_lat, n_lon) field and (n_lat,) latitudes, "
            f"got {values.shape} and {lat.shape}"
        )
    weights = cell_area_weights(lat, n_lon=values.shape[1])
    return float(weighted_cell_mean(values.reshape(-1), weights))
