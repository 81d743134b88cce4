"""HTTP access for the data sources: timeouts, retries with backoff, streaming to the cache.

Every failure names the source, the URL and what was requested:

- the server cannot be reached, or answers 5xx/429 on every attempt ->
  :class:`~wxai.data.sources.errors.SourceUnavailable`;
- the server answers 404/410 -> :class:`~wxai.data.sources.errors.RemoteNotFound`;
- the body is truncated or not in the expected format ->
  :class:`~wxai.data.sources.errors.IntegrityError` (after the retries).

Retries are logged with :mod:`logging` (never :mod:`warnings`).
"""

from __future__ import annotations

import bz2
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import httpx

from wxai.data.sources.cache import DownloadCache, FileKind
from wxai.data.sources.errors import IntegrityError, RemoteNotFound, SourceUnavailable

__all__ = ["RETRY_STATUS", "HttpFetcher", "HttpOptions", "decompress_bz2"]

LOG = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
"""HTTP status codes that are retried (server overload and gateway errors)."""

T = TypeVar("T")

_NOT_FOUND = frozenset({404, 410})
_CHUNK = 1 << 16


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts and retry policy of the HTTP helper.

    Parameters
    ----------
    timeout:
        Read/write timeout per request in seconds.
    connect_timeout:
        Connection timeout in seconds.
    retries:
        Additional attempts after the first one for network errors and 5xx/429.
    backoff:
        Wait before the first retry in seconds; doubled for every further retry.
    max_backoff:
        Upper bound of the wait between attempts in seconds.
    user_agent:
        ``User-Agent`` header sent to the servers.
    """

    timeout: float = 60.0
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 30.0
    user_agent: str = "wxai/0.1 (open-data client)"

    def wait(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)


class _Retriable(Exception):
    """Internal: an attempt failed in a way worth retrying."""

    def __init__(self, cause: str, error: Exception | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.error = error


def decompress_bz2(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress a (possibly multi-stream) bzip2 byte stream chunk by chunk.

    Raises
    ------
    IntegrityError
        If the data is not bzip2 or the stream ends before the end-of-stream marker.
    """
    decomp = bz2.BZ2Decompressor()
    seen = False
    for chunk in chunks:
        data = chunk
        while data:
            seen = True
            try:
                out = decomp.decompress(data)
            except OSError as exc:
                raise IntegrityError(f"invalid bzip2 data ({exc})") from None
            if out:
                yield out
            if decomp.eof:
                data = decomp.unused_data
                if data:
                    decomp = bz2.BZ2Decompressor()
            else:
                data = b""
    if not seen or not decomp.eof:
        raise IntegrityError("the bzip2 stream is truncated (no end-of-stream marker)")


class HttpFetcher:
    """HTTP GET with retries for one data source.

    Parameters
    ----------
    source:
        Display name used in errors (``"ICON-EU"``).
    options:
        Timeouts and retry policy.
    transport:
        Optional :class:`httpx.BaseTransport` (tests, proxies).
    """

    def __init__(
        self,
        source: str,
        options: HttpOptions | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.options = options or HttpOptions()
        self._transport = transport

    def _client(self) -> httpx.Client:
        opts = self.options
        return httpx.Client(
            timeout=httpx.Timeout(opts.timeout, connect=opts.connect_timeout),
            headers={"User-Agent": opts.user_agent},
            follow_redirects=True,
            transport=self._transport,
            trust_env=False,
        )

    def _run(self, url: str, what: str, attempt_fn: Callable[[], T]) -> T:
        total = self.options.retries + 1
        last: _Retriable | None = None
        for attempt in range(1, total + 1):
            try:
                return attempt_fn()
            except _Retriable as exc:
                last = exc
                if attempt < total:
                    wait = self.options.wait(attempt)
                    LOG.warning(
                        "%s: %s failed (%s), attempt %d of %d; retrying in %.2f s",
                        self.source,
                        url,
                        exc.cause,
                        attempt,
                        total,
                        wait,
                    )
                    time.sleep(wait)
        assert last is not None
        if isinstance(last.error, IntegrityError):
            raise IntegrityError(
                f"{self.source}: {url} gave a broken file {total} times ({last.cause})"
            ) from None
        cause = last.cause if total == 1 else f"{last.cause}; {total} attempts"
        raise SourceUnavailable(self.source, url, cause, what) from None

    def _check_status(self, response: httpx.Response, url: str, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        reason = f"HTTP {status} {response.reason_phrase}".strip()
        if status in RETRY_STATUS:
            raise _Retriable(reason)
        if status in _NOT_FOUND:
            raise RemoteNotFound(self.source, url, what)
        raise SourceUnavailable(self.source, url, reason, what)

    def get_text(self, url: str, *, what: str) -> str:
        """GET ``url`` and return its body as text (directory listings, index files)."""

        def attempt() -> str:
            try:
                with self._client() as client:
                    response = client.get(url)
                    self._check_status(response, url, what)
                    return response.text
            except httpx.TransportError as exc:
                raise _Retriable(f"{type(exc).__name__}: {exc}", exc) from None

        return self._run(url, what, attempt)

    def download(
        self,
        url: str,
        cache: DownloadCache,
        key: str,
        *,
        what: str,
        compression: Literal["bz2"] | None = None,
        kind: FileKind | None = None,
    ) -> Path:
        """Stream ``url`` into the cache entry ``key`` and return its path.

        Parameters
        ----------
        url:
            The file to download.
        cache, key:
            Where to store it.
        what:
            Description of the data for error messages (``"T_2M 2026-11-23 00 UTC +6 h"``).
        compression:
            ``"bz2"`` to decompress while streaming (the cache holds the decompressed file).
        kind:
            Format check of the stored file; default from ``key``.
        """

        def attempt() -> Path:
            try:
                with self._client() as client, client.stream("GET", url) as response:
                    self._check_status(response, url, what)
                    length = response.headers.get("Content-Length")
                    expected = int(length) if length and length.isdigit() else None
                    raw = response.iter_raw(_CHUNK)
                    if compression == "bz2":
                        raw_counted = _counting(raw, response, expected, url)
                        return cache.put_stream(key, decompress_bz2(raw_counted), kind=kind)
                    return cache.put_stream(key, raw, kind=kind, expected_size=expected)
            except httpx.TransportError as exc:
                raise _Retriable(f"{type(exc).__name__}: {exc}", exc) from None
            except IntegrityError as exc:
                raise _Retriable(str(exc), exc) from None

        path = self._run(url, what, attempt)
        LOG.info("%s: downloaded %s -> %s", self.source, url, path)
        return path


def _counting(
    chunks: Iterable[bytes], response: httpx.Response, expected: int | None, url: str
) -> Iterator[bytes]:
    """Pass ``chunks`` through and check the received size against ``Content-Length``."""
    yield from chunks
    got = response.num_bytes_downloaded
    if expected is not None and got != expected:
        raise IntegrityError(f"{url}: received {got} bytes, expected {expected}")
