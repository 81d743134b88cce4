"""Quick-look PNG of a GRIB, NetCDF or ODIM_H5 file (``wxai data plot``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.data.formats import sniff_format
from wxai.data.formats._common import atomic_path, existing_file

__all__ = ["plot_file"]

_LAT = ("latitude", "lat")
_LON = ("longitude", "lon")


def _first(da: xr.DataArray) -> xr.DataArray:
    """The first time/step/level/member of ``da``, keeping horizontal dims."""
    horizontal = set()
    for n in (*_LAT, *_LON):
        if n in da.coords:
            horizontal |= set(da.coords[n].dims)
    extra = {d: 0 for d in da.dims if d not in horizontal}
    return da.isel(extra) if extra else da


def _extent(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float, float, float] | None:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    lon = np.where(lon > 180, lon - 360, lon)
    lo0, lo1 = float(np.nanmin(lon)), float(np.nanmax(lon))
    la0, la1 = float(np.nanmin(lat)), float(np.nanmax(lat))
    if lo1 - lo0 > 300 and la1 - la0 > 120:
        return None  # global
    return (max(lo0, -180.0), min(lo1, 180.0), max(la0, -90.0), min(la1, 90.0))


def plot_file(
    path: str | os.PathLike,
    var: str | None = None,
    *,
    projection: str = "PlateCarree",
    out: str | os.PathLike | None = None,
    level: float | None = None,
    level_type: str | None = None,
) -> Path:
    """Draw one field of a weather data file on a map and save it as PNG.

    Parameters
    ----------
    path:
        A GRIB, NetCDF or ODIM_H5 file (detected from its content).
    var:
        Variable to draw; default the first data variable (ODIM: the file's field).
        GRIB: the name in the file (``t2m``), the shortName (``2t``) or a
        canonical name with its level (``z500``).
    projection:
        One of :data:`wxai.viz.maps.PROJECTIONS`.
    out:
        Output PNG; default ``path`` with suffix ``.png`` next to the input.
    level:
        Vertical level to draw (hPa, m or model level, as in the file); default
        the first.
    level_type:
        GRIB only: the ecCodes ``typeOfLevel`` of the variable to draw
        (``hybrid``, ``isobaricInhPa``) when it is on several.

    Returns
    -------
    pathlib.Path of the written PNG (written atomically).

    Raises
    ------
    UnknownNameError
        For a ``var`` not in the file or an unknown projection.
    DataFormatError
        For an unreadable file or an unsupported format (Zarr stores).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from wxai.viz.maps import PROJECTIONS, make_map

    if projection not in PROJECTIONS:
        raise UnknownNameError("projection", projection, PROJECTIONS)
    src = existing_file(path)
    fmt = sniff_format(src)
    out_path = Path(out) if out is not None else src.with_suffix(".png")
    if fmt == "odim":
        from wxai.data.formats.odim import read_odim
        from wxai.viz.radar import plot_radar

        da = read_odim(src)
        fig, ax = make_map(projection, _extent(da["lon"].values, da["lat"].values))
        plot_radar(ax, da)
    else:
        if fmt == "grib":
            from wxai.data.formats.grib import grib_variable, read_grib

            # headers only; just the field drawn is decoded
            selected = grib_variable(
                read_grib(src, lazy=True), var, level=level, level_type=level_type
            )
            ds = selected.to_dataset(name=str(selected.name))
            var = str(selected.name)
        elif fmt == "netcdf":
            from wxai.data.formats.netcdf import read_netcdf

            ds = read_netcdf(src)
        else:
            raise ConfigError(f"{src}: cannot plot a {fmt} store; open it with xarray instead")
        names = [str(n) for n in ds.data_vars]
        if not names:
            raise ConfigError(f"{src}: no data variables to plot")
        name = var or names[0]
        if name not in ds.data_vars:
            raise UnknownNameError("variable", name, names)
        da = ds[name]
        if level is not None and fmt != "grib":
            vertical = next((d for d in da.dims if d in ("level", "plev", "lev")), None)
            if vertical is None:
                raise ConfigError(f"{src}: {name!r} has no vertical dimension to select from")
            da = da.sel({vertical: level})
        da = _first(da).load()
        lat = next((da.coords[n] for n in _LAT if n in da.coords), None)
        lon = next((da.coords[n] for n in _LON if n in da.coords), None)
        if lat is None or lon is None:
            raise ConfigError(f"{src}: variable {name!r} has no latitude/longitude coordinates")
        from wxai.viz.fields import plot_field

        fig, ax = make_map(projection, _extent(lon.values, lat.values))
        plot_field(ax, da, kind="pcolormesh")
    when = next((da.coords[n] for n in ("valid_time", "time") if n in da.coords), None)
    title = f"{src.name}: {da.name}"
    if when is not None and when.size == 1:
        title += f"  {np.datetime_as_string(when.values, unit='m')}"
    ax.set_title(title, fontsize=9)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return out_path
