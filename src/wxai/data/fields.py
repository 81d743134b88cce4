"""Model fields from any GRIB or NetCDF file, found by their canonical names.

:func:`open_fields` reads a GRIB file (all its hypercubes merged into one dataset) or
a NetCDF file; :func:`find_variable` picks a variable by its canonical
:mod:`wxai.vocab` name, its CF standard name or a source's name (IFS short name,
ICON name), so products and forecasts start from whatever a weather service writes.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError
from wxai.data.formats import sniff_format

__all__ = ["find_variable", "on_time_lat_lon", "open_fields"]


def find_variable(ds: xr.Dataset, name: str, where: str = "the file") -> xr.DataArray:
    """The data variable of canonical ``name``: by name, CF standard name, source name or
    GRIB ``paramId`` (cfgrib's own short names, such as ``fg10`` for gusts, then match).

    Raises
    ------
    ConfigError
        No variable matches; the message lists what ``ds`` holds.
    """
    from wxai.vocab import get_variable

    if name in ds.data_vars:
        return ds[name]
    try:
        var = get_variable(name)
    except UnknownNameError:
        var = None
    if var is not None:
        names = {s.name.upper() for s in var.sources.values()}
        param_ids = {s.param_id for s in var.sources.values() if s.param_id is not None}
        for key, da in ds.data_vars.items():
            standard = da.attrs.get("standard_name")
            if (
                (standard and standard == var.standard_name and da.ndim > 1)
                or str(key).upper() in names
                or da.attrs.get("GRIB_paramId") in param_ids
            ):
                return da
    raise ConfigError(
        f"{where} has no variable {name!r} (looked for it by name, CF standard name and "
        f"source names); it has {sorted(map(str, ds.data_vars))}"
    )


def open_fields(path: str | Path, *, single_lead: bool = False) -> xr.Dataset:
    """A GRIB or NetCDF file as one dataset (GRIB hypercubes merged).

    Parameters
    ----------
    single_lead:
        A GRIB forecast must hold one lead time (an analysis or one step); the
        ``lead_time`` dimension is then dropped.

    Raises
    ------
    DataFormatError
        Neither GRIB nor NetCDF, or several lead times where one is needed.
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "grib":
        from wxai.data.formats.grib import read_grib

        tree = read_grib(path)
        nodes = [n.to_dataset(inherit=False) for n in tree.subtree if n.has_data]
        keep = {"init_time", "valid_time", "time", "latitude", "longitude", "lead_time"}
        ds = xr.merge(
            [n.drop_vars([c for c in n.coords if c not in {*n.dims, *keep}]) for n in nodes],
            compat="override",
            join="outer",
        )
        if single_lead and "lead_time" in ds.dims:
            if ds.sizes["lead_time"] > 1:
                raise DataFormatError(
                    f"{path}: a forecast with {ds.sizes['lead_time']} lead times; "
                    "start from an analysis (one lead time)"
                )
            ds = ds.squeeze("lead_time")
        return ds
    if fmt == "netcdf":
        from wxai.data.formats.netcdf import read_netcdf

        return read_netcdf(path)
    raise DataFormatError(f"{path}: expected a GRIB or NetCDF file, found {fmt}")


def on_time_lat_lon(da: xr.DataArray, name: str) -> xr.DataArray:
    """``da`` on (time, latitude, longitude), or (latitude, longitude) without times.

    A forecast's (init_time, lead_time) or lead_time become valid times, and a field of
    one step (scalar times) gets a time axis of length 1; ``lat``/``lon`` are renamed;
    other dimensions must have length 1.

    Raises
    ------
    DataFormatError
        Not on a regular latitude/longitude grid, or several levels or members.
    """
    renames = {d: n for d, n in (("lat", "latitude"), ("lon", "longitude")) if d in da.dims}
    da = da.rename(renames)
    scalar_times = [c for c in ("init_time", "lead_time", "time", "valid_time") if _scalar(da, c)]
    if "init_time" in da.dims and "lead_time" in da.dims:
        da = da.stack(time=("init_time", "lead_time"))
        valid = da["init_time"].values + da["lead_time"].values
        da = da.drop_vars(["time", "init_time", "lead_time"]).assign_coords(time=valid)
    elif "lead_time" in da.dims:
        start = next((da[c].values for c in ("init_time", "time") if _scalar(da, c)), None)
        if start is None:
            raise DataFormatError(f"{name}: lead times without one initial time")
        valid = start + da["lead_time"].values
        da = da.drop_vars(scalar_times).rename(lead_time="time").assign_coords(time=valid)
    elif "valid_time" in da.dims:
        da = da.drop_vars([c for c in scalar_times if c == "time"]).rename(valid_time="time")
    elif "time" not in da.dims and scalar_times:
        if "valid_time" in scalar_times:
            valid = da["valid_time"].values
        elif {"init_time", "lead_time"} <= set(scalar_times):
            valid = da["init_time"].values + da["lead_time"].values
        else:
            valid = da[scalar_times[-1]].values
        da = da.drop_vars(scalar_times).expand_dims(time=[valid])
    extra = [d for d in da.dims if d not in ("time", "latitude", "longitude")]
    for dim in extra:
        if da.sizes[dim] != 1:
            raise DataFormatError(
                f"{name} has a dimension {dim!r} of size {da.sizes[dim]}; select one "
                "level or member first: single-level fields on (time, latitude, longitude)"
            )
        da = da.squeeze(dim, drop=True)
    if "latitude" not in da.dims or "longitude" not in da.dims:
        raise DataFormatError(
            f"{name} is not on a regular latitude/longitude grid (dims {da.dims}); "
            "regrid it first (e.g. `wxai data regrid`)"
        )
    return da


def _scalar(da: xr.DataArray, name: str) -> bool:
    """Whether ``da`` has a scalar (0-d) coordinate ``name``."""
    return name in da.coords and da.coords[name].ndim == 0
