"""CF NetCDF writer/reader: exact round-trips, CF attributes, corrupt files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxai.core.errors import DataFormatError
from wxai.data.formats.netcdf import read_netcdf, write_netcdf


def _dataset(nt: int, ny: int, nx: int, *, seed: int, dlat: float, lon0: float) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    t2m = rng.normal(280, 10, size=(nt, ny, nx)).astype(np.float32)
    t2m[0, 0, 0] = np.nan
    times = np.datetime64("2024-01-01T00:00") + np.arange(nt) * np.timedelta64(90, "m")
    return xr.Dataset(
        {
            "t2m": (("time", "latitude", "longitude"), t2m),
            "tp": (("time", "latitude", "longitude"), rng.random((nt, ny, nx))),
        },
        coords={
            "time": times.astype("datetime64[ns]"),
            "latitude": 45.0 + dlat * np.arange(ny),
            "longitude": lon0 + 0.5 * np.arange(nx),
            "lead_time": np.timedelta64(3, "h").astype("timedelta64[ns]"),
        },
        attrs={"title": "test"},
    )


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    nt=st.integers(1, 3),
    ny=st.integers(1, 5),
    nx=st.integers(1, 5),
    seed=st.integers(0, 99),
    dlat=st.sampled_from([0.1, 0.25, -1.0]),
    lon0=st.floats(-180, 180, allow_nan=False),
    engine=st.sampled_from(["netcdf4", "h5netcdf"]),
)
def test_round_trip_exact(*, nt, ny, nx, seed, dlat, lon0, engine):
    ds = _dataset(nt, ny, nx, seed=seed, dlat=dlat, lon0=lon0)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_netcdf(ds, Path(tmp) / "x.nc", engine=engine)
        back = read_netcdf(path, engine=engine)
    for name in ("t2m", "tp", "time", "latitude", "longitude", "lead_time"):
        xr.testing.assert_equal(back[name], ds[name])
    assert back.t2m.dtype == np.float32


def test_cf_attributes_read_by_netcdf4(tmp_path):
    path = write_netcdf(_dataset(2, 3, 4, seed=0, dlat=0.5, lon0=10.0), tmp_path / "cf.nc")
    with netCDF4.Dataset(path) as nc:
        assert nc.Conventions == "CF-1.10"
        assert nc.title == "test"
        t2m = nc["t2m"]
        assert (t2m.units, t2m.standard_name) == ("K", "air_temperature")
        assert t2m.getncattr("_FillValue") == netCDF4.default_fillvals["f4"]
        assert t2m.filters()["zlib"]
        assert nc["tp"].units == "kg m-2"
        assert (nc["latitude"].units, nc["latitude"].axis) == ("degrees_north", "Y")
        assert (nc["longitude"].units, nc["longitude"].axis) == ("degrees_east", "X")
        assert nc["time"].units.startswith("seconds since 1970-01-01")
        assert nc["time"].dtype == np.int64
        assert np.ma.is_masked(t2m[0, 0, 0])


def test_corrupt_and_foreign_files(tmp_path):
    good = write_netcdf(_dataset(2, 3, 4, seed=0, dlat=0.5, lon0=10.0), tmp_path / "good.nc")
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    noise = tmp_path / "noise.nc"
    noise.write_bytes(np.random.default_rng(0).bytes(2048))
    for path in (truncated, noise):
        with pytest.raises(DataFormatError, match=path.name):
            read_netcdf(path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "wxai-home") == [
        "good.nc",
        "noise.nc",
        "truncated.nc",
    ]


@pytest.mark.parametrize(
    ("engine", "wrapper"),
    [
        ("netcdf4", "xarray.backends.netCDF4_.NetCDF4ArrayWrapper._getitem"),
        ("h5netcdf", "xarray.backends.h5netcdf_.H5NetCDFArrayWrapper._getitem"),
    ],
)
def test_out_of_memory_is_a_memory_error_naming_the_file(tmp_path, monkeypatch, engine, wrapper):
    from wxai.core.errors import DataTooLargeError

    path = write_netcdf(_dataset(2, 3, 4, seed=0, dlat=1.0, lon0=0.0), tmp_path / "big.nc")

    def out_of_memory(self, key):
        raise MemoryError("Unable to allocate 80.0 GiB for an array")

    monkeypatch.setattr(wrapper, out_of_memory)
    with pytest.raises(MemoryError) as info:
        read_netcdf(path, engine=engine)
    assert isinstance(info.value, DataTooLargeError)
    assert not isinstance(info.value, DataFormatError)
    message = str(info.value)
    assert str(path) in message and "on disk" in message and "chunks=" in message
