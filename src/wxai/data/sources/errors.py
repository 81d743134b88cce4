"""Errors raised by the data sources.

They live beside the sources (not in :mod:`wxai.core.errors`) because only this
package raises them; all derive from :class:`~wxai.core.errors.WxaiError`.
"""

from __future__ import annotations

from wxai.core.errors import DataFormatError, WxaiError

__all__ = ["CacheMiss", "IntegrityError", "RemoteNotFound", "SourceUnavailable"]

OFFLINE_HINT = "run again when online or use --offline with cached data"


class SourceUnavailable(WxaiError, ConnectionError):
    """A data server could not be reached or kept failing (network error, HTTP 5xx).

    Parameters
    ----------
    source:
        Display name of the source (``"ICON-EU"``).
    url:
        The URL that failed.
    cause:
        Short description of the failure (``"ConnectError: [Errno 111] ..."``).
    what:
        What was requested, for the message (``"T_2M 2026-11-23 00 UTC +6 h"``).
    """

    def __init__(self, source: str, url: str, cause: str, what: str) -> None:
        self.source = source
        self.url = url
        self.cause = cause
        self.what = what
        super().__init__(
            f"{source}: could not reach {url} ({cause}); the cache has no copy of {what}; "
            f"{OFFLINE_HINT}"
        )


class RemoteNotFound(WxaiError, FileNotFoundError):
    """The server answered, but does not have the requested file (HTTP 404/410)."""

    def __init__(self, source: str, url: str, what: str, hint: str = "") -> None:
        self.source = source
        self.url = url
        self.what = what
        msg = f"{source}: {url} does not exist on the server (no {what})"
        super().__init__(f"{msg}; {hint}" if hint else msg)


class CacheMiss(WxaiError, FileNotFoundError):
    """Offline mode was requested but the cache does not hold the requested data."""

    def __init__(self, source: str, what: str, cache_dir: object) -> None:
        self.source = source
        self.what = what
        super().__init__(
            f"{source}: offline mode, and the cache ({cache_dir}) has no copy of {what}; "
            "run the same request online once to fill the cache"
        )


class IntegrityError(DataFormatError):
    """A downloaded or cached file failed its integrity check (size, checksum, format)."""
