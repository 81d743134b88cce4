"""Initial states of a forecast: a date of the training dataset, or a GRIB/NetCDF file.

An :class:`InitialState` holds the ``multistep_input`` states the network needs, in
physical units on the model's cells, for every variable of the model (forcings
included, filled for their dates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.fields import find_variable, open_fields
from wxai.emulator.datasets.reader import EmulatorDataset, open_dataset
from wxai.emulator.inference.forcings import ForcingProvider
from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "InitialState",
    "check_dataset_matches",
    "initial_from_dataset",
    "initial_from_file",
    "initial_state",
]

_LEVEL_DIMS = ("level", "isobaricInhPa", "pressure_level", "hybrid", "model_level")
_TIME_DIMS = ("time", "valid_time", "init_time")


@dataclass(frozen=True, eq=False)
class InitialState:
    """States at ``dates`` (T_in,) datetime64[s], the last one the initial time.

    ``fields`` has shape (T_in, V, N) in physical units, variables in the model's order.
    """

    dates: np.ndarray
    fields: np.ndarray
    source: str

    @property
    def init_time(self) -> np.datetime64:
        return self.dates[-1]


def _input_dates(init: np.datetime64, step: dt.timedelta, t_in: int) -> np.ndarray:
    delta = np.timedelta64(int(step.total_seconds()), "s")
    return init - delta * np.arange(t_in - 1, -1, -1)


def check_dataset_matches(ckpt: InferenceCheckpoint, dataset: EmulatorDataset) -> None:
    """ConfigError unless ``dataset`` has the model's variables (in order) and cells."""
    if list(dataset.variables) != ckpt.emulator.variables:
        raise ConfigError(
            f"{dataset.path} has variables {dataset.variables}; the checkpoint "
            f"{ckpt.path.name} was trained on {ckpt.emulator.variables}"
        )
    try:
        check_matches_grid(ckpt, dataset.latitudes, dataset.longitudes)
    except ConfigError as exc:
        raise ConfigError(f"{dataset.path}: {exc}") from None


def check_matches_grid(ckpt: InferenceCheckpoint, lat: np.ndarray, lon: np.ndarray) -> None:
    grid = ckpt.data
    if lat.size != grid.latitudes.size or not (
        np.allclose(lat, grid.latitudes, atol=1e-5)
        and np.allclose(np.mod(lon - grid.longitudes + 180, 360) - 180, 0, atol=1e-5)
    ):
        raise ConfigError(
            f"the grid ({lat.size} cells) is not the checkpoint's {grid.resolution} grid "
            f"({grid.latitudes.size} cells)"
        )


def initial_from_dataset(
    ckpt: InferenceCheckpoint, dataset: EmulatorDataset, init: np.datetime64
) -> InitialState:
    """The model's input window ending at ``init``, read from ``dataset``."""
    check_dataset_matches(ckpt, dataset)
    dates = _input_dates(np.datetime64(init, "s"), ckpt.data.step, ckpt.emulator.multistep_input)
    index = [dataset.date_index(d) for d in dates]
    fields = np.stack([dataset.fields(i, i + 1)[0] for i in index])
    return InitialState(dates=dates, fields=fields, source=f"{dataset.path} at {dates[-1]}")


def _times(ds: xr.Dataset, path: Path) -> tuple[str | None, np.ndarray]:
    for name in _TIME_DIMS:
        if name in ds.dims:
            return name, ds[name].values.astype("datetime64[s]")
    for name in ("valid_time", "time", "init_time"):
        if name in ds.coords and ds[name].ndim == 0:
            return None, np.atleast_1d(ds[name].values.astype("datetime64[s]"))
    raise DataFormatError(f"{path}: no time coordinate (time, valid_time or init_time)")


