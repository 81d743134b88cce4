"""The wind-chill index of Environment Canada and the US National Weather Service.

``WCT = 13.12 + 0.6215 T - 11.37 v^0.16 + 0.3965 T v^0.16`` [degC], with the air
temperature ``T`` [degC] and the 10 m wind speed ``v`` [km/h]: the JAG/TI formula
adopted in 2001 (Osczevski and Bluestein 2005, *Bull. Amer. Meteor. Soc.* 86,
1453-1458). It is defined for ``T <= 10 degC`` and ``v >= 4.8 km/h``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = [
    "WIND_CHILL_MAX_TEMPERATURE_C",
    "WIND_CHILL_MIN_WIND_KMH",
    "wind_chill",
    "wind_chill_applies",
    "wind_chill_index",
]

#: Warmest air temperature the formula is defined for [degC].
WIND_CHILL_MAX_TEMPERATURE_C = 10.0
#: Weakest wind the formula is defined for [km/h].
WIND_CHILL_MIN_WIND_KMH = 4.8


def wind_chill_index(temperature_c: Any, wind_kmh: Any) -> Any:
    """The JAG/TI formula itself, without its range check [degC].

    Only arithmetic, so it works element-wise on NumPy arrays, Python floats and
    torch tensors alike (a tensor in gives a tensor out, differentiable).

    Parameters
    ----------
    temperature_c
        Air temperature [degC].
    wind_kmh
        Wind speed at 10 m [km/h], non-negative; broadcast against ``temperature_c``.

    Returns
    -------
    Same type as the inputs
        Wind-chill temperature [degC], the broadcast shape.
    """
    wind_term = wind_kmh**0.16
    return 13.12 + 0.6215 * temperature_c - 11.37 * wind_term + 0.3965 * temperature_c * wind_term


def wind_chill_applies(temperature_c: ArrayLike, wind_kmh: ArrayLike) -> np.ndarray:
    """Where the formula is defined: ``T <= 10 degC`` and ``v >= 4.8 km/h`` (bool array)."""
    t, v = np.asarray(temperature_c, dtype=float), np.asarray(wind_kmh, dtype=float)
    return (t <= WIND_CHILL_MAX_TEMPERATURE_C) & (v >= WIND_CHILL_MIN_WIND_KMH)


def wind_chill(
    temperature_c: ArrayLike,
    wind_kmh: ArrayLike,
    *,
    outside: Literal["air_temperature", "nan"] = "air_temperature",
) -> np.ndarray:
    """Wind-chill temperature [degC] with the formula's range of validity applied.

    Parameters
    ----------
    temperature_c
        Air temperature [degC].
    wind_kmh
        Wind speed at 10 m [km/h], non-negative; broadcast against ``temperature_c``.
    outside
        What to return where the formula is not defined: the air temperature
        itself (the convention of public forecasts) or NaN.

    Returns
    -------
    numpy.ndarray
        Wind-chill temperature [degC], the broadcast shape (0-d for scalars).

    Raises
    ------
    ConfigError
        If a wind speed is negative or ``outside`` is unknown.
    """
    t, v = np.asarray(temperature_c, dtype=float), np.asarray(wind_kmh, dtype=float)
    if np.any(v < 0):
        raise ConfigError(f"wind speed must be >= 0 km/h, got minimum {float(np.min(v))}")
    if outside not in ("air_temperature", "nan"):
        raise ConfigError(f"outside must be 'air_temperature' or 'nan', got {outside!r}")
    fallback = t if outside == "air_temperature" else np.full(np.broadcast(t, v).shape, np.nan)
    return np.where(wind_chill_applies(t, v), wind_chill_index(t, v), fallback)
