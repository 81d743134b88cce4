"""Zarr stores: chunk policy, consolidated metadata, atomic completion, append along time.

A store is written to ``<name>.partial`` and renamed to ``<name>`` once its
consolidated metadata is in place; appending renames it to ``.partial`` for
the duration of the append. :func:`read_zarr` refuses ``.partial`` stores, so
a reader never sees a half-written store.

An append is undoable: before writing, the files it may overwrite (every
metadata file, the last partly filled chunk along the append dimension, the
chunks of variables without that dimension) are copied to ``<name>.undo``
together with a manifest of the chunk keys it may create. If the append
raises (any exception, MemoryError and KeyboardInterrupt included) the store
is put back as it was and the journal removed; if the process is killed,
:func:`recover_zarr` replays the journal. The cost is that of the metadata
and the touched chunks, not of the store.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from wxai.core.errors import DataFormatError
from wxai.data.formats._common import atomic_path

__all__ = [
    "PARTIAL_SUFFIX",
    "UNDO_SUFFIX",
    "ChunkPolicy",
    "read_zarr",
    "recover_zarr",
    "write_zarr",
]

PARTIAL_SUFFIX = ".partial"
#: Suffix of the journal that undoes an append (a directory beside the store).
UNDO_SUFFIX = ".undo"
_METADATA_FILES = (".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json")
_MANIFEST = "manifest.json"
#: Temporary files of zarr's LocalStore (``<key>.<uuid4 hex>.partial``), left by an interrupt.
_ZARR_TEMPORARY = re.compile(r"\.[0-9a-f]{32}\.partial$")
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
        ds = _aligned_to_store(ds, final, append_dim)
        plan = _append_plan(final, ds, append_dim)
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        undo = final.with_name(final.name + UNDO_SUFFIX)
        final.rename(partial)
        try:
            _save_journal(partial, undo, plan)
            ds.to_zarr(partial, mode="a", append_dim=append_dim, consolidated=True)
        except BaseException:
            # The existing data is never lost: put back what the append touched.
            _restore_journal(partial, undo)
            partial.rename(final)
            shutil.rmtree(undo, ignore_errors=True)
            raise
        partial.rename(final)
        shutil.rmtree(undo, ignore_errors=True)
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
            hint = ""
            if p.with_name(p.name + UNDO_SUFFIX).exists():
                hint = (
                    f"; if no append is running, recover_zarr({str(p)!r}) puts the store "
                    "back as it was before the interrupted append"
                )
            raise DataFormatError(
                f"{p}: only {partial.name} exists; its writer is still running or crashed{hint}"
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


def recover_zarr(path: str | os.PathLike) -> Path:
    """Undo an append that was killed before it could restore the store itself.

    Replays the journal ``<name>.undo`` onto ``<name>.partial`` and renames the
    store back to ``<name>``. Call it only when no writer is running.

    Parameters
    ----------
    path:
        The store's name (without ``.partial``).

    Returns
    -------
    Path
        ``path``, holding the store as it was before the append.

    Raises
    ------
    DataFormatError
        If there is nothing to recover, or both the store and its partial copy exist.
    """
    final = Path(path)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    undo = final.with_name(final.name + UNDO_SUFFIX)
    if not partial.exists():
        raise DataFormatError(f"{final}: no {partial.name} to recover")
    if final.exists():
        raise DataFormatError(
            f"{final}: both {final.name} and {partial.name} exist; move one away first"
        )
    if not undo.exists():
        raise DataFormatError(
            f"{final}: {partial.name} has no append journal {undo.name}; it is a new store "
            "whose writer crashed (write it again) or is still running"
        )
    _restore_journal(partial, undo)
    partial.rename(final)
    shutil.rmtree(undo, ignore_errors=True)
    return final


def _aligned_to_store(ds: xr.Dataset, store: Path, append_dim: str) -> xr.Dataset:
    """``ds`` chunked like the store, its first chunk filling the store's last partial chunk."""
    existing = xr.open_zarr(store, consolidated=True)
    try:
        before = existing.sizes.get(append_dim, 0)
        out = ds.copy()
        for name, da in ds.data_vars.items():
            if name not in existing:
                continue
            enc = existing[name].encoding.get("chunks", da.shape)
            chunks: dict[Any, Any] = dict(zip(da.dims, enc, strict=False))
            if append_dim in chunks:
                chunks[append_dim] = _append_chunks(
                    before, da.sizes[append_dim], chunks[append_dim]
                )
            out[name] = da.chunk(chunks)
            out[name].encoding = {}
        return out
    finally:
        existing.close()


