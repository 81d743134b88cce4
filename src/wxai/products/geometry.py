"""Polygons <-> masks on a regular latitude/longitude model grid.

Warnings are issued as polygons; networks learn on grids. This module converts both
ways:

* :func:`mask_from_polygons` marks the grid cells whose *centre* lies inside the
  geometry (shapely's vectorised ``contains_xy``);
* :func:`polygons_from_mask` turns a boolean mask back into a shapely
  (Multi)Polygon with holes, either from filled contours of the mask at level 0.5
  on the cell-centre grid (``method="contour"``, the default: outlines cut the
  staircase corners diagonally, as a person would draw them) or as the union of the
  cells' rectangles (``method="edges"``: exact staircase outlines).

Without simplification both methods give back exactly the mask they started from
(every cell centre of value 1 lies strictly inside the 0.5 contour, every 0 strictly
outside; the mask is padded with a ring of zeros so areas touching the grid's edge
close outside it). With ``simplify`` (Douglas-Peucker tolerance in degrees) the
outlines get fewer vertices and a few boundary cells may change.

Coordinates are degrees: polygon ``x`` is longitude, ``y`` latitude, in the grid's own
longitude convention. Grids may run north-to-south or south-to-north (and
west-to-east or east-to-west); they must be monotonic and regular.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from wxai.core.errors import ConfigError, DataFormatError

__all__ = [
    "Method",
    "as_polygons",
    "grid_spacing",
    "mask_from_polygons",
    "polygons_from_mask",
]

Method = Literal["contour", "edges"]


def _axis(values: ArrayLike, name: str) -> np.ndarray:
    """A 1D monotonic, regular coordinate axis [degrees] (at least 2 points)."""
    axis = np.asarray(values, dtype=float)
    if axis.ndim != 1 or axis.size < 2:
        raise DataFormatError(
            f"{name} must be a 1D coordinate with at least 2 values, got shape {axis.shape}; "
            "pass the grid's 1D latitude and longitude axes"
        )
    step = np.diff(axis)
    if not (np.all(step > 0) or np.all(step < 0)):
        raise DataFormatError(
            f"{name} is not monotonic; sort the grid (e.g. ds.sortby('{name}')) first"
        )
    if not np.allclose(step, step[0], rtol=1e-3, atol=1e-6):
        raise DataFormatError(
            f"{name} is not regularly spaced (steps {step.min():g}..{step.max():g} degrees); "
            "regrid to a regular latitude/longitude grid first"
        )
    return axis


def grid_spacing(lat: ArrayLike, lon: ArrayLike) -> tuple[float, float]:
    """Absolute grid spacing ``(dlat, dlon)`` [degrees] of a regular grid."""
    lat_axis, lon_axis = _axis(lat, "latitude"), _axis(lon, "longitude")
    return abs(float(lat_axis[1] - lat_axis[0])), abs(float(lon_axis[1] - lon_axis[0]))


def as_polygons(geometry: BaseGeometry | Iterable[BaseGeometry] | None) -> BaseGeometry:
    """The polygonal part of ``geometry`` (or the union of several) as one geometry.

    Points and lines (zero area) are dropped; an empty input gives an empty Polygon.
    """
    if geometry is None:
        return Polygon()
    if not isinstance(geometry, BaseGeometry):
        parts = [as_polygons(g) for g in geometry]
        geometry = shapely.union_all(parts) if parts else Polygon()
    if isinstance(geometry, (Polygon, MultiPolygon)):
        return geometry
    polys = [
        g
        for g in shapely.get_parts(geometry)
        if isinstance(g, (Polygon, MultiPolygon)) and not g.is_empty
    ]
    if not polys:
        return Polygon()
    return shapely.union_all(polys)


def mask_from_polygons(
    geometry: BaseGeometry | Iterable[BaseGeometry] | None, lat: ArrayLike, lon: ArrayLike
) -> np.ndarray:
    """Grid cells whose centre lies inside ``geometry``.

    Parameters
    ----------
    geometry:
        A shapely (Multi)Polygon in (lon, lat) degrees, or several (their union).
    lat, lon:
        1D grid axes [degrees], shapes ``(H,)`` and ``(W,)``, either order.

    Returns
    -------
    np.ndarray
        Boolean mask ``(H, W)`` in the order of ``lat`` and ``lon``.
    """
    lat_axis, lon_axis = _axis(lat, "latitude"), _axis(lon, "longitude")
    geom = as_polygons(geometry)
    mask = np.zeros((lat_axis.size, lon_axis.size), dtype=bool)
    if geom.is_empty:
        return mask
    west, south, east, north = geom.bounds
    rows = np.flatnonzero((lat_axis >= south) & (lat_axis <= north))
    cols = np.flatnonzero((lon_axis >= west) & (lon_axis <= east))
    if rows.size == 0 or cols.size == 0:
        return mask
    shapely.prepare(geom)
    lon2, lat2 = np.meshgrid(lon_axis[cols], lat_axis[rows])
    inside = shapely.contains_xy(geom, lon2, lat2)
    mask[np.ix_(rows, cols)] = inside
    return mask


def _padded_axis(axis: np.ndarray) -> np.ndarray:
    """The ascending axis with one more point at each end."""
    step = axis[1] - axis[0]
    return np.concatenate([[axis[0] - step], axis, [axis[-1] + step]])


def _from_contours(mask: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> BaseGeometry:
    import contourpy

    z = np.pad(mask.astype(np.float64), 1)
    generator = contourpy.contour_generator(
        _padded_axis(lon), _padded_axis(lat), z, fill_type="OuterOffset"
    )
    points, offsets = generator.filled(0.5, 1.5)
    polygons = []
    for xy, offset in zip(points, offsets, strict=True):
        rings = [xy[offset[i] : offset[i + 1]] for i in range(len(offset) - 1)]
        polygons.append(Polygon(rings[0], rings[1:]))
    if not polygons:
        return Polygon()
    return shapely.make_valid(MultiPolygon(polygons)) if len(polygons) > 1 else polygons[0]


def _from_edges(mask: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> BaseGeometry:
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return Polygon()
    half_lat, half_lon = 0.5 * (lat[1] - lat[0]), 0.5 * (lon[1] - lon[0])
    boxes = shapely.box(
        lon[cols] - half_lon, lat[rows] - half_lat, lon[cols] + half_lon, lat[rows] + half_lat
    )
    return shapely.coverage_union_all(boxes)


def polygons_from_mask(
    mask: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    simplify: float = 0.0,
    method: Method = "contour",
    min_area: float = 0.0,
) -> BaseGeometry:
    """Outlines of the ``True`` areas of a mask as a shapely (Multi)Polygon with holes.

    Parameters
    ----------
    mask:
        Boolean ``(H, W)`` on the grid ``(lat, lon)``.
    lat, lon:
        1D grid axes [degrees], shapes ``(H,)`` and ``(W,)``, either order.
    simplify:
        Douglas-Peucker tolerance [degrees]; 0 keeps every vertex. Topology is kept
        (no self-intersections; holes stay inside their shell).
    method:
        ``"contour"``: filled contour at 0.5 on the cell-centre grid (diagonal
        corners); ``"edges"``: union of the cell rectangles (staircase outlines).
    min_area:
        Parts smaller than this [square degrees] are dropped (after simplifying).

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        A Polygon or MultiPolygon in (lon, lat) degrees; empty for an empty mask.
    """
    lat_axis, lon_axis = _axis(lat, "latitude"), _axis(lon, "longitude")
    values = np.asarray(mask)
    if values.shape != (lat_axis.size, lon_axis.size):
        raise DataFormatError(
            f"mask shape {values.shape} does not match the grid "
            f"({lat_axis.size} latitudes x {lon_axis.size} longitudes)"
        )
    if simplify < 0 or min_area < 0:
        raise ConfigError(f"simplify ({simplify}) and min_area ({min_area}) must be >= 0")
    values = values.astype(bool)
    if lat_axis[0] > lat_axis[-1]:
        lat_axis, values = lat_axis[::-1], values[::-1]
    if lon_axis[0] > lon_axis[-1]:
        lon_axis, values = lon_axis[::-1], values[:, ::-1]
    if method == "contour":
        geom = _from_contours(values, lat_axis, lon_axis)
    elif method == "edges":
        geom = _from_edges(values, lat_axis, lon_axis)
    else:
        raise ConfigError(f"unknown method {method!r}; use 'contour' or 'edges'")
    if simplify > 0 and not geom.is_empty:
        geom = as_polygons(shapely.make_valid(geom.simplify(simplify, preserve_topology=True)))
    if min_area > 0 and not geom.is_empty:
        kept = [part for part in shapely.get_parts(geom) if part.area >= min_area]
        geom = shapely.union_all(kept) if kept else Polygon()
    return geom
