"""A verified download cache under ``<wxai home>/cache/<source>/``.

Every cached file ``name`` has a sidecar ``name.sha256`` in ``sha256sum`` format
(``<hex digest>  <file name>``). A file counts as cached only when both exist,
the digest matches and a quick format check passes (GRIB files start with
``GRIB`` and end with ``7777``; HDF5 files start with the HDF5 signature; NetCDF
files start with ``CDF`` or the HDF5 signature). Files are written to a temporary
name in the same directory and renamed when complete, so an interrupted download
never leaves a file that looks cached.

Examples
--------
>>> cache = DownloadCache("icon-eu")  # doctest: +SKIP
>>> path = cache.put_bytes("2026112300/t_2m/x.grib2", data, kind="grib")  # doctest: +SKIP
>>> cache.lookup("2026112300/t_2m/x.grib2")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from wxai.core.errors import ConfigError
from wxai.core.paths import home_dir
from wxai.data.formats import MissingFileError
from wxai.data.sources.errors import IntegrityError

__all__ = ["SIDECAR_SUFFIX", "DownloadCache", "FileKind", "check_format", "guess_kind"]

LOG = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256"
_CHUNK = 1 << 20
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

FileKind = Literal["grib", "hdf5", "netcdf", "bz2", "any"]


def guess_kind(name: str) -> FileKind:
    """The format check to apply to a file, from its name.

    ``.grib``/``.grib2``/``.grb`` -> ``"grib"``; ``.h5``/``.hdf5``/``.hd5``/``-hd5``
    -> ``"hdf5"``; ``.nc`` -> ``"netcdf"``; ``.bz2`` -> ``"bz2"``; else ``"any"``.
    """
    lower = name.lower()
    if lower.endswith((".grib", ".grib2", ".grb", ".grb2")):
        return "grib"
    if lower.endswith((".h5", ".hdf5", ".hd5", "-hd5")):
        return "hdf5"
    if lower.endswith((".nc", ".nc4")):
        return "netcdf"
    if lower.endswith(".bz2"):
        return "bz2"
    return "any"


def check_format(path: Path, kind: FileKind) -> None:
    """Check the magic bytes of ``path`` for ``kind``.

    Raises
    ------
    IntegrityError
        If the file is empty or its first/last bytes do not fit the format.
    """
    size = path.stat().st_size
    if size == 0:
        raise IntegrityError(f"{path} is empty")
    with path.open("rb") as fh:
        head = fh.read(8)
        fh.seek(max(size - 4, 0))
        tail = fh.read(4)
    if kind == "grib":
        if head[:4] != b"GRIB":
            raise IntegrityError(f"{path} is not GRIB: it does not start with 'GRIB'")
        if tail != b"7777":
            raise IntegrityError(f"{path} is truncated: a GRIB file must end with '7777'")
    elif kind == "hdf5":
        if head != _HDF5_SIGNATURE:
            raise IntegrityError(f"{path} is not HDF5: the HDF5 signature is missing")
    elif kind == "netcdf":
        if head[:3] != b"CDF" and head != _HDF5_SIGNATURE:
            raise IntegrityError(f"{path} is not NetCDF (neither classic 'CDF' nor HDF5)")
    elif kind == "bz2" and head[:3] != b"BZh":
        raise IntegrityError(f"{path} is not bzip2-compressed")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DownloadCache:
    """Verified files of one source under ``<root>/<source>/<key>``.

    Parameters
    ----------
    source:
        Sub-directory name, normally the registry name of the source (``"icon-eu"``).
    root:
        Cache root; default ``<wxai home>/cache`` (``WXAI_HOME``), resolved when the
        cache is first used, so constructing a cache has no side effect.
    """

    def __init__(self, source: str, root: Path | None = None) -> None:
        if not source or "/" in source or source.startswith("."):
            raise ConfigError(f"cache source name {source!r} must be a plain directory name")
        self.source = source
        self._root = root

    @property
    def directory(self) -> Path:
        """The directory of this source's files (not created here)."""
        root = self._root if self._root is not None else home_dir() / "cache"
        return root / self.source

    def path_for(self, key: str) -> Path:
        """Local path of the cache entry ``key`` (a relative POSIX path)."""
        rel = PurePosixPath(key)
        if not key or rel.is_absolute() or ".." in rel.parts or key.endswith(SIDECAR_SUFFIX):
            raise ConfigError(f"invalid cache key {key!r}: must be a relative path without '..'")
        return self.directory.joinpath(*rel.parts)

    @staticmethod
    def sidecar(path: Path) -> Path:
        """The ``.sha256`` sidecar of ``path``."""
        return path.with_name(path.name + SIDECAR_SUFFIX)

    # -- reading -------------------------------------------------------------------

    def verify(self, key: str, kind: FileKind | None = None) -> Path:
        """Check the entry ``key`` and return its path.

        Raises
        ------
        FileNotFoundError
            If the file or its sidecar is missing.
        IntegrityError
            If the checksum or the format check fails.
        """
        path = self.path_for(key)
        side = self.sidecar(path)
        if not path.is_file() or not side.is_file():
            raise MissingFileError(
                f"{path} (or its {SIDECAR_SUFFIX} sidecar) is not cached; fetch it first"
            )
        try:
            expected = side.read_text(encoding="ascii").split()[0].lower()
        except (IndexError, UnicodeDecodeError, OSError):
            raise IntegrityError(f"the checksum sidecar {side} is unreadable") from None
        check_format(path, kind or guess_kind(path.name))
        actual = _sha256_file(path)
        if actual != expected:
            raise IntegrityError(
                f"{path} is corrupt: sha256 {actual[:12]}... does not match the recorded "
                f"{expected[:12]}..."
            )
        return path

    def lookup(self, key: str, kind: FileKind | None = None) -> Path | None:
        """Path of the verified entry ``key``, or ``None`` when it is not usable.

        A corrupt entry is logged and removed, so that the caller downloads it again.
        """
        try:
            return self.verify(key, kind)
        except FileNotFoundError:
            return None
        except IntegrityError as exc:
            LOG.warning("%s cache: discarding a corrupt entry: %s", self.source, exc)
            self.remove(key)
            return None

    def contains(self, key: str) -> bool:
        """Whether ``key`` and its sidecar exist (without verifying them)."""
        path = self.path_for(key)
        return path.is_file() and self.sidecar(path).is_file()

    def entries(self, pattern: str = "**/*") -> list[str]:
        """Keys of the entries (with a sidecar) matching the glob ``pattern``, sorted."""
        base = self.directory
        if not base.is_dir():
            return []
        found = []
        for path in base.glob(pattern):
            if (
                path.is_file()
                and not path.name.endswith(SIDECAR_SUFFIX)
                and not path.name.startswith(".")
                and self.sidecar(path).is_file()
            ):
                found.append(path.relative_to(base).as_posix())
        return sorted(found)

    def remove(self, key: str) -> None:
        """Delete the entry ``key`` and its sidecar (no error when absent)."""
        path = self.path_for(key)
        self.sidecar(path).unlink(missing_ok=True)
        path.unlink(missing_ok=True)

    # -- writing -------------------------------------------------------------------

    def put_stream(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        kind: FileKind | None = None,
        expected_size: int | None = None,
    ) -> Path:
        """Write ``chunks`` as the entry ``key`` atomically and record its checksum.

        Parameters
        ----------
        key:
            Relative path of the entry.
        chunks:
            The file content, streamed.
        kind:
            Format check applied before the file is published; default from the name.
        expected_size:
            If given, the number of bytes that must have been written.

        Raises
        ------
        IntegrityError
            If the size or format check fails; nothing is left in the cache then.
        """
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    if chunk:
                        fh.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if expected_size is not None and size != expected_size:
                raise IntegrityError(
                    f"{self.source}: {path.name} has {size} bytes, expected {expected_size}"
                )
            check_format(tmp, kind or guess_kind(path.name))
            self.sidecar(path).unlink(missing_ok=True)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _write_text_atomic(self.sidecar(path), f"{digest.hexdigest()}  {path.name}\n")
        return path

    def put_bytes(self, key: str, data: bytes, *, kind: FileKind | None = None) -> Path:
        """Store ``data`` as the entry ``key`` (see :meth:`put_stream`)."""
        return self.put_stream(key, [data], kind=kind, expected_size=len(data))

    def put_file(self, key: str, src: Path, *, kind: FileKind | None = None) -> Path:
        """Copy the file ``src`` into the cache as ``key`` (see :meth:`put_stream`)."""
        with src.open("rb") as fh:
            return self.put_stream(key, _iter_file(fh), kind=kind)


def _iter_file(fh: BinaryIO) -> Iterable[bytes]:
    yield from iter(lambda: fh.read(_CHUNK), b"")
