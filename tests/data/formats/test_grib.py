"""GRIB: reference files from cfgrib's sdist, writer round-trips, corrupt input."""

from __future__ import annotations

import tempfile
from pathlib import Path

import eccodes
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxai.core.errors import DataFormatError
from wxai.data.formats.grib import (
    UnstructuredGrid,
    list_messages,
    read_grib,
    read_grib_dataset,
    write_grib,
)


def _eccodes_keys(path: Path, keys: tuple[str, ...]) -> list[dict]:
    out = []
    with path.open("rb") as f:
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            out.append({k: eccodes.codes_get(h, k) for k in keys})
            eccodes.codes_release(h)
    return out


def _cfgrib(path: Path, **keys) -> xr.Dataset:
    return xr.open_dataset(
        path,
        engine="cfgrib",
        decode_timedelta=True,
        backend_kwargs={"indexpath": "", "filter_by_keys": keys},
    ).load()


def test_list_messages_era5_levels_members(cfgrib_samples):
    path = cfgrib_samples / "era5-levels-members.grib"
    msgs = list_messages(path)
    assert len(msgs) == 160  # 2 params x 2 levels x 10 members x 4 times
    assert {m["shortName"] for m in msgs} == {"z", "t"}
    assert {m["paramId"] for m in msgs} == {129, 130}
    assert {m["typeOfLevel"] for m in msgs} == {"isobaricInhPa"}
    assert {m["level"] for m in msgs} == {500, 850}
    assert {m["number"] for m in msgs} == set(range(10))
    assert {(m["Ni"], m["Nj"], m["numberOfValues"]) for m in msgs} == {(120, 61, 7320)}
    assert {m["gridType"] for m in msgs} == {"regular_ll"}
    assert {m["edition"] for m in msgs} == {1}
    keys = ("shortName", "level", "step", "dataDate", "dataTime", "validityDate", "validityTime")
    ref = _eccodes_keys(path, keys)
    assert [{k: m[k] for k in keys} for m in msgs] == ref


@pytest.mark.parametrize(
    ("name", "grid_type"),
    [
        ("regular_gg_sfc.grib", "regular_gg"),
        ("reduced_gg.grib", "reduced_gg"),
        ("lambert_grid.grib", "lambert"),
        ("scanning_mode_64.grib", "regular_ll"),
        ("spherical_harmonics.grib", "sh"),
    ],
)
def test_list_messages_grid_types(cfgrib_samples, name, grid_type):
    path = cfgrib_samples / name
    msgs = list_messages(path)
    ref = _eccodes_keys(path, ("gridType", "numberOfValues", "shortName"))
    assert [(m["gridType"], m["numberOfValues"], m["shortName"]) for m in msgs] == [
        tuple(r.values()) for r in ref
    ]
    assert msgs[0]["gridType"] == grid_type


