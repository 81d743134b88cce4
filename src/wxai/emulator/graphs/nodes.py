"""Node attributes: positions (lat, lon radians) and area weights.

Area weights are spherical Voronoi cell areas (``scipy.spatial.SphericalVoronoi``),
cos(latitude) or uniform, normalised to mean 1. Voronoi areas of a global grid sum to
4 pi; a regional grid's boundary cells get the (large) areas of the outside.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import QhullError, SphericalVoronoi

from wxai.core.errors import ConfigError
from wxai.data.grids.icon import lonlat_to_xyz

__all__ = ["area_weights", "latlon_xyz", "positions_xyz", "voronoi_areas"]


def latlon_xyz(latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) of points in degrees, validated.

    Raises
    ------
    ConfigError
        Shapes differ, no points, non-finite values or latitudes outside [-90, 90].
    """
    lat = np.asarray(latitudes, dtype=np.float64).ravel()
    lon = np.asarray(longitudes, dtype=np.float64).ravel()
    if lat.shape != lon.shape:
        raise ConfigError(f"latitudes {lat.shape} and longitudes {lon.shape} differ in shape")
    if lat.size == 0:
        raise ConfigError("the data grid has no points")
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        raise ConfigError("the data grid has non-finite latitudes or longitudes")
    if np.abs(lat).max() > 90.0:
        raise ConfigError(
            f"latitudes must be degrees in [-90, 90], max |lat| = {np.abs(lat).max()}"
        )
    return lonlat_to_xyz(lon, lat)


def positions_xyz(x: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) of node positions ``x`` (N, 2) = (lat, lon) radians, any float."""
    lat, lon = np.asarray(x, dtype=np.float64).T
    return lonlat_to_xyz(np.rad2deg(lon), np.rad2deg(lat))


def voronoi_areas(xyz: np.ndarray) -> np.ndarray:
    """Spherical Voronoi cell areas (steradians), (N,) for unit vectors (N, 3).

    Repeated points (e.g. the pole rows of a regular grid) share their cell's area equally.

    Raises
    ------
    ConfigError
        Fewer than 4 distinct points, or points Qhull cannot triangulate (all on one circle).
    """
    unique, inverse, counts = np.unique(
        np.round(xyz, 12), axis=0, return_inverse=True, return_counts=True
    )
    inverse = inverse.ravel()
    try:
        areas = SphericalVoronoi(unique, radius=1.0, threshold=1e-8).calculate_areas()
    except (ValueError, QhullError) as exc:
        raise ConfigError(
            f"spherical Voronoi areas of {unique.shape[0]} distinct points failed ({exc}); "
            "use data_area_weight: cos_latitude or uniform"
        ) from exc
    return areas[inverse] / counts[inverse]


def area_weights(xyz: np.ndarray, method: str = "voronoi") -> np.ndarray:
    """Area weights (N,) float32 with mean 1, by ``voronoi``, ``cos_latitude`` or ``uniform``."""
    if method == "voronoi":
        area = voronoi_areas(xyz)
    elif method == "cos_latitude":
        area = np.sqrt(np.clip(1.0 - xyz[:, 2] ** 2, 0.0, None))
    elif method == "uniform":
        area = np.ones(xyz.shape[0])
    else:
        raise ConfigError(f"unknown area weight method {method!r}")
    return (area / area.mean()).astype(np.float32)
