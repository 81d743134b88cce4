"""Point extraction from a gridded archive: nearest grid point, wind speed, town table."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wxai.core.errors import DataFormatError
from wxai.data.archive import extract_points, nearest_index, town_table, wind_speed


def _grid(lon: np.ndarray | None = None) -> xr.Dataset:
    """A 2-time grid whose values encode their own indices: value = 100 * i_lat + i_lon."""
    lat = np.array([40.0, 41.0, 42.0, 43.0])
    lon = np.array([0.0, 2.0, 4.0, 6.0, 8.0]) if lon is None else lon
    code = 100.0 * np.arange(lat.size)[:, None] + np.arange(lon.size)[None, :]
    time = np.array(["2024-01-01T00", "2024-01-01T03"], dtype="datetime64[ns]")
    t2m = np.stack([code, code + 0.5]) + 273.15
    return xr.Dataset(
        {
            "t2m": (("time", "latitude", "longitude"), t2m),
            "u10": (("time", "latitude", "longitude"), np.full(t2m.shape, 3.0)),
            "v10": (("time", "latitude", "longitude"), np.full(t2m.shape, -4.0)),
            "msl": (("time", "latitude", "longitude"), np.full(t2m.shape, 101325.0)),
        },
        coords={"time": time, "latitude": lat, "longitude": lon},
    )


def test_wind_speed_is_the_vector_magnitude():
    assert wind_speed(3.0, -4.0) == pytest.approx(5.0)
    u, v = np.array([0.0, 1.0, -6.0]), np.array([0.0, 1.0, 8.0])
    np.testing.assert_allclose(wind_speed(u, v), [0.0, np.sqrt(2.0), 10.0])
    da = wind_speed(xr.DataArray(u, dims="t", attrs={"units": "m s-1"}), xr.DataArray(v, dims="t"))
    assert da.name == "wind_speed" and da.attrs["units"] == "m s-1"


def test_extract_points_picks_the_nearest_grid_point():
    ds = _grid()
    # (41.4, 4.9): nearest latitude 41 (index 1), longitude 4 (index 2): code 102.
    # (42.6, 7.2): latitude 43 (index 3), longitude 8 (index 4): code 304.
    points = extract_points(ds, {"A": (41.4, 4.9), "B": (42.6, 7.2)})
    assert list(points["place"].values) == ["A", "B"]
    assert points.sizes == {"time": 2, "place": 2}
    np.testing.assert_allclose(points["t2m"].isel(time=0).values - 273.15, [102.0, 304.0])
    np.testing.assert_allclose(points["latitude"].values, [41.0, 43.0])
    np.testing.assert_allclose(points["longitude"].values, [4.0, 8.0])
    np.testing.assert_allclose(points["place_lat"].values, [41.4, 42.6])
    # Distance of A to (41, 4): about 86 km (0.4 deg lat, 0.9 deg lon at 41 N).
    assert 70.0 < float(points["distance_km"].sel(place="A")) < 100.0


def test_extract_points_handles_0_360_longitudes_and_rejects_far_points():
    ds = _grid(lon=np.array([350.0, 352.0, 354.0, 356.0, 358.0]))
    points = extract_points(ds, {"west": (40.2, -5.3)})  # -5.3 == 354.7 -> 354 (index 2)
    assert points["longitude"].item() == 354.0
    assert points["t2m"].isel(time=0).item() - 273.15 == pytest.approx(2.0)
    with pytest.raises(DataFormatError, match="outside the grid"):
        extract_points(ds, {"far": (60.0, 354.0)})
    assert nearest_index(np.array([0.0, 10.0, 20.0]), 14.0) == 1


def test_town_table_has_one_row_per_place_and_time_in_human_units():
    table = town_table(extract_points(_grid(), {"A": (40.0, 0.0), "B": (43.0, 8.0)}))
    assert len(table) == 4
    assert set(table["place"]) == {"A", "B"}
    np.testing.assert_allclose(table["wind_speed_m_s"], 5.0)
    np.testing.assert_allclose(table["msl_hPa"], 1013.25)
    a = table[table["place"] == "A"]
    np.testing.assert_allclose(a["t2m_degC"], [0.0, 0.5], atol=1e-9)
    assert {"time", "grid_lat", "grid_lon", "u10_m_s", "v10_m_s"} <= set(table.columns)
