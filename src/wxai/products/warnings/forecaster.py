"""Synthetic "forecaster polygons": gust warnings drawn the way a person draws them.

A forecaster looking at a gust forecast does not trace the threshold contour cell
by cell. :func:`draw_warning_polygons` imitates the habits that make warning
polygons differ from a thresholded field:

1. **broad areas** - the gust field [m s-1] (usually its maximum over the warning's
   validity period, see :mod:`wxai.products.warnings.dataset`) is smoothed with a
   Gaussian of ``smoothing_km`` before it is compared with each level's threshold;
2. **nothing small** - areas below ``min_area_km2`` are not warned, and holes below
   ``min_hole_km2`` inside a warned area are filled;
3. **a little over-warning** - the outline is pushed out by a margin drawn per case
   (uniform in ``buffer_km``, the same for all levels of the case: one forecaster's
   caution), with rounded corners;
4. **few vertices** - outlines are simplified (Douglas-Peucker, ``simplify_km``);
5. **nested levels** - a higher level is clipped to the next lower one, so every
   area warned at level k is also warned at levels 1..k-1.

Distances are converted to degrees with 111.2 km per degree of latitude; buffers
and areas account for the shorter degree of longitude (cos of the latitude).
Everything random comes from the ``rng`` passed in, so the polygons are
deterministic from a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy import ndimage
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.geometry import (
    as_polygons,
    grid_spacing,
    mask_from_polygons,
    polygons_from_mask,
)
from wxai.products.warnings.levels import WarningLevel, check_levels

__all__ = ["KM_PER_DEGREE", "ForecasterStyle", "draw_warning_polygons", "warning_masks"]

#: Kilometres per degree of latitude (mean Earth radius 6371 km).
KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class ForecasterStyle:
    """How the synthetic forecaster draws (see the module docstring).

    Attributes
    ----------
    smoothing_km:
        Standard deviation of the Gaussian smoothing of the gust field [km].
    buffer_km:
        Range of the over-warning margin drawn per case [km].
    simplify_km:
        Douglas-Peucker tolerance of the outlines [km].
    min_area_km2:
        Smaller warned areas are dropped [km2].
    min_hole_km2:
        Smaller holes are filled [km2].
    """

    smoothing_km: float = 50.0
    buffer_km: tuple[float, float] = (25.0, 60.0)
    simplify_km: float = 20.0
    min_area_km2: float = 25_000.0
    min_hole_km2: float = 50_000.0

    def __post_init__(self) -> None:
        lo, hi = self.buffer_km
        values = (self.smoothing_km, lo, self.simplify_km, self.min_area_km2, self.min_hole_km2)
        if min(values) < 0 or hi < lo:
            raise ConfigError(
                f"forecaster style needs non-negative sizes and buffer_km (lo, hi) with "
                f"lo <= hi, got {self}"
            )


def _area_km2(geom: BaseGeometry) -> float:
    """Approximate area [km2] of a geometry in (lon, lat) degrees."""
    if geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    return geom.area * KM_PER_DEGREE**2 * np.cos(np.deg2rad(lat))


def _buffer_km(geom: BaseGeometry, distance_km: float) -> BaseGeometry:
    """Buffer by ``distance_km`` with longitudes stretched to equal-distance degrees."""
    if geom.is_empty or distance_km <= 0:
        return geom
    lat0 = geom.centroid.y
    stretch = max(np.cos(np.deg2rad(lat0)), 0.1)
    scaled = affinity.scale(geom, xfact=stretch, yfact=1.0, origin=(0.0, 0.0))
    buffered = scaled.buffer(distance_km / KM_PER_DEGREE, quad_segs=4)
    return affinity.scale(buffered, xfact=1.0 / stretch, yfact=1.0, origin=(0.0, 0.0))


def _fill_small_holes(geom: BaseGeometry, min_hole_km2: float) -> BaseGeometry:
    parts = []
    for part in shapely.get_parts(geom):
        holes = [ring for ring in part.interiors if _area_km2(Polygon(ring)) >= min_hole_km2]
        parts.append(Polygon(part.exterior, holes))
    return shapely.union_all(parts) if parts else Polygon()


def _drop_small(geom: BaseGeometry, min_area_km2: float) -> BaseGeometry:
    kept = [p for p in shapely.get_parts(geom) if _area_km2(p) >= min_area_km2]
    return shapely.union_all(kept) if kept else Polygon()


def draw_warning_polygons(
    gust: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    levels: Sequence[WarningLevel],
    rng: np.random.Generator,
    *,
    style: ForecasterStyle | None = None,
) -> list[BaseGeometry]:
    """Warning polygons per level, drawn from a gust field like a forecaster would.

    Parameters
    ----------
    gust:
        Gust speed ``(H, W)`` [m s-1] on the grid ``(lat, lon)``, typically the
        maximum over the validity period of the warning.
    lat, lon:
        1D regular grid axes [degrees], shapes ``(H,)`` and ``(W,)``.
    levels:
        Warning levels with increasing thresholds (e.g. ``DWD_GUST_LEVELS``).
    rng:
        Source of the per-case over-warning margin.
    style:
        Drawing habits; default :class:`ForecasterStyle`.

    Returns
    -------
    list of shapely geometries
        One (possibly empty) Polygon or MultiPolygon per level, in (lon, lat)
        degrees, nested (level k inside level k-1) and clipped to the grid.
    """
    levels = check_levels(levels)
    style = style or ForecasterStyle()
    field = np.asarray(gust, dtype=float)
    lat_axis, lon_axis = np.asarray(lat, float), np.asarray(lon, float)
    dlat, dlon = grid_spacing(lat_axis, lon_axis)
    if field.shape != (lat_axis.size, lon_axis.size):
        raise DataFormatError(
            f"gust shape {field.shape} does not match the grid ({lat_axis.size}, {lon_axis.size})"
        )
    if not np.isfinite(field).all():
        raise DataFormatError("the gust field has missing values; fill or crop them first")
    cos_lat = max(np.cos(np.deg2rad(np.mean(lat_axis))), 0.1)
    sigma_km = style.smoothing_km / KM_PER_DEGREE
    smoothed = ndimage.gaussian_filter(
        field, sigma=(sigma_km / dlat, sigma_km / (dlon * cos_lat)), mode="nearest"
    )
    margin_km = float(rng.uniform(*style.buffer_km))
    domain = shapely.box(
        lon_axis.min() - 0.5 * dlon,
        lat_axis.min() - 0.5 * dlat,
        lon_axis.max() + 0.5 * dlon,
        lat_axis.max() + 0.5 * dlat,
    )
    simplify_deg = style.simplify_km / KM_PER_DEGREE
    drawn: list[BaseGeometry] = []
    previous: BaseGeometry | None = None
    for level in levels:
        geom = polygons_from_mask(smoothed >= level.threshold, lat_axis, lon_axis)
        geom = _drop_small(geom, style.min_area_km2)
        geom = _fill_small_holes(geom, style.min_hole_km2)
        geom = _buffer_km(geom, margin_km)
        if not geom.is_empty:
            geom = geom.simplify(simplify_deg, preserve_topology=True)
        geom = as_polygons(shapely.make_valid(geom).intersection(domain))
        if previous is not None:
            geom = as_polygons(geom.intersection(previous))
        drawn.append(geom)
        previous = geom
    return drawn


def warning_masks(polygons: Sequence[BaseGeometry], lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """Rasterise per-level polygons: boolean ``(n_levels, H, W)`` on the grid."""
    return np.stack([mask_from_polygons(geom, lat, lon) for geom in polygons])
