"""Point values: nearest and bilinear against hand-computed values; people's units."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wxai.assistant.agents.weather.point import (
    PointValue,
    field_for_people,
    for_people,
    point_value,
    wind_speed_direction,
)
from wxai.core.errors import DataFormatError


def _plane(lon0: float = 0.0) -> xr.DataArray:
    """f = 2*lat + 3*lon on a 1-degree grid (bilinear interpolation is exact for it)."""
    lat = np.arange(55.0, 44.0, -1.0)  # north to south, as in GRIB
    lon = np.arange(lon0, lon0 + 20.0, 1.0)
    values = 2.0 * lat[:, None] + 3.0 * ((lon[None, :] + 180.0) % 360.0 - 180.0)
    return xr.DataArray(
        values[None], dims=("lead_time", "latitude", "longitude"),
        coords={"latitude": lat, "longitude": lon, "lead_time": [np.timedelta64(6, "h")]},
        name="t2m", attrs={"units": "K"},
    )  # fmt: skip


def test_bilinear_is_exact_for_a_plane_and_nearest_is_the_grid_value() -> None:
    v = point_value(_plane(), 50.11, 8.68)
    assert v.bilinear == pytest.approx(2 * 50.11 + 3 * 8.68, abs=1e-9)
    assert (v.grid_latitude, v.grid_longitude) == (50.0, 9.0)
    assert v.nearest == pytest.approx(2 * 50.0 + 3 * 9.0)
    # geodesic distance Frankfurt -> (50 N, 9 E): about 25.6 km (pyproj WGS84 oracle)
    assert v.distance_km == pytest.approx(25.6, abs=0.5)


def test_0_360_longitudes_and_negative_place_longitude() -> None:
    field = _plane(lon0=350.0)  # 350..369 -> wraps; take 340..359 instead
    field = _plane(lon0=340.0)
    v = point_value(field, 48.0, -8.5)
    assert v.bilinear == pytest.approx(2 * 48.0 + 3 * -8.5)
    assert v.grid_longitude in (-9.0, -8.0)


def test_outside_the_grid_is_a_clear_error() -> None:
    with pytest.raises(DataFormatError, match="outside the grid"):
        point_value(_plane(), 60.0, 8.0)


def test_people_units() -> None:
    v = for_people(PointValue("t2m", 280.15, 281.15, "K", 50, 9, 1.0))
    assert (v.nearest, v.bilinear, v.units) == (pytest.approx(7.0), pytest.approx(8.0), "degC")
    assert for_people(PointValue("u", 10.0, 10.0, "m s-1", 0, 0, 0)).bilinear == pytest.approx(36)
    assert for_people(PointValue("tp", 0.0025, 0.0025, "m", 0, 0, 0)).bilinear == pytest.approx(2.5)
    assert for_people(PointValue("msl", 101325, 101325, "Pa", 0, 0, 0)).units == "hPa"
    field = field_for_people(_plane())
    assert field.attrs["units"] == "degC" and field.name == "t2m"


def test_wind_direction_is_where_the_wind_comes_from() -> None:
    assert wind_speed_direction(0.0, -5.0) == (5.0, 0.0)  # blowing south: a north wind
    assert wind_speed_direction(-3.0, 0.0)[1] == pytest.approx(90.0)  # an east wind
    assert wind_speed_direction(3.0, 4.0) == (5.0, pytest.approx(216.87, abs=0.01))
