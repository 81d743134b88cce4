"""Forecast files written step by step: CF NetCDF and GRIB2.

Both writers take one :class:`~wxai.emulator.inference.rollout.ForecastStep` at a
time and hold nothing else, write to ``<path>.partial`` and rename it when the
forecast is complete; :meth:`abort` removes the partial file.

Variables are grouped by parameter: ``t_2``, ``t_4`` ... become ``t`` with a
``level`` dimension (model levels for the simulator's data). Structured grids are
written as (latitude, longitude), triangular grids as ``cell`` with latitude and
longitude coordinates; GRIB2 uses template 3.0 (regular lat/lon), 3.40 (regular
Gaussian) or 3.101 (unstructured, with the grid's UUID).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError
from wxai.emulator.inference.grid import DataGrid
from wxai.emulator.inference.rollout import ForecastStep

__all__ = ["ForecastWriter", "GribForecastWriter", "NetCDFForecastWriter", "open_writer"]

#: Dataset ``levtype`` -> GRIB ``typeOfLevel``; None: the vocabulary's level type of the
#: parameter (``sp`` surface, ``msl`` meanSea, ``t`` isobaricInhPa).
_GRIB_LEVEL_TYPES: dict[str, str | None] = {
    "ml": "hybrid",
    "pl": "isobaricInhPa",
    "pressure_level": "isobaricInhPa",
    "isobaricInhPa": "isobaricInhPa",
    "hybrid": "hybrid",
}
_SURFACE = ("sfc", "surface", None)


class ForecastWriter(Protocol):
    path: Path

    def write(self, step: ForecastStep) -> None: ...

    def close(self) -> Path: ...

    def abort(self) -> None: ...


def _groups(grid: DataGrid, prognostic: list[str]) -> dict[str, list[tuple[int, Any]]]:
    """param -> [(index in prognostic, level or None)], in the model's order."""
    out: dict[str, list[tuple[int, Any]]] = {}
    for i, name in enumerate(prognostic):
        meta = grid.variables_metadata.get(name, {})
        param = str(meta.get("param", name))
        level = None if meta.get("levtype") in _SURFACE else meta.get("level")
        out.setdefault(param, []).append((i, level))
    return out


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


