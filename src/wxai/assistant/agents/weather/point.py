"""Forecast values at a place: nearest grid point and bilinear, in units people use.

:func:`point_value` reads one field at a location two ways: the nearest grid
point (what the model says for that box) and bilinear interpolation between the
four surrounding points (xarray's ``interp``), and reports the distance from the
place to the nearest grid point (WGS84 geodesic, pyproj). :func:`for_people`
converts to degrees Celsius, km/h, millimetres, hectopascals and per cent.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import xarray as xr

from wxai.atmos import wind as atmos_wind
from wxai.core.errors import ConfigError, DataFormatError

__all__ = [
    "PointValue",
    "field_at_step",
    "field_for_people",
    "for_people",
    "point_value",
    "wind_speed_direction",
]


@dataclass(frozen=True)
class PointValue:
    """One variable at one place.

    Attributes
    ----------
    name:
        Canonical variable name (``t2m``) or a derived one (``wind_speed``).
    nearest, bilinear:
        The value at the nearest grid point and interpolated, in ``units``.
    units:
        Units of both values (``degC``, ``km/h``, ``mm``, ``hPa``, ``%``).
    grid_latitude, grid_longitude:
        The nearest grid point [degrees].
    distance_km:
        From the place to that grid point [km].
    """

    name: str
    nearest: float
    bilinear: float
    units: str
    grid_latitude: float
    grid_longitude: float
    distance_km: float


def _lon_like(da: xr.DataArray, lon: float) -> float:
    """``lon`` in the convention of the field's longitudes (0..360 or -180..180)."""
    lons = da["longitude"].values
    if lons.max() > 180.0 and lon < 0.0:
        return lon + 360.0
    if lons.min() < 0.0 and lon > 180.0:
        return lon - 360.0
    return lon


def _horizontal(da: xr.DataArray) -> xr.DataArray:
    for dim in ("latitude", "longitude"):
        if dim not in da.dims:
            raise DataFormatError(
                f"field {da.name!r} has no {dim!r} dimension (dims {da.dims}); "
                "point values need a regular latitude/longitude grid"
            )
    extra = [d for d in da.dims if d not in ("latitude", "longitude")]
    for dim in extra:
        if da.sizes[dim] != 1:
            raise DataFormatError(
                f"field {da.name!r} has {da.sizes[dim]} values along {dim!r}; select one first"
            )
    return da.squeeze(extra, drop=True) if extra else da


def point_value(
    da: xr.DataArray, latitude: float, longitude: float, *, name: str | None = None
) -> PointValue:
    """Value of a 2D field at a location, nearest and bilinear, in the field's units.

    Parameters
    ----------
    da:
        Field with 1D ``latitude`` and ``longitude`` dimensions [degrees]; other
        dimensions must have length 1.
    latitude, longitude:
        The place [degrees north, east].
    name:
        Name reported (default ``da.name``).

    Raises
    ------
    DataFormatError
        The field is not on a regular grid or the place lies outside it.
    """
    from pyproj import Geod

    field = _horizontal(da)
    lon = _lon_like(field, longitude)
    lats, lons = field["latitude"].values, field["longitude"].values
    step_lat = abs(float(lats[1] - lats[0])) if lats.size > 1 else 0.0
    step_lon = abs(float(lons[1] - lons[0])) if lons.size > 1 else 0.0
    inside_lat = lats.min() - step_lat / 2 <= latitude <= lats.max() + step_lat / 2
    inside_lon = lons.min() - step_lon / 2 <= lon <= lons.max() + step_lon / 2
    if not (inside_lat and inside_lon):
        raise DataFormatError(
            f"{latitude:.2f} N {longitude:.2f} E lies outside the grid "
            f"({lats.min():.2f}..{lats.max():.2f} N, {lons.min():.2f}..{lons.max():.2f} E)"
        )
    near = field.sel(latitude=latitude, longitude=lon, method="nearest")
    bilinear = field.interp(latitude=latitude, longitude=lon, method="linear")
    value = float(bilinear)
    if not np.isfinite(value):  # on the last row/column: interp has no neighbours
        value = float(near)
    g_lat, g_lon = float(near["latitude"]), float(near["longitude"])
    _, _, metres = Geod(ellps="WGS84").inv(longitude, latitude, g_lon, g_lat)
    return PointValue(
        name=str(name or da.name),
        nearest=float(near),
        bilinear=value,
        units=str(da.attrs.get("units", "")),
        grid_latitude=g_lat,
        grid_longitude=((g_lon + 180.0) % 360.0) - 180.0,
        distance_km=float(metres) / 1000.0,
    )


