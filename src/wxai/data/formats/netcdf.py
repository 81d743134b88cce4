"""CF-conventions NetCDF: writer with vocabulary attributes, reader with clear errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from wxai.core.errors import DataFormatError, UnknownNameError
from wxai.data.formats._common import atomic_path, existing_file, too_large
from wxai.vocab import get_variable

__all__ = ["CONVENTIONS", "read_netcdf", "write_netcdf"]

CONVENTIONS = "CF-1.10"
Engine = Literal["netcdf4", "h5netcdf"]

_COORD_ATTRS: dict[str, dict[str, str]] = {
    "latitude": {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"},
    "longitude": {"units": "degrees_east", "standard_name": "longitude", "axis": "X"},
    "lat": {"units": "degrees_north", "standard_name": "latitude"},
    "lon": {"units": "degrees_east", "standard_name": "longitude"},
    "time": {"standard_name": "time", "axis": "T"},
    "valid_time": {"standard_name": "time", "long_name": "validity time"},
    "init_time": {"standard_name": "forecast_reference_time"},
    "lead_time": {"standard_name": "forecast_period"},
    "level": {"axis": "Z"},
}
_TIME_UNITS = "seconds since 1970-01-01 00:00:00"


def _fill_value(dtype: np.dtype) -> Any:
    import netCDF4

    return netCDF4.default_fillvals[f"{dtype.kind}{dtype.itemsize}"]


def cf_dataset(
    ds: xr.Dataset, *, complevel: int = 4, engine: Engine = "netcdf4"
) -> tuple[xr.Dataset, dict[str, dict[str, Any]]]:
    """A copy of ``ds`` with CF attributes, and the encoding to write it with.

    Data variables named canonically (see :mod:`wxai.vocab`) get ``units``,
    ``long_name`` and ``standard_name`` where missing; coordinates named
    ``latitude``/``longitude``/``time``/``level``/... get units, standard
    names and ``axis``.
    """
    out = ds.copy()
    out.attrs = {**ds.attrs, "Conventions": CONVENTIONS}
    encoding: dict[str, dict[str, Any]] = {}
    for name, coord in out.coords.items():
        attrs = {k: v for k, v in _COORD_ATTRS.get(str(name), {}).items() if k not in coord.attrs}
        coord.attrs.update(attrs)
        if np.issubdtype(coord.dtype, np.datetime64):
            encoding[str(name)] = {
                "units": _TIME_UNITS,
                "calendar": "proleptic_gregorian",
                "dtype": "int64",
            }
        elif np.issubdtype(coord.dtype, np.timedelta64):
            encoding[str(name)] = {"units": "seconds", "dtype": "int64"}
    for name, da in out.data_vars.items():
        try:
            var = get_variable(str(name))
        except UnknownNameError:
            var = None
        if var is not None:
            da.attrs.setdefault("units", var.units)
            da.attrs.setdefault("long_name", var.long_name)
            if var.standard_name:
                da.attrs.setdefault("standard_name", var.standard_name)
        enc: dict[str, Any] = {}
        if da.dtype.kind in "fiu" and complevel:
            if engine == "h5netcdf":
                enc.update(compression="gzip", compression_opts=complevel, shuffle=True)
            else:
                enc.update(zlib=True, complevel=complevel, shuffle=True)
        if da.dtype.kind == "f":
            enc["_FillValue"] = _fill_value(da.dtype)
        encoding[str(name)] = enc
    return out, encoding


def write_netcdf(
    ds: xr.Dataset | xr.DataArray,
    path: str | os.PathLike,
    *,
    engine: Engine = "netcdf4",
    complevel: int = 4,
) -> Path:
    """Write a CF-1.10 NetCDF4 file atomically.

    Parameters
    ----------
    ds:
        Dataset (a DataArray is wrapped, keeping its name). Times are
        encoded as int64 seconds since 1970-01-01 (exact), lead times as
        int64 seconds; float variables get the netCDF default ``_FillValue``
        (NaN is written as fill and read back as NaN) and zlib compression.
    path:
        Output file.
    engine:
        ``"netcdf4"`` or ``"h5netcdf"``.
    complevel:
        zlib level 1-9 (0 disables compression).

    Returns
    -------
    Path
        ``path``.
    """
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "data")
    out, encoding = cf_dataset(ds, complevel=complevel, engine=engine)
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, engine=engine, encoding=encoding, format="NETCDF4")
    return Path(path)


def read_netcdf(
    path: str | os.PathLike,
    *,
    engine: Engine = "netcdf4",
    chunks: dict[str, int] | None = None,
    lazy: bool = False,
) -> xr.Dataset:
    """Read a NetCDF file into xarray.

    Parameters
    ----------
    path:
        NetCDF3 or NetCDF4 file.
    engine:
        ``"netcdf4"`` or ``"h5netcdf"`` (NetCDF4/HDF5 only).
    chunks:
        Dask chunks for a lazy dataset; None loads everything into memory
        unless ``lazy``.
    lazy:
        With ``chunks=None``: keep the file open and read values when they are
        indexed (xarray's lazy backend arrays, no dask), so ``isel`` then
        ``.values`` reads only the selection.

    Raises
    ------
    DataFormatError
        If the file is not NetCDF, truncated or otherwise unreadable.
    DataTooLargeError
        A :class:`MemoryError` naming the file, when its data do not fit in
        memory; read it lazily with ``chunks`` instead.
    """
    p = existing_file(path)
    try:
        ds = xr.open_dataset(p, engine=engine, chunks=chunks, decode_timedelta=True)
        if chunks is None and not lazy:
            ds = ds.load()
            ds.close()
    except MemoryError as exc:
        hint = "read it lazily, e.g. read_netcdf(path, chunks={'time': 1})"
        raise too_large(p, exc, lazy_hint=hint) from exc
    except Exception as exc:
        raise DataFormatError(
            f"{p}: not a readable NetCDF file ({type(exc).__name__}: {exc}); "
            "it may be truncated or in another format"
        ) from exc
    return ds
