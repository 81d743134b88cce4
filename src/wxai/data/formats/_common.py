"""Helpers shared by the format modules: atomic writes, file checks, sniffing."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from wxai.core.errors import DataFormatError, DataTooLargeError

Format = Literal["grib", "netcdf", "zarr", "odim", "hdf5"]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NETCDF_CLASSIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")


class MissingFileError(DataFormatError, FileNotFoundError):
    """The file to read does not exist."""


def too_large(path: Path, exc: MemoryError, *, lazy_hint: str) -> DataTooLargeError:
    """A :class:`DataTooLargeError` naming ``path``, its size and how to read it lazily."""
    try:
        nbytes = path.stat().st_size
        size = f"{nbytes / 2**20:.1f} MiB" if nbytes >= 2**20 else f"{nbytes} bytes"
        size += " on disk"
    except OSError:
        size = "size unknown"
    return DataTooLargeError(
        f"{path} ({size}): out of memory while reading it whole ({exc or 'MemoryError'}); "
        f"the file is not damaged: {lazy_hint}"
    )


def existing_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or :class:`MissingFileError` if it does not exist."""
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"{p}: no such file or directory")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    The temporary file (or directory) is removed if the block raises, so a
    crash never leaves a half-written file under the final name.

    Parameters
    ----------
    path:
        Final destination.
    suffix:
        Suffix of the temporary name; ``".partial"`` gives ``<name>.partial``
        (used for Zarr stores, whose readers refuse such names), otherwise a
        unique hidden name ``.<name>.<random>.tmp`` is used.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    if suffix:
        tmp = final.with_name(final.name + suffix)
    else:
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp{final.suffix}")
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_dir() and final.exists():
            # os.replace cannot swap a non-empty directory; move the old one aside first.
            old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
            final.rename(old)
            tmp.rename(final)
            _remove(old)
        else:
            tmp.replace(final)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def sniff_format(path: str | os.PathLike) -> Format:
    """Detect a file's format from its content, not its name.

    Returns
    -------
    str
        ``"grib"`` (``GRIB`` magic bytes), ``"odim"`` (HDF5 whose root
        ``Conventions`` attribute starts with ``ODIM``), ``"netcdf"`` (classic
        NetCDF or other HDF5), or ``"zarr"`` (a directory with Zarr metadata).

    Raises
    ------
    DataFormatError
        If the content matches none of them.
    """
    p = existing_file(path)
    if p.is_dir():
        if any((p / name).exists() for name in ("zarr.json", ".zgroup", ".zmetadata")):
            return "zarr"
        raise DataFormatError(f"{p}: a directory without Zarr metadata (zarr.json or .zgroup)")
    with p.open("rb") as f:
        head = f.read(4096)
    if b"GRIB" in head[:256]:  # GRIB files may start with a short WMO bulletin header
        return "grib"
    if head.startswith(HDF5_SIGNATURE):
        import h5py

        try:
            with h5py.File(p, "r") as h5:
                conventions = h5.attrs.get("Conventions", b"")
        except OSError as exc:
            raise DataFormatError(f"{p}: HDF5 signature but unreadable ({exc})") from exc
        if isinstance(conventions, bytes):
            conventions = conventions.decode(errors="replace")
        return "odim" if str(conventions).startswith("ODIM") else "netcdf"
    if head.startswith(NETCDF_CLASSIC):
        return "netcdf"
    raise DataFormatError(
        f"{p}: unknown format (first bytes {head[:8]!r}); expected GRIB, NetCDF, "
        "ODIM_H5 (HDF5) or a Zarr store"
    )