class _PartialFile(ABC):
    """Written as ``<path>.partial``; renamed to ``path`` by :meth:`close`, removed by
    :meth:`abort`."""

    path: Path

    @abstractmethod
    def _close_handle(self) -> None:
        """Close the open file (NetCDF dataset or binary stream)."""

    def close(self) -> Path:
        self._close_handle()
        _partial(self.path).replace(self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._close_handle()
        finally:
            _partial(self.path).unlink(missing_ok=True)


class NetCDFForecastWriter(_PartialFile):
    """CF-1.8 NetCDF4 with an unlimited ``time`` axis (valid times), appended per step."""

    def __init__(
        self,
        path: str | Path,
        grid: DataGrid,
        prognostic: list[str],
        *,
        init_time: np.datetime64,
        members: int,
        attrs: dict[str, str],
    ) -> None:
        import netCDF4

        self.path = Path(path)
        self.grid = grid
        self.groups = _groups(grid, prognostic)
        self.members = members
        self.init_time = np.datetime64(init_time, "s")
        self._nc = netCDF4.Dataset(_partial(self.path), "w", format="NETCDF4")
        nc = self._nc
        nc.setncatts({"Conventions": "CF-1.8", **attrs})
        nc.createDimension("time", None)
        t = nc.createVariable("time", "f8", ("time",))
        t.setncatts(
            {"standard_name": "time", "units": f"hours since {self.init_time}", "axis": "T"}
        )
        lead = nc.createVariable("forecast_period", "f8", ("time",))
        lead.setncatts({"standard_name": "forecast_period", "units": "hours"})
        ref = nc.createVariable("forecast_reference_time", "f8", ())
        ref.setncatts({"standard_name": "forecast_reference_time", "units": t.units})
        ref[...] = 0.0
        lead_dims: tuple[str, ...] = ("time",)
        if members > 1:
            nc.createDimension("member", members)
            m = nc.createVariable("member", "i4", ("member",))
            m.setncatts({"standard_name": "realization", "long_name": "0 = unperturbed control"})
            m[:] = np.arange(members)
            lead_dims += ("member",)
        self.horizontal = self._horizontal()
        levels = sorted({lev for g in self.groups.values() for _, lev in g if lev is not None})
        if levels:
            nc.createDimension("level", len(levels))
            lv = nc.createVariable("level", "f8", ("level",))
            lv.setncatts({"long_name": "model level (1 = top)", "positive": "down", "axis": "Z"})
            lv[:] = levels
        self.levels = levels
        self.vars = {}
        for param, members_of in self.groups.items():
            multi = members_of[0][1] is not None
            dims = lead_dims + (("level",) if multi else ()) + self.horizontal
            chunks = [1] * len(lead_dims) + ([1] if multi else []) + self._horizontal_sizes()
            v = nc.createVariable(
                param, "f4", dims, zlib=True, complevel=4, chunksizes=chunks, fill_value=np.nan
            )
            v.setncatts(self._variable_attrs(param))
            self.vars[param] = v
        self._count = 0

    def _horizontal(self) -> tuple[str, ...]:
        nc, grid = self._nc, self.grid
        if len(grid.field_shape) == 2:
            n_lat, n_lon = grid.field_shape
            nc.createDimension("latitude", n_lat)
            nc.createDimension("longitude", n_lon)
            lat = nc.createVariable("latitude", "f8", ("latitude",))
            lon = nc.createVariable("longitude", "f8", ("longitude",))
            lat[:] = grid.latitudes.reshape(n_lat, n_lon)[:, 0]
            lon[:] = grid.longitudes.reshape(n_lat, n_lon)[0]
            dims: tuple[str, ...] = ("latitude", "longitude")
        else:
            nc.createDimension("cell", grid.latitudes.size)
            lat = nc.createVariable("latitude", "f8", ("cell",))
            lon = nc.createVariable("longitude", "f8", ("cell",))
            lat[:], lon[:] = grid.latitudes, grid.longitudes
            dims = ("cell",)
        lat.setncatts({"standard_name": "latitude", "units": "degrees_north"})
        lon.setncatts({"standard_name": "longitude", "units": "degrees_east"})
        nc.setncatts({"grid": grid.resolution, "grid_kind": grid.kind})
        return dims

    def _horizontal_sizes(self) -> list[int]:
        return list(self.grid.field_shape)

    def _variable_attrs(self, param: str) -> dict[str, str]:
        attrs = {"units": ""}
        for meta in self.grid.variables_metadata.values():
            if meta.get("param") == param:
                attrs["units"] = str(meta.get("units", ""))
                break
        try:
            from wxai.vocab import get_variable

            var = get_variable(param)
            attrs["long_name"] = var.long_name
            if var.standard_name:
                attrs["standard_name"] = var.standard_name
        except Exception:  # a parameter outside the vocabulary keeps its name only
            attrs["long_name"] = param
        if len(self.horizontal) == 1:
            attrs["coordinates"] = "latitude longitude"
        return attrs

    def write(self, step: ForecastStep) -> None:
        k = self._count
        hours = (step.valid_time - self.init_time) / np.timedelta64(1, "h")
        self._nc["time"][k] = hours
        self._nc["forecast_period"][k] = hours
        shape = tuple(self.grid.field_shape)
        for param, entries in self.groups.items():
            rows = step.fields[:, [i for i, _ in entries]]  # (M, L, N)
            rows = rows.reshape(rows.shape[0], rows.shape[1], *shape)
            if entries[0][1] is None:
                rows = rows[:, 0]
            else:
                order = [self.levels.index(lev) for _, lev in entries]
                full = np.full((rows.shape[0], len(self.levels), *shape), np.nan, np.float32)
                full[:, order] = rows
                rows = full
            self.vars[param][k] = rows if self.members > 1 else rows[0]
        self._count += 1
        self._nc.sync()

    def _close_handle(self) -> None:
        self._nc.close()


class GribForecastWriter(_PartialFile):
    """GRIB2 messages appended step by step (one per variable, level, member and step)."""

    def __init__(
        self,
        path: str | Path,
        grid: DataGrid,
        prognostic: list[str],
        *,
        init_time: np.datetime64,
        members: int,
        bits_per_value: int = 16,
    ) -> None:
        from wxai.data.formats.grib import UnstructuredGrid

        self.path = Path(path)
        self.grid = grid
        self.groups = _groups(grid, prognostic)
        self.members = members
        self.init_time = np.datetime64(init_time, "s")
        self.bits = bits_per_value
        self.level_types = {}
        for name in prognostic:
            meta = grid.variables_metadata.get(name, {})
            self.level_types[str(meta.get("param", name))] = _GRIB_LEVEL_TYPES.get(
                str(meta.get("levtype"))
            )
        self.unstructured = None
        if grid.kind == "unstructured":
            # numberOfGridUsed 0: a wxai grid, not one of DWD's numbered ICON grids
            self.unstructured = UnstructuredGrid(0, 1, grid.grid_uuid)
        self._file: BinaryIO = _partial(self.path).open("wb")

    def _coords(self) -> dict[str, Any]:
        grid = self.grid
        if self.unstructured is not None:
            return {}
        n_lat, n_lon = grid.field_shape
        return {
            "latitude": grid.latitudes.reshape(n_lat, n_lon)[:, 0],
            "longitude": grid.longitudes.reshape(n_lat, n_lon)[0],
        }

    def write(self, step: ForecastStep) -> None:
        from wxai.data.formats.grib import append_grib

        horiz = ("cell",) if self.unstructured is not None else ("latitude", "longitude")
        shape = tuple(self.grid.field_shape)
        lead = (step.valid_time - self.init_time).astype("timedelta64[s]")
        for param, entries in self.groups.items():
            rows = step.fields[:, [i for i, _ in entries]]
            rows = rows.reshape(rows.shape[0], rows.shape[1], *shape)
            dims: tuple[str, ...] = ("member", "level", *horiz)
            coords: dict[str, Any] = {
                **self._coords(),
                "member": np.arange(rows.shape[0]),
                "init_time": self.init_time,
                "lead_time": lead,
            }
            if entries[0][1] is None:
                rows, dims = rows[:, 0], ("member", *horiz)
            else:
                coords["level"] = [float(lev) for _, lev in entries]
            da = xr.DataArray(rows, dims=dims, coords=coords, name=param)
            if self.members == 1:
                da = da.isel(member=0, drop=True)
            append_grib(
                da.to_dataset(),
                self._file,
                bits_per_value=self.bits,
                type_of_level=self.level_types.get(param),
                grid=self.unstructured,
            )
        self._file.flush()

    def _close_handle(self) -> None:
        self._file.close()


def open_writer(
    path: str | Path,
    grid: DataGrid,
    prognostic: list[str],
    *,
    init_time: np.datetime64,
    members: int,
    attrs: dict[str, str] | None = None,
) -> ForecastWriter:
    """The writer for ``path``'s suffix: ``.nc`` -> NetCDF, ``.grib2`` or ``.grib`` -> GRIB2."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".nc", ".nc4", ".netcdf"):
        return NetCDFForecastWriter(
            path, grid, prognostic, init_time=init_time, members=members, attrs=attrs or {}
        )
    if suffix in (".grib2", ".grib", ".grb2", ".grb"):
        return GribForecastWriter(path, grid, prognostic, init_time=init_time, members=members)
    raise ConfigError(f"--out {path}: the suffix must be .nc or .grib2 (got {suffix or 'none'})")


def created_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
