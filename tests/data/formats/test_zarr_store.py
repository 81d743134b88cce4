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


def _files(store: Path) -> dict[str, bytes]:
    return {str(f.relative_to(store)): f.read_bytes() for f in store.rglob("*") if f.is_file()}


def _append_pair() -> tuple[xr.Dataset, xr.Dataset]:
    """3 + 4 steps (time chunks of 2: the append rewrites a partial chunk) and a static field."""
    first, second = _dataset(3, 5, 6, 1), _dataset(4, 5, 6, 2, t0="2024-01-01T03")
    first["orography"] = ("latitude", np.arange(5.0))
    second["orography"] = ("latitude", np.arange(5.0))
    return first, second


def _failing_after(calls: int, exc: BaseException, seen: list[dict[str, bytes]], store: Path):
    """A map_blocks function that raises ``exc`` from its ``calls + 1``-th call on.

    When it raises, it records the files of ``store`` (the store being appended
    to) in ``seen``. map_blocks calls it once on an empty array to infer dtypes.
    """
    done = []

    def block(x):
        if len(done) >= calls:
            seen.append(_files(store))
            raise exc
        done.append(1)
        return x

    return block


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(
    "exc", [RuntimeError("disk full"), MemoryError(), KeyboardInterrupt()], ids=type
)
def test_failed_append_leaves_the_store_as_it_was(tmp_path, zarr_format, exc):
    import dask

    first, second = _append_pair()
    path = write_zarr(
        first, tmp_path / "s.zarr", chunks={"time": 2, "latitude": 2}, zarr_format=zarr_format
    )
    before = _files(path)
    bad = second.assign(orography=second.orography * 100)  # a static field is rewritten too
    seen: list[dict[str, bytes]] = []
    failing = _failing_after(4, exc, seen, tmp_path / "s.zarr.partial")
    bad["t2m"] = bad.t2m.chunk({"time": 1}).map_blocks(failing)
    with dask.config.set(scheduler="synchronous"), pytest.raises(type(exc)):
        write_zarr(bad, path, append_dim="time")
    # It failed half-way: new chunks written, the metadata overwritten.
    changed = {key for key, value in before.items() if seen[0].get(key) != value}
    assert len(seen[0]) > len(before) and changed & {"t2m/.zarray", "t2m/zarr.json"}
    assert _files(path) == before  # no stray chunk, every overwritten file back
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "wxai-home") == ["s.zarr"]
    xr.testing.assert_identical(read_zarr(path).load(), first)

    write_zarr(second, path, append_dim="time")
    expected = xr.concat([first, second], "time", data_vars="minimal", compat="equals")
    back = read_zarr(path)
    xr.testing.assert_identical(back.load(), expected)
    assert back.t2m.encoding["chunks"] == (2, 2, 6)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_failure_inside_the_zarr_store_is_undone(tmp_path, monkeypatch, zarr_format):
    """The very last write of the append fails: everything else was already written."""
    import shutil

    from zarr.storage import LocalStore

    first, second = _append_pair()
    path = write_zarr(
        first, tmp_path / "s.zarr", chunks={"time": 2, "latitude": 2}, zarr_format=zarr_format
    )
    before = _files(path)
    bad = second.assign(orography=second.orography * 100)
    real_set, writes, fail_at = LocalStore.set, [], []

    async def counting_set(self, key, value):
        if len(writes) + 1 in fail_at:
            raise OSError("no space left on device")
        writes.append(key)
        await real_set(self, key, value)

    monkeypatch.setattr(LocalStore, "set", counting_set)
    shutil.copytree(path, tmp_path / "dry.zarr")
    write_zarr(bad, tmp_path / "dry.zarr", append_dim="time")
    fail_at.append(len(writes))
    writes.clear()
    with pytest.raises(OSError, match="no space"):
        write_zarr(bad, path, append_dim="time")
    monkeypatch.undo()
    # Before failing it overwrote the partial time chunk and the static field.
    assert any(key.startswith(("t2m/1.", "t2m/c/1/")) for key in writes)
    assert any(key.startswith("orography/") and "z" not in key for key in writes)
    assert _files(path) == before
    xr.testing.assert_identical(read_zarr(path).load(), first)


_KILLED_APPEND = """
import os, sys
import dask
sys.path.insert(0, {tests!r})
from test_zarr_store import _append_pair
from wxai.data.formats.zarr_store import write_zarr
first, second = _append_pair()
path = write_zarr(first, {store!r}, chunks={{"time": 2, "latitude": 2}})
calls = []
def block(x):
    calls.append(1)
    if len(calls) > 3:
        os._exit(9)  # killed: no except clause, no finally
    return x
second["t2m"] = second.t2m.chunk({{"time": 1}}).map_blocks(block)
with dask.config.set(scheduler="synchronous"):
    write_zarr(second, path, append_dim="time")
"""


def test_killed_append_is_recovered_from_its_journal(tmp_path):
    import subprocess
    import sys

    from wxai.data.formats.zarr_store import recover_zarr

    store = tmp_path / "s.zarr"
    script = _KILLED_APPEND.format(tests=str(Path(__file__).parent), store=str(store))
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, timeout=300
    )
    assert result.returncode == 9, result.stderr.decode()[-2000:]
    assert not store.exists() and (tmp_path / "s.zarr.partial").is_dir()
    with pytest.raises(DataFormatError, match="recover_zarr"):
        read_zarr(store)
    recover_zarr(store)
    first, _ = _append_pair()
    xr.testing.assert_identical(read_zarr(store).load(), first)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "wxai-home") == ["s.zarr"]
    with pytest.raises(DataFormatError, match=r"no s\.zarr\.partial"):
        recover_zarr(store)
