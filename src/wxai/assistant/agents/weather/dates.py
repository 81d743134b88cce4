"""Dates written out in a request: ISO 8601, German numeric dates, dates with month names.

Helpers of :func:`~wxai.assistant.agents.weather.when.resolve_time`; each takes a
regular-expression match (or phrase) and returns dates in the user's zone, raising
:class:`~wxai.core.errors.RequestNotUnderstood` (``field="time"``) for dates that
do not exist.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from wxai.core.errors import RequestNotUnderstood

__all__ = ["iso_date_time", "numeric_date", "written_date"]


def _error(message: str) -> RequestNotUnderstood:
    return RequestNotUnderstood("time", message)


def iso_date_time(m: re.Match[str], zone: ZoneInfo) -> tuple[date, datetime | None]:
    """The date of an ISO match and its aware time (None when it gives only a date)."""
    try:
        day = date(*map(int, m.group(1, 2, 3)))
        if m.group(4) is None:
            return day, None
        naive = datetime.combine(day, time(int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)))
    except ValueError as err:
        raise _error(
            f"'{m.group()}' is not a valid date and time; use e.g. 2026-12-05T15:00."
        ) from err
    if m.group(7):
        return day, naive.replace(tzinfo=UTC)
    if m.group(8):
        offset = timedelta(hours=int(m.group(9)), minutes=int(m.group(10)))
        return day, naive.replace(tzinfo=timezone(offset if m.group(8) == "+" else -offset))
    return day, naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def numeric_date(m: re.Match[str], today: date) -> date | None:
    """A German numeric date ("5.12.", "05.12.2026"), the next one if no year is given."""
    d, mo = int(m.group(1)), int(m.group(2))
    if mo == 0 or (m.group(3) is None and not m.group().endswith(".")):
        return None  # "15.00" is a time, not a date
    if not (1 <= d <= 31 and mo <= 12):
        raise _error(f"'{m.group()}' is not a valid date; use e.g. 5.12.2026.")
    year_text = m.group(3)
    year = (
        today.year if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    )
    try:
        result = date(year, mo, d)
    except ValueError as err:
        raise _error(f"'{m.group()}' is not a valid date; use e.g. 5.12.2026.") from err
    if year_text is None and result < today:
        result = date(year + 1, mo, d)
    return result


def written_date(phrase: str, now: datetime) -> date:
    """A written date ("5 March", "5. März", "Dec 24th") read by ``dateparser``."""
    import dateparser  # heavy import, only when a written date is present

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": str(now.tzinfo),
        "TO_TIMEZONE": str(now.tzinfo),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateparser's own deprecation noise
        parsed = dateparser.parse(phrase, languages=["en", "de"], settings=settings)
    if parsed is None:
        raise _error(f"Cannot read the date '{phrase}'; use e.g. '5 March' or 2026-03-05.")
    return parsed.date()
