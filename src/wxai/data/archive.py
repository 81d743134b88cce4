"""Point time series from a gridded forecast archive: nearest grid point, town tables.

A forecast archive is a gridded dataset with dims ``(time, latitude, longitude)``
(as written to Zarr by :func:`wxai.data.formats.zarr_store.write_zarr`).
:func:`extract_points` picks, for each named place, the nearest grid point and
returns the series along a new ``place`` dimension; :func:`town_table` turns
those series into a flat table with human units (wind speed in m/s, temperature
in degrees Celsius, pressure in hPa).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import xarray as xr

from wxai.core.errors import DataFormatError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["extract_points", "nearest_index", "town_table", "wind_speed"]

ArrayT = TypeVar("ArrayT", np.ndarray, xr.DataArray, float)

_LAT_NAMES = ("latitude", "lat")
_LON_NAMES = ("longitude", "lon")


def wind_speed(u: ArrayT, v: ArrayT) -> ArrayT:
    """Wind speed ``sqrt(u**2 + v**2)`` from its eastward and northward components.

    Works for scalars, NumPy arrays and DataArrays (the result keeps coordinates);
    the units are those of ``u`` and ``v`` (m s-1 for ``u10``/``v10``).
    """
    speed = np.hypot(u, v)
    if isinstance(speed, xr.DataArray):
        speed = speed.rename("wind_speed")
        speed.attrs = {"units": u.attrs.get("units", "m s-1"), "long_name": "wind speed"}
    return speed


def _coord_name(ds: xr.Dataset | xr.DataArray, names: tuple[str, ...]) -> str:
    for name in names:
        if name in ds.coords:
            return name
    raise DataFormatError(f"no coordinate named {' or '.join(names)}; have {list(ds.coords)}")


def nearest_index(coord: np.ndarray, value: float, *, periodic: float | None = None) -> int:
    """Index of the entry of the 1D ``coord`` closest to ``value``.

    ``periodic`` (e.g. 360 for longitudes) measures distances modulo that period,
    so ``-10`` finds ``350`` on a 0..360 grid. A value farther outside the grid
    than one grid spacing raises :class:`DataFormatError` (it has no nearest point
    worth the name).
    """
    coord = np.asarray(coord, dtype=float)
    diff = coord - value
    if periodic is not None:
        diff = (diff + 0.5 * periodic) % periodic - 0.5 * periodic
    index = int(np.argmin(np.abs(diff)))
    spacing = float(np.max(np.abs(np.diff(coord)))) if coord.size > 1 else 0.0
    if abs(diff[index]) > spacing + 1e-9 and coord.size > 1:
        raise DataFormatError(
            f"{value} lies outside the grid [{coord.min()}, {coord.max()}] "
            f"(nearest point {coord[index]})"
        )
    return index


def extract_points(ds: xr.Dataset, places: Mapping[str, tuple[float, float]]) -> xr.Dataset:
    """Series at the grid points nearest to named places.

    Parameters
    ----------
    ds:
        Gridded data with 1D ``latitude``/``longitude`` (or ``lat``/``lon``)
        coordinates [degrees], any longitude convention. Lazy (dask) data stay
        lazy: only the chunks holding the chosen points are read when computed.
    places:
        ``{name: (lat, lon)}`` [degrees].

    Returns
    -------
    xr.Dataset
        The variables with the horizontal dims replaced by ``place`` (names as
        coordinate); ``latitude``/``longitude`` hold the *grid point's*
        coordinates, ``place_lat``/``place_lon`` the requested ones and
        ``distance_km`` the great-circle distance between the two.
    """
    if not places:
        raise DataFormatError("no places given")
    lat_name, lon_name = _coord_name(ds, _LAT_NAMES), _coord_name(ds, _LON_NAMES)
    lats, lons = ds[lat_name].values, ds[lon_name].values
    names = list(places)
    want = np.array([places[name] for name in names], dtype=float)
    i_lat = [nearest_index(lats, lat) for lat, _ in want]
    i_lon = [nearest_index(lons, lon, periodic=360.0) for _, lon in want]
    points = ds.isel(
        {
            lat_name: xr.DataArray(i_lat, dims="place"),
            lon_name: xr.DataArray(i_lon, dims="place"),
        }
    )
    grid_lat = np.deg2rad(lats[i_lat])
    grid_lon = np.deg2rad(lons[i_lon])
    lat0, lon0 = np.deg2rad(want[:, 0]), np.deg2rad(want[:, 1])
    cos_angle = np.sin(grid_lat) * np.sin(lat0) + np.cos(grid_lat) * np.cos(lat0) * np.cos(
        grid_lon - lon0
    )
    distance = 6371.0 * np.arccos(np.clip(cos_angle, -1.0, 1.0))
    return points.assign_coords(
        place=("place", names),
        place_lat=("place", want[:, 0], {"units": "degrees_north"}),
        place_lon=("place", want[:, 1], {"units": "degrees_east"}),
        distance_km=("place", distance, {"units": "km", "long_name": "place to grid point"}),
    )


def town_table(ds_points: xr.Dataset) -> pd.DataFrame:
    """A flat table of point series: one row per (place, time).

    Parameters
    ----------
    ds_points:
        Output of :func:`extract_points` with a ``time`` dimension; uses
        ``t2m`` [K], ``u10``/``v10`` [m s-1], ``msl`` [Pa] and ``tp`` [kg m-2]
        where present.

    Returns
    -------
    pandas.DataFrame
        Columns ``place``, ``time``, ``grid_lat``, ``grid_lon`` and, where the
        inputs exist, ``t2m_degC``, ``wind_speed_m_s``, ``u10_m_s``, ``v10_m_s``,
        ``msl_hPa``, ``tp_mm``.
    """
    import pandas as pd

    if "place" not in ds_points.dims:
        raise DataFormatError("town_table needs a 'place' dimension (see extract_points)")
    pts = ds_points.compute()
    lat_name, lon_name = _coord_name(pts, _LAT_NAMES), _coord_name(pts, _LON_NAMES)
    columns: dict[str, xr.DataArray] = {}
    if "t2m" in pts:
        columns["t2m_degC"] = pts["t2m"] - 273.15
    if "u10" in pts and "v10" in pts:
        columns["wind_speed_m_s"] = wind_speed(pts["u10"], pts["v10"])
        columns["u10_m_s"] = pts["u10"]
        columns["v10_m_s"] = pts["v10"]
    if "msl" in pts:
        columns["msl_hPa"] = pts["msl"] / 100.0
    if "tp" in pts:
        columns["tp_mm"] = pts["tp"]  # 1 kg m-2 of water = 1 mm
    if not columns:
        raise DataFormatError(f"none of t2m, u10/v10, msl, tp in {list(pts.data_vars)}")
    rows = []
    for place in pts["place"].values:
        one = {name: da.sel(place=place).values for name, da in columns.items()}
        frame = pd.DataFrame({"time": pd.to_datetime(pts["time"].values), **one})
        frame.insert(0, "place", str(place))
        frame.insert(2, "grid_lat", float(pts[lat_name].sel(place=place)))
        frame.insert(3, "grid_lon", float(pts[lon_name].sel(place=place)))
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)
