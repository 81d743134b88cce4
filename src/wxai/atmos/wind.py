"""Wind speed and meteorological direction from components, and back.

Meteorological direction is where the wind blows *from*, in degrees clockwise from
north: a westerly (from the west, blowing east, ``u > 0``) has direction 270.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COMPASS_8",
    "compass_index",
    "compass_point",
    "wind_components",
    "wind_direction",
    "wind_speed_direction",
]

#: 8-point compass names, clockwise from north, 45 degrees apart.
COMPASS_8 = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def wind_direction(u: np.ndarray | float, v: np.ndarray | float) -> np.ndarray:
    """Direction the wind comes from [degrees, 0 = north, 90 = east], in ``[0, 360)``.

    ``u`` and ``v`` are the eastward and northward components (any units, same shape).
    """
    direction = np.degrees(np.arctan2(-np.asarray(u, float), -np.asarray(v, float)))
    return np.mod(direction, 360.0)


def wind_components(
    speed: np.ndarray | float, direction: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """``(u, v)`` of a wind of ``speed`` coming from ``direction`` [degrees]."""
    radians = np.radians(np.asarray(direction, float))
    speed = np.asarray(speed, float)
    return -speed * np.sin(radians), -speed * np.cos(radians)


def wind_speed_direction(
    u: np.ndarray | float, v: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Speed [units of ``u``, ``v``] and meteorological direction [degrees]."""
    return np.hypot(u, v), wind_direction(u, v)


def compass_index(direction: float) -> int:
    """Index 0..7 (N, NE, ..., NW) of the 45-degree sector centred on ``direction`` [deg].

    A direction half-way between two points (22.5) goes to the clockwise one.
    """
    return int(np.floor(np.mod(direction, 360.0) / 45.0 + 0.5)) % 8


def compass_point(direction: float) -> str:
    """8-point compass name of ``direction`` [degrees], e.g. 225 -> ``"SW"``."""
    return COMPASS_8[compass_index(direction)]
