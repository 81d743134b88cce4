"""Area-weighted statistics of fields on regular latitude-longitude grids."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["area_mean"]


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
    weights = np.broadcast_to(np.cos(np.deg2rad(lat))[:, None], values.shape)
    finite = np.isfinite(values)
    total = float(weights[finite].sum())
    return float((values[finite] * weights[finite]).sum() / total) if total else float("nan")
