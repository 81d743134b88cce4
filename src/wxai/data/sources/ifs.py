"""ECMWF IFS open data through the ``ecmwf-opendata`` client, with a verified cache.

The client (``ecmwf.opendata.Client``) builds URLs of the form
``{root}/{YYYYMMDD}/{HH}z/{model}/{resol}/{stream}/{YYYYMMDDHHMMSS}-{step}h-{stream}-{type}.grib2``,
reads the JSON-lines ``.index`` file beside each GRIB file (one line per field with
``param``, ``levtype``, ``levelist``, ``step``, ``_offset`` and ``_length``) and downloads
only the matching fields with HTTP byte-range requests. ``root`` is a known mirror name
(``"ecmwf"``, ``"aws"``, ``"azure"``, ``"google"``) or any base URL.

Each request is stored as one GRIB2 file in ``<wxai home>/cache/ifs/`` with a sha256
sidecar; a repeated request is answered from the cache without network access.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from wxai.core.errors import ConfigError, MissingExtra
from wxai.data.sources.cache import DownloadCache
from wxai.data.sources.errors import CacheMiss, RemoteNotFound, SourceUnavailable
from wxai.data.sources.request import describe_steps, parse_list, parse_steps, parse_time

__all__ = ["IFS_AVAILABILITY_DELAY_H", "IFS_RUN_HOURS", "IFS_SOURCE", "IfsSource", "ifs_run_steps"]

LOG = logging.getLogger(__name__)

IFS_SOURCE = "ecmwf"
"""Default ``ecmwf-opendata`` source; override with ``source=`` or ``WXAI_IFS_URL``."""

ENV_URL = "WXAI_IFS_URL"
_MAX_NAME = 120

IFS_RUN_HOURS = (0, 6, 12, 18)
"""Run hours (UTC) of the IFS high-resolution forecast in ECMWF open data."""

IFS_AVAILABILITY_DELAY_H = 8.0
"""Hours after the nominal run time until a whole IFS run is in open data (about 7-9 h)."""


def ifs_run_steps(run_hour: int) -> list[int]:
    """Forecast steps (hours) of the IFS open-data forecast of one run hour.

    00 and 12 UTC: 0..144 every 3 h, then 150..240 every 6 h; 06 and 18 UTC: 0..90
    every 3 h.
    """
    if run_hour not in IFS_RUN_HOURS:
        raise ConfigError(f"IFS runs start at 00, 06, 12 and 18 UTC, not {run_hour}")
    if run_hour in (0, 12):
        return [*range(0, 145, 3), *range(150, 241, 6)]
    return list(range(0, 91, 3))


class IfsSource:
    """IFS (or AIFS) open-data fields as local GRIB2 files.

    Parameters
    ----------
    source:
        ``ecmwf-opendata`` source: a mirror name (``"ecmwf"``, ``"aws"``, ...) or a base
        URL; default ``WXAI_IFS_URL`` or ``"ecmwf"``.
    model:
        ``"ifs"`` (default) or ``"aifs-single"``.
    resol:
        Grid, ``"0p25"`` (default).
    cache:
        Download cache; default ``<wxai home>/cache/ifs``.
    retries:
        Attempts per HTTP request (network errors and 5xx).
    retry_after:
        Backoff of the client: seconds, or ``(first, max, factor)`` for an increasing wait.
    accept_multiple_ranges:
        Whether the server answers multi-range requests; ``None`` lets the client detect it.
    """

    name = "ifs"
    label = "IFS"

    def __init__(
        self,
        source: str | None = None,
        *,
        model: str = "ifs",
        resol: str = "0p25",
        cache: DownloadCache | None = None,
        retries: int = 3,
        retry_after: float | tuple[float, float, float] = (1.0, 30.0, 2.0),
        accept_multiple_ranges: bool | None = None,
    ) -> None:
        self.source = source or os.environ.get(ENV_URL) or IFS_SOURCE
        self.model = model
        self.resol = resol
        self.cache = cache or DownloadCache(self.name)
        self.retries = max(int(retries), 1)
        self.retry_after = retry_after
        self.accept_multiple_ranges = accept_multiple_ranges

    # -- client --------------------------------------------------------------------

    def _client(self) -> Any:
        try:
            from ecmwf.opendata import Client
        except ImportError:  # pragma: no cover - a core dependency
            raise MissingExtra("ecmwf.opendata", "data") from None
        ranges = {}
        if self.accept_multiple_ranges is not None:
            ranges = {
                "source_accept_ranges": True,
                "source_accept_multiple_ranges": self.accept_multiple_ranges,
            }
        try:
            return Client(
                source=self.source,
                model=self.model,
                resol=self.resol,
                maximum_retries=self.retries,
                retry_after=self.retry_after,
                **ranges,
            )
        except ValueError as exc:
            raise ConfigError(f"{self.label}: invalid source {self.source!r} ({exc})") from None

    @property
    def base_url(self) -> str:
        """The root URL the client downloads from."""
        from ecmwf.opendata.urls import URLS

        return URLS.get(self.source, self.source)

    # -- request -------------------------------------------------------------------

    @staticmethod
    def _normalise(
        *,
        param: str | Iterable[str],
        step: int | str | Iterable[int],
        time: int | str,
        type: str,
        stream: str,
        levtype: str,
        levelist: int | str | Iterable[int] | None,
    ) -> dict[str, Any]:
        params = parse_list(param)
        if not params:
            raise ConfigError("IFS: no param given (e.g. param='2t' or '2t,msl')")
        hour = int(str(time).removesuffix("z").removesuffix("Z"))
        if hour >= 100:
            hour //= 100
        if hour not in (0, 6, 12, 18):
            raise ConfigError(f"IFS: time {time!r} is not a run hour (0, 6, 12 or 18 UTC)")
        request: dict[str, Any] = {
            "param": params,
            "step": parse_steps(step),
            "time": hour,
            "type": type,
            "stream": stream,
            "levtype": levtype,
        }
        if levelist is not None:
            request["levelist"] = [
                int(v)
                for v in parse_list([str(levelist)] if isinstance(levelist, int) else levelist)
            ]
        elif levtype == "pl":
            raise ConfigError("IFS: levtype='pl' needs levelist (hPa), e.g. levelist=500")
        return request

    def cache_key(self, run: datetime, request: dict[str, Any]) -> str:
        """Cache key of the GRIB2 file answering ``request`` for the run ``run``."""
        steps = request["step"]
        step_txt = f"{steps[0]}" if len(steps) == 1 else f"{steps[0]}-{steps[-1]}x{len(steps)}"
        levels = (
            "-" + "_".join(str(v) for v in request["levelist"]) if "levelist" in request else ""
        )
        name = (
            f"{request['stream']}-{request['type']}-{request['levtype']}{levels}-"
            f"{'_'.join(request['param'])}-step{step_txt}"
        )
        if len(steps) > 1 or len(name) > _MAX_NAME:
            digest = hashlib.sha256(repr(sorted(request.items())).encode()).hexdigest()[:10]
            name = f"{name[:_MAX_NAME]}-{digest}"
        return f"{self.model}/{self.resol}/{run:%Y%m%d}/{run:%H}z/{name}.grib2"

    def describe(self, run: datetime | None, request: dict[str, Any]) -> str:
        """Human description of a request for messages."""
        when = f"{run:%Y-%m-%d %H} UTC" if run is not None else "the latest run"
        levels = f" {'/'.join(map(str, request['levelist']))} hPa" if "levelist" in request else ""
        return (
            f"{','.join(request['param'])}{levels} ({request['type']}, {request['levtype']}) "
            f"{when} {describe_steps(request['step'])}"
        )

    # -- fetching ------------------------------------------------------------------

    def fetch(
        self,
        *,
        param: str | Iterable[str] = "2t",
        step: int | str | Iterable[int] = 0,
        date: date | datetime | str | None = None,
        time: int | str = 0,
        type: str = "fc",
        stream: str = "oper",
        levtype: str = "sfc",
        levelist: int | str | Iterable[int] | None = None,
        offline: bool = False,
    ) -> list[Path]:
        """One local GRIB2 file holding every requested field.

        Parameters
        ----------
        param:
            ecCodes short names (``"2t"``, ``"msl"``, ``"2t,msl"``).
        step:
            Forecast steps in hours (``24``, ``[0, 6]``, ``"0-24/6"``).
        date:
            Run date (``20261123``, ``"2026-11-23"``); ``None`` = the latest run with the
            fields (probed on the server), or the newest matching run in the cache when
            offline or unreachable. A datetime also sets the hour.
        time:
            Run hour: 0, 6, 12 or 18 (UTC); ignored when ``date`` carries an hour.
        type, stream:
            ``"fc"``/``"oper"`` (default), ``"cf"``/``"pf"`` with ``"enfo"``, ...
        levtype, levelist:
            ``"sfc"`` (default) or ``"pl"`` with pressure levels in hPa.
        offline:
            Use only the cache; never touch the network.

        Raises
        ------
        CacheMiss
            Offline, and the cache lacks the request.
        SourceUnavailable
            The server cannot be reached (or keeps failing) and the cache lacks the request.
        RemoteNotFound
            The server has no file or no index entries for the request.
        """
        run_date = parse_time(date, "IFS date") if date is not None else None
        if run_date is not None and (isinstance(date, datetime) or run_date.hour):
            time = run_date.hour
        request = self._normalise(
            param=param,
            step=step,
            time=time,
            type=type,
            stream=stream,
            levtype=levtype,
            levelist=levelist,
        )
        run = (
            run_date.replace(hour=request["time"], minute=0, second=0)
            if run_date is not None
            else self._latest(request, offline)
        )
        key = self.cache_key(run, request)
        what = self.describe(run, request)
        path = self.cache.lookup(key, kind="grib")
        if path is not None:
            return [path]
        if offline:
            raise CacheMiss(self.label, what, self.cache.directory)
        return [self._download(run, request, key, what)]

    def _latest(self, request: dict[str, Any], offline: bool) -> datetime:
        if not offline:
            try:
                found = self._client().latest(self._client_request(None, request))
                return found.replace(tzinfo=UTC)
            except SourceUnavailable:
                raise
            except Exception as exc:
                error = self._translate(exc, None, request)
                if not isinstance(error, SourceUnavailable):
                    raise error from None
                cached = self._cached_runs(request)
                if not cached:
                    raise error from None
                LOG.warning(
                    "%s: %s unreachable (%s); using run %s from the cache",
                    self.label,
                    error.url,
                    error.cause,
                    f"{cached[0]:%Y%m%d%H}",
                )
                return cached[0]
        cached = self._cached_runs(request)
        if not cached:
            raise CacheMiss(self.label, self.describe(None, request), self.cache.directory)
        return cached[0]

    def _cached_runs(self, request: dict[str, Any]) -> list[datetime]:
        runs = []
        probe = datetime(2000, 1, 1, tzinfo=UTC)
        suffix = self.cache_key(probe, request).split("/", 4)[-1]
        for key in self.cache.entries(f"{self.model}/{self.resol}/*/*z/{suffix}"):
            parts = key.split("/")
            try:
                day = datetime.strptime(parts[2], "%Y%m%d").replace(tzinfo=UTC)
            except (ValueError, IndexError):
                continue
            runs.append(day + timedelta(hours=int(parts[3].removesuffix("z"))))
        return sorted((r for r in runs if r.hour == request["time"]), reverse=True)

    @staticmethod
    def _client_request(run: datetime | None, request: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in request.items() if k != "time"}
        out["time"] = request["time"]
        if run is not None:
            out["date"] = int(f"{run:%Y%m%d}")
        return out

    def _download(self, run: datetime, request: dict[str, Any], key: str, what: str) -> Path:
        client = self._client()
        target_dir = self.cache.path_for(key).parent
        target_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=".ifs-", suffix=".grib2.part")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            client.retrieve(self._client_request(run, request), target=str(tmp))
            path = self.cache.put_file(key, tmp, kind="grib")
        except Exception as exc:
            raise self._translate(exc, run, request, what) from None
        finally:
            tmp.unlink(missing_ok=True)
        LOG.info("%s: downloaded %s -> %s", self.label, what, path)
        return path

    def _translate(  # noqa: PLR0911 - one return per error class
        self,
        exc: Exception,
        run: datetime | None,
        request: dict[str, Any],
        what: str | None = None,
    ) -> Exception:
        """Turn an exception of the client into a wxai error naming the source and URL."""
        import requests

        what = what or self.describe(run, request)
        if isinstance(exc, SourceUnavailable | RemoteNotFound | CacheMiss | ConfigError):
            return exc
        req = getattr(exc, "request", None)
        url = getattr(req, "url", None) or self.base_url
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            url = exc.response.url or url
            if status in (404, 410):
                return RemoteNotFound(self.label, url, what)
            return SourceUnavailable(
                self.label,
                url,
                f"HTTP {status} {exc.response.reason}; {self.retries} attempts",
                what,
            )
        if isinstance(exc, requests.RequestException):
            return SourceUnavailable(self.label, url, f"{type(exc).__name__}: {exc}", what)
        if isinstance(exc, ValueError) and "index entries" in str(exc):
            return RemoteNotFound(
                self.label, url, what, hint="the index lists no such field; check param/levtype"
            )
        if isinstance(exc, ValueError) and "latest date" in str(exc):
            return RemoteNotFound(self.label, url, what, hint="no run in the last two days")
        return exc
