"""Physical consistency of the synthetic atmosphere (oracles: finite differences on its fields)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wxai.data.synthetic import SyntheticAtmosphere
from wxai.data.synthetic.atmosphere import RHO_AIR

R_EARTH = 6.371e6
OMEGA = 7.292e-5


@pytest.fixture(scope="module")
def atmos() -> SyntheticAtmosphere:
    return SyntheticAtmosphere(seed=3, n_cyclones=2)


@pytest.fixture(scope="module")
def fields(atmos: SyntheticAtmosphere) -> xr.Dataset:
    lat = np.arange(38.0, 70.01, 0.25)
    lon = np.arange(-30.0, 40.01, 0.25)
    times = atmos.start + np.array([0, 12, 24], dtype="timedelta64[h]")
    return atmos.fields(lat, lon, times)


def _fd_gradient(ds: xr.Dataset, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(d/dx east, d/dy north) [units m-1] by centred differences on the sphere."""
    lat = np.deg2rad(ds.latitude.values)[:, None]
    dphi = np.deg2rad(np.gradient(ds.latitude.values))[:, None]
    dlam = np.deg2rad(np.gradient(ds.longitude.values))[None, :]
    f = ds[name].values
    dy = np.gradient(f, axis=-2) / (R_EARTH * dphi)
    dx = np.gradient(f, axis=-1) / (R_EARTH * np.cos(lat) * dlam)
    return dx, dy


def _interior(a: np.ndarray) -> np.ndarray:
    return a[..., 2:-2, 2:-2]


def test_wind_is_near_geostrophic(fields: xr.Dataset) -> None:
    _assert_near_geostrophic(fields)


def test_frontal_troughs_lower_the_pressure_on_fronts_and_keep_the_wind_geostrophic(
    atmos: SyntheticAtmosphere, fields: xr.Dataset
) -> None:
    troughed = SyntheticAtmosphere(seed=atmos.seed, n_cyclones=2, frontal_trough=300.0)
    ds = troughed.fields(fields.latitude.values, fields.longitude.values, fields.time.values)
    deficit = (fields.msl - ds.msl).values
    on_front = fields.front.values > 0
    assert deficit.min() >= -1e-6 and deficit.max() <= 300.0 + 1e-6
    assert np.median(deficit[on_front]) > 100.0  # the isobars kink at the fronts
    assert np.median(deficit[~on_front]) < 5.0
    np.testing.assert_array_equal(ds.front.values, fields.front.values)
    np.testing.assert_allclose(ds.t2m.values, fields.t2m.values)
    _assert_near_geostrophic(ds)


def _assert_near_geostrophic(fields: xr.Dataset) -> None:
    dx, dy = _fd_gradient(fields, "msl")
    f = 2 * OMEGA * np.sin(np.deg2rad(fields.latitude.values))[:, None]
    ug, vg = -dy / (RHO_AIR * f), dx / (RHO_AIR * f)
    u, v = fields.u10.values, fields.v10.values
    ug, vg, u, v = (_interior(a) for a in (ug, vg, u, v))
    strong = np.hypot(ug, vg) > 3.0
    assert strong.mean() > 0.2
    ratio = np.hypot(u, v)[strong] / np.hypot(ug, vg)[strong]
    # angle from the geostrophic wind (along the isobars) to the wind, > 0 turned to the left
    # (toward low pressure in the Northern Hemisphere)
    angle = np.rad2deg(np.arctan2(ug * v - vg * u, ug * u + vg * v))[strong]
    assert 20.0 <= np.median(angle) <= 30.0, np.median(angle)
    assert np.mean((angle > 10) & (angle < 40)) > 0.9
    assert 0.6 <= np.median(ratio) <= 0.75, np.median(ratio)
    assert np.mean((ratio > 0.5) & (ratio < 0.85)) > 0.9
    # the wind blows toward lower pressure: u . grad p < 0
    assert np.mean((u * _interior(dx) + v * _interior(dy))[strong] < 0) > 0.95


def _msl_minimum(fields, tracks, c, it):
    """(p, lat, lon) of the lowest msl within a box around the generator's centre."""
    lat2, lon2 = xr.broadcast(fields.latitude, fields.longitude)
    near = (np.abs(lat2.values - float(tracks.lat[c, it])) < 5) & (
        np.abs(lon2.values - float(tracks.lon[c, it])) < 8
    )
    msl = np.where(near, fields.msl.values[it], np.inf)
    k = np.unravel_index(np.argmin(msl), msl.shape)
    return msl[k], lat2.values[k], lon2.values[k]


