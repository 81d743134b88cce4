"""Zarr stores: chunk policy, consolidated metadata, atomic completion, append along time.

A store is written to ``<name>.partial`` and renamed to ``<name>`` once its
consolidated metadata is in place; appending renames it to ``.partial`` for
the duration of the append. :func:`read_zarr` refuses ``.partial`` stores, so
a reader never sees a half-written store.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from wxai.core.errors import DataFormatError
from wxai.data.formats._common import atomic_path

__all__ = ["PARTIAL_SUFFIX", "ChunkPolicy", "read_zarr", "write_zarr"]

PARTIAL_SUFFIX = ".partial"
#: Dimensions chunked one step at a time by the automatic policy.
_STEP_DIMS = ("time", "init_time", "lead_time", "valid_time", "member")


@dataclass(init=False)
class ChunkPolicy:
    """How to chunk a dataset in a Zarr store.

    ``ChunkPolicy(time=1, latitude=60, longitude=60)`` fixes chunk sizes per
    dimension (capped at the dimension's length; unnamed dimensions are not
    split). ``ChunkPolicy(target_mb=8)`` chooses sizes automatically: one
    step along time-like dimensions, then the other dimensions are halved,
    largest first, until a chunk of each variable is at most ``target_mb``
    MiB. Both may be combined: explicit sizes win.
    """

    sizes: dict[str, int] = field(default_factory=dict)
    target_mb: float | None = None

    def __init__(self, target_mb: float | None = None, **sizes: int) -> None:
        bad = {k: v for k, v in sizes.items() if int(v) < 1}
        if bad:
            raise DataFormatError(f"chunk sizes must be >= 1, got {bad}")
        if target_mb is not None and target_mb <= 0:
            raise DataFormatError(f"target_mb must be > 0, got {target_mb}")
        self.sizes = {k: int(v) for k, v in sizes.items()}
        self.target_mb = target_mb

    def chunks_for(self, da: xr.DataArray) -> dict[str, int]:
        """Chunk size per dimension of ``da``."""
        chunks = {d: min(self.sizes.get(d, n), n) for d, n in da.sizes.items()}
        if self.target_mb is None:
            return chunks
        free = [d for d in da.dims if d not in self.sizes]
        for d in free:
            if d in _STEP_DIMS:
                chunks[d] = 1
        limit = self.target_mb * 2**20
        while math.prod(chunks.values()) * da.dtype.itemsize > limit:
            splittable = [d for d in free if chunks[d] > 1]
            if not splittable:
                break
            biggest = max(splittable, key=lambda d: chunks[d])
            chunks[biggest] = math.ceil(chunks[biggest] / 2)
        return chunks


def _prepared(ds: xr.Dataset, policy: ChunkPolicy) -> tuple[xr.Dataset, dict[str, Any]]:
    ds = ds.copy()
    encoding: dict[str, Any] = {}
    for name, da in ds.data_vars.items():
        for key in ("chunks", "preferred_chunks", "compressor", "compressors", "filters"):
            da.encoding.pop(key, None)
        chunks = policy.chunks_for(da)
        ds[name] = da.chunk(chunks)
        encoding[str(name)] = {"chunks": tuple(chunks[d] for d in da.dims)}
    for coord in ds.coords.values():
        coord.encoding.pop("chunks", None)
        coord.encoding.pop("preferred_chunks", None)
    return ds, encoding


def write_zarr(
    ds: xr.Dataset | xr.DataArray,
    path: str | os.PathLike,
    *,
    chunks: ChunkPolicy | dict[str, int] | None = None,
    append_dim: str | None = None,
    zarr_format: int = 2,
) -> Path:
    """Write (or append to) a Zarr store with consolidated metadata.

    Parameters
    ----------
    ds:
        Data to write (a DataArray is wrapped, keeping its name).
    path:
        Store directory.
    chunks:
        A :class:`ChunkPolicy`, a dict of sizes, or None (one chunk per variable).
    append_dim:
        Append along this dimension (e.g. ``"time"``) if the store exists;
        the other dimensions, variables and chunking must match. Without a
        store, a new one is written.
    zarr_format:
        2 (default: consolidated metadata in ``.zmetadata``, readable by
        every Zarr version) or 3.

    Returns
    -------
    Path
        ``path``.
    """
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "data")
    policy = chunks if isinstance(chunks, ChunkPolicy) else ChunkPolicy(**(chunks or {}))
    final = Path(path)
    if final.name.endswith(PARTIAL_SUFFIX):
        raise DataFormatError(f"{final}: a store name may not end with {PARTIAL_SUFFIX}")
    if append_dim is not None and final.exists():
        if append_dim not in ds.dims:
            raise DataFormatError(
                f"cannot append along {append_dim!r}: not a dimension of the data"
            )
        existing = xr.open_zarr(final, consolidated=True)
        ds = ds.copy()
        for name, da in ds.data_vars.items():
            enc = existing[name].encoding
            ds[name] = da.chunk(dict(zip(da.dims, enc.get("chunks", da.shape), strict=False)))
            da.encoding.clear()
        existing.close()
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        final.rename(partial)
        try:
            ds.to_zarr(partial, mode="a", append_dim=append_dim, consolidated=True)
        finally:
            # The existing data is never lost: the store returns to its name either way.
            partial.rename(final)
        return final
    prepared, encoding = _prepared(ds, policy)
    with atomic_path(final, suffix=PARTIAL_SUFFIX) as tmp:
        prepared.to_zarr(
            tmp, mode="w", consolidated=True, encoding=encoding, zarr_format=zarr_format
        )
    return final


def read_zarr(path: str | os.PathLike, *, chunks: Any = None) -> xr.Dataset:
    """Open a Zarr store lazily (dask arrays) through its consolidated metadata.

    Parameters
    ----------
    path:
        Store directory, as written by :func:`write_zarr`.
    chunks:
        Dask chunks; None uses the store's own chunks.

    Raises
    ------
    DataFormatError
        For a ``.partial`` (incomplete) store, a store whose writer is still
        running or crashed, or a directory that is not a consolidated Zarr store.
    """
    p = Path(path)
    partial = p.with_name(p.name + PARTIAL_SUFFIX)
    if p.name.endswith(PARTIAL_SUFFIX):
        raise DataFormatError(f"{p}: incomplete Zarr store (still being written, or crashed)")
    if not p.exists():
        if partial.exists():
            raise DataFormatError(
                f"{p}: only {partial.name} exists; its writer is still running or crashed"
            )
        raise DataFormatError(f"{p}: no such Zarr store")
    kwargs: dict[str, Any] = {"consolidated": True}
    if chunks is not None:
        kwargs["chunks"] = chunks
    try:
        return xr.open_zarr(p, decode_timedelta=True, **kwargs)
    except Exception as exc:
        raise DataFormatError(
            f"{p}: not a readable Zarr store with consolidated metadata "
            f"({type(exc).__name__}: {exc})"
        ) from exc
