"""Checking uploaded files: safe display names, content sniffing, atomic writes.

An upload's name is metadata shown to people; it never becomes a path. Its type is
read from the first bytes of the content (PDF, NetCDF classic, NetCDF4/HDF5, ODIM_H5
radar composites, GRIB, PNG, JPEG, UTF-8 text) and must agree with the name's suffix.
A disk that fills up while an upload is written raises :class:`StorageFull`; the
partial file is removed.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from wxai.assistant.rag.documents import SUFFIX_KINDS
from wxai.assistant.rag.summaries import GRIB_SUFFIXES, NETCDF_SUFFIXES, ODIM_SUFFIXES
from wxai.core.errors import DataFormatError, WxaiError

__all__ = [
    "FULL_ERRNOS",
    "IMAGE_SUFFIXES",
    "MAX_NAME_CHARS",
    "QuotaExceeded",
    "Sniffed",
    "StorageFull",
    "UploadError",
    "atomic_write",
    "check_quota",
    "is_disk_full",
    "safe_name",
    "sniff",
]

MAX_NAME_CHARS = 120

_TEXT_SUFFIXES = frozenset(
    suffix for suffix, kind in SUFFIX_KINDS.items() if kind in {"markdown", "text", "code", "html"}
)
IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
"""Image suffixes and the format their content must have."""
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)


#: ``errno`` values of a write refused for lack of room: the disk, or the user's disk quota.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class UploadError(DataFormatError):
    """An upload that cannot be accepted (its name, its content, or the two disagree)."""


class QuotaExceeded(UploadError):
    """An upload that would take a dataspace past its storage quota (HTTP 413)."""


class StorageFull(WxaiError, OSError):
    """The server's disk (or its disk quota) is full: nothing could be stored (HTTP 507)."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a write refused for lack of room (ENOSPC, EDQUOT, SQLite's "full")."""
    if isinstance(exc, StorageFull):
        return True
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    text = str(exc)
    words = ["database or disk is full", *(os.strerror(code) for code in FULL_ERRNOS)]
    return any(word in text for word in words)


def check_quota(name: str, used: int, adding: int, quota: int) -> None:
    """Refuse an upload of ``adding`` bytes to a dataspace already holding ``used`` bytes.

    Parameters
    ----------
    name:
        The upload's display name (for the message).
    used, adding, quota:
        Bytes stored now (without a file this upload replaces), bytes of the upload,
        and the dataspace's quota in bytes (0: unlimited).

    Raises
    ------
    QuotaExceeded
        ``used + adding > quota``; the message gives the three sizes in MiB.
    """
    if quota <= 0 or used + adding <= quota:
        return
    mib = 2**20
    raise QuotaExceeded(
        f"{name}: this upload ({adding / mib:.2f} MiB) would take the dataspace to "
        f"{(used + adding) / mib:.2f} MiB, over its quota of {quota / mib:g} MiB "
        f"({used / mib:.2f} MiB used; WXAI_DATASPACE_QUOTA_MB): delete files you no "
        "longer need, or ask an administrator to raise the quota"
    )


@dataclass(frozen=True)
class Sniffed:
    """What an upload's content is: ``kind`` (document|data|image), media type and a format
    word (``pdf``, ``netcdf``, ``odim``, ``grib``, ``png``, ``jpeg``, ``html``, ``text``)."""

    kind: str
    media_type: str
    format: str


def safe_name(name: str) -> str:
    """A display name from an uploaded file name: the last path part, printable, no dots first.

    Raises
    ------
    UploadError
        Nothing usable is left (an empty name, only dots or control characters).
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    trimmed = None
    while trimmed != text:  # "..", ". .", " .x": no hidden or dot-only names
        trimmed, text = text, text.strip().lstrip(".")
    if len(text) > MAX_NAME_CHARS:
        stem, dot, suffix = text.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            text = stem[: MAX_NAME_CHARS - len(suffix) - 1] + "." + suffix
        else:
            text = text[:MAX_NAME_CHARS]
    if not text:
        raise UploadError(f"invalid file name {name!r}: give the file a name such as report.pdf")
    return text


