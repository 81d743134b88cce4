"""SYNOP NetCDF reader: canonical names, units, missing values kept as NaN."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxai.core.errors import DataFormatError
from wxai.data.obs.synop import SYNOP_VARIABLES, read_synop

FILL_F = 9.96921e36
FILL_I = -2147483647


def _write_synop(path: Path, n: int = 5, t_units: str = "K") -> Path:
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("BUFR_records", None)
        nc.createDimension("YSSOSN_len", 5)

        def var(name, dtype, units, values, **kw):
            v = nc.createVariable(name, dtype, ("BUFR_records",), **kw)
            v.units = units
            v[:] = values
            return v

        var("MLAH", "f8", "DEGREE", [50.0, 52.5, -33.9, 0.0, 64.1], fill_value=FILL_F)
        var("MLOH", "f8", "DEGREE", [8.6, 13.4, 200.0, -179.5, -21.9], fill_value=FILL_F)
        t = [280.15, FILL_F, 295.0, 300.5, 270.0]
        var("MTDBT", "f4", t_units, t, fill_value=FILL_F)
        # no _FillValue attribute: NetCDF default fill must still be missing
        td = [275.0, 276.0, netCDF4.default_fillvals["f4"], 290.0, 265.0]
        var("MTDNH", "f4", "K", td)
        # BUFR missing indicator via missing_value
        p = var("MPPP", "f4", "PA", [100500.0, 99800.0, 101000.0, -1e38, 98000.0])
        p.missing_value = np.float32(-1e38)
        var("NDNDN", "i4", "DEGREE_TRUE", [270, 0, FILL_I, 90, 180], fill_value=FILL_I)
        var("NFNFN", "f4", "M/S", [5.0, 0.0, 3.0, FILL_F, 2.0], fill_value=FILL_F)
        for name, vals in {
            "MJJJ": [2024, 2024, 2024, FILL_I, 2024],
            "MMM": [1, 1, 2, 1, 12],
            "MYY": [15, 15, 29, 1, 31],
            "MGG": [12, 12, 6, 0, 23],
            "NGG": [0, 30, 0, 0, 59],
        }.items():
            var(name, "i4", "", vals, fill_value=FILL_I)
        ids = nc.createVariable("YSSOSN", "S1", ("BUFR_records", "YSSOSN_len"))
        ids[:] = netCDF4.stringtochar(np.array(["10637", "10384", "68816", "", "04030"], "S5"))
    return path


def test_read_synop_names_units_and_missing(tmp_path: Path) -> None:
    ds = read_synop(_write_synop(tmp_path / "synop.nc"))
    assert ds.sizes == {"report": 5}
    assert ds["t2m"].attrs["units"] == "K"
    assert ds["t2m"].attrs["source_name"] == "MTDBT"
    assert ds["ps"].attrs["units"] == "Pa"
    assert ds["lat"].attrs["units"] == "degrees_north"
    t2m = ds["t2m"].values
    assert np.isnan(t2m[1])  # _FillValue
    assert not np.isnan(np.delete(t2m, 1)).any()
    np.testing.assert_allclose(t2m[[0, 2]], [280.15, 295.0], rtol=1e-6)
    assert np.isnan(ds["td2m"].values[2])  # default NetCDF fill without attribute
    assert np.isnan(ds["ps"].values[3])  # missing_value
    assert np.isnan(ds["wind_dir"].values[2])  # integer BUFR missing
    for name in ("t2m", "td2m", "ps", "wind_dir", "wind_speed"):
        values = ds[name].values
        assert not np.isin(values, [9999.0, FILL_F, FILL_I, -1e38]).any()
        assert not (np.abs(values[np.isfinite(values)]) >= 1e30).any()
    assert ds["wind_speed"].values[1] == 0.0  # calm is a real 0, not missing
    np.testing.assert_allclose(ds["lon"].values[2], -160.0)
    np.testing.assert_allclose(ds["u10m"].values[0], 5.0, atol=1e-6)  # wind from the west
    assert np.isnan(ds["u10m"].values[2]) and np.isnan(ds["u10m"].values[3])
    times = ds["time"].values
    assert times[0] == np.datetime64("2024-01-15T12:00")
    assert times[1] == np.datetime64("2024-01-15T12:30")
    assert times[4] == np.datetime64("2024-12-31T23:59")
    assert np.isnat(times[3])
    assert list(ds["station_id"].values[:3]) == ["10637", "10384", "68816"]


def test_celsius_converted_to_kelvin(tmp_path: Path) -> None:
    ds = read_synop(_write_synop(tmp_path / "synop.nc", t_units="C"))
    np.testing.assert_allclose(ds["t2m"].values[0], 280.15 + 273.15, rtol=1e-6)
    assert ds["t2m"].attrs["source_units"] == "C"


def test_table_names_are_unique() -> None:
    names = [row.name for row in SYNOP_VARIABLES]
    assert len(names) == len(set(names))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(st.floats(200.0, 330.0, allow_nan=False, width=32), min_size=1, max_size=30),
    data=st.data(),
)
def test_missing_round_trip(tmp_path: Path, values: list[float], data: st.DataObject) -> None:
    missing = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    path = tmp_path / "rt.nc"
    stored = np.where(missing, FILL_F, values).astype(np.float32)
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("BUFR_records", len(values))
        for name, vals in (("MLAH", np.zeros(len(values))), ("MLOH", np.zeros(len(values)))):
            nc.createVariable(name, "f8", ("BUFR_records",))[:] = vals
        nc.createVariable("MTDBT", "f4", ("BUFR_records",), fill_value=FILL_F)[:] = stored
    t2m = read_synop(path)["t2m"].values
    np.testing.assert_array_equal(np.isnan(t2m), missing)
    np.testing.assert_array_equal(t2m[~np.array(missing)], stored[~np.array(missing)])


def test_corrupt_and_truncated_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"CDF\x01" + b"\x00\x17" * 50)
    with pytest.raises(DataFormatError, match=r"garbage\.nc"):
        read_synop(garbage)
    good = _write_synop(tmp_path / "good.nc")
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataFormatError, match=r"truncated\.nc"):
        read_synop(truncated)


def test_not_a_synop_file(tmp_path: Path) -> None:
    path = tmp_path / "other.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("x", 2)
        nc.createVariable("foo", "f4", ("x",))[:] = [1, 2]
    with pytest.raises(DataFormatError, match="MLAH"):
        read_synop(path)
    with pytest.raises(FileNotFoundError):
        read_synop(tmp_path / "absent.nc")
