"""Dataset recipes: a YAML file validated by pydantic (unknown keys are errors).

Example (Held-Suarez on the model's own T21 Gaussian grid)::

    name: held-suarez-t21
    source:
      kind: simulator
      truncation: 21
      layers: 8
      spin_up_days: 200
    variables: [u, v, t, sp]
    levels: [1, 2, 3, 4, 5, 6, 7, 8]     # sigma model levels, 1 = top; omit for all
    dates: {start: 2000-01-01T00:00, end: 2000-12-31T18:00, frequency: 6h}
    grid: source                          # or {regular: {resolution_deg: 5}}, {icon: {n: 2, k: 3}}
    remap: linear                         # or conservative
    forcings: [cos_latitude, sin_latitude, cos_local_time, sin_local_time, insolation, z]
    statistics: {start: 2000-01-01T00:00, end: 2000-09-30T18:00}
    chunking: {time: 1}

A file source reads the user's own GRIB or NetCDF archive instead::

    source: {kind: files, paths: "archive/*.grib", format: grib}
    variables: [t, u, v, msl]
    levels: [500, 850]                   # the files' level values (hPa for pressure levels)
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from wxai.core.composition import validation_message
from wxai.core.errors import ConfigError

__all__ = [
    "FORCINGS",
    "SIMULATOR_VARIABLES",
    "STATIC_FIELDS",
    "Dates",
    "FileSource",
    "IconTarget",
    "Recipe",
    "RegularTarget",
    "SimulatorSource",
    "load_recipe",
]

#: Computed forcings (Anemoi's names), functions of date and position only.
FORCINGS = (
    "cos_latitude",
    "sin_latitude",
    "cos_longitude",
    "sin_longitude",
    "cos_julian_day",
    "sin_julian_day",
    "cos_local_time",
    "sin_local_time",
    "insolation",
)
#: Static fields: ``z`` surface geopotential (m2 s-2), ``lsm`` land-sea mask (0-1).
STATIC_FIELDS = ("z", "lsm")
#: Prognostic variables of the Held-Suarez simulator; ``sp`` is a surface field.
SIMULATOR_VARIABLES = ("u", "v", "t", "sp")
#: Largest target grid (cells) a recipe may ask for.
MAX_CELLS = 2_000_000
#: Spectral truncations dinosaur ships a Gaussian grid for.
TRUNCATIONS = (21, 31, 42, 85, 106, 119, 170, 213)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimulatorSource(_Strict):
    """Held-Suarez (1994) benchmark on dinosaur's sigma-coordinate primitive equations.

    ``truncation`` T21 gives a 64 x 32 Gaussian grid (2048 columns); ``layers``
    equidistant sigma levels; the first ``spin_up_days`` are discarded; ``seed``
    places the small surface-pressure perturbation that breaks the symmetry.
    """

    kind: Literal["simulator"] = "simulator"
    model: Literal["held_suarez"] = "held_suarez"
    truncation: int = 21
    layers: int = Field(8, ge=2, le=100)
    spin_up_days: float = Field(200.0, ge=0)
    time_step_minutes: float = Field(20.0, gt=0)
    seed: int = 0

    @field_validator("truncation")
    @classmethod
    def _known_truncation(cls, value: int) -> int:
        if value not in TRUNCATIONS:
            raise ConfigError(f"truncation T{value} is not one of {list(TRUNCATIONS)}")
        return value


class FileSource(_Strict):
    """GRIB or NetCDF files (a glob pattern, relative to the recipe's directory)."""

    kind: Literal["files"] = "files"
    paths: str
    format: Literal["grib", "netcdf"]


class RegularParams(_Strict):
    resolution_deg: float = Field(gt=0, le=90)

    @field_validator("resolution_deg")
    @classmethod
    def _divides(cls, value: float) -> float:
        if abs(round(180.0 / value) * value - 180.0) > 1e-9:
            raise ConfigError(f"resolution_deg {value} must divide 180 degrees")
        return value


class RegularTarget(_Strict):
    """A global regular latitude/longitude grid of cell centres."""

    regular: RegularParams


class IconParams(_Strict):
    n: int = Field(ge=1, le=20, description="root division of the icosahedron edges")
    k: int = Field(ge=0, le=8, description="bisections after the root division")


class IconTarget(_Strict):
    """An ICON-style triangular grid RnBk: 20 * n**2 * 4**k cells."""

    icon: IconParams

    @model_validator(mode="after")
    def _size(self) -> IconTarget:
        cells = 20 * self.icon.n**2 * 4**self.icon.k
        if cells > MAX_CELLS:
            raise ConfigError(
                f"icon R{self.icon.n}B{self.icon.k:02d} has {cells} cells, more than "
                f"{MAX_CELLS} (an emulator dataset keeps every date of every cell)"
            )
        return self


def _timestamp(value: Any) -> dt.datetime:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not a date: {value!r}") from exc
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def parse_frequency(value: str | dt.timedelta) -> dt.timedelta:
    """``"6h"``, ``"1d"``, ``"30min"`` -> timedelta (positive)."""
    try:
        delta = pd.Timedelta(value).to_pytimedelta()
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"frequency {value!r} is not a time span like '6h'") from exc
    if delta <= dt.timedelta(0):
        raise ConfigError(f"frequency {value!r} must be positive")
    return delta


def frequency_string(delta: dt.timedelta) -> str:
    """Anemoi's spelling of a frequency: ``"6h"``, ``"1d"`` ... (whole hours as ``h``)."""
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


