"""Parsing of request values shared by the sources (times, steps, lists).

The CLI passes strings; Python callers pass ints, lists or datetimes. Both end up
as the same normalised values here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from wxai.core.errors import ConfigError

__all__ = ["describe_steps", "parse_list", "parse_steps", "parse_time"]

_DIGIT_FORMATS = {8: "%Y%m%d", 10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
_TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_RANGE = re.compile(r"^(\d+)(?:-(\d+)(?:/(\d+))?)?$")


def parse_time(value: datetime | date | str | int, what: str = "time") -> datetime:
    """A timezone-aware UTC datetime from a datetime, date or string.

    Strings may be ``2026112300``, ``202611230000``, ``20261123``, ISO
    ``2026-11-23T00:00`` (a trailing ``Z`` is accepted). Naive datetimes are taken as UTC.

    Raises
    ------
    ConfigError
        If the value cannot be read as a time.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip().removesuffix("Z").removesuffix("+00:00")
    formats = (_DIGIT_FORMATS.get(len(text), ""),) if text.isdigit() else _TIME_FORMATS
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ConfigError(
        f"{what} {value!r} is not a time; use e.g. 2026112300 or 2026-11-23T00:00 (UTC)"
    )


def parse_steps(value: int | str | Iterable[int | str]) -> list[int]:
    """Forecast steps in hours, sorted and unique.

    Accepts an int, an iterable of ints, or a string of comma-separated items each
    ``N``, ``A-B`` (hourly) or ``A-B/S`` (every ``S`` hours): ``"0-6,12,24-48/6"``.

    Raises
    ------
    ConfigError
        For negative or unreadable steps.
    """
    items: list[int | str]
    if isinstance(value, int):
        items = [value]
    elif isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    else:
        items = list(value)
    steps: set[int] = set()
    for item in items:
        if isinstance(item, int):
            if item < 0:
                raise ConfigError(f"step {item} is negative")
            steps.add(item)
            continue
        match = _RANGE.match(str(item).strip())
        if not match:
            raise ConfigError(f"step {item!r} is not N, A-B or A-B/S (hours)")
        start = int(match.group(1))
        stop = int(match.group(2)) if match.group(2) else start
        every = int(match.group(3)) if match.group(3) else 1
        if stop < start or every < 1:
            raise ConfigError(f"step range {item!r} is empty")
        steps.update(range(start, stop + 1, every))
    if not steps:
        raise ConfigError("no forecast step given")
    return sorted(steps)


def parse_list(value: str | Iterable[str]) -> list[str]:
    """A list of names from ``"a,b"``, ``"a/b"`` or an iterable of strings."""
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,/]", value) if part.strip()]
    return [str(v) for v in value]


def describe_steps(steps: list[int]) -> str:
    """Short text for a list of steps: ``+6 h``, ``+0..+12 h (13 steps)``."""
    if len(steps) == 1:
        return f"+{steps[0]} h"
    return f"+{steps[0]}..+{steps[-1]} h ({len(steps)} steps)"
