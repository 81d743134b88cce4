"""Consistency check of the polygon <-> mask conversion on random shapes.

The shapes imitate warning areas: star-shaped outlines (a random radius at each of
a few sorted angles), outlines with a hole, and groups of separate areas, each
several grid cells across and larger. For every shape :func:`round_trip` converts

    polygon --mask_from_polygons--> reference mask
            --polygons_from_mask(simplify)--> recovered polygon
            --mask_from_polygons--> converted mask

and scores the converted mask against the reference mask (cell IoU) and the
recovered polygon against the original one (area IoU, in square degrees).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from wxai.products.geometry import Method, grid_spacing, mask_from_polygons, polygons_from_mask
from wxai.verify.masks import iou

__all__ = ["RoundTrip", "random_shapes", "random_star", "round_trip", "round_trip_scores"]

SHAPE_KINDS = ("star", "holed", "multi")


def random_star(
    rng: np.random.Generator, centre: tuple[float, float], radius: float, n_vertices: int = 0
) -> Polygon:
    """A star-shaped polygon around ``centre`` (lon, lat) [degrees].

    ``n_vertices`` (6..16 when 0) jittered, evenly spread angles get radii uniform in
    ``[0.55, 1] * radius`` [degrees]; the centre lies inside, so the outline is valid.
    """
    n = n_vertices or int(rng.integers(6, 17))
    angles = (np.arange(n) + rng.uniform(-0.35, 0.35, n)) * (2 * np.pi / n)
    radii = radius * rng.uniform(0.55, 1.0, n)
    x = centre[0] + radii * np.cos(angles)
    y = centre[1] + radii * np.sin(angles)
    return Polygon(np.column_stack([x, y]))


def random_shapes(
    rng: np.random.Generator,
    n: int,
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    min_cells: float = 3.0,
    max_cells: float = 12.0,
) -> list[tuple[str, BaseGeometry]]:
    """``n`` random shapes inside the grid, cycling through star, holed and multi.

    Parameters
    ----------
    rng:
        Random generator (the shapes follow from its state).
    n:
        Number of shapes.
    lat, lon:
        1D grid axes [degrees].
    min_cells, max_cells:
        Range of the outer radius in grid cells (of the coarser direction).

    Returns
    -------
    list of (kind, geometry)
        ``kind`` is ``"star"``, ``"holed"`` (a star with a star-shaped hole of at
        least ~2 cells radius) or ``"multi"`` (2-3 stars, merged where they overlap).
    """
    lat_axis, lon_axis = np.asarray(lat, float), np.asarray(lon, float)
    cell = max(grid_spacing(lat_axis, lon_axis))
    lat_lo, lat_hi = sorted((lat_axis[0], lat_axis[-1]))
    lon_lo, lon_hi = sorted((lon_axis[0], lon_axis[-1]))

    def centre(radius: float) -> tuple[float, float]:
        margin_lon = min(radius, 0.45 * (lon_hi - lon_lo))
        margin_lat = min(radius, 0.45 * (lat_hi - lat_lo))
        return (
            float(rng.uniform(lon_lo + margin_lon, lon_hi - margin_lon)),
            float(rng.uniform(lat_lo + margin_lat, lat_hi - margin_lat)),
        )

    shapes: list[tuple[str, BaseGeometry]] = []
    for k in range(n):
        kind = SHAPE_KINDS[k % len(SHAPE_KINDS)]
        radius = cell * float(rng.uniform(min_cells, max_cells))
        if kind == "star":
            geom: BaseGeometry = random_star(rng, centre(radius), radius)
        elif kind == "holed":
            radius = max(radius, 6 * cell)
            c = centre(radius)
            hole = random_star(rng, c, float(rng.uniform(0.25, 0.4)) * radius, 8)
            geom = random_star(rng, c, radius, 12).difference(hole)
        else:
            parts = [
                random_star(rng, centre(r), r)
                for r in cell * rng.uniform(min_cells, max(min_cells, 0.6 * max_cells), 3)
            ][: int(rng.integers(2, 4))]
            geom = shapely.union_all(parts)
        shapes.append((kind, geom))
    return shapes


@dataclass(frozen=True)
class RoundTrip:
    """One polygon -> mask -> polygon -> mask round trip.

    Attributes
    ----------
    reference_mask, converted_mask:
        Boolean ``(H, W)`` masks of the original and of the recovered polygon.
    recovered:
        The polygon recovered from ``reference_mask``.
    mask_iou:
        Cell IoU of the two masks.
    area_iou:
        Area IoU of the original and recovered polygons.
    """

    reference_mask: np.ndarray
    converted_mask: np.ndarray
    recovered: BaseGeometry
    mask_iou: float
    area_iou: float


def round_trip(
    geometry: BaseGeometry,
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    simplify: float = 0.0,
    method: Method = "contour",
) -> RoundTrip:
    """Convert ``geometry`` to a mask and back, and score both directions."""
    reference = mask_from_polygons(geometry, lat, lon)
    recovered = polygons_from_mask(reference, lat, lon, simplify=simplify, method=method)
    converted = mask_from_polygons(recovered, lat, lon)
    union = geometry.union(recovered).area
    area_iou = float(geometry.intersection(recovered).area / union) if union else float("nan")
    return RoundTrip(reference, converted, recovered, iou(converted, reference), area_iou)


def round_trip_scores(
    shapes: list[tuple[str, BaseGeometry]],
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    simplify: float = 0.0,
    method: Method = "contour",
) -> dict[str, np.ndarray]:
    """Cell and area IoU of every shape: ``{"mask_iou": (n,), "area_iou": (n,)}``."""
    trips = [round_trip(g, lat, lon, simplify=simplify, method=method) for _, g in shapes]
    return {
        "mask_iou": np.array([t.mask_iou for t in trips]),
        "area_iou": np.array([t.area_iou for t in trips]),
    }