def test_read_grib_equals_cfgrib(cfgrib_samples):
    path = cfgrib_samples / "era5-levels-members.grib"
    ds = read_grib(path)
    ref = _cfgrib(path)
    assert dict(ds.sizes) == {
        "member": 10,
        "init_time": 4,
        "level": 2,
        "latitude": 61,
        "longitude": 120,
    }
    assert ds["level"].attrs["GRIB_typeOfLevel"] == "isobaricInhPa"
    for name in ("z", "t"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
    # filters are passed to cfgrib
    t850 = read_grib(path, shortName="t", level=850)
    assert list(t850.data_vars) == ["t"]
    np.testing.assert_array_equal(t850.t.values, ref.t.sel(isobaricInhPa=850).values)


def test_read_grib_scanning_mode_and_level_types(cfgrib_samples):
    ds = read_grib(cfgrib_samples / "scanning_mode_64.grib")
    ref = _cfgrib(cfgrib_samples / "scanning_mode_64.grib")
    np.testing.assert_array_equal(ds.latitude.values, ref.latitude.values)
    # two level types: one child node each, nothing to filter by hand
    path = cfgrib_samples / "t_on_different_level_types.grib"
    tree = read_grib(path)
    assert sorted(tree.children) == ["hybrid", "isobaricInhPa"]
    for level_type, node in tree.children.items():
        np.testing.assert_array_equal(
            node["t"].values, _cfgrib(path, typeOfLevel=level_type).t.values
        )
    ok = read_grib(path, typeOfLevel="hybrid")
    assert not ok.children and "t" in ok
    with pytest.raises(DataFormatError, match=r"several groups: isobaricInhPa .*hybrid"):
        read_grib_dataset(path)
    assert "t" in read_grib_dataset(path, typeOfLevel="hybrid")


def test_corrupt_truncated_and_foreign_files(cfgrib_samples, tmp_path):
    corrupted = cfgrib_samples / "era5-levels-corrupted.grib"
    truncated = tmp_path / "truncated.grib"
    data = (cfgrib_samples / "regular_ll_sfc.grib").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    noise = tmp_path / "noise.grib"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    for path in (corrupted, truncated, noise):
        for reader in (list_messages, read_grib):
            with pytest.raises(DataFormatError, match=path.name):
                reader(path)
    with pytest.raises(DataFormatError, match="no such file"):
        list_messages(tmp_path / "missing.grib")


def test_grid_across_greenwich_keeps_its_columns_in_order(tmp_path):
    """-6 .. 2 degrees east is stored as 354 .. 2; read back as -6 .. 2, values in place."""
    lon = np.arange(-6.0, 3.0, 2.0)
    values = 270.0 + np.arange(2 * lon.size, dtype=float).reshape(1, 2, lon.size)
    da = xr.DataArray(
        values,
        name="t2m",
        dims=("lead_time", "latitude", "longitude"),
        coords={
            "lead_time": np.array([0], "timedelta64[h]"),
            "latitude": [50.0, 51.0],
            "longitude": lon,
            "init_time": np.datetime64("2024-03-01T12:00"),
        },
    )
    write_grib(da, tmp_path / "x.grib2")
    back = read_grib_dataset(tmp_path / "x.grib2").load()
    np.testing.assert_allclose(back.longitude.values, lon)
    field = back["t2m"].squeeze().transpose("latitude", "longitude").values
    np.testing.assert_allclose(field, values[0], atol=1e-3)


_SPACING = st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0])


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    nj=st.integers(2, 6),
    ni=st.integers(2, 7),
    dlat=_SPACING,
    dlon=_SPACING,
    lat0=st.integers(-40, 30),
    lon0=st.integers(-20, 200),
    north_to_south=st.booleans(),
    steps=st.lists(st.integers(0, 240), min_size=1, max_size=3, unique=True),
    seed=st.integers(0, 2**16),
    variable=st.sampled_from(["t2m", "msl", "z500", "u10", "gust", "tp"]),
)
def test_write_grib_round_trip(
    *, nj, ni, dlat, dlon, lat0, lon0, north_to_south, steps, seed, variable
):
    rng = np.random.default_rng(seed)
    steps = sorted(steps)  # cfgrib returns steps sorted
    lat = lat0 + dlat * np.arange(nj)
    lat = lat[::-1] if north_to_south else lat
    lon = lon0 + dlon * np.arange(ni)
    values = rng.normal(280.0, 20.0, size=(len(steps), nj, ni))
    da = xr.DataArray(
        values,
        name=variable,
        dims=("lead_time", "latitude", "longitude"),
        coords={
            "lead_time": np.array(steps, "timedelta64[h]"),
            "latitude": lat,
            "longitude": lon,
            "init_time": np.datetime64("2024-03-01T12:00"),
        },
    )
    bits = 24
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.grib2"
        write_grib(da, path, bits_per_value=bits, packing="ccsds" if seed % 2 else "simple")
        msgs = list_messages(path)
        ds = _cfgrib(path)
        ours = read_grib_dataset(path).load()
        assert not list(Path(tmp).glob(".*"))  # no temporary left behind
    factor = 1000.0 if variable == "tp" else 1.0  # IFS tp is in m, canonical kg m-2
    expected = {
        "t2m": ("2t", "heightAboveGround", 2),
        "msl": ("msl", "meanSea", 0),
        "z500": ("z", "isobaricInhPa", 500),
        "u10": ("10u", "heightAboveGround", 10),
        "gust": ("10fg", "heightAboveGround", 10),
        "tp": ("tp", "surface", 0),
    }[variable]
    assert len(msgs) == len(steps)
    for msg, step in zip(msgs, steps, strict=True):
        assert (msg["shortName"], msg["typeOfLevel"], msg["level"]) == expected
        assert (msg["step"], msg["gridType"], msg["edition"]) == (step, "regular_ll", 2)
        assert (msg["Ni"], msg["Nj"], msg["dataDate"], msg["dataTime"]) == (ni, nj, 20240301, 1200)
    (name,) = ds.data_vars
    got = ds[name].transpose("step", ...).values if "step" in ds[name].dims else ds[name].values
    got = got.reshape(values.shape).astype(np.float64) * factor
    tolerance = 1.01 * np.ptp(values, axis=(1, 2), keepdims=True) / 2**bits + 1e-3
    assert np.all(np.abs(got - values) <= tolerance)
    np.testing.assert_allclose(ds.latitude.values, lat, atol=1e-6)
    np.testing.assert_allclose(ours.longitude.values % 360, lon % 360, atol=1e-6)
    if not lon[0] < 0 <= lon[-1]:  # cfgrib may sort the columns of a grid across Greenwich
        np.testing.assert_allclose(ds.longitude.values % 360, lon % 360, atol=1e-6)
    np.testing.assert_array_equal(ds.step.values.reshape(-1), np.array(steps, "timedelta64[h]"))


