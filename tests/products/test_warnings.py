"""Warning generator, cases, baseline, scoring and the diagnose entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import xarray as xr
from scipy import ndimage

from wxai.core.errors import DataFormatError
from wxai.products.geometry import mask_from_polygons
from wxai.products.warnings import (
    DWD_GUST_LEVELS,
    CaseSettings,
    ChannelStats,
    ForecasterStyle,
    GridSpec,
    GustThresholdBaseline,
    build_cases,
    diagnose,
    draw_warning_polygons,
    level_iou,
    tune_smoothing,
    validate_cap,
    write_warnings,
)
from wxai.products.warnings.forecaster import KM_PER_DEGREE

SMALL = CaseSettings(grid=GridSpec(lat_min=36.0, n_lat=32, n_lon=64, step=1.0), times_per_seed=2)


@pytest.fixture(scope="module")
def cases():
    return build_cases(SMALL, [0, 1, 2], time_seed=5)


def _storm(lat, lon, peak=35.0):
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    return 5.0 + peak * np.exp(-(((lat2 - 55) / 6) ** 2 + ((lon2 - 5) / 10) ** 2))


def test_levels_are_nested_and_deterministic(cases):
    masks = cases.masks.astype(int)
    assert (np.diff(masks, axis=1) <= 0).all()  # level k inside level k-1
    assert cases.masks[:, 0].any() and cases.masks[:, -1].any()
    again = build_cases(SMALL, [0, 1, 2], time_seed=5)
    np.testing.assert_array_equal(again.masks, cases.masks)
    np.testing.assert_array_equal(again.inputs, cases.inputs)
    for first, second in zip(again.polygons[0], cases.polygons[0], strict=True):
        assert first.equals(second)


def test_forecaster_over_warns_at_the_edges_and_draws_few_vertices():
    grid = GridSpec()
    gust = _storm(grid.lat, grid.lon)
    rng = np.random.default_rng(0)
    style = ForecasterStyle(buffer_km=(50.0, 50.0))
    polygons = draw_warning_polygons(gust, grid.lat, grid.lon, DWD_GUST_LEVELS, rng, style=style)
    for geom, level in zip(polygons, DWD_GUST_LEVELS, strict=True):
        exceed = gust >= level.threshold
        warned = mask_from_polygons(geom, grid.lat, grid.lon)
        assert warned[exceed].mean() > 0.99  # the forecaster covers the exceedance...
        assert warned.sum() > 1.1 * exceed.sum()  # ...and a margin around it
        margin = ndimage.binary_dilation(exceed, iterations=3) & ~exceed
        assert warned[margin].mean() > 0.3
        assert shapely.get_num_coordinates(geom) < 60  # simplified outline


def test_small_areas_are_not_warned_and_small_holes_are_filled():
    grid = GridSpec()
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    gust = np.full(lat2.shape, 10.0)
    gust[10, 10] = 40.0  # one cell: a few hundred km2
    big = (np.abs(lat2 - 55) < 6) & (np.abs(lon2 - 5) < 10)
    gust[big] = 30.0
    gust[40, 70] = 10.0  # a one-cell calm spot inside the storm
    style = ForecasterStyle(buffer_km=(0.0, 0.0), smoothing_km=0.0)
    polygons = draw_warning_polygons(
        gust, grid.lat, grid.lon, DWD_GUST_LEVELS[:1], np.random.default_rng(0), style=style
    )
    geom = polygons[0]
    assert len(shapely.get_parts(geom)) == 1
    assert len(geom.interiors) == 0
    warned = mask_from_polygons(geom, grid.lat, grid.lon)
    assert not warned[10, 10] and warned[40, 70]


def test_buffer_is_in_kilometres_also_east_west():
    grid = GridSpec()
    gust = _storm(grid.lat, grid.lon)
    plain, wide = (
        draw_warning_polygons(
            gust, grid.lat, grid.lon, DWD_GUST_LEVELS[:1], np.random.default_rng(0),
            style=ForecasterStyle(buffer_km=(b, b), simplify_km=0.0),
        )[0]
        for b in (0.0, 100.0)
    )  # fmt: skip
    grow_lat = (wide.bounds[3] - plain.bounds[3]) * KM_PER_DEGREE
    grow_lon = (wide.bounds[2] - plain.bounds[2]) * KM_PER_DEGREE * np.cos(np.deg2rad(55))
    assert grow_lat == pytest.approx(100.0, rel=0.1)
    assert grow_lon == pytest.approx(100.0, rel=0.15)


def test_cases_have_the_documented_shapes_and_normalise(cases):
    n = 3 * SMALL.times_per_seed
    assert cases.inputs.shape == (n, 4, 32, 64)
    assert cases.masks.shape == (n, 4, 32, 64)
    assert cases.channels == ("gust", "u10", "v10", "msl")
    assert len(cases.polygons) == n and len(cases.polygons[0]) == 4
    assert (cases.gust_max >= cases.channel("gust") - 1e-4).all()
    stats = ChannelStats.fit(cases.inputs)
    z = stats.apply(cases.inputs)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0.0, atol=1e-3)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1.0, atol=1e-3)


def test_baseline_tuning_and_level_iou(cases):
    baseline, scores = tune_smoothing(cases.channel("gust"), cases.masks, DWD_GUST_LEVELS)
    assert scores[baseline.sigma] == max(scores.values())
    masks = baseline.masks(cases.channel("gust"))
    assert masks.shape == cases.masks.shape
    assert (np.diff(masks.astype(int), axis=1) <= 0).all()
    np.testing.assert_allclose(level_iou(cases.masks, cases.masks), 1.0)
    empty = np.zeros_like(cases.masks)
    assert np.isnan(level_iou(empty, empty)).all()
    assert (level_iou(empty, cases.masks) == 0).all()


def _dataset(cases, i=0, lon=None):
    data = {name: (("latitude", "longitude"), cases.inputs[i, k])
            for k, name in enumerate(cases.channels)}  # fmt: skip
    coords = {"latitude": cases.lat, "longitude": cases.lon if lon is None else lon,
              "time": cases.valid_times[i]}  # fmt: skip
    return xr.Dataset(data, coords=coords)


def test_diagnose_names_missing_variables(cases):
    ds = _dataset(cases).drop_vars(["u10", "msl"])
    with pytest.raises(DataFormatError, match=r"u10, msl"):
        diagnose(ds, model=_untrained(cases))
    with pytest.raises(DataFormatError, match="gust"):
        diagnose(ds.drop_vars("gust"), model="baseline")


def _untrained(cases):
    from wxai.products.warnings.model import WarningDiagnoser

    return WarningDiagnoser(cases.channels, DWD_GUST_LEVELS, ChannelStats.fit(cases.inputs),
                            grid_step=1.0, window_hours=6.0, base_channels=4)  # fmt: skip


def test_diagnose_without_a_trained_model_falls_back_to_the_baseline(cases, tmp_path):
    result = diagnose(_dataset(cases))
    assert result.method == "baseline"
    assert "wxai lab run warning-polygons" in result.note
    assert result.likelihood is None
    expected = GustThresholdBaseline(DWD_GUST_LEVELS).masks(cases.inputs[0, 0])
    np.testing.assert_array_equal(result.masks.values, expected)
    assert result.expiry - result.onset == np.timedelta64(6, "h")
    paths = write_warnings(result, tmp_path, sent=result.onset)
    assert paths[0].name == "warnings.geojson"
    collection = json.loads(paths[0].read_text())
    levels = [f["properties"]["level"] for f in collection["features"]]
    assert levels == [lv.level for lv, g in zip(result.levels, result.polygons, strict=True)
                      if not g.is_empty]  # fmt: skip
    props = collection["features"][0]["properties"]
    assert {"level", "severity", "onset", "expiry"} <= set(props)
    assert len(paths) == 1 + len(levels)
    for path in paths[1:]:
        validate_cap(path.read_text())
    assert not list(tmp_path.glob(".*part"))  # nothing half-written left behind


def test_diagnose_with_a_model_handles_0_360_longitudes_and_odd_grids(cases):
    ds = _dataset(cases, lon=cases.lon % 360.0).isel(latitude=slice(0, 30), longitude=slice(1, 63))
    result = diagnose(ds, model=_untrained(cases))
    assert result.method == "unet"
    assert result.likelihood.shape == (4, 30, 62)
    assert float(result.likelihood.min()) >= 0 and float(result.likelihood.max()) <= 1
    assert np.all(np.diff(result.masks.longitude.values) > 0)
    assert float(result.masks.longitude.min()) < 0


def test_a_saved_diagnoser_loads_with_its_metadata_and_same_output(cases, tmp_path):
    from wxai.products.warnings.store import load_diagnoser, save_diagnoser

    model = _untrained(cases)
    path = save_diagnoser(model, tmp_path / "d.pt")
    loaded = load_diagnoser(path)
    assert loaded.channels == model.channels and loaded.levels == model.levels
    np.testing.assert_allclose(
        loaded.likelihood(cases.inputs[:2]), model.likelihood(cases.inputs[:2])
    )
    result = diagnose(_dataset(cases), model=path)
    assert result.method == "unet"
