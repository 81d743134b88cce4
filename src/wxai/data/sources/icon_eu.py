"""DWD ICON-EU open data (regular lat-lon GRIB2, bzip2-compressed) with a verified cache.

Layout on ``https://opendata.dwd.de/weather/nwp/icon-eu/grib/`` (as published by DWD):

- one directory per run hour and variable: ``{HH}/{var}/`` with ``var`` lower-case
  (``00/t_2m/``); each directory only holds the most recent run of that hour
  (older runs are removed after about a day);
- single-level files:
  ``icon-eu_europe_regular-lat-lon_single-level_{YYYYMMDDHH}_{FFF}_{VAR}.grib2.bz2``;
  pressure-level files (``var`` = ``t``, ``u``, ``fi``, ...):
  ``icon-eu_europe_regular-lat-lon_pressure-level_{YYYYMMDDHH}_{FFF}_{LEVEL}_{VAR}.grib2.bz2``
  with ``VAR`` upper-case and ``FFF`` the 3-digit step in hours;
- runs every 3 h (00, 03, ..., 21 UTC). The main runs 00/06/12/18 reach +120 h
  (hourly to +78 h, then 3-hourly); the intermediate runs 03/09/15/21 reach +30 h
  (hourly);
- files of a run appear step by step, roughly 2 to 4 h after the nominal time.

The latest *complete* run is found by walking back from the newest run that can be
available (``now - availability_delay``) and reading the directory listings until a
run has every requested step; runs whose schedule cannot contain the steps are skipped.
Files are decompressed while streaming and cached as ``.grib2`` with a sha256 sidecar.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from wxai.core.errors import ConfigError
from wxai.data.sources.cache import DownloadCache
from wxai.data.sources.errors import CacheMiss, SourceUnavailable
from wxai.data.sources.http import HttpFetcher, HttpOptions
from wxai.data.sources.listing import parse_listing
from wxai.data.sources.request import describe_steps, parse_steps, parse_time

__all__ = [
    "ICON_EU_URL",
    "IconEuSource",
    "candidate_runs",
    "file_name",
    "parse_file_name",
    "run_steps",
]

LOG = logging.getLogger(__name__)

ICON_EU_URL = "https://opendata.dwd.de/weather/nwp/icon-eu/grib"
"""Default base URL; override with ``base_url=`` or ``WXAI_ICON_EU_URL``."""

ENV_URL = "WXAI_ICON_EU_URL"
RUN_EVERY_H = 3
MAIN_RUN_HOURS = frozenset({0, 6, 12, 18})
LEVEL_TYPES = ("single-level", "pressure-level")

_PREFIX = "icon-eu_europe_regular-lat-lon"
_NAME = re.compile(
    rf"^{_PREFIX}_(?P<lt>single-level|pressure-level|model-level)_(?P<run>\d{{10}})_"
    r"(?P<step>\d{3})_(?:(?P<level>\d+)_)?(?P<var>[A-Z0-9_]+)\.grib2(?:\.bz2)?$"
)


def run_steps(run_hour: int) -> list[int]:
    """Forecast steps (hours) published for a run starting at ``run_hour`` UTC.

    Main runs (00/06/12/18): 0..78 hourly then 81..120 3-hourly; other runs 0..30 hourly.
    """
    if run_hour % RUN_EVERY_H:
        raise ConfigError(f"ICON-EU runs start every 3 h (00, 03, ..., 21 UTC), not {run_hour}")
    if run_hour in MAIN_RUN_HOURS:
        return [*range(0, 79), *range(81, 121, 3)]
    return list(range(0, 31))


def file_name(
    variable: str,
    run: datetime,
    step: int,
    level_type: str = "single-level",
    level: int | None = None,
) -> str:
    """Name of the published ``.grib2.bz2`` file of one field."""
    var = variable.upper()
    stamp = run.strftime("%Y%m%d%H")
    if level_type == "single-level":
        return f"{_PREFIX}_single-level_{stamp}_{step:03d}_{var}.grib2.bz2"
    if level_type == "pressure-level":
        if level is None:
            raise ConfigError("ICON-EU pressure-level fields need a level (hPa), e.g. level=500")
        return f"{_PREFIX}_pressure-level_{stamp}_{step:03d}_{level}_{var}.grib2.bz2"
    raise ConfigError(
        f"ICON-EU level type {level_type!r} is not supported; use {', '.join(LEVEL_TYPES)}"
    )


def parse_file_name(name: str) -> dict[str, object] | None:
    """Fields of an ICON-EU file name, or ``None`` when it is not one.

    Returns a dict with ``level_type``, ``run`` (datetime, UTC), ``step`` (int),
    ``level`` (int or None) and ``variable`` (upper-case).
    """
    match = _NAME.match(name)
    if not match:
        return None
    return {
        "level_type": match["lt"],
        "run": datetime.strptime(match["run"], "%Y%m%d%H").replace(tzinfo=UTC),
        "step": int(match["step"]),
        "level": int(match["level"]) if match["level"] else None,
        "variable": match["var"],
    }


def candidate_runs(
    now: datetime,
    *,
    availability_delay: timedelta = timedelta(hours=2),
    lookback: timedelta = timedelta(hours=24),
    max_step: int = 0,
) -> list[datetime]:
    """Runs that may be on the server at ``now``, newest first.

    The newest candidate is the last nominal run time at or before
    ``now - availability_delay``; candidates go back ``lookback``. Runs whose schedule
    does not reach ``max_step`` (intermediate runs beyond +30 h) are left out.
    """
    newest = now.astimezone(UTC) - availability_delay
    newest = newest.replace(minute=0, second=0, microsecond=0)
    newest -= timedelta(hours=newest.hour % RUN_EVERY_H)
    runs = []
    run = newest
    while run >= newest - lookback:
        if max_step <= run_steps(run.hour)[-1]:
            runs.append(run)
        run -= timedelta(hours=RUN_EVERY_H)
    return runs


class IconEuSource:
    """ICON-EU regular lat-lon GRIB2 files from DWD open data.

    Parameters
    ----------
    base_url:
        Root of the ICON-EU GRIB tree; default ``WXAI_ICON_EU_URL`` or :data:`ICON_EU_URL`.
    cache:
        Download cache; default ``<wxai home>/cache/icon-eu``.
    http:
        Timeouts and retries.
    availability_delay:
        Time after the nominal run time before a run is looked for (hours).
    lookback:
        How far back (hours) to look for a complete run.
    """

    name = "icon-eu"
    label = "ICON-EU"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        cache: DownloadCache | None = None,
        http: HttpOptions | None = None,
        availability_delay: float = 2.0,
        lookback: float = 24.0,
    ) -> None:
        self.base_url = (base_url or os.environ.get(ENV_URL) or ICON_EU_URL).rstrip("/")
        self.cache = cache or DownloadCache(self.name)
        self.http = HttpFetcher(self.label, http)
        self.availability_delay = timedelta(hours=availability_delay)
        self.lookback = timedelta(hours=lookback)

    # -- layout --------------------------------------------------------------------

    def directory_url(self, variable: str, run_hour: int) -> str:
        """URL of the listing ``{HH}/{var}/`` of one run hour and variable."""
        return f"{self.base_url}/{run_hour:02d}/{variable.lower()}/"

    def file_url(self, variable: str, run: datetime, step: int, **level: object) -> str:
        """URL of the ``.grib2.bz2`` file of one field."""
        name = file_name(variable, run, step, **level)  # type: ignore[arg-type]
        return self.directory_url(variable, run.hour) + name

    def cache_key(self, variable: str, run: datetime, step: int, **level: object) -> str:
        """Cache key of the decompressed file of one field."""
        name = file_name(variable, run, step, **level).removesuffix(".bz2")  # type: ignore[arg-type]
        return f"{run:%Y%m%d%H}/{variable.lower()}/{name}"

    @staticmethod
    def describe(
        variable: str, run: datetime | None, steps: list[int], level: int | None = None
    ) -> str:
        """Human description of a request, for messages (``T_2M 2026-11-23 00 UTC +6 h``)."""
        var = variable.upper() + (f" {level} hPa" if level is not None else "")
        when = f"{run:%Y-%m-%d %H} UTC" if run is not None else "the latest run"
        return f"{var} {when} {describe_steps(steps)}"

    # -- listings ------------------------------------------------------------------

    def available_steps(
        self,
        variable: str,
        run_hour: int,
        *,
        level_type: str = "single-level",
        level: int | None = None,
    ) -> dict[datetime, set[int]]:
        """Steps listed on the server per run, for one run-hour directory.

        Raises
        ------
        SourceUnavailable
            If the listing cannot be fetched.
        """
        url = self.directory_url(variable, run_hour)
        html = self.http.get_text(url, what=f"the listing of {variable.upper()} {run_hour:02d} UTC")
        runs: dict[datetime, set[int]] = {}
        for entry in parse_listing(html):
            info = parse_file_name(entry.name)
            if (
                info is None
                or info["variable"] != variable.upper()
                or info["level_type"] != level_type
                or info["level"] != level
                or entry.size == 0
            ):
                continue
            runs.setdefault(info["run"], set()).add(info["step"])  # type: ignore[arg-type]
        return runs

    def latest_complete_run(
        self,
        variable: str,
        steps: Iterable[int],
        *,
        now: datetime | None = None,
        level_type: str = "single-level",
        level: int | None = None,
    ) -> datetime:
        """The newest run whose listing holds every step in ``steps``.

        Raises
        ------
        SourceUnavailable
            If a listing cannot be fetched.
        ConfigError
            If no run within the look-back period is complete.
        """
        wanted = set(steps)
        now = parse_time(now) if now is not None else datetime.now(UTC)
        listings: dict[int, dict[datetime, set[int]]] = {}
        checked = []
        for run in candidate_runs(
            now,
            availability_delay=self.availability_delay,
            lookback=self.lookback,
            max_step=max(wanted),
        ):
            if run.hour not in listings:
                listings[run.hour] = self.available_steps(
                    variable, run.hour, level_type=level_type, level=level
                )
            present = listings[run.hour].get(run, set())
            if wanted <= present:
                return run
            checked.append(f"{run:%Y%m%d%H} ({len(wanted & present)}/{len(wanted)} steps)")
            LOG.info(
                "%s: run %s is incomplete or missing, trying the previous run", self.label, run
            )
        raise ConfigError(
            f"{self.label}: no complete run with {self.describe(variable, None, sorted(wanted))} "
            f"in the last {self.lookback.total_seconds() / 3600:g} h; checked: "
            f"{', '.join(checked) or 'none'}"
        )

    def cached_runs(
        self,
        variable: str,
        steps: Iterable[int],
        *,
        level_type: str = "single-level",
        level: int | None = None,
    ) -> list[datetime]:
        """Runs whose files for all ``steps`` are in the cache, newest first (not verified)."""
        found: dict[datetime, set[int]] = {}
        for key in self.cache.entries(f"*/{variable.lower()}/*.grib2"):
            info = parse_file_name(key.rsplit("/", 1)[-1])
            if (
                info is not None
                and info["variable"] == variable.upper()
                and info["level_type"] == level_type
                and info["level"] == level
            ):
                found.setdefault(info["run"], set()).add(info["step"])  # type: ignore[arg-type]
        wanted = set(steps)
        return sorted((run for run, have in found.items() if wanted <= have), reverse=True)

    # -- fetching ------------------------------------------------------------------

    def fetch(
        self,
        *,
        variable: str = "t_2m",
        steps: int | str | Iterable[int] = 0,
        run: datetime | date | str | None = None,
        level_type: str = "single-level",
        level: int | None = None,
        offline: bool = False,
        now: datetime | str | None = None,
    ) -> list[Path]:
        """Local GRIB2 files of ``variable`` for ``steps`` of one run, one file per step.

        Parameters
        ----------
        variable:
            ICON name, any case (``t_2m``, ``tot_prec``, ``pmsl``; ``t`` with a pressure level).
        steps:
            Forecast steps in hours (``6``, ``[0, 6]``, ``"0-12/3"``).
        run:
            Run time (``2026112300``); ``None`` = the latest complete run on the server,
            or the newest complete run in the cache when offline or unreachable.
        level_type, level:
            ``"single-level"`` (default) or ``"pressure-level"`` with ``level`` in hPa.
        offline:
            Use only the cache; never touch the network.
        now:
            Reference time for the latest-run search (tests; default: current UTC time).

        Returns
        -------
        list of pathlib.Path
            Decompressed, verified ``.grib2`` files in the cache, in step order.

        Raises
        ------
        CacheMiss
            Offline and the cache lacks a file.
        SourceUnavailable
            The server cannot be reached and the cache lacks a file.
        RemoteNotFound
            The server does not have a file.
        ConfigError
            Invalid request (step not in the run's schedule, unknown level type, ...).
        """
        step_list = parse_steps(steps)
        level_args = {"level_type": level_type, "level": level}
        file_name(variable, datetime(2000, 1, 1, tzinfo=UTC), 0, **level_args)  # validate
        run_time = parse_time(run, "ICON-EU run") if run is not None else None
        if run_time is None:
            run_time = self._resolve_latest(
                variable=variable,
                steps=step_list,
                offline=offline,
                now=now,
                level_type=level_type,
                level=level,
            )
        self._check_schedule(run_time, step_list)
        paths = []
        for step in step_list:
            key = self.cache_key(variable, run_time, step, **level_args)
            what = self.describe(variable, run_time, [step], level)
            path = self.cache.lookup(key, kind="grib")
            if path is None:
                if offline:
                    raise CacheMiss(self.label, what, self.cache.directory)
                url = self.file_url(variable, run_time, step, **level_args)
                path = self.http.download(
                    url, self.cache, key, what=what, compression="bz2", kind="grib"
                )
            paths.append(path)
        return paths

    def _check_schedule(self, run: datetime, steps: list[int]) -> None:
        if run.minute or run.hour % RUN_EVERY_H:
            raise ConfigError(
                f"{self.label}: {run:%Y-%m-%d %H:%M} is not a run time; runs start at "
                "00, 03, ..., 21 UTC"
            )
        valid = set(run_steps(run.hour))
        bad = [s for s in steps if s not in valid]
        if bad:
            top = run_steps(run.hour)[-1]
            raise ConfigError(
                f"{self.label}: the {run:%H} UTC run has no step(s) {bad}; it reaches +{top} h "
                + ("(hourly to +78 h, then every 3 h)" if top > 78 else "(hourly)")
            )

    def _resolve_latest(
        self,
        *,
        variable: str,
        steps: list[int],
        offline: bool,
        now: datetime | str | None,
        level_type: str,
        level: int | None,
    ) -> datetime:
        if not offline:
            try:
                return self.latest_complete_run(
                    variable,
                    steps,
                    now=parse_time(now) if now else None,
                    level_type=level_type,
                    level=level,
                )
            except SourceUnavailable as exc:
                cached = self.cached_runs(variable, steps, level_type=level_type, level=level)
                if not cached:
                    raise SourceUnavailable(
                        self.label, exc.url, exc.cause, self.describe(variable, None, steps, level)
                    ) from None
                LOG.warning(
                    "%s: %s unreachable (%s); using run %s from the cache",
                    self.label,
                    exc.url,
                    exc.cause,
                    f"{cached[0]:%Y%m%d%H}",
                )
                return cached[0]
        cached = self.cached_runs(variable, steps, level_type=level_type, level=level)
        if not cached:
            raise CacheMiss(
                self.label, self.describe(variable, None, steps, level), self.cache.directory
            )
        return cached[0]
