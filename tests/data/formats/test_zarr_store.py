"""Zarr stores: chunk policy, consolidated metadata, atomic completion, append."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dask.array
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxai.core.errors import DataFormatError
from wxai.data.formats.zarr_store import ChunkPolicy, read_zarr, write_zarr


def _dataset(nt: int, ny: int, nx: int, seed: int = 0, t0: str = "2024-01-01") -> xr.Dataset:
    rng = np.random.default_rng(seed)
    times = np.datetime64(t0, "ns") + np.arange(nt) * np.timedelta64(1, "h")
    return xr.Dataset(
        {"t2m": (("time", "latitude", "longitude"), rng.normal(size=(nt, ny, nx)).astype("f4"))},
        coords={
            "time": times,
            "latitude": np.linspace(60, 40, ny),
            "longitude": np.arange(nx) * 0.5,
        },
    )


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    nt=st.integers(1, 4),
    ny=st.integers(1, 20),
    nx=st.integers(1, 20),
    cy=st.integers(1, 8),
    cx=st.integers(1, 8),
    seed=st.integers(0, 99),
)
def test_round_trip_with_requested_chunks(*, nt, ny, nx, cy, cx, seed):
    ds = _dataset(nt, ny, nx, seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_zarr(
            ds, Path(tmp) / "s.zarr", chunks=ChunkPolicy(time=1, latitude=cy, longitude=cx)
        )
        assert (path / ".zmetadata").is_file()
        assert not (Path(tmp) / "s.zarr.partial").exists()
        back = read_zarr(path)
        assert isinstance(back.t2m.data, dask.array.Array)
        assert back.t2m.encoding["chunks"] == (1, min(cy, ny), min(cx, nx))
        xr.testing.assert_identical(back.load(), ds)


def test_auto_chunks_respect_target_size():
    da = _dataset(4, 200, 300).t2m
    chunks = ChunkPolicy(target_mb=0.05).chunks_for(da)
    assert chunks["time"] == 1
    assert np.prod(list(chunks.values())) * 4 <= 0.05 * 2**20
    assert ChunkPolicy().chunks_for(da) == dict(da.sizes)
    with pytest.raises(DataFormatError):
        ChunkPolicy(latitude=0)


def test_append_along_time(tmp_path):
    first, second = _dataset(2, 5, 6, 1), _dataset(3, 5, 6, 2, t0="2024-01-01T02")
    path = write_zarr(first, tmp_path / "s.zarr", chunks={"time": 1, "latitude": 2})
    write_zarr(second, path, append_dim="time")
    back = read_zarr(path)
    xr.testing.assert_identical(back.load(), xr.concat([first, second], "time"))
    assert back.t2m.encoding["chunks"] == (1, 2, 6)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "wxai-home") == ["s.zarr"]


def test_partial_store_is_refused_and_failed_write_leaves_nothing(tmp_path):
    partial = write_zarr(_dataset(1, 2, 2), tmp_path / "s.zarr").rename(tmp_path / "s.zarr.partial")
    with pytest.raises(DataFormatError, match="partial"):
        read_zarr(partial)
    with pytest.raises(DataFormatError, match="still running or crashed"):
        read_zarr(tmp_path / "s.zarr")
    with pytest.raises(DataFormatError, match="no such"):
        read_zarr(tmp_path / "none.zarr")
    bad = _dataset(1, 2, 2).assign(obj=("time", np.array([object()])))
    with pytest.raises(Exception):  # noqa: B017 -- whatever zarr raises
        write_zarr(bad, tmp_path / "bad.zarr")
    assert not (tmp_path / "bad.zarr").exists() and not (tmp_path / "bad.zarr.partial").exists()
