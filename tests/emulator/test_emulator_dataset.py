"""Emulator datasets without the simulator: recipes, forcings, grids, NetCDF builds, stores."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.formats.netcdf import write_netcdf
from wxai.data.grids.icosahedral import icon_rnbk
from wxai.emulator.datasets.build import build_dataset
from wxai.emulator.datasets.forcings import compute_forcing, solar_declination
from wxai.emulator.datasets.inspect import format_report, inspect_dataset
from wxai.emulator.datasets.reader import REQUIRED_ARRAYS, REQUIRED_ATTRS, open_dataset
from wxai.emulator.datasets.recipe import load_recipe
from wxai.emulator.datasets.targets import Remapper, target_grid

SIM = {"kind": "simulator", "spin_up_days": 1}
DATES = {"start": "2000-01-01", "end": "2000-01-02", "frequency": "6h"}


def _recipe(**over):
    base = {"name": "x", "source": SIM, "variables": ["u", "sp"], "dates": DATES}
    return {**base, **over}


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"variables": ["u", "q"]}, "unknown variable(s) ['q']"),
        ({"forcings": ["cos_latitud"]}, "unknown forcing(s) ['cos_latitud']"),
        ({"grid": {"regular": {"resolution_deg": -1}}}, "grid.regular.resolution_deg"),
        ({"grid": {"regular": {"resolution_deg": 7}}}, "must divide 180"),
        ({"grid": {"icon": {"n": 0, "k": 2}}}, "grid.icon.n"),
        ({"grid": {"icon": {"n": 2, "k": -1}}}, "grid.icon.k"),
        ({"grid": {"icon": {"n": 20, "k": 8}}}, "R20B08 has 524288000 cells"),
        ({"levels": [0, 9]}, "levels [0, 9] outside the model levels 1..8"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"dates": {**DATES, "end": "1999-12-31"}}, "is before start"),
        ({"dates": {**DATES, "end": "2000-01-02T03:00"}}, "not a multiple of the frequency"),
        ({"source": {**SIM, "truncation": 22}}, "truncation T22"),
        ({"remap": "cubic"}, "remap"),
        ({"statistics": {"start": "2001-01-01", "end": "2001-02-01"}}, "contains no date"),
    ],
)
def test_recipe_errors_name_the_problem(over, needle):
    with pytest.raises(ConfigError) as err:
        load_recipe(_recipe(**over))
    assert needle in str(err.value)


def test_recipe_yaml_and_paths(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "name: f\nsource: {kind: files, paths: 'a/*.nc', format: netcdf}\n"
        "variables: [t]\ndates: {start: 2000-01-01, end: 2000-01-01T12:00, frequency: 6h}\n"
    )
    recipe = load_recipe(path)
    assert recipe.source.paths == str(tmp_path / "a/*.nc")
    assert recipe.dates.values().size == 3
    with pytest.raises(ConfigError, match="no such file"):
        load_recipe(tmp_path / "missing.yaml")


def test_forcings_match_closed_forms():
    dates = np.array(["2001-06-21T12:00", "2001-12-21T00:00"], dtype="datetime64[s]")
    lat = np.array([0.0, 45.0, -60.0, 23.0])
    lon = np.array([0.0, 90.0, 180.0, 270.0])
    np.testing.assert_allclose(
        compute_forcing("cos_latitude", dates, lat, lon)[1], np.cos(np.deg2rad(lat)), rtol=1e-6
    )
    np.testing.assert_allclose(
        compute_forcing("sin_longitude", dates, lat, lon)[0], np.sin(np.deg2rad(lon)), atol=1e-6
    )
    # local time: 12 UTC at 90E is 18 h; at 180 E is 0 h
    lt = compute_forcing("cos_local_time", dates, lat, lon)
    np.testing.assert_allclose(lt[0], np.cos(2 * np.pi * np.array([12, 18, 0, 6]) / 24), atol=1e-6)
    jd = compute_forcing("cos_julian_day", dates[:1], lat, lon)
    np.testing.assert_allclose(jd, np.cos(2 * np.pi * (171 + 0.5) / 365.25), rtol=1e-6)
    # declination near the solstices: +-23.44 degrees
    assert np.rad2deg(solar_declination(dates)) == pytest.approx([23.44, -23.44], abs=0.3)
    ins = compute_forcing("insolation", dates, lat, lon)
    # 21 June 12 UTC: sun overhead near (23.4 N, 0 E); night at 180 E; equinox-free check
    assert ins[0, 0] == pytest.approx(np.cos(np.deg2rad(23.44)), abs=5e-3)
    assert ins[0, 2] == 0.0  # 180 E at local midnight
    assert ins[1, 0] == 0.0  # 0 E at midnight
    # 21 December 00 UTC at 180 E, 23 N: local noon, zenith 46.4 degrees
    assert ins[1, 2] == pytest.approx(np.cos(np.deg2rad(60 - 23.44)), abs=5e-3)
    assert (ins >= 0).all() and (ins <= 1).all()


def test_insolation_matches_earthkit():
    """Reference values from earthkit.data.utils.meteo.cos_solar_zenith_angle (0.20)."""
    lat = np.array([10.0, 45.0, -30.0, 60.0, -5.0])
    lon = np.array([20.0, 300.0, 150.0, 90.0, 0.0])
    dates = np.array(["2000-10-05T18:00", "2003-02-11T09:00"], dtype="datetime64[s]")
    expected = [[0.0, 0.528549, 0.0, 0.0, 0.0], [0.796162, 0.0, 0.0, 0.151283, 0.660671]]
    got = compute_forcing("insolation", dates, lat, lon)
    np.testing.assert_allclose(got, expected, atol=2e-6)


def test_icon_rnbk_counts():
    for n, k in ((1, 0), (2, 1), (3, 2)):
        xyz, faces = icon_rnbk(n, k)
        assert faces.shape[0] == 20 * n * n * 4**k
        assert xyz.shape[0] == 10 * n * n * 4**k + 2
        np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1.0)


def _gaussian_like(nlat=32, nlon=64):
    lat1 = np.rad2deg(np.arcsin(np.polynomial.legendre.leggauss(nlat)[0]))[::-1]
    lon1 = np.arange(nlon) * 360.0 / nlon
    la, lo = np.meshgrid(lat1, lon1, indexing="ij")
    return la.ravel(), lo.ravel()


def _smooth(lat, lon):
    phi, lam = np.deg2rad(lat), np.deg2rad(lon)
    # smooth on the sphere (the last term is 5 (x**2 - y**2)), so also at the poles
    return 280 + 30 * np.cos(phi) ** 2 + 5 * np.cos(phi) ** 2 * np.cos(2 * lam)


@pytest.mark.parametrize(
    ("spec", "method", "tol"),
    [
        ({"regular": {"resolution_deg": 10}}, "linear", 0.5),
        ({"regular": {"resolution_deg": 2.5}}, "linear", 0.3),  # targets poleward of the ring
        ({"regular": {"resolution_deg": 10}}, "conservative", 1.5),
        ({"icon": {"n": 2, "k": 2}}, "linear", 0.5),
        ({"icon": {"n": 2, "k": 2}}, "conservative", 1.5),
    ],
)
def test_remap_smooth_field(spec, method, tol):
    lat, lon = _gaussian_like()
    recipe = load_recipe(_recipe(grid=spec, remap=method))
    target = target_grid(recipe.grid, lat, lon, (32, 64), "T21")
    remap = Remapper(lat, lon, target, method)
    field = _smooth(lat, lon)
    out = remap(field[None])[0]
    assert np.abs(out - _smooth(target.latitudes, target.longitudes)).max() < tol
    np.testing.assert_allclose(remap(np.full((1, lat.size), 3.0)), 3.0, rtol=1e-6)
    if method == "conservative":
        # the area integral is preserved: source cells weighted by their Gaussian-grid areas
        w = np.polynomial.legendre.leggauss(32)[1][::-1].repeat(64)
        src_mean = (field * w).sum() / w.sum()
        tgt_mean = (out * remap.target_area).sum() / remap.target_area.sum()
        assert tgt_mean == pytest.approx(src_mean, rel=2e-4)


def _netcdf_archive(tmp_path: Path, days: int = 3) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "archive"
    folder.mkdir()
    lat = np.arange(60.0, -61.0, -30.0)
    lon = np.arange(0.0, 360.0, 45.0)
    for d in range(days):
        time = (
            np.datetime64("2001-03-01")
            + np.timedelta64(d, "D")
            + np.arange(4) * np.timedelta64(6, "h")
        )
        t = 250 + 20 * rng.random((4, 2, lat.size, lon.size))
        t[0, 0, 0, 0] = np.nan if d == 1 else t[0, 0, 0, 0]
        ds = xr.Dataset(
            {
                "t": (("time", "level", "latitude", "longitude"), t.astype(np.float32)),
                "msl": (
                    ("time", "latitude", "longitude"),
                    (1e5 + rng.random((4, lat.size, lon.size))).astype(np.float32),
                ),
            },
            coords={"time": time, "level": [500, 850], "latitude": lat, "longitude": lon},
        )
        write_netcdf(ds, folder / f"day{d}.nc")
    return folder


def _file_recipe(folder: Path, end="2001-03-03T18:00", **over):
    base = {
        "name": "files",
        "source": {"kind": "files", "paths": str(folder / "*.nc"), "format": "netcdf"},
        "variables": ["t", "msl"],
        "levels": [850, 500],
        "dates": {"start": "2001-03-01", "end": end, "frequency": "6h"},
        "forcings": ["cos_latitude", "insolation"],
        "statistics": {"start": "2001-03-01T06:00", "end": "2001-03-02T18:00"},
        "chunking": {"time": 2, "block": 4},
    }
    return {**base, **over}


def test_files_build_store_layout_and_statistics(tmp_path):
    folder = _netcdf_archive(tmp_path)
    out = build_dataset(_file_recipe(folder), tmp_path / "ds.zarr")
    g = zarr.open_group(str(out), mode="r", zarr_format=2)
    assert (out / ".zgroup").exists() and (out / ".zmetadata").exists()
    assert sorted(g.array_keys()) == sorted(REQUIRED_ARRAYS)
    assert set(REQUIRED_ATTRS) <= set(g.attrs)
    assert g["data"].dtype == np.float32 and g["data"].chunks == (2, 5, 1, 40)
    assert g["dates"].dtype == np.dtype("datetime64[s]")
    assert g.attrs["variables"] == ["t_850", "t_500", "msl", "cos_latitude", "insolation"]
    assert json.loads((out / "data" / ".zarray").read_text())["zarr_format"] == 2
    ds = open_dataset(out)
    assert len(ds) == 12 and ds.forcing_variables == ["cos_latitude", "insolation"]
    src = xr.open_mfdataset(str(folder / "*.nc"), combine="by_coords").load()
    np.testing.assert_array_equal(
        ds.fields(0, 12)[:, 0].reshape(12, 5, 8), src.t.sel(level=850).values
    )
    # statistics over the declared period only (dates 1..7), NaN-aware
    x = ds.fields(1, 8).astype(np.float64)
    np.testing.assert_allclose(ds.statistics["mean"], np.nanmean(x, axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(ds.statistics["stdev"], np.nanstd(x, axis=(0, 2)), rtol=1e-9)
    np.testing.assert_allclose(ds.statistics["minimum"], np.nanmin(x, axis=(0, 2)))
    np.testing.assert_allclose(ds.statistics["maximum"], np.nanmax(x, axis=(0, 2)))
    np.testing.assert_array_equal(g["count"][:], (~np.isnan(x)).sum(axis=(0, 2)))
    assert g["has_nans"][:].tolist() == [False, True, False, False, False]
    report = inspect_dataset(out)
    assert report.ok, report.problems
    assert report.nan_counts["t_500"] == 1
    assert "no problems found" in format_report(report)


def test_append_and_resume_equal_one_build(tmp_path):
    folder = _netcdf_archive(tmp_path)
    whole = build_dataset(_file_recipe(folder), tmp_path / "whole.zarr")
    part = build_dataset(_file_recipe(folder, end="2001-03-02T06:00"), tmp_path / "part.zarr")
    assert open_dataset(part).dates[-1] == np.datetime64("2001-03-02T06:00")
    build_dataset(_file_recipe(folder), part)  # append
    calls = []

    def interrupt(done, total):
        calls.append(done)
        if done >= 4:
            raise KeyboardInterrupt

    resumed = tmp_path / "resumed.zarr"
    with pytest.raises(KeyboardInterrupt):
        build_dataset(_file_recipe(folder), resumed, progress=interrupt)
    assert (tmp_path / "resumed.zarr.partial").exists() and not resumed.exists()
    with pytest.raises(DataFormatError, match="unfinished build"):
        open_dataset(resumed)
    with pytest.raises(ConfigError, match="another recipe"):
        build_dataset(_file_recipe(folder, name="other"), resumed)
    build_dataset(_file_recipe(folder), resumed, progress=lambda d, t: calls.append(d))
    assert calls[:3] == [0, 4, 4]
    a = zarr.open_group(str(whole), mode="r")
    for other in (part, resumed):
        b = zarr.open_group(str(other), mode="r")
        for name in ("data", "dates", "latitudes", "longitudes", "count", "has_nans"):
            np.testing.assert_array_equal(a[name][:], b[name][:], err_msg=name)
        for name in ("mean", "stdev", "minimum", "maximum", "sums", "squares"):
            # other block boundaries: the same sums up to rounding
            np.testing.assert_allclose(a[name][:], b[name][:], rtol=1e-12, err_msg=name)
    assert build_dataset(_file_recipe(folder), whole) == whole  # nothing to add


def test_missing_corrupt_and_inconsistent_stores(tmp_path):
    with pytest.raises(DataFormatError, match="no such dataset"):
        open_dataset(tmp_path / "none.zarr")
    (tmp_path / "junk.zarr").mkdir()
    (tmp_path / "junk.zarr" / ".zgroup").write_text("{not json")
    with pytest.raises(DataFormatError, match=r"junk\.zarr"):
        open_dataset(tmp_path / "junk.zarr")
    folder = _netcdf_archive(tmp_path)
    out = build_dataset(_file_recipe(folder), tmp_path / "ds.zarr")
    bad = tmp_path / "bad.zarr"
    shutil.copytree(out, bad)
    g = zarr.open_group(str(bad), mode="r+", zarr_format=2, use_consolidated=False)
    dates = g["dates"][:]
    dates[5] += np.timedelta64(1, "h")
    g["dates"][:] = dates
    del g["stdev"]
    g.create_array("stdev", shape=(3,), dtype="float64")
    g["data"][2, 2, 0, 0] = np.nan  # msl has_nans is False
    zarr.consolidate_metadata(str(bad), zarr_format=2)
    problems = inspect_dataset(bad).problems
    assert any("differ from the frequency 6h" in p for p in problems)
    assert any("statistics 'stdev' has shape (3,)" in p for p in problems)
    assert any("NaNs in ['msl'] whose has_nans is False" in p for p in problems)
    with pytest.raises(DataFormatError, match="statistics stdev has shape"):
        open_dataset(bad)
    shutil.rmtree(bad / "latitudes")
    zarr.consolidate_metadata(str(bad), zarr_format=2)
    assert "missing array 'latitudes'" in inspect_dataset(bad).problems
    # the dates chunks deleted behind the metadata's back: read back as NaT
    damaged = tmp_path / "damaged.zarr"
    shutil.copytree(out, damaged)
    shutil.rmtree(damaged / "dates")
    assert any("dates holds" in p for p in inspect_dataset(damaged).problems)
    with pytest.raises(DataFormatError, match="dates holds missing values"):
        open_dataset(damaged)


def test_grib_archive_build(tmp_path):
    from wxai.data.formats.grib import write_grib

    rng = np.random.default_rng(1)
    lat, lon = np.arange(60.0, -61.0, -30.0), np.arange(0.0, 360.0, 45.0)
    times = np.datetime64("2001-03-01") + np.arange(5) * np.timedelta64(6, "h")
    t2m = 280 + 10 * rng.random((5, lat.size, lon.size))
    msl = 1e5 + 500 * rng.random((5, lat.size, lon.size))
    dims = ("init_time", "latitude", "longitude")
    for name, sl in (("a", slice(0, 4)), ("b", slice(4, 5))):  # "b": one date, scalar time
        ds = xr.Dataset(
            {"t2m": (dims, t2m[sl]), "msl": (dims, msl[sl])},
            coords={"init_time": times[sl], "latitude": lat, "longitude": lon},
        )
        if name == "b":
            ds = ds.isel(init_time=0)
        write_grib(ds, tmp_path / f"{name}.grib", bits_per_value=24)
    recipe = {
        "name": "grib",
        "source": {"kind": "files", "paths": str(tmp_path / "*.grib"), "format": "grib"},
        "variables": ["msl", "t2m"],
        "dates": {"start": "2001-03-01", "end": "2001-03-02", "frequency": "6h"},
        "grid": {"regular": {"resolution_deg": 30}},
    }
    out = build_dataset(recipe, tmp_path / "grib.zarr")
    ds = open_dataset(out)
    assert ds.variables == ["msl", "t2m"] and ds.attrs["field_shape"] == [6, 12]
    assert ds.attrs["variables_metadata"]["t2m"]["units"] == "K"
    # linear remap of a 45-degree grid onto 30 degrees stays within the source range
    x = ds.fields(0, 5)
    assert (x[:, 1] >= t2m.min() - 1e-3).all() and (x[:, 1] <= t2m.max() + 1e-3).all()
    recipe["grid"] = "source"
    same = open_dataset(build_dataset(recipe, tmp_path / "same.zarr"))
    np.testing.assert_allclose(same.fields(0, 5)[:, 0], msl.reshape(5, -1), atol=1e-3)
    np.testing.assert_allclose(same.fields(0, 5)[:, 1], t2m.reshape(5, -1), atol=1e-4)


def test_file_build_memory_is_one_block_not_the_archive(tmp_path):
    """Reading goes through dask one date per chunk: the Python-side peak of a
    build stays far below the archive's size (an eager ``.load()`` would not)."""
    folder = tmp_path / "big"
    folder.mkdir()
    times = np.datetime64("2001-03-01") + np.arange(480) * np.timedelta64(6, "h")
    lat, lon = np.linspace(89.0, -89.0, 64), np.arange(0.0, 360.0, 2.8125)
    rng = np.random.default_rng(1)
    shape = (times.size, 2, lat.size, lon.size)
    ds = xr.Dataset(
        {"t": (("time", "level", "latitude", "longitude"), rng.random(shape, np.float32))},
        coords={"time": times, "level": [500, 850], "latitude": lat, "longitude": lon},
    )
    write_netcdf(ds, folder / "all.nc")
    archive_bytes = ds.t.nbytes  # 31.5 MB
    recipe = _file_recipe(
        folder,
        end=str(times[-1]),
        variables=["t"],
        forcings=[],
        statistics={"start": "2001-03-01", "end": "2001-04-30"},
        chunking={"time": 4, "block": 8},
    )
    tracemalloc.start()
    out = build_dataset(recipe, tmp_path / "big.zarr")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.35 * archive_bytes, f"peak {peak / 1e6:.1f} MB for {archive_bytes / 1e6:.1f} MB"
    np.testing.assert_array_equal(
        open_dataset(out).fields(200, 201)[0, 1].reshape(64, 128), ds.t[200, 0].values
    )
