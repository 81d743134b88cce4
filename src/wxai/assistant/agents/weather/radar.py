"""The radar reading as a tool of the weather workflow: what the DWD radar shows now.

:func:`radar_reading` finds the DWD radar composite (``hx``: maximum reflectivity over
Germany, every 5 minutes) for the time asked, measures it
(:mod:`wxai.products.descriptors.remote_sensing`), draws the fixed-scale map
(:mod:`wxai.viz.ai_readable`) and, when given a vision-capable model, lets it read the
map together with the measured values (:mod:`wxai.assistant.read_image`).

Where the composite comes from, in order (the answer says which):

1. the local download cache, when it already holds the composite;
2. the DWD open-data server (``WXAI_DWD_RADAR_URL``), downloaded into the cache;
3. wxai's synthetic composite (:func:`~wxai.data.synthetic.samples.write_samples`), only
   when the server cannot be reached (or ``offline``) and the cache has nothing. Such an
   answer is labelled SYNTHETIC everywhere: it shows no real weather.

Times: radar observes the past. ``None``, "now", "latest" or "current" mean the newest
composite; a past time (``2026-12-04 15:00``, ``2026-12-04T15:05Z``, ``14:30 UTC``,
``30 minutes ago``) is floored to the 5-minute grid. Times without a zone are UTC. A
future time, or one older than the server keeps, is a clear error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from wxai.assistant.llm.types import LLMProvider
from wxai.assistant.read_image import ImageReading, read_image
from wxai.core.errors import DataFormatError, RequestNotUnderstood
from wxai.data.sources.dwd_radar import DwdRadarSource
from wxai.data.sources.errors import CacheMiss, RemoteNotFound, SourceUnavailable
from wxai.products.descriptors.remote_sensing import RadarDescriptors

__all__ = [
    "DEFAULT_TASK",
    "ORIGINS",
    "RADAR_STEP_MINUTES",
    "RadarReading",
    "radar_reading",
    "radar_time",
    "radar_time_phrase",
]

RADAR_STEP_MINUTES = 5
"""Interval of the DWD composites [minutes]; asked times are floored to it."""

DEFAULT_TASK = (
    "Describe the precipitation this radar composite shows over Germany: where it falls, "
    "how widespread and how intense it is, and whether there are convective cells."
)

ORIGINS = {
    "server": "downloaded from the DWD open-data server",
    "cache": "from the local download cache (downloaded from DWD earlier)",
    "synthetic": "SYNTHETIC (wxai's synthetic radar composite; no real radar data could be had)",
}
"""Origin -> how the answer names it."""

_STALE = timedelta(minutes=30)
_SYNTHETIC_SEED = 0
_ZONE = r"(?:\s*(?P<zone>Z\b|UTC\b|GMT\b|[+-]\d{2}:?\d{2}\b))?"
# a clock time: "15:05", "15:05:00", or a bare hour followed by its zone ("15 UTC")
_HOUR_MINUTE = r"(?P<clock>(?:[01]?\d|2[0-3])(?::[0-5]\d(?::[0-5]\d)?|(?=\s*(?:Z|UTC|GMT)\b)))"
_ISO = re.compile(
    r"\b(?P<date>\d{4}-\d{2}-\d{2})(?:(?:T|\s+(?:at\s+)?)" + _HOUR_MINUTE + ")?" + _ZONE,
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b" + _HOUR_MINUTE + _ZONE, re.IGNORECASE)
_AGO = re.compile(
    r"\b(?P<n>\d+|an?|half an)\s*(?P<unit>minutes?|mins?|hours?|hrs?|h)\s+ago\b", re.IGNORECASE
)
_FUTURE = re.compile(
    r"\b(?:tomorrow|tonight|later(?: today)?|next \w+|in \d+ (?:minutes?|hours?|days?))\b",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"\b(?:yesterday|gestern|this (?:morning|afternoon|evening)|last night|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    re.IGNORECASE,
)
_EXAMPLE = "e.g. 'now', '2026-12-04 15:00 UTC' or '30 minutes ago'"


@dataclass(frozen=True)
class RadarReading:
    """One radar composite read: where it came from, what was measured, what was said.

    Attributes
    ----------
    time:
        Observation time of the composite [UTC]; for a synthetic one, the time it
        stands in for.
    origin:
        ``"server"``, ``"cache"`` or ``"synthetic"`` (see :data:`ORIGINS`).
    file:
        Name of the composite file read.
    descriptors:
        Measured descriptors of the composite (reflectivity [dBZ]).
    reading:
        The interpretation: a vision model's answer or the descriptors' text.
    figure:
        The AI-readable map (PNG, 900 x 640 pixels).
    notes:
        What did not go as asked on the way (server down, old composite, ...).
    """

    time: datetime
    origin: str
    file: str
    descriptors: RadarDescriptors
    reading: ImageReading
    figure: Path
    notes: tuple[str, ...] = ()

    @property
    def synthetic(self) -> bool:
        """Whether the composite is wxai's synthetic one (no real weather)."""
        return self.origin == "synthetic"

    def markdown(self) -> str:
        """A short answer in Markdown: banner if synthetic, the reading, provenance lines."""
        head = f"**Weather radar over Germany** at {self.time:%Y-%m-%d %H:%M} UTC"
        lines = [head + (" (SYNTHETIC)" if self.synthetic else ""), ""]
        if self.synthetic:
            lines += [
                "**SYNTHETIC radar: no real radar data could be had.** The map and the "
                "numbers below come from wxai's synthetic composite and show no real weather.",
                "",
            ]
        if self.reading.used_vision:
            lines += [
                f"Read by the vision model {self.reading.source}, given the measured values:",
                "",
                self.reading.text,
                "",
                self.reading.descriptors,
                "",
            ]
        else:
            lines += [self.reading.descriptors, "", "No vision model read the map.", ""]
        lines.append("Where the data come from:")
        lines.append("")
        lines.append(f"- data: DWD radar composite hx (max reflectivity), {ORIGINS[self.origin]}")
        lines.append(f"- file: {self.file}")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


