"""Training pairs drawn from formulas of :mod:`wxai.atmos`, for regression exercises."""

from __future__ import annotations

import numpy as np

from wxai.atmos.comfort import (
    WIND_CHILL_MAX_TEMPERATURE_C,
    WIND_CHILL_MIN_WIND_KMH,
    wind_chill_index,
)
from wxai.core.errors import ConfigError

__all__ = ["check_wind_chill_box", "wind_chill_pairs"]


def check_wind_chill_box(temperature_c: tuple[float, float], wind_kmh: tuple[float, float]) -> None:
    """Raise :class:`ConfigError` unless the box is increasing and inside the formula's validity.

    Parameters
    ----------
    temperature_c
        (low, high) air temperature [degC]; high must be at most 10 degC.
    wind_kmh
        (low, high) wind speed [km/h]; low must be at least 4.8 km/h.
    """
    (t_low, t_high), (v_low, v_high) = temperature_c, wind_kmh
    if not t_low < t_high <= WIND_CHILL_MAX_TEMPERATURE_C:
        raise ConfigError(
            f"temperature range must be increasing and end at or below "
            f"{WIND_CHILL_MAX_TEMPERATURE_C} degC, got {temperature_c}"
        )
    if not WIND_CHILL_MIN_WIND_KMH <= v_low < v_high:
        raise ConfigError(
            f"wind range must be increasing and start at or above "
            f"{WIND_CHILL_MIN_WIND_KMH} km/h, got {wind_kmh}"
        )


def wind_chill_pairs(
    rng: np.random.Generator,
    temperature_c: tuple[float, float],
    wind_kmh: tuple[float, float],
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform inputs in a (temperature, wind) box and their wind-chill temperature.

    Parameters
    ----------
    rng
        Source of randomness (temperatures drawn first, then winds).
    temperature_c
        (low, high) air temperature [degC], high at most 10 degC.
    wind_kmh
        (low, high) wind speed [km/h], low at least 4.8 km/h.
    n
        Number of pairs.

    Returns
    -------
    tuple of numpy.ndarray
        Inputs (n, 2) = (T [degC], v [km/h]) and targets (n, 1) = WCT [degC], float32.

    Raises
    ------
    ConfigError
        If a range is not increasing or leaves the formula's validity.
    """
    check_wind_chill_box(temperature_c, wind_kmh)
    (t_low, t_high), (v_low, v_high) = temperature_c, wind_kmh
    inputs = np.column_stack(
        [rng.uniform(t_low, t_high, size=n), rng.uniform(v_low, v_high, size=n)]
    ).astype(np.float32)
    return inputs, np.asarray(wind_chill_index(inputs[:, :1], inputs[:, 1:]), dtype=np.float32)
