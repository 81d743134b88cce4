"""Zonal power spectra of fields on structured (regular or Gaussian) lat/lon grids.

Smoothing shows up as missing power at high wavenumbers long before it shows in the
RMSE; comparing the spectra of forecast and truth per lead time reveals it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError
from wxai.verify.spatial import cell_area_weights, weighted_cell_mean

__all__ = ["zonal_power_spectrum"]


def zonal_power_spectrum(
    field: ArrayLike, n_lat: int, n_lon: int, latitudes: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Power per zonal wavenumber, averaged over latitude rows with ``cos(lat)`` weights.

    Each latitude row ``x_j`` (``j = 0 .. n_lon - 1``, equally spaced in longitude) is
    Fourier transformed, ``X_k = sum_j x_j exp(-2 pi i j k / n_lon)``, and its power at
    zonal wavenumber ``k = 0 .. n_lon // 2`` (cycles around the latitude circle) is
    ``P_k = c_k |X_k|^2 / n_lon^2`` with ``c_k = 2`` for ``0 < k < n_lon / 2`` (the
    negative wavenumbers folded in) and ``c_k = 1`` for ``k = 0`` and, for even
    ``n_lon``, ``k = n_lon / 2``. By Parseval, ``sum_k P_k`` equals the mean of ``x^2``
    along the row, and the returned ``sum_k power`` equals the ``cos(lat)``-weighted
    mean of the squared field over the grid; ``A cos(k lon)`` has power ``A^2 / 2`` at
    ``k``. Rows with a NaN are left out (weights renormalised).

    Parameters
    ----------
    field
        Values, shape (..., n_lat * n_lon), flattened latitude-major (the longitude
        varies fastest); leading axes such as (lead, variable) are kept.
    n_lat, n_lon
        Grid size: latitude rows and cells per row.
    latitudes
        Row latitudes [degrees north], shape (n_lat,).

    Returns
    -------
    wavenumbers : numpy.ndarray
        ``0 .. n_lon // 2``, shape (K,), integers.
    power : numpy.ndarray
        Shape (..., K), in squared field units.

    Raises
    ------
    ConfigError
        When the cell axis is not ``n_lat * n_lon`` long (e.g. an unstructured ICON
        grid, which has no latitude rows: interpolate to a regular grid first) or the
        latitudes do not match ``n_lat``.
    """
    values = np.asarray(field, dtype=float)
    if n_lat < 1 or n_lon < 1:
        raise ConfigError(f"zonal_power_spectrum needs n_lat, n_lon >= 1, got {n_lat}, {n_lon}")
    if values.ndim == 0 or values.shape[-1] != n_lat * n_lon:
        raise ConfigError(
            f"zonal_power_spectrum needs a structured grid flattened latitude-major: the "
            f"last axis of the field {values.shape} must have n_lat * n_lon = {n_lat} * "
            f"{n_lon} = {n_lat * n_lon} cells. An unstructured (e.g. ICON) grid has no "
            f"latitude rows; interpolate it to a regular grid first"
        )
    lat = np.asarray(latitudes, dtype=float)
    if lat.shape != (n_lat,):
        raise ConfigError(
            f"zonal_power_spectrum needs one latitude per row, shape ({n_lat},), got {lat.shape}"
        )
    rows = values.reshape(*values.shape[:-1], n_lat, n_lon)
    power = np.abs(np.fft.rfft(rows, axis=-1)) ** 2 / n_lon**2
    power[..., 1:] *= 2.0
    if n_lon % 2 == 0:
        power[..., -1] /= 2.0
    by_row_last = np.moveaxis(power, -2, -1)  # (..., K, n_lat)
    return np.arange(n_lon // 2 + 1), weighted_cell_mean(by_row_last, cell_area_weights(lat))