def _accepted() -> str:
    data = NETCDF_SUFFIXES | GRIB_SUFFIXES | ODIM_SUFFIXES
    return ", ".join(sorted(_TEXT_SUFFIXES | data | set(IMAGE_SUFFIXES) | {".pdf"}))


def sniff(name: str, head: bytes) -> Sniffed:
    """The type of an upload called ``name`` whose content starts with ``head``.

    ``head`` should be the whole file for text (so that UTF-8 is checked throughout)
    or at least its first bytes for binary formats.

    Raises
    ------
    UploadError
        An unknown suffix, content that is none of the accepted formats, or content
        of another format than the suffix says (the message names what was found).
    """
    suffix = Path(name).suffix.lower()
    if head.startswith(b"%PDF-"):
        found, sniffed, fits = "a PDF file", Sniffed("document", "application/pdf", "pdf"), {".pdf"}
    elif head[:4] in {b"CDF\x01", b"CDF\x02", b"CDF\x05"}:
        found = "a NetCDF (classic) file"
        sniffed, fits = Sniffed("data", "application/x-netcdf", "netcdf"), NETCDF_SUFFIXES
    elif head.startswith(b"\x89HDF\r\n\x1a\n") and suffix in ODIM_SUFFIXES:
        found = "an HDF5 file"  # an ODIM_H5 radar composite, checked when it is read
        sniffed, fits = Sniffed("data", "application/x-hdf5", "odim"), ODIM_SUFFIXES
    elif head.startswith(b"\x89HDF\r\n\x1a\n"):
        found = "a NetCDF4/HDF5 file"
        sniffed = Sniffed("data", "application/x-netcdf", "netcdf")
        fits = NETCDF_SUFFIXES | ODIM_SUFFIXES
    elif head.startswith(b"GRIB"):
        found = "a GRIB file"
        sniffed, fits = Sniffed("data", "application/x-grib", "grib"), GRIB_SUFFIXES
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        found, sniffed = "a PNG image", Sniffed("image", "image/png", "png")
        fits = {s for s, f in IMAGE_SUFFIXES.items() if f == "png"}
    elif head.startswith(b"\xff\xd8\xff"):
        found, sniffed = "a JPEG image", Sniffed("image", "image/jpeg", "jpeg")
        fits = {s for s, f in IMAGE_SUFFIXES.items() if f == "jpeg"}
    else:
        if b"\x00" in head:
            raise UploadError(
                f"{name}: found binary content that is not PDF, NetCDF, ODIM_H5, GRIB, PNG or "
                f"JPEG; accepted are {_accepted()}"
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UploadError(
                f"{name}: found content that is neither UTF-8 text nor PDF, NetCDF or GRIB "
                f"(invalid byte at {exc.start}); save text files as UTF-8"
            ) from None
        if suffix in {".html", ".htm"} or _HTML_START.match(head[:512]):
            found, sniffed = "HTML", Sniffed("document", "text/html", "html")
            fits = {".html", ".htm"} if suffix in {".html", ".htm"} else _TEXT_SUFFIXES
        else:
            media = "text/markdown" if SUFFIX_KINDS.get(suffix) == "markdown" else "text/plain"
            found, sniffed, fits = "UTF-8 text", Sniffed("document", media, "text"), _TEXT_SUFFIXES
    if suffix not in fits:
        if not suffix or (suffix not in SUFFIX_KINDS and suffix not in IMAGE_SUFFIXES):
            hint = f"end the name in one of {', '.join(sorted(fits))}"
        else:
            options = ", ".join(sorted(fits))
            hint = f"the name ends in {suffix}; rename it to end in one of {options}"
        raise UploadError(f"{name}: found {found}, but {hint}")
    return sniffed


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name next to ``target``, then rename it into place.

    ``target`` keeps its old content unless the whole of ``data`` was written.

    Raises
    ------
    StorageFull
        The disk or the disk quota is full (ENOSPC, EDQUOT); the partial file is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
    try:
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(target)
    except OSError as exc:
        if exc.errno not in FULL_ERRNOS:
            raise
        raise StorageFull(
            f"the server's disk is full: {len(data)} bytes could not be stored "
            f"({os.strerror(exc.errno)}); nothing was changed. Try again later and tell "
            "the administrator, who must free space on the server"
        ) from None
    finally:
        partial.unlink(missing_ok=True)
