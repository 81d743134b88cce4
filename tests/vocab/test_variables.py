"""The variable vocabulary: lookups in both directions and dataset renaming."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wxai.core.errors import UnknownNameError
from wxai.vocab import (
    from_source,
    get_variable,
    list_variables,
    rename_to_canonical,
    to_source,
)


@pytest.mark.parametrize(
    ("canonical", "short_name", "param_id", "icon"),
    [
        ("t2m", "2t", 167, "T_2M"),
        ("td2m", "2d", 168, "TD_2M"),
        ("u10", "10u", 165, "U_10M"),
        ("v10", "10v", 166, "V_10M"),
        ("msl", "msl", 151, "PMSL"),
        ("sp", "sp", 134, "PS"),
        ("tp", "tp", 228, "TOT_PREC"),
        ("gust", "10fg", 49, "VMAX_10M"),
        ("tcc", "tcc", 164, "CLCT"),
        ("rh2m", "2r", 260242, "RELHUM_2M"),
    ],
)
def test_surface_names_both_ways(canonical, short_name, param_id, icon):
    var = get_variable(canonical)
    assert var.sources["ifs"].param_id == param_id
    assert to_source(canonical, "ifs") == short_name
    assert to_source(canonical, "icon") == icon
    assert from_source("ifs", short_name).name == canonical
    assert from_source("ifs", param_id).name == canonical
    assert from_source("ifs", str(param_id)).name == canonical
    assert from_source("icon", icon).name == canonical
    assert from_source("icon", icon.lower()).name == canonical


def test_units_and_cf_names():
    assert get_variable("t2m").units == "K"
    assert get_variable("u10").units == "m s-1"
    assert get_variable("tp").units == "kg m-2"
    assert get_variable("z500").units == "m2 s-2"
    assert get_variable("cth").units == "m"
    assert get_variable("msl").standard_name == "air_pressure_at_mean_sea_level"
    assert to_source("u10", "cf") == "eastward_wind"
    assert from_source("cf", "air_pressure_at_mean_sea_level").name == "msl"


def test_levels_select_single_level_shortcuts():
    z500 = from_source("ifs", "z", level=500)
    assert (z500.name, z500.level, z500.level_type, z500.base) == (
        "z500",
        500,
        "isobaricInhPa",
        "z",
    )
    assert from_source("ifs", 129).name == "z"
    assert from_source("icon", "FI", level=500).name == "z500"
    assert from_source("icon", "T", level=850).name == "t850"
    assert from_source("ifs", "t", level=925).name == "t"  # no shortcut: the level field
    assert to_source("z500", "ifs") == "z"
    assert from_source("odim", "DBZH").name == "dbz"


def test_unknown_names_suggest_the_nearest():
    with pytest.raises(UnknownNameError, match="did you mean 't2m'"):
        get_variable("t2n")
    with pytest.raises(UnknownNameError, match="did you mean 'T_2M'"):
        from_source("icon", "T_2MM")
    with pytest.raises(UnknownNameError, match="did you mean 'icon'"):
        from_source("ikon", "T_2M")
    with pytest.raises(UnknownNameError):
        to_source("dbz", "ifs")  # radar reflectivity has no IFS parameter


def test_every_variable_has_units_and_a_source():
    names = [v.name for v in list_variables()]
    assert len(names) == len(set(names))
    for var in list_variables():
        assert var.units and var.long_name
        assert var.sources or var.standard_name


def test_rename_to_canonical_icon_and_units():
    ds = xr.Dataset(
        {"T_2M": ("cell", np.array([280.0, 290.0])), "TOT_PREC": ("cell", np.array([1.0, 0.0]))}
    )
    out = rename_to_canonical(ds, "icon")
    assert set(out.data_vars) == {"t2m", "tp"}
    assert out.t2m.attrs["standard_name"] == "air_temperature"
    assert "T_2M" in ds  # input untouched


def test_rename_to_canonical_ifs_converts_units_and_uses_grib_attrs():
    tp = xr.DataArray([0.001, 0.002], dims="x", attrs={"GRIB_paramId": 228, "units": "m"})
    z = xr.DataArray(
        [5.0e4], dims="y", coords={"isobaricInhPa": 500.0}, attrs={"GRIB_paramId": 129}
    )
    out = rename_to_canonical(
        xr.Dataset({"tp": tp, "z": z, "other": ("x", [1, 2])}),
        "ifs",
        convert_units=True,
        errors="ignore",
    )
    np.testing.assert_allclose(out.tp.values, [1.0, 2.0])
    assert out.tp.attrs["units"] == "kg m-2"
    assert "z500" in out and "other" in out
    with pytest.raises(UnknownNameError):
        rename_to_canonical(xr.Dataset({"other": ("x", [1, 2])}), "ifs")