def _append_chunks(before: int, added: int, chunk: int) -> tuple[int, ...]:
    """Dask chunks along the append dimension that line up with the store's chunks."""
    sizes = []
    first = (chunk - before % chunk) % chunk
    if first:
        sizes.append(min(first, added))
    remaining = added - sum(sizes)
    while remaining > 0:
        sizes.append(min(chunk, remaining))
        remaining -= sizes[-1]
    return tuple(sizes) or (0,)


def _append_plan(store: Path, ds: xr.Dataset, append_dim: str) -> dict[str, Any]:
    """Which store files an append of ``ds`` may overwrite, and which it may create.

    Variables along ``append_dim`` touch their chunks from the last partly
    filled one onward; variables without it are rewritten whole; every
    metadata file may change. New variables create new top-level entries.
    """
    import zarr

    group = zarr.open_group(store, mode="r")
    saved = [name for name in _METADATA_FILES if (store / name).is_file()]
    created: list[str] = []
    added = ds.sizes[append_dim]
    for name, array in group.arrays():
        saved += [f"{name}/{m}" for m in _METADATA_FILES if (store / name / m).is_file()]
        if name not in ds.variables:
            continue
        meta = array.metadata
        if meta.zarr_format == 2:
            dims = array.attrs.get("_ARRAY_DIMENSIONS") or ds[name].dims
            grid = meta.chunks
        else:
            dims = meta.dimension_names or ds[name].dims
            grid = meta.chunk_grid.chunk_shape
        ranges = [
            range(size // chunk, -(-(size + added) // chunk))
            if dim == append_dim
            else range(-(-size // chunk))
            for dim, size, chunk in zip(dims, array.shape, grid, strict=True)
        ]
        for coords in itertools.product(*ranges):
            key = f"{name}/{meta.encode_chunk_key(coords)}"
            (saved if (store / key).is_file() else created).append(key)
    entries = sorted(entry.name for entry in store.iterdir())
    return {"saved": saved, "created": created, "entries": entries}


def _save_journal(store: Path, undo: Path, plan: dict[str, Any]) -> None:
    """Copy the files in ``plan["saved"]`` to ``undo``; the manifest, written last, completes it."""
    if undo.exists():
        shutil.rmtree(undo)
    files = undo / "files"
    files.mkdir(parents=True)
    for key in plan["saved"]:
        target = files / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(store / key, target)
    tmp = undo / (_MANIFEST + ".tmp")
    tmp.write_text(json.dumps(plan))
    tmp.replace(undo / _MANIFEST)


def _restore_journal(store: Path, undo: Path) -> None:
    """Put ``store`` back as recorded in ``undo`` (idempotent; no manifest: nothing was written)."""
    manifest = undo / _MANIFEST
    if not manifest.is_file():
        return
    plan = json.loads(manifest.read_text())
    for key in plan["created"]:
        (store / key).unlink(missing_ok=True)
    for key in plan["saved"]:
        target = store / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copy2(undo / "files" / key, tmp)
        tmp.replace(target)
    for entry in store.iterdir():
        if entry.name not in plan["entries"]:
            _remove_tree(entry)
    touched = {(store / key).parent for key in plan["created"] + plan["saved"]}
    for folder in touched:
        if folder.is_dir():
            for item in folder.iterdir():
                if _ZARR_TEMPORARY.search(item.name) and item.is_file():
                    item.unlink()
    for key in plan["created"]:
        folder = (store / key).parent
        while folder != store and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