def test_write_grib_levels_members_and_missing_values(tmp_path):
    rng = np.random.default_rng(1)
    lat, lon = np.arange(3.0), np.arange(4.0)
    values = rng.normal(size=(2, 2, 3, 4)) * 100 + 5e4
    values[0, 0, 1, 1] = np.nan
    ds = xr.Dataset(
        {"z": (("member", "level", "latitude", "longitude"), values)},
        coords={
            "member": [0, 1],
            "level": [500, 850],
            "latitude": lat,
            "longitude": lon,
            "init_time": np.datetime64("2024-01-02T00:00"),
        },
    )
    path = write_grib(ds, tmp_path / "z.grib2", bits_per_value=24)
    msgs = list_messages(path)
    assert [(m["number"], m["level"]) for m in msgs] == [(0, 500), (0, 850), (1, 500), (1, 850)]
    back = read_grib(path)
    got = back.z.sel(level=[500, 850]).transpose("member", "level", ...).values
    assert np.isnan(got[0, 0, 1, 1]) and np.isnan(got).sum() == 1
    np.testing.assert_allclose(got, values, atol=1e-2)


def test_write_grib_icon_unstructured(tmp_path):
    grid = UnstructuredGrid(26, 1, "a27b8de6-18c4-11e4-820a-b5b098c6a5c0")
    da = xr.DataArray(
        np.linspace(250.0, 300.0, 40).reshape(2, 20),
        name="t2m",
        dims=("lead_time", "cell"),
        coords={
            "lead_time": np.array([0, 3], "timedelta64[h]"),
            "init_time": np.datetime64("2024-05-01T00:00"),
        },
    )
    path = write_grib(da, tmp_path / "icon.grib2", grid=grid, packing="ccsds", bits_per_value=24)
    with path.open("rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
        assert eccodes.codes_get(h, "gridType") == "unstructured_grid"
        assert eccodes.codes_get(h, "gridDefinitionTemplateNumber") == 101
        assert eccodes.codes_get(h, "numberOfGridUsed") == 26
        assert eccodes.codes_get(h, "numberOfGridInReference") == 1
        assert eccodes.codes_get(h, "uuidOfHGrid") == "a27b8de618c411e4820ab5b098c6a5c0"
        assert eccodes.codes_get(h, "numberOfValues") == 20
        eccodes.codes_release(h)
    back = read_grib(path)
    assert back.t2m.dims == ("lead_time", "cell")
    np.testing.assert_allclose(back.t2m.values, da.values, atol=1e-4)
    with pytest.raises(DataFormatError, match="grid"):
        write_grib(da, tmp_path / "nogrid.grib2")
    assert not (tmp_path / "nogrid.grib2").exists()


def test_gaussian_grid_is_written_as_regular_gg_and_appends_stream(tmp_path):
    from wxai.data.formats.grib import append_grib, gaussian_latitudes, list_messages

    lat, lon = gaussian_latitudes(32), np.arange(64) * 5.625
    field = 280 + 10 * np.cos(np.deg2rad(lat))[:, None] * np.sin(np.deg2rad(lon))[None, :]
    ds = xr.Dataset(
        {"t": (("level", "latitude", "longitude"), np.stack([field, field + 1]))},
        coords={"latitude": lat, "longitude": lon, "level": [2, 4]},
    )
    with (tmp_path / "gg.grib2").open("wb") as out:  # two appends = one file of 4 messages
        append_grib(ds.assign_coords(lead_time=np.timedelta64(0, "h")), out, type_of_level="hybrid")
        append_grib(ds.assign_coords(lead_time=np.timedelta64(6, "h")), out, type_of_level="hybrid")
    messages = list_messages(tmp_path / "gg.grib2")
    assert [m["gridType"] for m in messages] == ["regular_gg"] * 4
    assert {m["typeOfLevel"] for m in messages} == {"hybrid"}
    back = read_grib_dataset(tmp_path / "gg.grib2")
    np.testing.assert_allclose(back.latitude.values, lat, atol=1e-6)  # eccodes' own Gaussian lats
    np.testing.assert_allclose(back.t.isel(lead_time=1).values, ds.t.values, atol=20 / 2**16)
