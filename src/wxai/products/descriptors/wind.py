"""Descriptors of a 2D 10-m wind field, and a sentence built from them by template.

A field ``u10``, ``v10`` [m s-1] on ``(latitude, longitude)`` is reduced to a handful of
physically meaningful numbers and classes, the "symbolic" input a language model can be
given instead of the field itself:

- mean speed: mean of the local speed ``hypot(u, v)`` [m s-1];
- variability class from the coefficient of variation of speed (std / mean):
  ``low`` below 0.15, ``moderate`` from 0.15 to 0.30, ``high`` from 0.30;
- dominant direction: circular mean (:func:`scipy.stats.circmean`) of the local
  meteorological directions, *unweighted* (each grid cell's unit vector counts once), in
  degrees and as an 8-point compass name; ``None`` ("variable") when the field is calm or
  the mean resultant length is below 0.3 (spread above ~89 degrees);
- directional spread: circular standard deviation ``sqrt(-2 ln R)``
  (:func:`scipy.stats.circstd`) [degrees];
- stronger sector: the half of the domain (north, east, south, west, as in
  :mod:`~wxai.products.descriptors.fields`) whose mean speed exceeds the opposite half's by
  the largest margin, if that margin is at least ``min_contrast`` (default 0.2) of the
  domain-mean speed; otherwise ``"none"``;
- intensity class from the Beaufort number of the mean speed (:data:`INTENSITY_CLASSES`).

Beaufort numbers use the WMO lower bounds :data:`BEAUFORT_LOWER_BOUNDS` [m s-1]:
0 calm < 0.3, 1: 0.3, 2: 1.6, 3: 3.4, 4: 5.5, 5: 8.0, 6: 10.8, 7: 13.9, 8: 17.2, 9: 20.8,
10: 24.5, 11: 28.5, 12: >= 32.7.

Rows of a plain array run south to north (row 0 southernmost) and columns west to east;
a DataArray with a ``latitude`` or ``longitude`` coordinate is reoriented to that first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy.stats import circmean, circstd

from wxai.atmos.wind import COMPASS_8, compass_point, wind_speed_direction
from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.descriptors.fields import SECTORS, WindCase

__all__ = [
    "BEAUFORT_LOWER_BOUNDS",
    "COMPASS_8",
    "COMPASS_ADJECTIVES",
    "INTENSITY_CLASSES",
    "VARIABILITY_BOUNDS",
    "WindDescriptors",
    "beaufort_number",
    "compass_name",
    "describe_wind",
    "intensity_class",
    "known_answer_errors",
    "sample_wind_cases",
    "variability_class",
]

#: Lower bound [m s-1] of Beaufort numbers 0..12 (WMO; force 0 is calm below 0.3 m/s).
BEAUFORT_LOWER_BOUNDS = (0.0, 0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7)

#: Intensity class -> Beaufort numbers it covers (speeds: see BEAUFORT_LOWER_BOUNDS).
INTENSITY_CLASSES: dict[str, tuple[int, ...]] = {
    "calm": (0,),  # < 0.3 m/s
    "light": (1, 2, 3),  # 0.3 - 5.4 m/s
    "moderate": (4,),  # 5.5 - 7.9 m/s
    "fresh": (5,),  # 8.0 - 10.7 m/s
    "strong": (6, 7),  # 10.8 - 17.1 m/s
    "gale": (8, 9),  # 17.2 - 24.4 m/s
    "storm": (10, 11),  # 24.5 - 32.6 m/s
    "hurricane force": (12,),  # >= 32.7 m/s
}

#: Upper bounds of the coefficient of variation of speed for ``low`` and ``moderate``.
VARIABILITY_BOUNDS = {"low": 0.15, "moderate": 0.30}

#: Adjective of a wind *from* each compass point.
COMPASS_ADJECTIVES = dict(
    zip(
        COMPASS_8,
        ("northerly", "north-easterly", "easterly", "south-easterly", "southerly",
         "south-westerly", "westerly", "north-westerly"),
        strict=True,
    )
)  # fmt: skip

#: Below this mean resultant length the direction is reported as variable.
MIN_RESULTANT = 0.3
#: Below this mean speed [m s-1] (Beaufort 0) the field is calm: no direction.
CALM_SPEED = BEAUFORT_LOWER_BOUNDS[1]
_OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}
_HALF_NAMES = {"north": "northern", "south": "southern", "east": "eastern", "west": "western"}


@dataclass(frozen=True)
class WindDescriptors:
    """The symbolic summary of a wind field.

    Attributes
    ----------
    mean_speed:
        Domain mean of the local speed [m s-1].
    speed_cv:
        Coefficient of variation of speed (std / mean) [1]; 0 for a calm field.
    variability:
        ``low`` | ``moderate`` | ``high`` (bounds in :data:`VARIABILITY_BOUNDS`).
    direction:
        Dominant direction the wind comes from [degrees, 0 = N, 90 = E], or ``None``.
    compass:
        8-point name of ``direction`` (``"N"`` ... ``"NW"``), or ``"variable"``.
    spread:
        Circular standard deviation of the local directions [degrees].
    resultant_length:
        Mean resultant length R of the unit direction vectors [1] (1: all parallel).
    sector:
        Half of the domain with stronger winds (north/east/south/west) or ``"none"``.
    sector_contrast:
        (mean speed of that half - opposite half) / domain mean speed [1].
    beaufort:
        Beaufort number of ``mean_speed``.
    intensity:
        Intensity class of ``beaufort`` (:data:`INTENSITY_CLASSES`).
    """

    mean_speed: float
    speed_cv: float
    variability: str
    direction: float | None
    compass: str
    spread: float
    resultant_length: float
    sector: str
    sector_contrast: float
    beaufort: int
    intensity: str

    def as_dict(self) -> dict[str, Any]:
        """The descriptors as a flat dict of plain Python values."""
        return asdict(self)

    def template_text(self, region: str = "the domain") -> str:
        """One deterministic sentence stating every descriptor, right by construction."""
        if self.direction is None:
            head = f"Variable winds over {region}"
        else:
            adjective = COMPASS_ADJECTIVES[self.compass].capitalize()
            head = f"{adjective} winds ({self.compass}, {self.direction:.0f}°) over {region}"
        sector = (
            "no part of the domain notably windier"
            if self.sector == "none"
            else f"stronger winds in the {_HALF_NAMES[self.sector]} half"
        )
        return (
            f"{head}, mean speed {self.mean_speed:.1f} m/s (Beaufort {self.beaufort}, "
            f"{self.intensity}) with {self.variability} speed variability, directional spread "
            f"±{self.spread:.0f}°, {sector}."
        )


def beaufort_number(speed: float) -> int:
    """Beaufort number (0-12) of a speed [m s-1]; raises ConfigError if negative or not finite."""
    if not np.isfinite(speed) or speed < 0:
        raise ConfigError(f"speed must be a finite value >= 0 m/s, got {speed}")
    return int(np.searchsorted(BEAUFORT_LOWER_BOUNDS, speed, side="right") - 1)


def intensity_class(beaufort: int) -> str:
    """Intensity class of a Beaufort number (see :data:`INTENSITY_CLASSES`)."""
    for name, numbers in INTENSITY_CLASSES.items():
        if beaufort in numbers:
            return name
    raise ConfigError(f"Beaufort number must be an integer 0-12, got {beaufort!r}")


def variability_class(cv: float) -> str:
    """``low`` / ``moderate`` / ``high`` for a coefficient of variation of speed."""
    if not np.isfinite(cv) or cv < 0:
        raise ConfigError(f"coefficient of variation must be finite and >= 0, got {cv}")
    for name, upper in VARIABILITY_BOUNDS.items():
        if cv < upper:
            return name
    return "high"


def compass_name(direction: float) -> str:
    """8-point compass name of a direction [degrees]: sectors of 45° centred on N, NE, ..."""
    if not np.isfinite(direction):
        raise ConfigError(f"direction must be finite, got {direction}")
    return compass_point(direction)


def _oriented(a: Any, name: str) -> np.ndarray:
    """``a`` as a float (ny, nx) array with rows south -> north and columns west -> east."""
    if isinstance(a, xr.DataArray):
        for dim in ("latitude", "longitude"):
            coord = a.coords.get(dim)
            if coord is not None and dim in a.dims and float(coord[-1]) < float(coord[0]):
                a = a.isel({dim: slice(None, None, -1)})
        if "latitude" in a.dims and "longitude" in a.dims:
            a = a.transpose("latitude", "longitude", ...)
        a = a.values
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{name} must be numeric, got {type(a).__name__}: {exc}") from None
    if arr.ndim != 2:
        raise DataFormatError(f"{name} must be a 2D (latitude, longitude) field, got {arr.shape}")
    if arr.size == 0:
        raise DataFormatError(f"{name} is empty (shape {arr.shape})")
    return arr


def _components(u: Any, v: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(u, xr.Dataset):
        if v is not None:
            raise ConfigError("pass either a Dataset with u10 and v10, or u and v, not both")
        missing = [k for k in ("u10", "v10") if k not in u]
        if missing:
            raise DataFormatError(
                f"wind dataset lacks {missing}; it has {sorted(map(str, u.data_vars))}"
            )
        u, v = u["u10"], u["v10"]
    elif v is None:
        raise ConfigError("v is missing: pass u and v, or one Dataset with u10 and v10")
    ua, va = _oriented(u, "u"), _oriented(v, "v")
    if ua.shape != va.shape:
        raise DataFormatError(f"u and v differ in shape: {ua.shape} vs {va.shape}")
    if np.isinf(ua).any() or np.isinf(va).any():
        raise DataFormatError("u or v holds infinite values; mask them as NaN or fix the data")
    return ua, va


def _stronger_half(speed: np.ndarray, mean: float, min_contrast: float) -> tuple[str, float]:
    """The half with the largest speed excess over its opposite half, relative to ``mean``."""
    ny, nx = speed.shape
    if mean <= 0 or (ny < 2 and nx < 2):
        return "none", 0.0
    halves: dict[str, float] = {}
    if ny >= 2:
        halves["south"] = float(np.nanmean(speed[: ny // 2]))
        halves["north"] = float(np.nanmean(speed[(ny + 1) // 2 :]))
    if nx >= 2:
        halves["west"] = float(np.nanmean(speed[:, : nx // 2]))
        halves["east"] = float(np.nanmean(speed[:, (nx + 1) // 2 :]))
    contrasts = {
        half: (value - halves[_OPPOSITE[half]]) / mean
        for half, value in halves.items()
        if np.isfinite(value) and np.isfinite(halves[_OPPOSITE[half]])
    }
    if not contrasts:
        return "none", 0.0
    best = max(contrasts, key=contrasts.__getitem__)
    contrast = contrasts[best]
    return (best if contrast >= min_contrast else "none"), float(contrast)


def describe_wind(
    u: Any,
    v: Any = None,
    *,
    min_contrast: float = 0.2,
) -> WindDescriptors:
    """Descriptors of a 2D wind field.

    Parameters
    ----------
    u, v:
        Eastward and northward 10-m wind (ny, nx) [m s-1] as arrays or DataArrays; or ``u``
        an :class:`xarray.Dataset` with ``u10`` and ``v10`` and ``v`` omitted. NaN cells
        (e.g. a land mask) are left out.
    min_contrast:
        Smallest half-to-half speed excess, as a fraction of the mean speed, reported as a
        stronger sector [1].

    Raises
    ------
    DataFormatError
        Not 2D, empty, u and v of different shapes, infinite values, or no finite cell.
    ConfigError
        ``v`` missing, or ``min_contrast`` negative.
    """
    if not np.isfinite(min_contrast) or min_contrast < 0:
        raise ConfigError(f"min_contrast must be a finite fraction >= 0, got {min_contrast}")
    ua, va = _components(u, v)
    valid = np.isfinite(ua) & np.isfinite(va)
    if not valid.any():
        raise DataFormatError(f"the wind field holds no finite (u, v) pair ({ua.size} cells)")
    speed, direction = wind_speed_direction(ua, va)
    speed = np.where(valid, speed, np.nan)
    values = speed[valid]
    mean = float(values.mean())
    cv = float(values.std() / mean) if mean > 0 else 0.0
    moving = valid & (speed > 0)
    if moving.any():
        angles = direction[moving]
        resultant = float(np.hypot(np.cos(np.radians(angles)).mean(),
                                   np.sin(np.radians(angles)).mean()))  # fmt: skip
        spread = float(circstd(angles, high=360.0, low=0.0))
        dominant = float(circmean(angles, high=360.0, low=0.0)) % 360.0
    else:
        resultant, spread, dominant = 0.0, 0.0, float("nan")
    has_direction = mean >= CALM_SPEED and resultant >= MIN_RESULTANT
    sector, contrast = _stronger_half(speed, mean, min_contrast)
    bft = beaufort_number(mean)
    return WindDescriptors(
        mean_speed=mean,
        speed_cv=cv,
        variability=variability_class(cv),
        direction=dominant if has_direction else None,
        compass=compass_name(dominant) if has_direction else "variable",
        spread=spread,
        resultant_length=resultant,
        sector=sector,
        sector_contrast=contrast,
        beaufort=bft,
        intensity=intensity_class(bft),
    )


def sample_wind_cases(
    n: int,
    rng: np.random.Generator,
    *,
    speed: tuple[float, float] = (2.0, 25.0),
    spread: tuple[float, float] = (5.0, 25.0),
    gustiness: tuple[float, float] = (0.03, 0.12),
    boost: tuple[float, float] = (1.5, 2.0),
    sector_probability: float = 0.8,
) -> list[WindCase]:
    """``n`` random :class:`WindCase` s: uniform direction, uniform draws in the given ranges.

    A case gets a stronger half (random among :data:`SECTORS`) with ``sector_probability``,
    else none. Ranges are (low, high) [m s-1, degrees, 1, 1].
    """
    if n < 1 or not 0 <= sector_probability <= 1:
        raise ConfigError(f"need n >= 1 and sector_probability in [0, 1], got {n}, "
                          f"{sector_probability}")  # fmt: skip
    for name, (low, high) in {"speed": speed, "spread": spread, "gustiness": gustiness,
                              "boost": boost}.items():  # fmt: skip
        if not 0 <= low <= high:
            raise ConfigError(f"{name} range must satisfy 0 <= low <= high, got ({low}, {high})")
    cases = []
    for _ in range(n):
        sector = str(rng.choice(SECTORS)) if rng.random() < sector_probability else None
        cases.append(
            WindCase(
                direction=float(rng.uniform(0.0, 360.0)),
                speed=float(rng.uniform(*speed)),
                direction_spread=float(rng.uniform(*spread)),
                gustiness=float(rng.uniform(*gustiness)),
                sector=sector,
                sector_boost=float(rng.uniform(*boost)) if sector else 1.0,
            )
        )
    return cases


def known_answer_errors(case: WindCase, descriptors: WindDescriptors) -> dict[str, float]:
    """How far ``descriptors`` are from the answers ``case`` was made with.

    Returns ``direction_error`` [degrees, smallest angle; 180 when no direction was
    found], ``speed_error`` [m s-1, absolute] and ``sector_ok`` (1.0 or 0.0; the expected
    sector of a case without one is ``"none"``).
    """
    if descriptors.direction is None:
        direction_error = 180.0
    else:
        direction_error = abs((descriptors.direction - case.direction + 180.0) % 360.0 - 180.0)
    return {
        "direction_error": float(direction_error),
        "speed_error": float(abs(descriptors.mean_speed - case.speed)),
        "sector_ok": float(descriptors.sector == (case.sector or "none")),
    }
