"""SYNOP surface reports from BUFR-derived NetCDF files.

DWD converts SYNOP BUFR messages into NetCDF files with one record per report
(dimension usually ``BUFR_records``) and one variable per BUFR element, named
by its DWD mnemonic (``MLAH`` latitude, ``MLOH`` longitude, ``MTDBT``
temperature, ...). :func:`read_synop` turns such a file into an
:class:`xarray.Dataset` with dimension ``report`` and canonical variable names.

Supported variables (:data:`SYNOP_VARIABLES`; the first name found wins)
-----------------------------------------------------------------------
========== ======================== ================ =================================
canonical  source names             units            meaning
========== ======================== ================ =================================
lat        MLAH, MLALA              degrees_north    latitude (high / coarse accuracy)
lon        MLOH, MLOLO              degrees_east     longitude, wrapped to [-180, 180)
height     MHOSNN, MHP              m                station height above MSL
t2m        MTDBT, MTTT              K                temperature / dry-bulb temperature
td2m       MTDNH, MTDTD             K                dew-point temperature
rh2m       MUUU                     %                relative humidity
ps         MPPP                     Pa               station pressure
msl        MPPPP                    Pa               pressure reduced to mean sea level
wind_dir   NDNDN                    degree           wind direction (from, true north)
wind_speed NFNFN                    m s-1            wind speed
========== ======================== ================ =================================

Station identity: ``station_id`` from ``YSSOSN`` (short station or site name,
characters) or, failing that, ``MII``/``NIII`` (WMO block and station number,
giving ``"BBSSS"``); ``station_name`` from ``YSOSN`` or ``STATION_NAME``.

Time: ``MJJJ`` (year), ``MMM`` (month), ``MYY`` (day), ``MGG`` (hour), ``NGG``
(minute, optional); or a CF ``time`` variable (``"<unit> since <date>"``).
Reports with any missing date element get ``NaT``.

Derived: ``u10m``/``v10m`` (m s-1) from direction and speed where both exist.

Missing values stay NaN (never 0 or 9999): ``_FillValue``, ``missing_value``,
the NetCDF default fill, BUFR missing integers and huge float sentinels.
Temperatures given in degrees Celsius and pressures in hPa are converted to
K and Pa; each variable records its source name and units in its attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from wxai.core.errors import DataFormatError
from wxai.data.obs._netcdf import open_netcdf, read_float, read_strings, units_of

__all__ = ["SYNOP_VARIABLES", "SynopVariable", "read_synop"]


@dataclass(frozen=True)
class SynopVariable:
    """One row of the SYNOP variable table.

    Attributes
    ----------
    name:
        Canonical name in the returned dataset.
    sources:
        Variable names looked up in the file, in order of preference.
    units:
        Units of the returned values (CF/UDUNITS spelling).
    long_name:
        Description written to the ``long_name`` attribute.
    """

    name: str
    sources: tuple[str, ...]
    units: str
    long_name: str


SYNOP_VARIABLES: tuple[SynopVariable, ...] = (
    SynopVariable("lat", ("MLAH", "MLALA"), "degrees_north", "latitude"),
    SynopVariable("lon", ("MLOH", "MLOLO"), "degrees_east", "longitude"),
    SynopVariable("height", ("MHOSNN", "MHP"), "m", "station height above mean sea level"),
    SynopVariable("t2m", ("MTDBT", "MTTT"), "K", "2 m (dry-bulb) temperature"),
    SynopVariable("td2m", ("MTDNH", "MTDTD"), "K", "2 m dew-point temperature"),
    SynopVariable("rh2m", ("MUUU",), "%", "2 m relative humidity"),
    SynopVariable("ps", ("MPPP",), "Pa", "station pressure"),
    SynopVariable("msl", ("MPPPP",), "Pa", "pressure reduced to mean sea level"),
    SynopVariable("wind_dir", ("NDNDN",), "degree", "wind direction (from, true north)"),
    SynopVariable("wind_speed", ("NFNFN",), "m s-1", "wind speed"),
)

_TIME_PARTS = ("MJJJ", "MMM", "MYY", "MGG")
_CELSIUS = {"C", "DEGC", "DEG_C", "CELSIUS", "DEGREE_CELSIUS", "°C"}
_HPA = {"HPA", "MBAR", "MB"}


def _convert(values: np.ndarray, units: str, target: str) -> np.ndarray:
    """Convert Celsius to K and hPa to Pa where the source says so."""
    key = units.strip().upper().replace(" ", "_")
    if target == "K" and key in _CELSIUS:
        return values + 273.15
    if target == "Pa" and key in _HPA:
        return values * 100.0
    return values


def _report_dim(nc: netCDF4.Dataset, path: Path) -> str:
    for row in SYNOP_VARIABLES[:2]:
        for src in row.sources:
            if src in nc.variables:
                dims = nc.variables[src].dimensions
                if len(dims) != 1:
                    raise DataFormatError(
                        f"SYNOP file {path}: {src} has dimensions {dims}; expected one "
                        "report dimension"
                    )
                return dims[0]
    raise DataFormatError(
        f"SYNOP file {path} has no latitude variable (MLAH or MLALA); found: "
        f"{', '.join(sorted(nc.variables)) or 'no variables'}. Is it a SYNOP NetCDF file?"
    )


def _times(nc: netCDF4.Dataset, dim: str, n: int) -> np.ndarray | None:
    if all(name in nc.variables for name in _TIME_PARTS):
        year, month, day, hour = (read_float(nc.variables[v]) for v in _TIME_PARTS)
        minute = read_float(nc.variables["NGG"]) if "NGG" in nc.variables else np.zeros(n)
        parts = np.stack([year, month, day, hour, minute])
        bad = (
            np.isnan(parts).any(axis=0)
            | (month < 1)
            | (month > 12)
            | (day < 1)
            | (day > 31)
            | (hour < 0)
            | (hour > 24)
            | (minute < 0)
            | (minute > 59)
        )
        p = np.where(bad, 0, parts).astype(np.int64)
        months = ((p[0] - 1970) * 12 + np.where(bad, 0, p[1] - 1)).astype("datetime64[M]")
        out = (
            months.astype("datetime64[D]").astype("datetime64[ns]")
            + (np.where(bad, 0, p[2] - 1) * 86400 + p[3] * 3600 + p[4] * 60).astype(
                "timedelta64[s]"
            )
        ).astype("datetime64[ns]")
        out[bad] = np.datetime64("NaT")
        return out
    var = nc.variables.get("time")
    if var is not None and var.dimensions == (dim,) and "since" in units_of(var):
        values = read_float(var)
        out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = ~np.isnan(values)
        if ok.any():
            dates = netCDF4.num2date(
                values[ok],
                units_of(var),
                calendar=var.getncattr("calendar") if "calendar" in var.ncattrs() else "standard",
                only_use_cftime_datetimes=False,
                only_use_python_datetimes=True,
            )
            out[ok] = np.asarray(dates, dtype="datetime64[ns]")
        return out
    return None


def _station_ids(nc: netCDF4.Dataset, dim: str, n: int) -> np.ndarray | None:
    for name in ("YSSOSN", "STATION_ID", "statid"):
        var = nc.variables.get(name)
        if var is not None and var.dimensions[:1] == (dim,):
            return read_strings(var)
    if "MII" in nc.variables and "NIII" in nc.variables:
        block, number = read_float(nc.variables["MII"]), read_float(nc.variables["NIII"])
        ok = ~(np.isnan(block) | np.isnan(number))
        ids = np.full(n, "", dtype=object)
        ids[ok] = [f"{int(b):02d}{int(s):03d}" for b, s in zip(block[ok], number[ok], strict=True)]
        return ids.astype(str)
    return None


def read_synop(path: str | Path) -> xr.Dataset:
    """Read a BUFR-derived SYNOP NetCDF file.

    Parameters
    ----------
    path:
        NetCDF file with one record per report (see the module docstring for the
        variable names understood).

    Returns
    -------
    xarray.Dataset
        Dimension ``report`` (n_reports). Coordinates ``lat`` (degrees_north),
        ``lon`` (degrees_east, in [-180, 180)), ``time`` (datetime64[ns], NaT where
        unknown), ``station_id`` and ``station_name`` where present. Data variables
        from :data:`SYNOP_VARIABLES` that exist in the file, float64 with NaN for
        missing, plus ``u10m``/``v10m`` when wind direction and speed exist. Each
        variable's attrs hold ``units``, ``long_name``, ``source_name`` and
        ``source_units``. Global attrs hold ``source_file``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataFormatError
        The file is corrupt, truncated or has no latitude/longitude variables.
    """
    path = Path(path)
    with open_netcdf(path, "SYNOP") as nc:
        dim = _report_dim(nc, path)
        n = len(nc.dimensions[dim])
        data: dict[str, tuple[str, np.ndarray, dict[str, str]]] = {}
        for row in SYNOP_VARIABLES:
            src = next((s for s in row.sources if s in nc.variables), None)
            if src is None:
                continue
            var = nc.variables[src]
            if var.dimensions != (dim,):
                continue
            values = _convert(read_float(var), units_of(var), row.units)
            attrs = {
                "units": row.units,
                "long_name": row.long_name,
                "source_name": src,
                "source_units": units_of(var),
            }
            data[row.name] = ("report", values, attrs)
        if "lon" not in data:
            raise DataFormatError(
                f"SYNOP file {path} has no longitude variable (MLOH or MLOLO) on dimension {dim!r}"
            )
        lon = data["lon"][1]
        data["lon"] = ("report", (lon + 180.0) % 360.0 - 180.0, data["lon"][2])
        times = _times(nc, dim, n)
        ids = _station_ids(nc, dim, n)
        names = None
        for name in ("YSOSN", "STATION_NAME"):
            if name in nc.variables and nc.variables[name].dimensions[:1] == (dim,):
                names = read_strings(nc.variables[name])
                break
        title = str(nc.getncattr("title")) if "title" in nc.ncattrs() else ""

    coords: dict[str, tuple[str, np.ndarray, dict[str, str]]] = {
        "lat": data.pop("lat"),
        "lon": data.pop("lon"),
    }
    if times is not None:
        coords["time"] = ("report", times, {"long_name": "observation time"})
    if ids is not None:
        coords["station_id"] = ("report", ids, {"long_name": "station identifier"})
    if names is not None:
        coords["station_name"] = ("report", names, {"long_name": "station name"})
    if "wind_dir" in data and "wind_speed" in data:
        rad = np.deg2rad(data["wind_dir"][1])
        speed = data["wind_speed"][1]
        wind = {"units": "m s-1", "source_name": "NDNDN,NFNFN"}
        data["u10m"] = ("report", -speed * np.sin(rad), {**wind, "long_name": "10 m u wind"})
        data["v10m"] = ("report", -speed * np.cos(rad), {**wind, "long_name": "10 m v wind"})
    ds = xr.Dataset(data_vars=data, coords=coords)
    ds.attrs = {"source_file": str(path), "source_dimension": dim, "source_title": title}
    return ds