def _cells(ds: xr.Dataset, path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    lat_name = next((n for n in ("latitude", "lat") if n in ds.coords), None)
    lon_name = next((n for n in ("longitude", "lon") if n in ds.coords), None)
    if lat_name is None or lon_name is None:
        raise DataFormatError(f"{path}: no latitude/longitude coordinates")
    lat, lon = ds[lat_name], ds[lon_name]
    if lat.dims == (lat_name,) and lon.dims == (lon_name,) and lat_name != lon_name:
        la, lo = np.meshgrid(lat.values, lon.values, indexing="ij")
        return la.ravel(), lo.ravel() % 360.0, (lat_name, lon_name)
    return lat.values.astype(float), lon.values.astype(float) % 360.0, lat.dims


def initial_from_file(ckpt: InferenceCheckpoint, path: str | Path) -> InitialState:
    """The input window from a GRIB or NetCDF analysis, regridded to the model's cells.

    The file's last time is the initial time; with ``multistep_input > 1`` it must
    also hold the earlier states, one model step apart. Variables are found by name,
    CF standard name or source name (``wxai.vocab``), levels by value.
    """
    from wxai.emulator.datasets.targets import Remapper, TargetGrid

    path = Path(path)
    ds = open_fields(path, single_lead=True)
    tdim, times = _times(ds, path)
    dates = _input_dates(times.max(), ckpt.data.step, ckpt.emulator.multistep_input)
    missing = [str(d) for d in dates if d not in set(times)]
    if missing:
        raise ConfigError(
            f"{path}: the model needs states at {[str(d) for d in dates]}; "
            f"missing {missing} (the file has {[str(t) for t in times]})"
        )
    lat, lon, horiz = _cells(ds, path)
    grid = ckpt.data
    same = lat.size == grid.latitudes.size and np.allclose(lat, grid.latitudes, atol=1e-5)
    remap = None
    if not same:
        target = TargetGrid(grid.latitudes, grid.longitudes, grid.field_shape, grid.resolution)
        remap = Remapper(lat, lon, target, "linear")
    model_vars = ckpt.emulator.variables
    prognostic = ckpt.emulator.prognostic
    fields = np.zeros((dates.size, len(model_vars), grid.latitudes.size), np.float32)
    forcings = ForcingProvider(ckpt)
    for t, date in enumerate(dates):
        fields[t] = forcings.row(date)
    for name in prognostic:
        meta = grid.variables_metadata.get(name, {})
        param, level = meta.get("param", name), meta.get("level")
        da = find_variable(ds, param, f"the initial file {path}")
        if level is not None:
            ldim = next((d for d in _LEVEL_DIMS if d in da.dims), None)
            if ldim is None:
                raise ConfigError(f"{path}: {param!r} has no level dimension for level {level}")
            values = da[ldim].values.astype(float)
            if not np.isclose(values, float(level)).any():
                raise ConfigError(f"{path}: {param!r} has no level {level} (it has {values})")
            da = da.isel({ldim: int(np.flatnonzero(np.isclose(values, float(level)))[0])})
        for t, date in enumerate(dates):
            at = da.isel({tdim: int(np.flatnonzero(times == date)[0])}) if tdim else da
            values = np.asarray(at.transpose(*horiz).values, np.float32).reshape(1, 1, -1)
            if values.shape[-1] != lat.size:
                raise DataFormatError(f"{path}: {param!r} is not on the file's horizontal grid")
            fields[t, model_vars.index(name)] = (values if remap is None else remap(values))[0, 0]
    if np.isnan(fields).any():
        raise DataFormatError(f"{path}: the initial state holds NaNs after regridding")
    return InitialState(dates=dates, fields=fields, source=f"{path} at {dates[-1]}")


def initial_state(
    ckpt: InferenceCheckpoint, init: str, *, dataset: str | Path | None = None
) -> tuple[InitialState, EmulatorDataset | None]:
    """``init`` is a GRIB/NetCDF file or a date in ``dataset`` (default: the training dataset).

    Returns the state and the dataset it came from (None for a file).
    """
    if Path(init).suffix and Path(init).exists():
        return initial_from_file(ckpt, init), None
    try:
        date = np.datetime64(init, "s")
    except ValueError:
        raise ConfigError(
            f"--init {init!r} is neither an existing GRIB/NetCDF file nor a date (YYYY-MM-DDTHH)"
        ) from None
    path = Path(dataset) if dataset is not None else Path(ckpt.data.provenance.get("path", ""))
    opened = open_dataset(path)
    return initial_from_dataset(ckpt, opened, date), opened
