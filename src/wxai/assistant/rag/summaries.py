"""Text summaries of weather data files, so that retrieval can find them too.

A NetCDF, GRIB or ODIM_H5 radar file is not text, but its metadata is: variables with their long
names and units, the grid, the levels, the time range. :func:`summarise_data_file`
writes that metadata as a few lines of English that the embedding model and BM25
can match against a question such as "where is the 2 m temperature forecast?";
:func:`describe_data_file` returns it as data (for the chat's data-file tools).
Values are never read: NetCDF is opened lazily (only coordinates are loaded), GRIB
through its message headers (:func:`wxai.data.formats.grib.list_messages`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from wxai.core.errors import DataFormatError

__all__ = [
    "DATA_SUFFIXES",
    "GRIB_SUFFIXES",
    "NETCDF_SUFFIXES",
    "ODIM_SUFFIXES",
    "describe_data_file",
    "summarise_data_file",
]

NETCDF_SUFFIXES = frozenset({".nc", ".nc4", ".netcdf", ".cdf"})
GRIB_SUFFIXES = frozenset({".grib", ".grib1", ".grib2", ".grb", ".grb2"})
ODIM_SUFFIXES = frozenset({".h5", ".hdf5", ".hdf"})
"""Radar composites in ODIM_H5 (single-field, ``dataset1/data1``)."""
DATA_SUFFIXES = NETCDF_SUFFIXES | GRIB_SUFFIXES | ODIM_SUFFIXES

_GLOBAL_ATTRS = ("title", "summary", "institution", "source", "references", "comment")
_MAX_VALUES = 12


def summarise_data_file(path: Path) -> str:
    """A plain-text summary of a NetCDF or GRIB file's metadata.

    Parameters
    ----------
    path:
        A file whose suffix is in :data:`DATA_SUFFIXES`.

    Returns
    -------
    str
        Lines such as ``"Variable t2m: 2 metre temperature [K], dims (time, latitude,
        longitude)"`` and ``"Time: 2024-01-01T00 to 2024-01-02T00 (5 steps)"``.

    Raises
    ------
    DataFormatError
        If the file cannot be read as its suffix says (corrupt, truncated, other format).
    """
    suffix = path.suffix.lower()
    if suffix in GRIB_SUFFIXES:
        return _summarise_grib(path)
    if suffix in NETCDF_SUFFIXES:
        return _summarise_netcdf(path)
    if suffix in ODIM_SUFFIXES:
        return _summarise_odim(path)
    raise DataFormatError(
        f"{path}: not a NetCDF, GRIB or ODIM_H5 file name ({sorted(DATA_SUFFIXES)})"
    )


def _summarise_odim(path: Path) -> str:
    info = _describe_odim(path)
    ((name, var),) = info["variables"].items()
    grid = info["grid"]
    return "\n".join([
        f"File {path.name}: ODIM_H5 radar composite from {info['source'] or 'an unnamed source'}",
        f"Variable {name}: {var['long_name']} [{var['units']}], "
        f"{grid['dims']['y']} x {grid['dims']['x']} pixels",
        f"Area: latitude {grid['latitude'][0]:.2f} to {grid['latitude'][1]:.2f}, "
        f"longitude {grid['longitude'][0]:.2f} to {grid['longitude'][1]:.2f}",
        f"Time: {info['times']['first']}",
    ])  # fmt: skip


def _describe_odim(path: Path) -> dict[str, Any]:
    """Quantity, grid and time of an ODIM_H5 composite (its ``dataset1/data1``)."""
    from wxai.data.formats.odim import read_odim

    field = read_odim(path)
    quantity = str(field.attrs.get("quantity", ""))
    product = str(field.attrs.get("product", ""))
    long_name = f"radar {quantity}" + (f" ({product})" if product else "")
    lat, lon = field["lat"].values, field["lon"].values
    stamp = str(np.datetime_as_string(field["time"].values, unit="m"))
    return {
        "format": "odim",
        "source": str(field.attrs.get("source", "")),
        "variables": {
            str(field.name): {
                "units": str(field.attrs.get("units", "")),
                "long_name": long_name,
                "dims": [str(d) for d in field.dims],
                "quantity": quantity,
            }
        },
        "grid": {
            "dims": {str(k): int(v) for k, v in field.sizes.items()},
            "latitude": [float(np.nanmin(lat)), float(np.nanmax(lat))],
            "longitude": [float(np.nanmin(lon)), float(np.nanmax(lon))],
        },
        "times": {"first": stamp, "last": stamp, "count": 1},
    }


def _fmt_value(value: Any) -> str:
    if isinstance(value, np.datetime64):
        return np.datetime_as_string(value, unit="m")
    if isinstance(value, np.timedelta64):
        hours = value / np.timedelta64(1, "h")
        return f"{hours:g} h"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def _fmt_values(values: np.ndarray) -> str:
    values = np.asarray(values).ravel()
    if values.size == 0:
        return "none"
    if values.size <= _MAX_VALUES:
        return ", ".join(_fmt_value(v) for v in values)
    return (
        f"{_fmt_value(values.min())} to {_fmt_value(values.max())} ({values.size} values)"
        if values.dtype.kind in "fiuMm"
        else f"{_fmt_value(values[0])} ... {_fmt_value(values[-1])} ({values.size} values)"
    )


def _summarise_netcdf(path: Path) -> str:
    from wxai.data.formats.netcdf import read_netcdf

    ds = read_netcdf(path, chunks={})
    try:
        lines = [f"NetCDF data file {path.name}."]
        for key in _GLOBAL_ATTRS:
            if key in ds.attrs:
                lines.append(f"{key.capitalize()}: {str(ds.attrs[key])[:300]}")
        dims = ", ".join(f"{name}={size}" for name, size in ds.sizes.items())
        lines.append(f"Dimensions: {dims}")
        for name, coord in ds.coords.items():
            units = coord.attrs.get("units")
            unit_text = f" [{units}]" if units and coord.dtype.kind not in "Mm" else ""
            lines.append(f"Coordinate {name}{unit_text}: {_fmt_values(coord.values)}")
        for name, da in ds.data_vars.items():
            long_name = da.attrs.get("long_name") or da.attrs.get("standard_name") or ""
            units = da.attrs.get("units", "")
            desc = f"Variable {name}"
            if long_name:
                desc += f": {long_name}"
            if units:
                desc += f" [{units}]"
            if da.attrs.get("standard_name") and da.attrs.get("standard_name") != long_name:
                desc += f", standard name {da.attrs['standard_name']}"
            desc += f", dims ({', '.join(map(str, da.dims))})"
            lines.append(desc)
        return "\n".join(lines)
    finally:
        ds.close()


def _grib_date(date: Any, time: Any) -> str:
    d, t = int(date), int(time)
    return f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}T{t // 100:02d}:{t % 100:02d}"


def _summarise_grib(path: Path) -> str:
    from wxai.data.formats.grib import list_messages

    messages = list_messages(path)
    lines = [f"GRIB data file {path.name}: {len(messages)} messages."]
    params: dict[tuple[str, str, str, str], dict[str, set]] = defaultdict(
        lambda: {"levels": set(), "steps": set()}
    )
    dates: set[str] = set()
    grids: set[str] = set()
    editions: set[int] = set()
    for msg in messages:
        key = (
            str(msg.get("shortName", "?")),
            str(msg.get("name", "")),
            str(msg.get("units", "")),
            str(msg.get("typeOfLevel", "")),
        )
        if "level" in msg:
            params[key]["levels"].add(msg["level"])
        params[key]["steps"].add(str(msg.get("stepRange", msg.get("step", 0))))
        if "dataDate" in msg and "dataTime" in msg:
            dates.add(_grib_date(msg["dataDate"], msg["dataTime"]))
        grid = str(msg.get("gridType", "unknown grid"))
        if "Ni" in msg and "Nj" in msg:
            grid += f" {msg['Ni']} x {msg['Nj']} points (Ni x Nj)"
        elif "numberOfValues" in msg:
            grid += f" {msg['numberOfValues']} values"
        grids.add(grid)
        if "edition" in msg:
            editions.add(int(msg["edition"]))
    if editions:
        lines.append(f"GRIB edition: {', '.join(map(str, sorted(editions)))}")
    lines.append(f"Grid: {'; '.join(sorted(grids))}")
    if dates:
        ordered = sorted(dates)
        span = ordered[0] if len(ordered) == 1 else f"{ordered[0]} to {ordered[-1]}"
        lines.append(f"Reference time: {span} ({len(ordered)} dates)")
    for (short, name, units, level_type), info in params.items():
        desc = f"Variable {short}"
        if name:
            desc += f": {name}"
        if units:
            desc += f" [{units}]"
        if level_type:
            levels = sorted(info["levels"])
            desc += f", {level_type} levels {_fmt_values(np.array(levels))}" if levels else ""
        steps = sorted(info["steps"], key=lambda s: (len(s), s))
        desc += f", steps {', '.join(steps[:_MAX_VALUES])}"
        if len(steps) > _MAX_VALUES:
            desc += f" ... ({len(steps)} steps)"
        lines.append(desc)
    return "\n".join(lines)


def describe_data_file(path: Path) -> dict[str, Any]:
    """Variables (with units), grid and times of a NetCDF, GRIB or ODIM_H5 file, as JSON-ready
    data.

    Raises
    ------
    DataFormatError
        The file cannot be read as NetCDF, GRIB or ODIM_H5 (as its suffix says).
    """
    if path.suffix.lower() in ODIM_SUFFIXES:
        return _describe_odim(path)
    if path.suffix.lower() in GRIB_SUFFIXES:
        from wxai.data.formats.grib import list_messages

        messages = list_messages(path)
        variables: dict[str, dict[str, str]] = {}
        grids, times = set(), set()
        for msg in messages:
            short = str(msg.get("shortName", "?"))
            variables.setdefault(
                short, {"units": str(msg.get("units", "")), "long_name": str(msg.get("name", ""))}
            )
            if "Ni" in msg and "Nj" in msg:
                grids.add(f"{msg.get('gridType', 'grid')} {msg['Ni']}x{msg['Nj']}")
            if "dataDate" in msg:
                times.add(f"{int(msg['dataDate'])}T{int(msg.get('dataTime', 0)):04d}")
        ordered = sorted(times)
        return {
            "format": "grib",
            "messages": len(messages),
            "variables": variables,
            "grid": sorted(grids),
            "times": {
                "first": ordered[0] if ordered else None,
                "last": ordered[-1] if ordered else None,
                "count": len(ordered),
            },
        }
    from wxai.data.formats.netcdf import read_netcdf

    ds = read_netcdf(path, chunks={})
    try:
        variables = {
            str(name): {
                "units": str(da.attrs.get("units", "")),
                "long_name": str(da.attrs.get("long_name", "")),
                "dims": [str(d) for d in da.dims],
            }
            for name, da in ds.data_vars.items()
        }
        grid: dict[str, Any] = {"dims": {str(k): int(v) for k, v in ds.sizes.items()}}
        for name in ("latitude", "lat", "longitude", "lon"):
            if name in ds.coords and ds[name].size:
                values = ds[name].values
                grid[name] = [float(values.min()), float(values.max())]
        times: dict[str, Any] = {"count": 0}
        if "time" in ds.coords and ds["time"].size:
            values = [str(v)[:19] for v in np.atleast_1d(ds["time"].values)]  # may be scalar
            times = {"first": values[0], "last": values[-1], "count": len(values)}
        return {"format": "netcdf", "variables": variables, "grid": grid, "times": times}
    finally:
        ds.close()
