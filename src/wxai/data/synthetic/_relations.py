"""Near-surface relations of the synthetic atmosphere: friction-turned geostrophic wind."""

from __future__ import annotations

import numpy as np

from wxai.atmos.humidity import dew_point as atmos_dew_point
from wxai.data.synthetic._sphere import coriolis

__all__ = [
    "CROSS_ISOBAR_ANGLE",
    "FRICTION_FACTOR",
    "RHO_AIR",
    "WIND_CAP",
    "dew_point",
    "geostrophic_wind",
    "wind_from_gradient",
]

#: Air density used for the geostrophic wind (kg m-3).
RHO_AIR = 1.25
#: Angle (degrees) by which the 10 m wind is turned from the isobars toward low pressure.
CROSS_ISOBAR_ANGLE = 25.0
#: Ratio of 10 m wind speed to geostrophic wind speed (before the soft cap).
FRICTION_FACTOR = 0.7
#: Soft cap of the 10 m wind speed (m s-1): ``cap * tanh(speed / cap)``.
WIND_CAP = 45.0
_F_MIN = coriolis(np.array(20.0))  # floor of |f| so the tropics stay finite


def geostrophic_wind(
    lat: np.ndarray, dpdx: np.ndarray, dpdy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Geostrophic wind [m s-1] from the pressure gradient [Pa m-1].

    ``u_g = -dp/dy / (rho f)``, ``v_g = dp/dx / (rho f)`` with ``rho =``
    :data:`RHO_AIR` and ``|f|`` floored at its 20-degree value.
    """
    f = coriolis(np.asarray(lat, dtype=float))
    f = np.where(lat >= 0, 1.0, -1.0) * np.maximum(np.abs(f), _F_MIN)
    return -dpdy / (RHO_AIR * f), dpdx / (RHO_AIR * f)


def wind_from_gradient(
    lat: np.ndarray, dpdx: np.ndarray, dpdy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """10 m wind: geostrophic, turned toward low pressure and slowed by friction."""
    ug, vg = geostrophic_wind(lat, dpdx, dpdy)
    a = np.deg2rad(CROSS_ISOBAR_ANGLE) * np.where(np.asarray(lat) >= 0, 1.0, -1.0)
    u = FRICTION_FACTOR * (ug * np.cos(a) - vg * np.sin(a))
    v = FRICTION_FACTOR * (ug * np.sin(a) + vg * np.cos(a))
    speed = np.hypot(u, v)
    scale = np.where(speed > 0, WIND_CAP * np.tanh(speed / WIND_CAP) / np.maximum(speed, 1e-9), 1)
    return u * scale, v * scale


def dew_point(t: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Dew point [K] from temperature [K] and relative humidity [%] (Magnus, over water).

    :func:`wxai.atmos.humidity.dew_point` in kelvin, with ``rh`` clipped to [1e-3, 100] %.
    """
    td = atmos_dew_point(np.asarray(t) - 273.15, np.clip(rh, 1e-3, 100.0)) + 273.15
    return np.minimum(td, t)
