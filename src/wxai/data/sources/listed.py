"""Sources of time-stamped files in one listed directory (satellite and radar products).

A product is one directory on a web server whose file names carry the observation
time (``CTHin202611231200nEU.nc.bz2``, ``composite_hx_20261123_1200-hd5``). The
latest file is found from the directory listing; a requested time is looked up in
the cache first (keyed by time, so it works offline) and otherwise in the listing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from wxai.core.errors import ConfigError
from wxai.data.sources.cache import DownloadCache, FileKind
from wxai.data.sources.errors import CacheMiss, RemoteNotFound, SourceUnavailable
from wxai.data.sources.http import HttpFetcher, HttpOptions
from wxai.data.sources.listing import parse_listing
from wxai.data.sources.request import parse_time

__all__ = ["ListedFileSource", "ListedProduct"]

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedProduct:
    """Where a time-stamped product lives and how its files are named.

    Parameters
    ----------
    name:
        Registry and cache name (``"dwd-cth"``).
    label:
        Display name in messages (``"DWD CTH"``).
    base_url:
        Directory URL (ending with ``/``).
    pattern:
        Regular expression matching a file name with a named group ``time``.
    time_format:
        :func:`~datetime.datetime.strptime` format of the ``time`` group.
    stem:
        Stem of cached file names (``"cth"`` -> ``cth_202611231200.nc``).
    extension:
        Extension of the cached (decompressed) file (``".nc"``, ``".h5"``).
    compression:
        ``"bz2"`` when the published files are bzip2-compressed.
    kind:
        Format check of the cached file.
    """

    name: str
    label: str
    base_url: str
    pattern: str
    time_format: str
    stem: str
    extension: str
    compression: Literal["bz2"] | None = None
    kind: FileKind = "any"


class ListedFileSource:
    """Download and cache time-stamped files of one :class:`ListedProduct`.

    Parameters
    ----------
    product:
        The product description.
    cache:
        Download cache; default ``<wxai home>/cache/<product.name>``.
    http:
        Timeouts and retries.
    """

    def __init__(
        self,
        product: ListedProduct,
        *,
        cache: DownloadCache | None = None,
        http: HttpOptions | None = None,
    ) -> None:
        if not product.base_url.endswith("/"):
            product = replace(product, base_url=product.base_url + "/")
        try:
            self._regex = re.compile(product.pattern)
        except re.error as exc:
            raise ConfigError(f"{product.label}: invalid file pattern ({exc})") from None
        if "time" not in self._regex.groupindex:
            raise ConfigError(f"{product.label}: the file pattern needs a (?P<time>...) group")
        self.product = product
        self.cache = cache or DownloadCache(product.name)
        self.http = HttpFetcher(product.label, http)

    @property
    def name(self) -> str:
        """Registry name of the product."""
        return self.product.name

    @property
    def label(self) -> str:
        """Display name of the product."""
        return self.product.label

    @property
    def base_url(self) -> str:
        """Directory URL of the product."""
        return self.product.base_url

    def cache_key(self, time: datetime) -> str:
        """Cache key of the (decompressed) file observed at ``time``."""
        p = self.product
        return f"{time:%Y/%m/%d}/{p.stem}_{time:%Y%m%d%H%M}{p.extension}"

    def list_files(self) -> dict[datetime, str]:
        """Files in the server's listing by observation time (UTC).

        Raises
        ------
        SourceUnavailable
            If the listing cannot be fetched.
        """
        html = self.http.get_text(self.base_url, what=f"the {self.label} file listing")
        found = {}
        for entry in parse_listing(html):
            match = self._regex.match(entry.name)
            if not match or entry.size == 0:
                continue
            try:
                when = parse_time(datetime.strptime(match["time"], self.product.time_format))
            except ValueError:
                continue
            found[when] = entry.name
        return found

    def cached_times(self) -> list[datetime]:
        """Observation times held in the cache, newest first (not verified)."""
        times = []
        stamp = re.compile(
            rf"^{re.escape(self.product.stem)}_(\d{{12}}){re.escape(self.product.extension)}$"
        )
        for key in self.cache.entries():
            match = stamp.match(key.rsplit("/", 1)[-1])
            if match:
                times.append(parse_time(match.group(1)))
        return sorted(times, reverse=True)

    def fetch(
        self, *, time: datetime | date | str | None = None, offline: bool = False
    ) -> list[Path]:
        """The local file of the product at ``time`` (default: the latest one).

        Parameters
        ----------
        time:
            Observation time (UTC), e.g. ``"202611231200"``; ``None`` = the newest file
            in the listing, or the newest cached file when offline or unreachable.
        offline:
            Use only the cache; never touch the network.

        Raises
        ------
        CacheMiss
            Offline, and the cache lacks the file.
        SourceUnavailable
            The server cannot be reached and the cache lacks the file.
        RemoteNotFound
            The listing has no file for ``time``.
        """
        when = parse_time(time, f"{self.label} time") if time is not None else None
        if when is not None:
            path = self.cache.lookup(self.cache_key(when), kind=self.product.kind)
            if path is not None:
                return [path]
        what = f"{self.label} {when:%Y-%m-%d %H:%M} UTC" if when else f"the latest {self.label}"
        if offline:
            if when is None:
                for cached in self.cached_times():
                    path = self.cache.lookup(self.cache_key(cached), kind=self.product.kind)
                    if path is not None:
                        return [path]
            raise CacheMiss(self.label, what, self.cache.directory)
        try:
            files = self.list_files()
        except SourceUnavailable as exc:
            if when is None:
                for cached in self.cached_times():
                    path = self.cache.lookup(self.cache_key(cached), kind=self.product.kind)
                    if path is not None:
                        LOG.warning(
                            "%s: %s unreachable (%s); using %s from the cache",
                            self.label,
                            exc.url,
                            exc.cause,
                            path.name,
                        )
                        return [path]
            raise SourceUnavailable(self.label, exc.url, exc.cause, what) from None
        if not files:
            raise RemoteNotFound(self.label, self.base_url, what, hint="the listing has no files")
        if when is None:
            when = max(files)
        elif when not in files:
            newest = max(files)
            raise RemoteNotFound(
                self.label,
                self.base_url,
                what,
                hint=f"the listing holds {min(files):%Y-%m-%d %H:%M} to {newest:%Y-%m-%d %H:%M}",
            )
        key = self.cache_key(when)
        path = self.cache.lookup(key, kind=self.product.kind)
        if path is not None:
            return [path]
        what = f"{self.label} {when:%Y-%m-%d %H:%M} UTC"
        url = self.base_url + files[when]
        path = self.http.download(
            url,
            self.cache,
            key,
            what=what,
            compression=self.product.compression,
            kind=self.product.kind,
        )
        return [path]
