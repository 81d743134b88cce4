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

__all__ = ["find_variable", "open_fields"]


def find_variable(ds: xr.Dataset, name: str, where: str = "the file") -> xr.DataArray:
    """The data variable of canonical ``name``: by name, CF standard name or source name.

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
        for key, da in ds.data_vars.items():
            standard = da.attrs.get("standard_name")
            if (standard and standard == var.standard_name and da.ndim > 1) or str(
                key
            ).upper() in names:
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
