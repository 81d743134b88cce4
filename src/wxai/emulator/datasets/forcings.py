"""Computed forcings (Anemoi's names): functions of the date and the cell position only.

All take ``dates`` datetime64 (T,) and ``latitudes``/``longitudes`` in degrees
(N,) and return float32 (T, N). Conventions:

- ``julian_day``: days since 1 January 00 UTC of the date's year (fractional);
  ``cos_julian_day = cos(2 pi julian_day / 365.25)``.
- ``local_time``: mean solar time in hours, ``(UTC hours + longitude / 15) mod 24``;
  ``cos_local_time = cos(2 pi local_time / 24)``.
- ``insolation``: top-of-atmosphere incoming solar radiation divided by the solar
  constant, without the Earth-Sun distance factor, i.e. ``max(0, cos(zenith))``
  with ``cos(zenith) = sin(lat) sin(decl) + cos(lat) cos(decl) cos(hour angle)``,
  solar declination and equation of time from Spencer's (1971) Fourier series,
  hour angle ``2 pi (local_time + equation_of_time - 12) / 24``. Zero on the night
  side. Agrees with earthkit's ``cos_solar_zenith_angle`` (which anemoi-datasets
  uses for ``insolation``) to about 0.01.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from wxai.core.errors import UnknownNameError

__all__ = [
    "compute_forcing",
    "equation_of_time",
    "julian_day",
    "local_time",
    "solar_declination",
]


def julian_day(dates: np.ndarray) -> np.ndarray:
    """Fractional days since 1 January 00 UTC of each date's year, shape (T,)."""
    d = np.asarray(dates, dtype="datetime64[s]")
    year_start = d.astype("datetime64[Y]").astype("datetime64[s]")
    return (d - year_start).astype(np.float64) / 86400.0


def _utc_hours(dates: np.ndarray) -> np.ndarray:
    d = np.asarray(dates, dtype="datetime64[s]")
    return (d - d.astype("datetime64[D]")).astype(np.float64) / 3600.0


def local_time(dates: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    """Mean solar time in hours [0, 24), shape (T, N)."""
    return (_utc_hours(dates)[:, None] + np.asarray(longitudes)[None, :] / 15.0) % 24.0


def solar_declination(dates: np.ndarray) -> np.ndarray:
    """Solar declination in radians (Spencer 1971), shape (T,)."""
    g = 2.0 * np.pi * julian_day(dates) / 365.25
    return (
        0.006918
        - 0.399912 * np.cos(g)
        + 0.070257 * np.sin(g)
        - 0.006758 * np.cos(2 * g)
        + 0.000907 * np.sin(2 * g)
        - 0.002697 * np.cos(3 * g)
        + 0.00148 * np.sin(3 * g)
    )


def equation_of_time(dates: np.ndarray) -> np.ndarray:
    """Apparent minus mean solar time in hours (Spencer 1971), shape (T,)."""
    g = 2.0 * np.pi * julian_day(dates) / 365.25
    minutes = 229.18 * (
        0.000075
        + 0.001868 * np.cos(g)
        - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g)
        - 0.040849 * np.sin(2 * g)
    )
    return minutes / 60.0


def _insolation(dates: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    decl = solar_declination(dates)[:, None]
    solar_time = local_time(dates, lon) + equation_of_time(dates)[:, None]
    hour_angle = 2.0 * np.pi * (solar_time - 12.0) / 24.0
    phi = np.deg2rad(lat)[None, :]
    cos_zenith = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(hour_angle)
    return np.maximum(cos_zenith, 0.0)


def _position(fn: Callable[[np.ndarray], np.ndarray], use_lat: bool) -> Callable:
    def forcing(dates: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        values = fn(np.deg2rad(lat if use_lat else lon))
        return np.broadcast_to(values, (len(dates), values.size))

    return forcing


def _day(fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def forcing(dates: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        values = fn(2.0 * np.pi * julian_day(dates) / 365.25)
        return np.broadcast_to(values[:, None], (len(dates), np.size(lat)))

    return forcing


def _hour(fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def forcing(dates: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return fn(2.0 * np.pi * local_time(dates, lon) / 24.0)

    return forcing


_FORCINGS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "cos_latitude": _position(np.cos, True),
    "sin_latitude": _position(np.sin, True),
    "cos_longitude": _position(np.cos, False),
    "sin_longitude": _position(np.sin, False),
    "cos_julian_day": _day(np.cos),
    "sin_julian_day": _day(np.sin),
    "cos_local_time": _hour(np.cos),
    "sin_local_time": _hour(np.sin),
    "insolation": _insolation,
}


def compute_forcing(
    name: str, dates: np.ndarray, latitudes: np.ndarray, longitudes: np.ndarray
) -> np.ndarray:
    """Forcing ``name`` at ``dates`` (T,) and cells (N,) in degrees: float32 (T, N)."""
    try:
        fn = _FORCINGS[name]
    except KeyError:
        raise UnknownNameError("forcing", name, _FORCINGS) from None
    dates = np.asarray(dates, dtype="datetime64[s]")
    return np.asarray(fn(dates, np.asarray(latitudes), np.asarray(longitudes)), np.float32)
