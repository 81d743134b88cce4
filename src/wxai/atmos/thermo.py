"""Potential and equivalent potential temperature near the surface.

``theta = T (p0 / p)^(R_d / c_p)`` with ``p0 = 1000 hPa``; the equivalent potential
temperature adds the latent heat of the water vapour, in the common approximation
``theta_e = theta exp(L_v r / (c_p T))`` with the mixing ratio ``r`` from relative
humidity and the Magnus saturation vapour pressure (:mod:`wxai.atmos.humidity`).
Within about 2 K of Bolton (1980) in cool air and up to about 5 K low in warm saturated
air: enough to find fronts, where theta_e changes by several kelvin over a few cells.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.atmos.humidity import saturation_vapour_pressure

__all__ = [
    "CP_DRY",
    "LV_WATER",
    "R_DRY",
    "equivalent_potential_temperature",
    "potential_temperature",
]

#: Gas constant of dry air [J kg-1 K-1].
R_DRY = 287.04
#: Specific heat of dry air at constant pressure [J kg-1 K-1].
CP_DRY = 1004.6
#: Latent heat of vaporisation at 0 degC [J kg-1].
LV_WATER = 2.501e6
_EPSILON = 0.622  # ratio of the gas constants of dry air and water vapour


def potential_temperature(temperature_k: ArrayLike, pressure_pa: ArrayLike) -> np.ndarray:
    """Potential temperature [K] of air at ``temperature_k`` [K] and ``pressure_pa`` [Pa]."""
    t, p = np.asarray(temperature_k, float), np.asarray(pressure_pa, float)
    return t * (1e5 / p) ** (R_DRY / CP_DRY)


def equivalent_potential_temperature(
    temperature_k: ArrayLike, relative_humidity: ArrayLike, pressure_pa: ArrayLike
) -> np.ndarray:
    """Equivalent potential temperature [K].

    Parameters
    ----------
    temperature_k:
        Air temperature [K].
    relative_humidity:
        Relative humidity over water [%].
    pressure_pa:
        Pressure [Pa] (mean-sea-level pressure stands in for surface pressure on charts).

    All three broadcast against each other; the result has their broadcast shape.
    """
    t = np.asarray(temperature_k, float)
    e = np.asarray(relative_humidity, float) / 100.0 * saturation_vapour_pressure(t - 273.15)
    p_hpa = np.asarray(pressure_pa, float) / 100.0
    mixing = _EPSILON * e / (p_hpa - e)
    return potential_temperature(t, pressure_pa) * np.exp(LV_WATER * mixing / (CP_DRY * t))
