"""Saturation vapour pressure over water and dew point, in the Magnus form.

``e_s(t) = A exp(B t / (C + t))`` with ``t`` in degC. wxai uses one set of
coefficients everywhere: ``A = 6.112 hPa``, ``B = 17.62``, ``C = 243.12 degC``,
the fit of Sonntag (1990) recommended over water by the WMO *Guide to
Instruments and Methods of Observation* (WMO-No. 8, Annex 4.B), valid from
-45 to 60 degC with relative errors below about 0.3 %.
(:mod:`wxai.core.native` carries its own copy of the same constants: its
kernels are benchmarked against a reference that cannot import this package.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["MAGNUS_A_HPA", "MAGNUS_B", "MAGNUS_C_DEGC", "dew_point", "saturation_vapour_pressure"]

#: Saturation vapour pressure at 0 degC [hPa] (Sonntag 1990, WMO-No. 8).
MAGNUS_A_HPA = 6.112
#: Dimensionless Magnus coefficient over water.
MAGNUS_B = 17.62
#: Magnus temperature offset [degC].
MAGNUS_C_DEGC = 243.12


def saturation_vapour_pressure(temperature_c: ArrayLike) -> np.ndarray:
    """Saturation vapour pressure over liquid water [hPa].

    Parameters
    ----------
    temperature_c
        Air temperature [degC], any shape; must stay above -243.12 degC.

    Returns
    -------
    numpy.ndarray
        ``e_s`` [hPa], the shape of ``temperature_c`` (a 0-d array for a scalar).
    """
    t = np.asarray(temperature_c, dtype=float)
    return MAGNUS_A_HPA * np.exp(MAGNUS_B * t / (MAGNUS_C_DEGC + t))


def dew_point(temperature_c: ArrayLike, relative_humidity: ArrayLike) -> np.ndarray:
    """Dew point over water [degC] from temperature and relative humidity.

    Inverts the Magnus formula: with ``g = ln(RH / 100) + B t / (C + t)``, the dew
    point is ``C g / (B - g)``. It never exceeds the air temperature.

    Parameters
    ----------
    temperature_c
        Air temperature [degC].
    relative_humidity
        Relative humidity [%], in (0, 100]; broadcast against ``temperature_c``.

    Returns
    -------
    numpy.ndarray
        Dew point [degC], the broadcast shape of the inputs.

    Raises
    ------
    ConfigError
        If a relative humidity is not in (0, 100] (or NaN).
    """
    t = np.asarray(temperature_c, dtype=float)
    rh = np.asarray(relative_humidity, dtype=float)
    if not np.all((rh > 0.0) & (rh <= 100.0)):
        raise ConfigError(
            "relative humidity must lie in (0, 100] percent; rescale fractions by 100"
        )
    gamma = np.log(rh / 100.0) + MAGNUS_B * t / (MAGNUS_C_DEGC + t)
    return np.minimum(MAGNUS_C_DEGC * gamma / (MAGNUS_B - gamma), t)