#: units string -> (people's units, scale, offset): people = value * scale + offset.
_PEOPLE: dict[str, tuple[str, float, float]] = {
    "K": ("degC", 1.0, -273.15),
    "m s-1": ("km/h", 3.6, 0.0),
    "m s**-1": ("km/h", 3.6, 0.0),
    "Pa": ("hPa", 0.01, 0.0),
    "kg m-2": ("mm", 1.0, 0.0),
    "kg m**-2": ("mm", 1.0, 0.0),
    "m": ("mm", 1000.0, 0.0),  # IFS precipitation in metres of water
    "(0 - 1)": ("%", 100.0, 0.0),
    "1": ("%", 100.0, 0.0),
    "0-1": ("%", 100.0, 0.0),
    "%": ("%", 1.0, 0.0),
    "degC": ("degC", 1.0, 0.0),
    "mm": ("mm", 1.0, 0.0),
}


def for_people(value: PointValue) -> PointValue:
    """The same value in °C, km/h, mm, hPa or %, as forecasters state them.

    Raises
    ------
    ConfigError
        For units with no conversion.
    """
    if value.units not in _PEOPLE:
        raise ConfigError(
            f"no people's units for {value.name} in {value.units!r}; known: {sorted(_PEOPLE)}"
        )
    units, scale, offset = _PEOPLE[value.units]
    return PointValue(
        name=value.name,
        nearest=value.nearest * scale + offset,
        bilinear=value.bilinear * scale + offset,
        units=units,
        grid_latitude=value.grid_latitude,
        grid_longitude=value.grid_longitude,
        distance_km=value.distance_km,
    )


def wind_speed_direction(u: float, v: float) -> tuple[float, float]:
    """Speed [same units as u, v] and meteorological direction [degrees, wind FROM, 0 = N]."""
    speed, direction = atmos_wind.wind_speed_direction(u, v)
    return float(speed), float(direction)


@functools.lru_cache(maxsize=8)  # extract and draw read the same fields of one answer
def field_at_step(paths: tuple[object, ...], name: str, step: int) -> xr.DataArray:
    """The 2D field of canonical ``name`` at lead time ``step`` [h] from GRIB files.

    ``paths`` is either one file holding every step (IFS, synthetic) or one file
    per step in step order (ICON-EU). The last few fields read are kept, so the
    extract and draw steps of one answer decode each file once; callers must not
    modify the returned array in place. The variable is found by its canonical
    name, its ecCodes/IFS short name, or as the only variable of a file.

    Raises
    ------
    DataFormatError
        The files do not hold the variable at that step.
    """
    from wxai.core.errors import UnknownNameError
    from wxai.data.formats.grib import grib_variable, read_grib
    from wxai.vocab import get_variable

    variable = get_variable(name)
    aliases = [name] + [s.name for s in variable.sources.values()]
    for path in paths:
        tree = read_grib(path)
        da = None
        for alias in aliases:
            try:
                da = grib_variable(tree, alias)
                break
            except UnknownNameError:
                continue
        if da is None:
            names = [str(v) for node in tree.subtree for v in node.to_dataset(inherit=False)]
            if len(names) != 1:
                continue
            da = grib_variable(tree, names[0])
        lead = np.timedelta64(step, "h")
        if "lead_time" in da.dims:
            if lead not in da["lead_time"].values:
                continue
            da = da.sel(lead_time=[lead])
        elif "lead_time" in da.coords and da["lead_time"].values != lead:
            continue
        return da.rename(name)
    raise DataFormatError(f"no {name} at +{step} h in {[str(p) for p in paths]}")


def field_for_people(da: xr.DataArray) -> xr.DataArray:
    """A field in the units of :func:`for_people` (its ``units`` attribute updated)."""
    units = str(da.attrs.get("units", ""))
    if units not in _PEOPLE:
        raise ConfigError(f"no people's units for {da.name} in {units!r}; known: {sorted(_PEOPLE)}")
    target, scale, offset = _PEOPLE[units]
    return (da * scale + offset).assign_attrs({**da.attrs, "units": target}).rename(da.name)
