"""Data sources of a dataset build: the Held-Suarez simulator or GRIB/NetCDF files.

A source knows its cells (degrees, latitude-major where structured), the names
of the variables it yields (Anemoi's ``{param}_{level}``) and yields blocks of
fields ``(B, V, N)`` float32 for consecutive dates.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import dask.array
import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.datasets.recipe import FileSource, Recipe, SimulatorSource

__all__ = ["FilesSource", "SimulatorDataSource", "Source", "make_source"]

_UNITS = {"u": "m s-1", "v": "m s-1", "t": "K", "sp": "Pa", "z": "m2 s-2", "lsm": "1"}


class Source(Protocol):
    """What :func:`wxai.emulator.datasets.build.build_dataset` needs from a source."""

    latitudes: np.ndarray
    longitudes: np.ndarray
    field_shape: tuple[int, ...]
    resolution: str
    variables: list[str]
    metadata: dict[str, dict[str, Any]]

    def blocks(
        self, dates: np.ndarray, first: int, block_size: int, state: Any
    ) -> Iterator[tuple[np.ndarray, Any]]:
        """Fields of ``dates`` (datetime64[s], (T,)) from index ``first`` on.

        Yields ``(fields (B, V, N) float32, resume state after the block)``.
        """
        ...

    def static(self, name: str) -> np.ndarray:
        """A static field (``z``, ``lsm``) on the source cells, (N,)."""
        ...

    def save_state(self, state: Any) -> dict[str, np.ndarray] | None: ...

    def load_state(self, arrays: dict[str, np.ndarray]) -> Any: ...


class SimulatorDataSource:
    """The Held-Suarez simulator as a dataset source (see :mod:`.simulator`)."""

    def __init__(self, recipe: Recipe) -> None:
        from wxai.emulator.datasets.simulator import simulator_for

        params = recipe.source
        assert isinstance(params, SimulatorSource)
        self.params = params
        self.start = np.datetime64(recipe.dates.start, "s")
        self.step = np.timedelta64(int(recipe.dates.delta.total_seconds()), "s")
        self.sim = simulator_for(params, recipe.dates.delta.total_seconds() / 3600)
        self.latitudes = self.sim.latitudes
        self.longitudes = self.sim.longitudes
        self.field_shape = self.sim.field_shape
        self.resolution = f"T{params.truncation}"
        levels = [int(v) for v in recipe.levels or range(1, params.layers + 1)]
        self._select: list[tuple[str, int | None]] = []
        for var in recipe.variables:
            if var == "sp":
                self._select.append((var, None))
            else:
                self._select.extend((var, lev) for lev in levels)
        self.variables = [v if lev is None else f"{v}_{lev}" for v, lev in self._select]
        self.metadata = {
            name: {
                "param": var,
                "level": lev,
                "levtype": "sfc" if lev is None else "ml",
                "units": _UNITS[var],
            }
            for name, (var, lev) in zip(self.variables, self._select, strict=True)
        }

    def blocks(
        self, dates: np.ndarray, first: int, block_size: int, state: Any
    ) -> Iterator[tuple[np.ndarray, Any]]:
        offsets = (dates - self.start) // self.step
        start, stop = int(offsets[first]), int(offsets[-1]) + 1
        for block, new_state in self.sim.blocks(start, stop, block_size, state):
            out = np.empty((block.steps.size, len(self._select), self.sim.n_cells), np.float32)
            for i, (var, lev) in enumerate(self._select):
                out[:, i] = block.fields[var] if lev is None else block.fields[var][:, lev - 1]
            yield out, new_state

    def static(self, name: str) -> np.ndarray:
        """Held-Suarez: flat (``z`` = 0) aquaplanet (``lsm`` = 0)."""
        return np.zeros(self.latitudes.size, np.float32)

    def save_state(self, state: Any) -> dict[str, np.ndarray] | None:
        return self.sim.save_state(state)

    def load_state(self, arrays: dict[str, np.ndarray]) -> Any:
        return self.sim.load_state(arrays)


_TIME_DIMS = ("time", "valid_time", "init_time")


def _time_dim(ds: xr.Dataset, path: Path) -> str:
    for name in _TIME_DIMS:
        if name in ds.dims:
            return name
    for name in _TIME_DIMS:
        if name in ds.coords and ds[name].ndim == 0:
            return name
    raise DataFormatError(f"{path}: no time dimension (time, valid_time or init_time)")


class FilesSource:
    """Analysis-type GRIB or NetCDF files (one time axis) matched by a glob pattern.

    Variables are looked up by name in each file (``t``, ``u``, ``msl``...);
    a variable with a ``level`` (or ``isobaricInhPa``/``pressure_level``)
    dimension gives ``{name}_{level}`` for each recipe level. Grids: 1-D
    ``latitude``/``longitude`` (flattened latitude-major) or ``cell`` with
    ``latitude``/``longitude`` coordinates. Files are opened lazily and read one
    block of dates at a time.
    """

    def __init__(self, recipe: Recipe) -> None:
        params = recipe.source
        assert isinstance(params, FileSource)
        self.paths = sorted(Path(p) for p in glob.glob(params.paths))  # noqa: PTH207
        if not self.paths:
            raise ConfigError(f"source.paths: no file matches {params.paths!r}")
        self.format = params.format
        self.levels = recipe.levels
        self._index: dict[np.datetime64, tuple[Path, str, int]] = {}
        self._open: dict[Path, xr.Dataset] = {}
        grid = None
        for path in self.paths:
            ds = self._dataset(path)
            tdim = _time_dim(ds, path)
            times = np.atleast_1d(ds[tdim].values).astype("datetime64[s]")
            for i, t in enumerate(times):
                self._index.setdefault(t, (path, tdim, i))
            grid = grid or self._grid(ds, path)
        self.latitudes, self.longitudes, self.field_shape = grid
        self.resolution = "unknown"
        if len(self.field_shape) == 2:
            step = abs(float(np.diff(np.unique(self.latitudes))[:1].sum()))
            self.resolution = f"{step:g}"
        first = self._dataset(self.paths[0])
        self._select: list[tuple[str, str | None, Any]] = []
        for var in recipe.variables:
            if var not in first.data_vars:
                raise ConfigError(
                    f"variables: {var!r} is not in {self.paths[0].name}; "
                    f"it has {sorted(map(str, first.data_vars))}"
                )
            ldim = next(
                (d for d in ("level", "isobaricInhPa", "pressure_level") if d in first[var].dims),
                None,
            )
            if ldim is None:
                self._select.append((var, None, None))
                continue
            available = first[var][ldim].values.tolist()
            wanted = available if self.levels is None else self.levels
            missing = [lv for lv in wanted if lv not in available]
            if missing:
                raise ConfigError(f"levels {missing} not in {var!r}; it has {available}")
            self._select.extend((var, ldim, lv) for lv in wanted)
        self.variables = [
            v if ld is None else f"{v}_{lv:g}" if isinstance(lv, float) else f"{v}_{lv}"
            for v, ld, lv in self._select
        ]
        self.metadata = {
            name: {
                "param": var,
                "level": None if lev is None else float(lev),
                "levtype": "sfc" if ldim is None else str(ldim),
                "units": str(first[var].attrs.get("units", "")),
            }
            for name, (var, ldim, lev) in zip(self.variables, self._select, strict=True)
        }

    def _dataset(self, path: Path) -> xr.Dataset:
        if path not in self._open:
            if self.format == "netcdf":
                from wxai.data.formats.netcdf import read_netcdf

                ds = read_netcdf(path, lazy=True)
            else:
                from wxai.data.formats.grib import read_grib

                tree = read_grib(path, lazy=True)
                nodes = [n.to_dataset(inherit=False) for n in tree.subtree if n.has_data]
                # one dataset of all level types; scalar level coords would clash
                keep = {"time", "init_time", "latitude", "longitude"}
                ds = xr.merge(
                    [
                        n.drop_vars([c for c in n.coords if c not in {*n.dims, *keep}])
                        for n in nodes
                    ],
                    compat="override",
                    join="exact",
                )
                first = nodes[0]
                for name in ("latitude", "longitude"):
                    if name in first.coords and name not in ds.coords:
                        ds = ds.assign_coords({name: first[name]})
                if "lead_time" in ds.dims:
                    raise DataFormatError(
                        f"{path}: forecast steps (lead_time) are not supported; "
                        "use analysis files with one time axis"
                    )
            self._open[path] = ds
        return self._open[path]

    @staticmethod
    def _grid(ds: xr.Dataset, path: Path) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        lat_name = next((n for n in ("latitude", "lat") if n in ds.coords), None)
        lon_name = next((n for n in ("longitude", "lon") if n in ds.coords), None)
        if lat_name is None or lon_name is None:
            raise DataFormatError(f"{path}: no latitude/longitude coordinates")
        lat, lon = ds[lat_name], ds[lon_name]
        if lat.dims == (lat_name,) and lon.dims == (lon_name,) and lat_name in ds.dims:
            la, lo = np.meshgrid(lat.values, lon.values, indexing="ij")
            return la.ravel().astype(float), lo.ravel() % 360.0, (lat.size, lon.size)
        return lat.values.astype(float), lon.values.astype(float) % 360.0, (lat.size,)

    def _field(self, da: xr.DataArray) -> np.ndarray:
        return np.asarray(da.values, dtype=np.float32).reshape(-1)

    def _lazy_block(self, block: np.ndarray) -> dask.array.Array:
        """The fields of ``block`` dates as one dask array (B, V, N), nothing read yet.

        Consecutive dates from the same file are selected together, one
        ``isel`` per file run and variable.
        """
        runs: list[tuple[Path, str, list[int]]] = []
        for date in block:
            path, tdim, i = self._index[date]
            if runs and runs[-1][0] == path:
                runs[-1][2].append(i)
            else:
                runs.append((path, tdim, [i]))
        parts = []
        for path, tdim, indices in runs:
            ds = self._dataset(path)
            at = ds.isel({tdim: indices}) if tdim in ds.dims else ds.expand_dims(tdim)
            # one dask chunk per date over the lazy selection: the graph holds this
            # block's reads only, whatever the size of the file
            at = at.chunk({tdim: 1})
            fields = []
            for var, ldim, lev in self._select:
                da = at[var] if ldim is None else at[var].sel({ldim: lev})
                da = da.transpose(tdim, ...)
                fields.append(da.data.reshape(len(indices), -1).astype(np.float32))
            parts.append(dask.array.stack(fields, axis=1))
        return dask.array.concatenate(parts)

    def blocks(
        self, dates: np.ndarray, first: int, block_size: int, state: Any
    ) -> Iterator[tuple[np.ndarray, Any]]:
        """Blocks read through dask: one threaded compute per block, so the
        reads of its dates and variables overlap and memory stays one block."""
        absent = [str(d) for d in dates[first:] if d not in self._index]
        if absent:
            raise ConfigError(f"dates: {len(absent)} date(s) not in the files, first {absent[:3]}")
        for s in range(first, dates.size, block_size):
            lazy = self._lazy_block(dates[s : s + block_size])
            yield np.asarray(lazy.compute(scheduler="threads")), None

    def static(self, name: str) -> np.ndarray:
        ds = self._dataset(self.paths[0])
        if name not in ds.data_vars:
            raise ConfigError(f"forcings: static field {name!r} is not in {self.paths[0].name}")
        da = ds[name]
        tdim = _time_dim(ds, self.paths[0])
        if tdim in da.dims:
            da = da.isel({tdim: 0})
        return self._field(da)

    def save_state(self, state: Any) -> dict[str, np.ndarray] | None:
        return None

    def load_state(self, arrays: dict[str, np.ndarray]) -> Any:
        return None


def make_source(recipe: Recipe) -> Source:
    """The source a recipe names."""
    if isinstance(recipe.source, SimulatorSource):
        return SimulatorDataSource(recipe)
    return FilesSource(recipe)
