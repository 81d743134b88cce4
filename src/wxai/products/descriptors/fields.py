"""Synthetic 10-m wind fields with known answers: direction, speed, variability, a sector.

A field is a uniform flow of ``speed`` [m s-1] from ``direction`` [degrees, where the
wind comes from], with smooth random perturbations of direction (standard deviation
``direction_spread`` degrees) and of speed (relative standard deviation ``gustiness``),
optionally strengthened by ``sector_boost`` in one half of the domain (``north``,
``east``, ``south`` or ``west``). The perturbations are Gaussian-filtered white noise
(``scipy.ndimage``) with a correlation length of ``smoothing`` grid cells, so they look
like mesoscale structure rather than pixel noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter

from wxai.atmos.wind import wind_components
from wxai.core.errors import ConfigError

__all__ = ["SECTORS", "WindCase", "synthetic_wind_field"]

#: Halves of the domain a stronger wind can sit in.
SECTORS = ("north", "east", "south", "west")

#: The German Bight (degrees north, degrees east): the default domain.
GERMAN_BIGHT = ((53.0, 56.0), (5.0, 9.5))


@dataclass(frozen=True)
class WindCase:
    """What a synthetic field was made from (the answers a description must give)."""

    direction: float
    speed: float
    direction_spread: float = 10.0
    gustiness: float = 0.1
    sector: str | None = None
    sector_boost: float = 1.0


def _smooth_noise(shape: tuple[int, int], smoothing: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance smooth random field of ``shape``."""
    field = gaussian_filter(rng.standard_normal(shape), smoothing, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


def _half_mask(sector: str, ny: int, nx: int) -> np.ndarray:
    """1 in the named half of a ``(ny, nx)`` grid (row 0 south, column 0 west), else 0."""
    rows, cols = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    halves = {
        "north": rows >= ny / 2,
        "south": rows < ny / 2,
        "east": cols >= nx / 2,
        "west": cols < nx / 2,
    }
    return halves[sector].astype(float)


def synthetic_wind_field(
    case: WindCase,
    rng: np.random.Generator,
    *,
    shape: tuple[int, int] = (32, 32),
    domain: tuple[tuple[float, float], tuple[float, float]] = GERMAN_BIGHT,
    smoothing: float = 4.0,
) -> xr.Dataset:
    """A 10-m wind field ``u10``, ``v10`` [m s-1] on ``(latitude, longitude)`` for ``case``.

    Latitudes increase with the row index. Raises :class:`ConfigError` for a negative
    speed, spread or gustiness, an unknown sector, or a boost below 1.
    """
    if case.speed < 0 or case.direction_spread < 0 or case.gustiness < 0:
        raise ConfigError(f"speed, direction_spread and gustiness must be >= 0, got {case}")
    if case.sector is not None and case.sector not in SECTORS:
        raise ConfigError(f"sector must be one of {SECTORS} or None, got {case.sector!r}")
    if case.sector_boost < 1:
        raise ConfigError(f"sector_boost must be >= 1, got {case.sector_boost}")
    ny, nx = shape
    direction = case.direction + case.direction_spread * _smooth_noise(shape, smoothing, rng)
    factor = np.clip(1.0 + case.gustiness * _smooth_noise(shape, smoothing, rng), 0.0, None)
    if case.sector is not None:
        factor = factor * (1.0 + (case.sector_boost - 1.0) * _half_mask(case.sector, ny, nx))
    speed = case.speed * factor / factor.mean() if factor.mean() > 0 else factor
    u, v = wind_components(speed, np.mod(direction, 360.0))
    (lat0, lat1), (lon0, lon1) = domain
    coords = {"latitude": np.linspace(lat0, lat1, ny), "longitude": np.linspace(lon0, lon1, nx)}
    dims = ("latitude", "longitude")
    attrs = {"units": "m s-1"}
    return xr.Dataset(
        {
            "u10": xr.DataArray(u, coords, dims, attrs={**attrs, "long_name": "10 m u wind"}),
            "v10": xr.DataArray(v, coords, dims, attrs={**attrs, "long_name": "10 m v wind"}),
        },
        attrs={"source": "wxai synthetic wind field (known answers)"},
    )