# ------------------------------------------------------------------------------ times


def radar_time_phrase(text: str) -> str | None:
    """The part of a request that names the radar time, or None when it names none.

    Finds an ISO date-time, a clock time, "N minutes/hours ago", or words that name a
    time this tool cannot use ("tomorrow", "yesterday"), so that :func:`radar_time`
    can refuse them clearly instead of silently answering for now.
    """
    for pattern in (_ISO, _CLOCK, _AGO, _FUTURE, _VAGUE):
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None


def _zone(code: str | None) -> timezone:
    if code is None or code.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if code[0] == "-" else 1
    digits = code[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _hhmm(clock: str) -> str:
    """``"15"``, ``"15:05"`` or ``"15:05:30"`` as ``"15:05"`` (seconds dropped)."""
    parts = clock.split(":")
    return f"{parts[0]}:{parts[1] if len(parts) > 1 else '00'}"


def _future(asked: str, now: datetime) -> RequestNotUnderstood:
    return RequestNotUnderstood(
        "time",
        f"{asked!r} is in the future (now is {now:%Y-%m-%d %H:%M} UTC): the radar only "
        "observes the past. For rain to come, ask for the forecast instead "
        "(e.g. 'rain in Berlin tomorrow').",
    )


def _floor(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return moment - timedelta(minutes=moment.minute % RADAR_STEP_MINUTES)


def _parse_phrase(phrase: str, now: datetime) -> datetime:
    """The moment [UTC] a phrase of :func:`radar_time_phrase` names (not yet checked)."""
    if match := _ISO.fullmatch(phrase):
        if match["clock"] is None:
            raise RequestNotUnderstood(
                "time",
                f"{phrase!r} has no time of day; radar composites come every "
                f"{RADAR_STEP_MINUTES} minutes, so ask for one, {_EXAMPLE}",
            )
        stamp = datetime.strptime(f"{match['date']} {_hhmm(match['clock'])}", "%Y-%m-%d %H:%M")
        return stamp.replace(tzinfo=_zone(match["zone"])).astimezone(UTC)
    if match := _CLOCK.fullmatch(phrase):
        clock = datetime.strptime(_hhmm(match["clock"]), "%H:%M").time()
        stamp = datetime.combine(now.astimezone(UTC).date(), clock)
        return stamp.replace(tzinfo=_zone(match["zone"])).astimezone(UTC)
    if match := _AGO.fullmatch(phrase):
        n = {"a": 1.0, "an": 1.0, "half an": 0.5}.get(match["n"].lower())
        amount = float(match["n"]) if n is None else n
        hours = match["unit"].lower().startswith("h")
        return now - (timedelta(hours=amount) if hours else timedelta(minutes=amount))
    if _FUTURE.fullmatch(phrase):
        raise _future(phrase, now)
    raise RequestNotUnderstood(
        "time", f"cannot tell which radar composite {phrase!r} means; give a UTC time, {_EXAMPLE}"
    )


def radar_time(text: str | None, now: datetime) -> datetime | None:
    """The radar time a request asks for, floored to the 5-minute grid; None for "now".

    Parameters
    ----------
    text:
        A whole request ("radar at 2026-12-04 15:00 UTC") or just its time. None, or
        text without a time ("what does the radar show now?"), means the newest composite.
    now:
        The current time (naive = UTC).

    Raises
    ------
    RequestNotUnderstood
        (``field="time"``) a time in the future, a date without a time of day, or a
        time in words this tool cannot resolve ("yesterday", "Friday").
    """
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    phrase = radar_time_phrase(text or "")
    if phrase is None:
        return None
    moment = _parse_phrase(phrase, now)
    if moment > now:
        raise _future(phrase, now)
    return _floor(moment)


# --------------------------------------------------------------------------- composite


def _from_cache(source: DwdRadarSource, when: datetime | None, notes: list[str]) -> Path | None:
    try:
        [path] = source.fetch(time=when, offline=True)
    except CacheMiss:
        asked = f"for {when:%Y-%m-%d %H:%M} UTC" if when else "at all"
        notes.append(f"the local cache holds no DWD radar composite {asked}")
        return None
    return path


def _composite(
    source: DwdRadarSource, when: datetime | None, offline: bool, notes: list[str]
) -> tuple[Path, str] | None:
    """(file, origin) of the real composite at ``when`` (None = newest), or None if none.

    Raises
    ------
    RemoteNotFound
        The server answered but no longer (or not yet) lists ``when``, and the cache
        does not hold it either.
    """
    if offline:
        notes.append("offline: only the local cache was searched")
        path = _from_cache(source, when, notes)
        return None if path is None else (path, "cache")
    try:
        listed = source.list_files()
        target = when or (max(listed) if listed else None)
        if target is None:
            notes.append("the DWD radar listing is empty")
            path = _from_cache(source, None, notes)
            return None if path is None else (path, "cache")
        cached = source.cache.lookup(source.cache_key(target), kind=source.product.kind)
        if cached is not None:
            return cached, "cache"
        if target not in listed:
            raise RemoteNotFound(
                source.label,
                source.base_url,
                f"{source.label} {target:%Y-%m-%d %H:%M} UTC",
                hint=f"the server keeps only recent composites (its listing holds "
                f"{min(listed):%Y-%m-%d %H:%M} to {max(listed):%Y-%m-%d %H:%M} UTC), "
                "and the local cache does not have it",
            )
        [path] = source.fetch(time=target)
        return path, "server"
    except SourceUnavailable as exc:
        notes.append(f"the DWD radar server could not be reached ({exc.cause})")
        path = _from_cache(source, when, notes)
        return None if path is None else (path, "cache")


def _synthetic_composite() -> Path:
    """wxai's synthetic ODIM composite, written once under ``<home>/cache/synthetic``."""
    from wxai.core.paths import home_dir
    from wxai.data.synthetic.samples import SAMPLE_FILES, write_samples

    folder = home_dir() / "cache" / "synthetic" / f"samples-s{_SYNTHETIC_SEED}"
    path = folder / SAMPLE_FILES["radar"][0]
    if not path.is_file():
        write_samples(folder, seed=_SYNTHETIC_SEED)
    return path


def _measure(path: Path) -> tuple[RadarDescriptors, object]:
    """Descriptors and the reflectivity field [dBZ] (y, x) of one ODIM composite."""
    from wxai.data.formats.odim import read_odim
    from wxai.products.descriptors.remote_sensing import NO_ECHO_DBZ, descriptors_from_file

    descriptors = descriptors_from_file(path)
    if not isinstance(descriptors, RadarDescriptors):
        raise DataFormatError(f"{path.name}: not a radar reflectivity composite")
    return descriptors, read_odim(path, undetect_value=NO_ECHO_DBZ)


def _observed(field: object) -> datetime:
    import numpy as np

    stamp = np.datetime64(field.time.values, "s").astype(datetime)  # type: ignore[attr-defined]
    return stamp.replace(tzinfo=UTC)


def _read(
    png: bytes,
    descriptors: RadarDescriptors,
    task: str,
    *,
    context: str,
    provider: LLMProvider | None,
    alias: str | None,
) -> ImageReading:
    if provider is None and alias is None:
        measured = descriptors.text()
        note = "(no vision model was chosen, so no model was asked)"
        return ImageReading(f"{measured}\n{note}", False, "measured descriptors only", measured)
    return read_image(png, descriptors, f"{context} {task}", provider=provider, alias=alias)


def radar_reading(
    when: str | None = None,
    *,
    now: datetime,
    offline: bool,
    figure_dir: Path,
    task: str = DEFAULT_TASK,
    provider: LLMProvider | None = None,
    alias: str | None = None,
    source: DwdRadarSource | None = None,
) -> RadarReading:
    """Find, measure, draw and read the DWD radar composite for ``when``.

    Parameters
    ----------
    when:
        None/"now"/"latest" for the newest composite, or a past time in UTC (a whole
        request sentence works too); see :func:`radar_time`.
    now:
        The current time (naive = UTC).
    offline:
        Use only the local cache (then the synthetic composite); no network.
    figure_dir:
        Folder for the map (``radar_<YYYYmmddHHMM>.png``; created if needed).
    task:
        What the vision model is asked to do with the map.
    provider, alias:
        The model that reads the map (a provider, or a model alias). One without
        ``capabilities.vision`` is not asked; with neither, no model is asked: the
        answer is the measured descriptors' text, saying so.
    source:
        The radar source (default: :class:`DwdRadarSource` ``hx`` at ``WXAI_DWD_RADAR_URL``).

    Raises
    ------
    RequestNotUnderstood
        A future time or an unreadable one (see :func:`radar_time`).
    RemoteNotFound
        The server does not (or no longer) list the composite asked for, nor does the cache.
    DataFormatError
        The composite has no reflectivity dataset (or the image check fails).
    """
    from wxai.viz.ai_readable import render_ai_readable_png

    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    asked = radar_time(when, now)
    notes: list[str] = []
    found = _composite(source or DwdRadarSource(), asked, offline, notes)
    if found is None:
        path, origin = _synthetic_composite(), "synthetic"
    else:
        path, origin = found
    descriptors, field = _measure(path)
    if origin == "synthetic":
        moment = asked or _floor(now)
        context = "This is a SYNTHETIC test radar composite (not real weather)."
        title = f"SYNTHETIC radar (no real data), standing in for {moment:%Y-%m-%d %H:%M} UTC"
        notes.append("the synthetic composite's own time stamp is meaningless")
    else:
        moment = _observed(field)
        context = f"This is the DWD radar composite of {moment:%Y-%m-%d %H:%M} UTC."
        title = f"DWD radar composite hx, {moment:%Y-%m-%d %H:%M} UTC"
        if asked is None and now - moment > _STALE:
            hours = (now - moment).total_seconds() / 3600
            notes.append(f"the newest composite available is {hours:.1f} h old")
    png = render_ai_readable_png(field, "radar", title=title)
    figure_dir.mkdir(parents=True, exist_ok=True)
    figure = figure_dir / f"radar_{moment:%Y%m%d%H%M}.png"
    figure.write_bytes(png)
    reading = _read(png, descriptors, task, context=context, provider=provider, alias=alias)
    return RadarReading(moment, origin, path.name, descriptors, reading, figure, tuple(notes))