class Dates(_Strict):
    """Dates of the dataset: ``start`` to ``end`` inclusive every ``frequency``."""

    start: dt.datetime
    end: dt.datetime
    frequency: str = "6h"

    _ts = field_validator("start", "end", mode="before")(_timestamp)

    @model_validator(mode="after")
    def _ordered(self) -> Dates:
        delta = parse_frequency(self.frequency)
        if self.end < self.start:
            raise ConfigError(f"dates: end {self.end} is before start {self.start}")
        if (self.end - self.start) % delta:
            raise ConfigError(
                f"dates: end - start ({self.end - self.start}) is not a multiple of "
                f"the frequency {self.frequency}"
            )
        return self

    @property
    def delta(self) -> dt.timedelta:
        return parse_frequency(self.frequency)

    def values(self) -> np.ndarray:
        """All dates, datetime64[s], shape (T,)."""
        n = (self.end - self.start) // self.delta + 1
        step = np.timedelta64(int(self.delta.total_seconds()), "s")
        return np.datetime64(self.start, "s") + step * np.arange(n)


class Period(_Strict):
    """A closed date range (statistics period)."""

    start: dt.datetime
    end: dt.datetime

    _ts = field_validator("start", "end", mode="before")(_timestamp)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ConfigError(f"statistics: end {self.end} is before start {self.start}")
        return self


class Chunking(_Strict):
    time: int = Field(1, ge=1, description="dates per chunk of the data array")
    block: int = Field(40, ge=1, description="dates computed and written per block")


def _grid_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "source"
    if isinstance(value, RegularTarget | IconTarget):
        return "regular" if isinstance(value, RegularTarget) else "icon"
    if isinstance(value, dict):
        return next((k for k in ("regular", "icon") if k in value), None)
    return None


class Recipe(_Strict):
    """A dataset recipe; see the module docstring for an example."""

    name: str = Field(min_length=1)
    description: str = ""
    source: Annotated[SimulatorSource | FileSource, Field(discriminator="kind")]
    variables: list[str] = Field(min_length=1)
    levels: list[int | float] | None = None
    dates: Dates
    grid: Annotated[
        Annotated[Literal["source"], Tag("source")]
        | Annotated[RegularTarget, Tag("regular")]
        | Annotated[IconTarget, Tag("icon")],
        Discriminator(_grid_kind),
    ] = "source"
    remap: Literal["linear", "conservative"] = "linear"
    forcings: list[str] = Field(default_factory=list)
    statistics: Period | None = None
    chunking: Chunking = Chunking()

    @model_validator(mode="after")
    def _names(self) -> Recipe:
        unknown = [f for f in self.forcings if f not in (*FORCINGS, *STATIC_FIELDS)]
        if unknown:
            raise ConfigError(f"unknown forcing(s) {unknown}; known: {[*FORCINGS, *STATIC_FIELDS]}")
        for names, what in ((self.variables, "variable"), (self.forcings, "forcing")):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ConfigError(f"{what}(s) listed twice: {dupes}")
        stats = self.statistics
        if stats and (stats.end < self.dates.start or stats.start > self.dates.end):
            raise ConfigError(
                f"statistics: the period {stats.start}..{stats.end} contains no date of "
                f"the dataset ({self.dates.start}..{self.dates.end})"
            )
        if isinstance(self.source, SimulatorSource):
            bad = [v for v in self.variables if v not in SIMULATOR_VARIABLES]
            if bad:
                raise ConfigError(
                    f"unknown variable(s) {bad} for the Held-Suarez simulator; "
                    f"it provides {list(SIMULATOR_VARIABLES)}"
                )
            layers = self.source.layers
            wrong = [lv for lv in self.levels or [] if lv not in range(1, layers + 1)]
            if wrong:
                raise ConfigError(f"levels {wrong} outside the model levels 1..{layers}")
            snapshot = self.dates.delta.total_seconds()
            if snapshot % (self.source.time_step_minutes * 60):
                raise ConfigError(
                    f"frequency {self.dates.frequency} is not a multiple of the time step "
                    f"({self.source.time_step_minutes} min)"
                )
        return self

    @property
    def statistics_period(self) -> tuple[np.datetime64, np.datetime64]:
        """The statistics period (defaults to all dates), datetime64[s]."""
        period = self.statistics or Period(start=self.dates.start, end=self.dates.end)
        return np.datetime64(period.start, "s"), np.datetime64(period.end, "s")


def load_recipe(recipe: str | os.PathLike | dict[str, Any] | Recipe) -> Recipe:
    """A validated :class:`Recipe` from a YAML file, a mapping or a Recipe.

    A file source's relative ``paths`` are taken relative to the YAML file.

    Raises
    ------
    ConfigError
        Naming every problem (``field.path: message``): unknown keys or names,
        an impossible grid or dates, a missing file.
    """
    if isinstance(recipe, Recipe):
        return recipe
    base: Path | None = None
    if isinstance(recipe, dict):
        data = recipe
    else:
        path = Path(recipe)
        if not path.is_file():
            raise ConfigError(f"recipe {path}: no such file")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"recipe {path}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"recipe {path}: expected a mapping at the top level")
        base = path.parent
    try:
        parsed = Recipe.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid dataset recipe: {validation_message(exc)}") from exc
    if base is not None and isinstance(parsed.source, FileSource):
        pattern = Path(parsed.source.paths)
        if not pattern.is_absolute():
            source = parsed.source.model_copy(update={"paths": str(base / pattern)})
            parsed = parsed.model_copy(update={"source": source})
    return parsed
