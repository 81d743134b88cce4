"""Cases for learning warnings: model fields at one time -> forecaster warning masks.

Each case is one atmosphere (:class:`~wxai.data.synthetic.atmosphere.SyntheticAtmosphere`
with its own seed) at one valid time ``t`` on a regular latitude/longitude grid:

* inputs: :data:`INPUT_VARIABLES` at ``t`` (canonical names of :mod:`wxai.vocab`);
* targets: the synthetic forecaster's polygons
  (:func:`~wxai.products.warnings.forecaster.draw_warning_polygons`) for the
  validity period ``[t, t + window_hours]``, drawn from the gust maximum over the
  period, and their masks on the grid.

The gusts later in the period are not among the inputs: a model has to infer where
the storm moves from the wind and pressure at ``t``, as a forecaster would.
Atmosphere seeds are disjoint between training, validation and test sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry.base import BaseGeometry

from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.stats import ChannelStats
from wxai.products.warnings.forecaster import (
    ForecasterStyle,
    draw_warning_polygons,
    warning_masks,
)
from wxai.products.warnings.levels import DWD_GUST_LEVELS, WarningLevel, check_levels

__all__ = [
    "INPUT_VARIABLES",
    "CaseSettings",
    "ChannelStats",
    "GridSpec",
    "WarningCases",
    "build_cases",
]

#: Input channels, in order: 10 m gust, 10 m wind components [m s-1], MSL pressure [Pa].
INPUT_VARIABLES: tuple[str, ...] = ("gust", "u10", "v10", "msl")


@dataclass(frozen=True)
class GridSpec:
    """A regular latitude/longitude grid, south to north and west to east.

    Attributes
    ----------
    lat_min, lon_min:
        Southernmost latitude and westernmost longitude of cell centres [degrees].
    n_lat, n_lon:
        Number of rows and columns; multiples of 4 (the U-Net halves the grid twice).
    step:
        Grid spacing [degrees].
    """

    lat_min: float = 35.0
    lon_min: float = -30.0
    n_lat: int = 72
    n_lon: int = 136
    step: float = 0.5

    def __post_init__(self) -> None:
        if self.n_lat % 4 or self.n_lon % 4 or self.n_lat < 4 or self.n_lon < 4:
            raise ConfigError(
                f"grid size {self.n_lat}x{self.n_lon} must be positive multiples of 4"
            )
        if self.step <= 0 or not -90 <= self.lat_min + self.step * (self.n_lat - 1) <= 90:
            raise ConfigError(f"grid {self} leaves the globe or has a non-positive step")

    @property
    def lat(self) -> np.ndarray:
        """Latitudes of cell centres ``(n_lat,)`` [degrees north], ascending."""
        return self.lat_min + self.step * np.arange(self.n_lat)

    @property
    def lon(self) -> np.ndarray:
        """Longitudes of cell centres ``(n_lon,)`` [degrees east], ascending."""
        return self.lon_min + self.step * np.arange(self.n_lon)


@dataclass(frozen=True)
class CaseSettings:
    """What cases to draw.

    Attributes
    ----------
    grid:
        The model grid.
    levels:
        Warning levels (default DWD-like, :data:`DWD_GUST_LEVELS`).
    style:
        The synthetic forecaster's habits.
    n_cyclones:
        Lows per atmosphere.
    hours:
        Range of valid times after the atmosphere's start [h].
    times_per_seed:
        Valid times drawn per atmosphere.
    window_hours, window_step_hours:
        Validity period of a warning and the spacing of the fields whose gust maximum
        the forecaster draws from [h].
    """

    grid: GridSpec = field(default_factory=GridSpec)
    levels: tuple[WarningLevel, ...] = DWD_GUST_LEVELS
    style: ForecasterStyle = field(default_factory=ForecasterStyle)
    n_cyclones: int = 3
    hours: tuple[float, float] = (6.0, 48.0)
    times_per_seed: int = 3
    window_hours: float = 6.0
    window_step_hours: float = 3.0

    def __post_init__(self) -> None:
        check_levels(self.levels)
        if self.window_hours < 0 or self.window_step_hours <= 0 or self.times_per_seed < 1:
            raise ConfigError(
                "window_hours must be >= 0, window_step_hours > 0 and times_per_seed >= 1"
            )


@dataclass
class WarningCases:
    """A set of cases.

    Attributes
    ----------
    inputs:
        ``(N, C, H, W)`` float32 fields at the valid time, channels :attr:`channels`.
    masks:
        ``(N, L, H, W)`` bool warning masks per level.
    polygons:
        Per case, the list of L per-level forecaster polygons [(lon, lat) degrees].
    gust_max:
        ``(N, H, W)`` gust maximum over the validity period [m s-1] (what the
        forecaster drew from; not a model input).
    lat, lon:
        Grid axes ``(H,)``, ``(W,)`` [degrees].
    valid_times:
        ``(N,)`` datetime64 onsets; expiry is ``onset + window_hours``.
    seeds:
        ``(N,)`` atmosphere seed of each case.
    channels, levels, window_hours:
        Input names, warning levels and validity period [h].
    """

    inputs: np.ndarray
    masks: np.ndarray
    polygons: list[list[BaseGeometry]]
    gust_max: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    valid_times: np.ndarray
    seeds: np.ndarray
    channels: tuple[str, ...]
    levels: tuple[WarningLevel, ...]
    window_hours: float

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def channel(self, name: str) -> np.ndarray:
        """The input channel ``name``: ``(N, H, W)``."""
        if name not in self.channels:
            raise DataFormatError(f"no input channel {name!r}; channels are {self.channels}")
        return self.inputs[:, self.channels.index(name)]


def build_cases(
    settings: CaseSettings, seeds: Sequence[int], *, time_seed: int = 0
) -> WarningCases:
    """Draw ``settings.times_per_seed`` cases from each atmosphere seed.

    Parameters
    ----------
    settings:
        Grid, levels, forecaster style and times.
    seeds:
        Atmosphere seeds (keep them disjoint between training and test sets).
    time_seed:
        Seed of the valid times and of the forecasters' margins.

    Returns
    -------
    WarningCases
        ``N = len(seeds) * times_per_seed`` cases.
    """
    from wxai.data.synthetic.atmosphere import SyntheticAtmosphere

    grid = settings.grid
    lat, lon = grid.lat, grid.lon
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    shape = lat2.shape
    steps = np.arange(0.0, settings.window_hours + 1e-9, settings.window_step_hours)
    rng = np.random.default_rng(time_seed)
    inputs, masks, polygons, gust_max, valid, case_seeds = [], [], [], [], [], []
    for seed in seeds:
        atmosphere = SyntheticAtmosphere(seed=int(seed), n_cyclones=settings.n_cyclones)
        hours = np.sort(rng.uniform(*settings.hours, settings.times_per_seed)).round()
        for hour in hours:
            offsets = ((hour + steps) * 3600).astype("timedelta64[s]")
            times = atmosphere.start + offsets
            ds = atmosphere.fields_at_points(lat2.ravel(), lon2.ravel(), times, with_tp=False)
            now = np.stack([ds[name].values[0].reshape(shape) for name in INPUT_VARIABLES])
            peak = ds["gust"].values.max(axis=0).reshape(shape)
            drawn = draw_warning_polygons(
                peak, lat, lon, settings.levels, rng, style=settings.style
            )
            inputs.append(now.astype(np.float32))
            masks.append(warning_masks(drawn, lat, lon))
            polygons.append(drawn)
            gust_max.append(peak.astype(np.float32))
            valid.append(times[0])
            case_seeds.append(int(seed))
    return WarningCases(
        inputs=np.stack(inputs),
        masks=np.stack(masks),
        polygons=polygons,
        gust_max=np.stack(gust_max),
        lat=lat,
        lon=lon,
        valid_times=np.array(valid, dtype="datetime64[ns]"),
        seeds=np.array(case_seeds),
        channels=INPUT_VARIABLES,
        levels=tuple(settings.levels),
        window_hours=float(settings.window_hours),
    )