def test_cyclonic_circulation_around_the_lows(atmos, fields: xr.Dataset) -> None:
    tracks = atmos.tracks(fields.time.values)
    lat2, lon2 = xr.broadcast(fields.latitude, fields.longitude)
    for c in range(tracks.sizes["cyclone"]):
        for it in range(fields.sizes["time"]):
            _, clat, clon = _msl_minimum(fields, tracks, c, it)
            x = R_EARTH * np.cos(np.deg2rad(clat)) * np.deg2rad(lon2.values - clon)
            y = R_EARTH * np.deg2rad(lat2.values - clat)
            r = np.hypot(x, y)
            ring = (r > 150e3) & (r < 500e3)
            u = fields.u10.values[it][ring]
            v = fields.v10.values[it][ring]
            # counter-clockwise tangential component (Northern Hemisphere: cyclonic)
            tangential = (-y[ring] * u + x[ring] * v) / r[ring]
            inflow = (x[ring] * u + y[ring] * v) / r[ring]
            assert np.mean(tangential > 0) > 0.95
            assert np.mean(tangential) > 5.0
            assert np.mean(inflow) < -2.0  # friction: air converges into the low


def test_fronts_lie_in_strong_temperature_gradients(fields: xr.Dataset) -> None:
    dx, dy = _fd_gradient(fields, "t2m")
    grad = _interior(np.hypot(dx, dy))
    front = _interior(fields.front.values)
    for label in (1, 2):
        assert (front == label).sum() > 50
        ratio = grad[front == label].mean() / grad.mean()
        assert ratio > 2.0, (label, ratio)
    assert grad[front > 0].mean() > 2.0 * grad.mean()
    assert (fields.front.values[-1] == 3).sum() > 0  # occlusion at the later stage


def test_warm_sector_is_warm(atmos, fields: xr.Dataset) -> None:
    # points just inside the warm sector are warmer than those across the cold front
    t = fields.t2m.values
    tracks = atmos.tracks(fields.time.values)
    lat = fields.latitude.values
    c_lat = float(tracks.lat[0, 0])
    row = int(np.argmin(np.abs(lat - (c_lat - 5.0))))  # 5 degrees south of the low
    assert np.ptp(t[0, row]) > 8.0


def test_lows_move_east_and_deepen(atmos, fields: xr.Dataset) -> None:
    tracks = atmos.tracks(fields.time.values)
    for c in range(tracks.sizes["cyclone"]):
        found = [_msl_minimum(fields, tracks, c, it) for it in range(fields.sizes["time"])]
        p_min, _, lon_min = np.array(found).T
        assert np.all(np.diff(lon_min) > 2.0), lon_min
        assert np.all(np.diff(p_min) < -300.0), p_min


def test_precipitation_accumulates(fields: xr.Dataset) -> None:
    tp = fields.tp.values
    assert np.all(tp >= 0)
    assert np.all(tp[0] == 0)
    assert np.all(np.diff(tp, axis=0) >= -1e-9)
    assert tp[-1].max() > 10.0  # a frontal system rains
    assert np.all(fields.rr.values >= 0)


def test_humidity_bounds(fields: xr.Dataset) -> None:
    rh, t, td = fields.rh2m.values, fields.t2m.values, fields.td2m.values
    assert rh.min() >= 0 and rh.max() <= 100
    assert np.all(td <= t)
    assert rh.max() > 95  # saturated in the rain
    assert np.all((fields.tcc.values >= 0) & (fields.tcc.values <= 100))
    speed = np.hypot(fields.u10.values, fields.v10.values)
    assert np.all(fields.gust.values >= speed)


def test_reproducible_from_seed() -> None:
    lat, lon = np.linspace(40, 65, 11), np.linspace(-20, 30, 13)
    t = np.datetime64("2024-01-15T06:00")
    a = SyntheticAtmosphere(seed=7).fields(lat, lon, t)
    b = SyntheticAtmosphere(seed=7).fields(lat, lon, t)
    c = SyntheticAtmosphere(seed=8).fields(lat, lon, t)
    xr.testing.assert_identical(a, b)
    assert not np.allclose(a.msl.values, c.msl.values)


def test_points_match_grid_and_time_independence() -> None:
    atmos = SyntheticAtmosphere(seed=5)
    lat, lon = np.array([45.0, 55.0]), np.array([-10.0, 10.0])
    t6 = atmos.start + np.timedelta64(6, "h")
    grid = atmos.fields(lat, lon, [atmos.start + np.timedelta64(3, "h"), t6])
    pts = atmos.fields_at_points([45.0, 55.0], [10.0, -10.0], t6)
    np.testing.assert_allclose(
        pts.msl.values[0], [grid.msl.values[1, 0, 1], grid.msl.values[1, 1, 0]]
    )
    # accumulation at a time does not depend on which other times are requested
    np.testing.assert_allclose(pts.tp.values[0], [grid.tp.values[1, 0, 1], grid.tp.values[1, 1, 0]])
    with pytest.raises(ValueError, match="before"):
        atmos.fields(lat, lon, atmos.start - np.timedelta64(1, "h"))
