"""Front detection: labels, the TFP baseline on an idealised front, the detector on files,
front lines, the detector file and ONNX parity."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr

from products_fixture import tiny_detector
from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.fields import open_fields
from wxai.data.formats.netcdf import write_netcdf
from wxai.products.fronts import (
    CHANNELS,
    ChartGrid,
    FrontDetector,
    ThermalFrontParameter,
    chart_fields,
    detect_fronts,
    front_lines,
    lines_geojson,
    load_detector,
    save_detector,
    synthetic_cases,
)
from wxai.products.fronts.cases import widen_labels
from wxai.products.fronts.onnx import export_onnx, onnx_parity
from wxai.products.fronts.training import class_weights, front_loss

GRID = ChartGrid(lat_north=70.0, lon_west=-40.0, step=1.0, n_lat=40, n_lon=64)


@pytest.fixture(scope="module")
def cases() -> xr.Dataset:
    return synthetic_cases(range(2), [0.0, 24.0], GRID)


@pytest.fixture(scope="module")
def detector(cases) -> FrontDetector:
    return tiny_detector()


def test_cases_hold_six_channels_and_front_bands(cases):
    assert set(CHANNELS) <= set(cases.data_vars)
    assert cases["front"].shape == (4, GRID.n_lat, GRID.n_lon)
    fractions = np.bincount(cases["front"].values.ravel(), minlength=4) / cases["front"].size
    assert 0.8 < fractions[0] < 0.99  # fronts are a small part of the chart
    assert fractions[1] > 0 and fractions[2] > 0
    assert cases.attrs["frontal_trough_pa"] == 300.0


def test_widening_grows_bands_and_keeps_the_higher_class_where_they_meet():
    labels = np.zeros((1, 9, 9), np.uint8)
    labels[0, 4, 2] = 1
    labels[0, 4, 4] = 2
    wide = widen_labels(labels, 1)
    assert wide[0, 4, 3] == 2  # between the two: cold wins over warm
    assert wide[0, 3, 2] == 1 and wide[0, 5, 4] == 2
    assert np.count_nonzero(wide) == 9  # two crosses of 5 cells sharing one cell
    with pytest.raises(ConfigError):
        widen_labels(labels, -1)


def _idealised_front(wind_from_cold: bool) -> xr.Dataset:
    """A straight north-south frontal zone: cold air west, warm air east."""
    lat = np.arange(60.0, 40.0, -0.5)
    lon = np.arange(-20.0, 20.0, 0.5)
    _, lo = np.meshgrid(lat, lon, indexing="ij")
    t = 280.0 + 6.0 * np.tanh(lo / 1.5)
    u = np.full_like(t, 8.0 if wind_from_cold else -8.0)  # westerly: from the cold side
    ds = xr.Dataset(
        {
            "t2m": (("latitude", "longitude"), t),
            "rh2m": (("latitude", "longitude"), np.full_like(t, 70.0)),
            "msl": (("latitude", "longitude"), np.full_like(t, 101000.0)),
            "u10": (("latitude", "longitude"), u),
            "v10": (("latitude", "longitude"), np.zeros_like(t)),
        },
        coords={"latitude": lat, "longitude": lon},
    )
    return ds


@pytest.mark.parametrize(("wind_from_cold", "kind"), [(True, 2), (False, 1)])
def test_tfp_puts_the_front_on_the_warm_edge_of_the_zone_and_classes_it_by_the_wind(
    wind_from_cold, kind
):
    ds = _idealised_front(wind_from_cold)
    labels = ThermalFrontParameter(
        smoothing=0.5, tfp_threshold=0.5, gradient_threshold=1.0
    ).predict(ds)
    columns = np.flatnonzero(labels.any(axis=0))
    lon = ds["longitude"].values[columns]
    assert lon.size and lon.min() >= 0.0 and lon.max() <= 4.0  # warm edge of the zone
    assert set(np.unique(labels[labels > 0])) == {kind}


def test_class_weights_favour_rare_classes_and_dice_rewards_overlap():
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    w = class_weights(labels, 4)
    assert w[2] > w[1] > w[0] and w.mean() == pytest.approx(1.0)
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 3, :] = 2
    perfect = torch.full((1, 4, 8, 8), -10.0)
    perfect[:, 0] = 10.0
    perfect[0, 0, 3, :], perfect[0, 2, 3, :] = -10.0, 10.0
    weights = torch.ones(4)
    assert front_loss(perfect, target, weights, 1.0) < 0.35
    assert front_loss(perfect.roll(2, dims=2), target, weights, 1.0) > 1.0


def _file_like_a_weather_service(cases: xr.Dataset, path) -> None:
    """One chart written with ICON names, hPa and degC, and dew point instead of RH."""
    one = cases.isel(case=[0]).swap_dims(case="time").drop_vars(["seed", "front"])
    from wxai.atmos.humidity import dew_point

    td = dew_point(one["t2m"].values - 273.15, one["rh2m"].values)
    ds = xr.Dataset(
        {
            "PMSL": (one["msl"].dims, one["msl"].values / 100.0, {"units": "hPa"}),
            "T_2M": (one["t2m"].dims, one["t2m"].values - 273.15, {"units": "degC"}),
            "TD_2M": (one["t2m"].dims, td, {"units": "degC"}),
            "U_10M": (one["u10"].dims, one["u10"].values, {"units": "m s-1"}),
            "V_10M": (one["v10"].dims, one["v10"].values, {"units": "m s-1"}),
            "FR_LAND": (("latitude", "longitude"), one["frland"].values[0]),
        },
        coords={
            "time": one["time"].values,
            "latitude": one["latitude"].values[::-1].copy() * 0 + one["latitude"].values,
            "longitude": one["longitude"].values,
        },
    )
    write_netcdf(ds.isel(latitude=slice(None, None, -1)), path)  # south to north on disk


def test_detector_runs_on_a_netcdf_with_source_names_and_other_units(cases, detector, tmp_path):
    path = tmp_path / "icon.nc"
    _file_like_a_weather_service(cases, path)
    charts = chart_fields(open_fields(path), str(path))
    reference = cases.isel(case=0)
    assert charts["latitude"].values[0] > charts["latitude"].values[-1]  # north first
    np.testing.assert_allclose(charts["msl"].values[0], reference["msl"].values, rtol=1e-6)
    np.testing.assert_allclose(charts["t2m"].values[0], reference["t2m"].values, atol=1e-3)
    np.testing.assert_allclose(charts["rh2m"].values[0], reference["rh2m"].values, atol=0.05)
    cropped = charts.isel(latitude=slice(0, 37), longitude=slice(0, 61))  # not multiples of 4
    fronts = detect_fronts(cropped, detector)
    assert fronts["front"].shape == (1, 37, 61)
    np.testing.assert_allclose(fronts["front_probability"].sum("front_class"), 1.0, atol=1e-5)


def test_missing_channels_are_named(cases):
    ds = cases.isel(case=[0]).swap_dims(case="time").drop_vars(["u10", "rh2m", "seed"])
    with pytest.raises(ConfigError, match=r"lacks \['rh2m', 'u10'\]"):
        chart_fields(ds, "forecast.grib2")


def test_a_missing_land_fraction_comes_from_the_coastlines(cases):
    ds = cases.isel(case=[0]).swap_dims(case="time").drop_vars(["frland", "seed", "front"])
    charts = chart_fields(ds)
    assert "GSHHS" in charts.attrs["land_fraction_source"]
    land = charts["frland"].isel(time=0)
    assert float(land.sel(latitude=50.0, longitude=10.0)) == 1.0  # Germany
    assert float(land.sel(latitude=50.0, longitude=-30.0)) == 0.0  # North Atlantic
    assert 0.2 < float(land.mean()) < 0.6


def test_a_diagonal_band_becomes_one_line_in_geojson_order():
    labels = np.zeros((30, 30), np.uint8)
    for i in range(3, 27):
        labels[i, i - 1 : i + 2] = 2
    lat, lon = np.linspace(60, 45, 30), np.linspace(-10, 5, 30)
    lines = front_lines(labels, lat, lon, time=np.datetime64("2024-01-15T06:00"))
    assert [line.kind for line in lines] == ["cold"]
    points = lines[0].points
    ends = sorted([tuple(points[0]), tuple(points[-1])])
    assert ends[0][0] < 47 and ends[1][0] > 58  # from the south end to the north end
    feature = lines_geojson(lines)["features"][0]
    lon0, lat0 = feature["geometry"]["coordinates"][0]
    assert (lat0, lon0) == pytest.approx(tuple(points[0]), abs=1e-3)  # GeoJSON: lon, lat
    assert feature["properties"] == {"front": "cold", "valid_time": "2024-01-15T06:00:00Z"}
    json.dumps(lines_geojson(lines))


def test_detector_file_round_trip_and_bad_files(detector, tmp_path):
    path = save_detector(detector, tmp_path / "d" / "front-detector.pt", {"grid_step": 1.0})
    loaded, meta = load_detector(path)
    x = torch.randn(2, 6, 16, 16) * 10 + torch.from_numpy(detector.stats.mean).float().view(
        1, -1, 1, 1
    )
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), detector(x))
    assert meta == {"grid_step": 1.0}
    with pytest.raises(DataFormatError, match="wxai lab run front-detection"):
        load_detector(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataFormatError, match="not a readable front detector"):
        load_detector(tmp_path / "junk.pt")


def test_onnx_export_matches_pytorch(cases, detector, tmp_path):
    x = np.stack([cases[name].values for name in CHANNELS], axis=1).astype(np.float32)
    path = export_onnx(detector, tmp_path / "fd.onnx", torch.from_numpy(x[:1]))
    parity = onnx_parity(detector, path, x, repeats=2)  # a batch the export never saw
    assert parity.max_abs_logit_difference < 1e-3
    assert parity.same_class_fraction == 1.0
    assert parity.torch_ms > 0 and parity.onnx_ms > 0
