"""Warning polygons as a GeoJSON FeatureCollection (RFC 7946).

One Feature per level with a (Multi)Polygon geometry in (lon, lat) degrees
(longitudes wrapped to [-180, 180], outer rings counter-clockwise, holes clockwise)
and the properties ``level``, ``event``, ``severity``, ``threshold_m_s``, ``onset``,
``expiry`` (ISO 8601, UTC) and ``method`` (which diagnoser drew it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from wxai.products.warnings.levels import WarningLevel

__all__ = ["iso_utc", "warning_feature_collection", "wrap_longitudes"]


def iso_utc(time: np.datetime64) -> str:
    """``2024-01-15T12:00:00+00:00`` for a (naive, UTC) datetime64."""
    return f"{np.datetime_as_string(np.datetime64(time, 's'), unit='s')}+00:00"


def wrap_longitudes(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` shifted by 360 degrees of longitude when its centre lies outside [-180, 180].

    Grids in 0..360 give polygons east of 180 (e.g. western Europe at 330..360); they
    move whole to -30..0. A polygon straddling the antimeridian is not split.
    """
    if geom.is_empty:
        return geom
    centre = geom.centroid.x
    shift = -360.0 if centre > 180.0 else (360.0 if centre < -180.0 else 0.0)
    return shapely.transform(geom, lambda xy: xy + np.array([shift, 0.0])) if shift else geom


def _oriented(geom: BaseGeometry) -> BaseGeometry:
    parts = [orient(p, sign=1.0) for p in shapely.get_parts(geom) if isinstance(p, Polygon)]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def warning_feature_collection(
    polygons: Sequence[BaseGeometry],
    levels: Sequence[WarningLevel],
    onset: np.datetime64,
    expiry: np.datetime64,
    *,
    method: str,
    decimals: int = 4,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (a dict ready for ``json.dumps``) of the warned levels.

    Parameters
    ----------
    polygons:
        One geometry per level [(lon, lat) degrees]; empty ones give no Feature.
    levels:
        The warning levels, in the order of ``polygons``.
    onset, expiry:
        Validity period (UTC).
    method:
        Which diagnoser made the polygons (e.g. ``"unet"``, ``"baseline"``).
    decimals:
        Coordinates are rounded to this many decimals of a degree.
    """
    features = []
    for geom, level in zip(polygons, levels, strict=True):
        if geom.is_empty:
            continue
        shape = _oriented(shapely.set_precision(wrap_longitudes(geom), 10.0**-decimals))
        if shape.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(shape),
                "properties": {
                    "level": level.level,
                    "event": level.event,
                    "severity": level.severity,
                    "threshold_m_s": level.threshold,
                    "onset": iso_utc(onset),
                    "expiry": iso_utc(expiry),
                    "method": method,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
