"""WHEN: the forecast time a weather request asks about, in English or German.

:func:`resolve_time` reads a request such as "tomorrow at 3pm", "Montag 16 Uhr",
"in 6 Stunden" or "2026-12-05T15:00Z" with deterministic calendar rules; only
written dates with month names ("5 March", "5. März") and slashed dates are handed
to ``dateparser``, and only the date is taken from it.

Conventions (documented here, pinned by the tests):

* **Day parts**: morning / morgens / früh / Morgen 09:00, forenoon / vormittags
  10:00, noon / midday / Mittag 12:00, afternoon / nachmittags 15:00, evening /
  abends 18:00, tonight / night / heute Nacht / nachts 21:00, midnight /
  Mitternacht 00:00 at the *end* of the named day. A small hour at night
  ("tonight at 1am", "3 Uhr nachts") is the early morning after the named day.
* **Weekdays**: "Monday 4pm", "am Montag", "this Monday" mean the next Monday at
  or after today; today only when that time is still ahead, otherwise in a week.
  "next Monday" / "nächsten Montag" never mean today (1 to 7 days ahead). A
  weekday always resolves to that weekday; "Monday next week" / "nächste Woche
  Montag" is the Monday of the next calendar week. "Mo 16 Uhr": German short
  forms count only right before a clock time. "weekend" / "Wochenende" is its Saturday.
  Typos of day words ("tomorow", "Mondy") are corrected by close spelling.
* **German "morgen"** is tomorrow, except after "am", "heute", "morgen",
  "übermorgen" or a weekday, where it is the morning ("heute Morgen", "morgen
  Morgen"); "morgen früh" is tomorrow morning.
* **A day without a time** is 12:00 local, except "today" (the next full hour);
  so a bare weekday that is today means today only before 12:00.
  **A time without a day** is today if still ahead, else tomorrow. A day part of
  today that has begun but not ended ("this evening" at 19:30) is the next full
  hour.
* **Bare hours** ("at 3", "um 3", "3 Uhr") from 1 to 6 without am/pm or a day part
  are p.m.; a day part moves hours up to 12 into it ("heute Abend um 8" is 20:00).
  "halb drei" is 2:30 (so 14:30). Numeric dates: "24.12.", "05.12.2026".
* **Offsets**: "in 6 hours" / "in the next 6 hours" is now + 6 h (the end of that
  interval); "in 2 days" is the same wall-clock time two calendar days later.
* **No time phrase** is the next full hour after now ("default-next-hour");
  "now" / "jetzt" is the current hour.
* All wall-clock arithmetic uses :mod:`zoneinfo`, so daylight-saving changes give
  the right UTC instant; explicit ISO offsets ("Z", "+02:00") are respected.

A time in the past ("yesterday", "2 hours ago", "today 9am" in the evening), a
vague one ("next week") or one that cannot be read ("25:00", "on my birthday")
raises :class:`~wxai.core.errors.RequestNotUnderstood` with field ``"time"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wxai.assistant.agents.weather.dates import iso_date_time, numeric_date, written_date
from wxai.core.errors import ConfigError, RequestNotUnderstood

__all__ = ["DAY_PARTS", "ResolvedTime", "resolve_time"]


@dataclass(frozen=True)
class ResolvedTime:
    """The forecast time a request asks about.

    Attributes
    ----------
    local:
        Timezone-aware, in the user's zone.
    utc:
        The same instant in UTC.
    phrase:
        The words of the request that decided it ("" when defaulted).
    rule:
        Which rule decided: ``"iso"``, ``"date"``, ``"written-date"``,
        ``"weekday"``, ``"relative-day"``, ``"offset"``, ``"day-part"``,
        ``"clock"``, ``"now"`` or ``"default-next-hour"``.
    """

    local: datetime
    utc: datetime
    phrase: str
    rule: str


#: Hour of each day part (see the module docstring).
DAY_PARTS: dict[str, int] = {
    "morning": 9, "forenoon": 10, "noon": 12, "afternoon": 15, "evening": 18, "night": 21,
}  # fmt: skip
# When a day part of today is still going on: (start hour, end hour) of each.
_PART_WINDOWS = {
    "morning": (5, 12), "forenoon": (8, 12), "noon": (11, 14), "afternoon": (12, 18),
    "evening": (17, 22), "night": (20, 24),
}  # fmt: skip
_DEFAULT_DAY_HOUR = 12

_WEEKDAYS = {
    "monday": 0, "mon": 0, "montag": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "dienstag": 1,
    "wednesday": 2, "wed": 2, "mittwoch": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "donnerstag": 3,
    "friday": 4, "fri": 4, "freitag": 4,
    "saturday": 5, "sat": 5, "samstag": 5, "sonnabend": 5,
    "sunday": 6, "sonntag": 6, "weekend": 5, "wochenende": 5,
}  # fmt: skip
# German short forms, read only right before a clock time ("Mo 16 Uhr", "Do. 10:00").
_WEEKDAYS_SHORT = {"mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5, "so": 6}
_PART_WORDS = {
    "morning": "morning", "mornings": "morning", "morgens": "morning",
    "frueh": "morning",
    "forenoon": "forenoon", "vormittag": "forenoon", "vormittags": "forenoon",
    "noon": "noon", "midday": "noon", "mittag": "noon", "mittags": "noon", "lunchtime": "noon",
    "afternoon": "afternoon", "nachmittag": "afternoon", "nachmittags": "afternoon",
    "evening": "evening", "abend": "evening", "abends": "evening",
    "tonight": "night", "tonite": "night", "night": "night", "nacht": "night",
    "nachts": "night", "overnight": "night",
}  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1,
    "two": 2, "zwei": 2, "three": 3, "drei": 3, "four": 4, "vier": 4, "five": 5,
    "fuenf": 5, "six": 6, "sechs": 6, "seven": 7, "sieben": 7, "eight": 8, "acht": 8,
    "nine": 9, "neun": 9, "ten": 10, "zehn": 10, "eleven": 11, "elf": 11,
    "twelve": 12, "zwoelf": 12, "a couple of": 2, "couple of": 2, "ein paar": 2,
}  # fmt: skip
_MONTHS = (
    "january|jan|januar|jaenner|february|feb|februar|march|mar|maerz|april|apr|may|mai|"
    "june|jun|juni|july|jul|juli|august|aug|september|sept|sep|october|oct|oktober|okt|"
    "november|nov|december|dec|dezember|dez"
)
# Words fuzzy matching may correct a typo to (after folding, see _normalise).
_FUZZY_TARGETS = (
    "tomorrow", "today", "tonight", "uebermorgen", "morning", "afternoon", "evening",
    "midnight", "nachmittag", "nachmittags", "vormittag", "vormittags", "abends",
    "morgens", "weekend", "wochenende",
    *(w for w in _WEEKDAYS if len(w) > 5),
)  # fmt: skip


# Words that look like a fuzzy target but are something else.
_NOT_FUZZY = frozenset({
    "monat", "monate", "monaten", "month", "months", "sonnig", "sunny", "mondays", "leute",
    "heute", "stunde", "stunden", "minute", "minutes", "mittel", "monitor", "tomato",
    "tomatoes", "evenings", "mornings", "morgen",
})  # fmt: skip
_KNOWN = _NOT_FUZZY | set(_FUZZY_TARGETS) | set(_WEEKDAYS) | set(_PART_WORDS) | set(_NUMBER_WORDS)

_NUM = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = (
    r"(minutes?|mins?|minuten?|hours?|hrs?|h|stunden?|std|days?|tagen?|tage|"
    r"weeks?|wochen?)"
)
_RE_ISO = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?:\s?(z|utc)\b|\s?([+-])(\d{2}):?(\d{2}))?)?"
)
_RE_PAST = re.compile(
    r"\b(yesterday|gestern|vorgestern|ago|last\s+(?:night|week|\w+day)|"
    r"letzte[nr]?\s+\w+|vor\s+" + _NUM + r"\s*" + _UNIT + r")\b"
)
_RE_VAGUE = re.compile(
    r"\b((?:next|this|coming)\s+(?:week|month|year)|"
    r"(?:naechste[nr]?|diese[nr]?|kommende[nr]?)\s+(?:woche|monat|jahr))\b"
)
# "next week" with a weekday: that weekday in the next calendar week (Monday to Sunday).
_RE_WEEK = re.compile(
    r"\b(?:(next|coming|naechste[nr]?|kommende[nr]?)|this|diese[nr]?)\s+(?:week|woche)\b"
)
_RE_HALF_HOUR = re.compile(r"\b(?:in\s+)?(?:half\s+an\s+hour|einer\s+halben\s+stunde)\b")
_RE_OFFSET = re.compile(
    r"\b(?:(?:in|within|innerhalb|over)\s+(?:von\s+)?(?:the\s+|den\s+)?"
    r"(?:next\s+|coming\s+|naechsten\s+|kommenden\s+)?|"
    r"(?:next|coming|naechsten|kommenden)\s+)" + _NUM + r"\s*" + _UNIT + r"\b"
)
_RE_FROM_NOW = re.compile(r"\b" + _NUM + r"\s*" + _UNIT + r"\s+(?:from\s+now|ab\s+jetzt)\b")
# Relative days, in the order they are read: (pattern, days after today).
_RELATIVE_DAYS = tuple(
    (re.compile(rf"\b(?:{pattern})\b"), days)
    for pattern, days in (
        (r"(?:the\s+)?(?:day\s+after\s+tomorrow|uebermorgen|overmorrow)", 2),
        (r"heute(?=\s+nacht)", 0),
        (r"tomorrow(?:'s)?", 1),
        (r"today(?:'s)?|heute|this\s+(?=morning|afternoon|evening)", 0),
    )
)
_RE_MORGEN = re.compile(r"\bmorgen\b")
# A weekday, or the weekend (its Saturday).
_RE_WEEKDAY = re.compile(
    r"\b(?:(next|this|coming|naechste[nrs]?|kommende[nrs]?|diese[nrs]?)\s+)?"
    r"(?:am\s+|on\s+(?:the\s+)?)?"
    r"(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")"
    r"(?:s\b)?(morgen|vormittag|mittag|nachmittag|abend|nacht)?\b"
    r"|\b(mo|di|mi|do|fr|sa|so)\.?(?=\s*\d{1,2}(?::\d{2}|\s*uhr\b))"
)
_RE_NUMERIC_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?(?!\d)")
_RE_WRITTEN_DATE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th|\.)?\s+(?:of\s+)?(?:" + _MONTHS + r")\.?(?:\s+\d{4})?|"
    r"(?:" + _MONTHS + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4})?|"
    r"\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b"
)
_RE_CLOCK_COLON = re.compile(
    r"\b(?:(?:at|um|gegen|around|about|by|ab)\s+)?(\d{1,2})[:.](\d{2})\s*"
    r"(a\.m\.|p\.m\.|am|pm|uhr|h)?(?!\w|[.:]\d)"
)
_RE_CLOCK_MERIDIEM = re.compile(
    r"\b(?:(?:at|around|about|by)\s+)?(\d{1,2})\s*(a\.m\.|p\.m\.|am|pm)(?=$|[^\w.])"
    r"(?!\s+(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|morgen|"
    r"vormittag|mittag|nachmittag|abend|wochenende|\d))"
)
_RE_CLOCK_UHR = re.compile(r"\b(?:(?:um|gegen|ab|at)\s+(\d{1,2})\s*(?:uhr|h)|(\d{1,2})\s*uhr)\b")
_RE_CLOCK_HALB = re.compile(r"\b(?:um\s+)?halb\s+" + _NUM + r"\b")
_RE_CLOCK_BARE = re.compile(
    r"\b(?:at|um|gegen|around|about|by)\s+(\d{1,2})\b(?![:.]\d|\s*(?:%|°|mm|grad|degrees?))"
)
_RE_NOON_MIDNIGHT = re.compile(r"\b(?:at\s+|um\s+)?(noon|midday|midnight|mitternacht)\b")
_RE_PART = re.compile(
    r"\b(?:in\s+the\s+|this\s+|am\s+|in\s+der\s+|at\s+|heute\s+)?("
    + "|".join(sorted(_PART_WORDS, key=len, reverse=True))
    + r")\b"
)
_RE_NOW = re.compile(r"\b(right\s+now|now|jetzt|gerade|currently|aktuell|momentan)\b")
_RE_UNKNOWN_DAY = re.compile(r"\b[a-z]+(?:day|tag)s?\b")


_PhraseOf = Callable[[list[tuple[int, int]]], str]


@dataclass
class _Found:
    """What the rules found so far; spans index the normalised text."""

    date: date | None = None
    date_rule: str = ""
    date_strict_future: bool = False  # "next Monday": never today
    weekday: int | None = None
    instant: datetime | None = None  # an ISO time or an hour/minute offset
    instant_rule: str = ""
    now_word: bool = False
    clock: tuple[int, int] | None = None
    clock_literal: bool = True  # False: a bare hour that may move to p.m.
    midnight: bool = False
    part: str | None = None
    today_explicit: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)


def resolve_time(text: str, now: datetime, tz: str = "Europe/Berlin") -> ResolvedTime:
    """The forecast time ``text`` asks about, relative to ``now``.

    Parameters
    ----------
    text:
        The user's request, English or German.
    now:
        The current time, timezone-aware (a naive one is taken as ``tz``).
    tz:
        The user's IANA time zone; relative words are read in it.

    Returns
    -------
    ResolvedTime
        The instant, in ``tz`` and in UTC, with the phrase and rule that decided.

    Raises
    ------
    RequestNotUnderstood
        ``field="time"``: the time is in the past, vague, or cannot be read.
    ConfigError
        ``tz`` is not a known time zone.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(
            f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Berlin'"
        ) from err
    now = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    norm, starts, ends = _normalise(text)

    def phrase_of(spans: list[tuple[int, int]]) -> str:
        parts = []
        for a, b in sorted(spans):
            parts.append(text[starts[a] : ends[b - 1]].strip())
        return " ".join(p for p in parts if p)

    past = _RE_PAST.search(norm)
    if past:
        raise _error(
            f"'{phrase_of([past.span()])}' is in the past; forecasts only look ahead, "
            "so ask about a time after now.",
        )
    vague = _RE_VAGUE.search(norm)
    if vague and not (_RE_WEEK.fullmatch(vague.group()) and _named_weekday(norm)):
        raise _error(
            f"'{phrase_of([vague.span()])}' is too vague for one forecast time; "
            "name a day and hour, e.g. 'Monday 15:00'.",
        )
    found = _Found()
    masked = _find_all(norm, now, zone, found, phrase_of)
    unknown = [
        m for m in _RE_UNKNOWN_DAY.finditer(masked) if m.group().rstrip("s") not in _WEEKDAYS
    ]
    if unknown:
        word = phrase_of([unknown[0].span()])
        raise _error(
            f"Cannot read '{word}' as a day; name a weekday, 'tomorrow' or a date "
            "such as '2026-12-05 15:00'.",
        )
    local, rule = _combine(found, now, zone)
    if rule not in ("now", "default-next-hour") and local <= now:
        shown = local.strftime("%a %Y-%m-%d %H:%M")
        raise _error(
            f"'{phrase_of(found.spans)}' means {shown}, which is already past; "
            "forecasts only look ahead, so ask about a later time.",
        )
    phrase = "" if rule == "default-next-hour" else phrase_of(found.spans)
    return ResolvedTime(local=local, utc=local.astimezone(UTC), phrase=phrase, rule=rule)


def _error(message: str) -> RequestNotUnderstood:
    return RequestNotUnderstood("time", message)


def _normalise(text: str) -> tuple[str, list[int], list[int]]:
    """Lower-case, fold umlauts (ä -> ae), correct day-word typos; map back to ``text``.

    Returns the normalised string and, for each of its characters, the start and
    end index in ``text`` of the character (or corrected word) it came from.
    """
    folds = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'"}
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in re.finditer(r"[^\W\d_]+|.", text, flags=re.DOTALL):
        word = m.group().lower()
        folded = "".join(folds.get(ch, ch) for ch in word)
        if len(folded) >= 5 and folded.isalpha() and not _is_known(folded):
            close = difflib.get_close_matches(folded, _FUZZY_TARGETS, n=1, cutoff=0.8)
            if close:
                folded = close[0]
        out.append(folded)
        starts.extend([m.start()] * len(folded))
        ends.extend([m.end()] * len(folded))
    return "".join(out), starts, ends


def _named_weekday(text: str) -> bool:
    """Whether ``text`` names a weekday (not only the weekend)."""
    names = (m.group(2) or m.group(4) for m in _RE_WEEKDAY.finditer(text))
    return any(name not in ("weekend", "wochenende") for name in names)


def _is_known(word: str) -> bool:
    """Whether ``word`` is a time word as it stands (no typo correction wanted)."""
    return word in _KNOWN or _RE_WEEKDAY.fullmatch(word) is not None  # "sonntagabend"


def _find_all(norm: str, now: datetime, zone: ZoneInfo, found: _Found, phrase_of: _PhraseOf) -> str:
    """Apply every rule to ``norm``, filling ``found``; returns ``norm`` with matches blanked."""
    text = norm

    def take(m: re.Match[str]) -> None:
        nonlocal text
        a, b = m.span()
        found.spans.append((a, b))
        text = text[:a] + " " * (b - a) + text[b:]

    def set_date(d: date, rule: str, m: re.Match[str]) -> None:
        if found.date is not None and found.date != d:
            raise _error(
                f"'{phrase_of(found.spans)}' and '{phrase_of([m.span()])}' name different "
                "days; say which one you mean.",
            )
        if found.date is None:
            found.date, found.date_rule = d, rule

    today = now.date()
    if m := _RE_ISO.search(text):
        take(m)
        day, found.instant = iso_date_time(m, zone)
        found.instant_rule = "iso"
        if found.instant is None:
            found.date, found.date_rule = day, "iso"
    for m in list(_RE_NUMERIC_DATE.finditer(text)):
        d = numeric_date(m, today)
        if d is not None:
            take(m)
            set_date(d, "date", m)
    for m in list(_RE_WRITTEN_DATE.finditer(text)):
        take(m)
        set_date(written_date(phrase_of([m.span()]), now), "written-date", m)
    if m := _RE_HALF_HOUR.search(text):
        take(m)
        found.instant, found.instant_rule = _shift(now, timedelta(minutes=30)), "offset"
    for m in [*_RE_OFFSET.finditer(text), *_RE_FROM_NOW.finditer(text)]:
        take(m)
        n = _number(m.group(1))
        unit = m.group(2)
        if unit.startswith("min"):
            found.instant, found.instant_rule = _shift(now, timedelta(minutes=n)), "offset"
        elif unit.startswith(("h", "std", "stunde")):
            found.instant, found.instant_rule = _shift(now, timedelta(hours=n)), "offset"
        else:
            days = n * 7 if unit.startswith(("week", "woch")) else n
            set_date(today + timedelta(days=days), "offset", m)
    for pattern, days in _RELATIVE_DAYS:
        if m := pattern.search(text):
            take(m)
            set_date(today + timedelta(days=days), "relative-day", m)
            found.today_explicit = found.today_explicit or days == 0
    week_start = None
    if (m := _RE_WEEK.search(text)) and _named_weekday(text):
        take(m)
        week_start = today - timedelta(days=today.weekday() - (7 if m.group(1) else 0))
    for m in list(_RE_WEEKDAY.finditer(text)):
        take(m)
        wd = _WEEKDAYS[m.group(2)] if m.group(2) else _WEEKDAYS_SHORT[m.group(4)]
        strict = m.group(1) is not None and m.group(1).startswith(("next", "naechst"))
        ahead = (wd - today.weekday()) % 7
        if strict and ahead == 0:
            ahead = 7
        if week_start is not None:  # "Monday next week": no rolling over
            ahead, strict = (week_start - today).days + wd, True
        if found.date is not None and found.date.weekday() != wd:
            set_date(today + timedelta(days=ahead), "weekday", m)  # raises: two days
        if found.date is None:
            found.date, found.date_rule = today + timedelta(days=ahead), "weekday"
            found.weekday, found.date_strict_future = wd, strict
        if m.group(3):
            found.part = _PART_WORDS.get(m.group(3), "morning")
    for m in list(_RE_MORGEN.finditer(text)):
        before = norm[: m.start()].split()[-1:] or [""]
        as_part = before[0] in ("am", "heute", "morgen", "uebermorgen", "tomorrow") or (
            before[0].rstrip("s") in _WEEKDAYS
        )
        take(m)
        if as_part:
            found.part = "morning"
        else:
            set_date(today + timedelta(days=1), "relative-day", m)
    _find_clock(lambda: text, found, take)
    return text


def _find_clock(
    current: Callable[[], str], found: _Found, take: Callable[[re.Match[str]], None]
) -> None:
    """Find a clock time and a day part in ``current()``, the text the day rules left."""
    if m := _RE_CLOCK_COLON.search(current()):  # "15:00", "3:30pm", "15.30 Uhr"
        hour, minute, suffix = int(m.group(1)), int(m.group(2)), m.group(3)
        if suffix in ("am", "a.m.", "pm", "p.m."):
            hour = _meridiem(hour, suffix)
    elif m := _RE_CLOCK_MERIDIEM.search(current()):  # "3pm", "11 a.m."
        hour, minute = _meridiem(int(m.group(1)), m.group(2)), 0
    elif m := _RE_CLOCK_UHR.search(current()) or _RE_CLOCK_BARE.search(current()):
        hour, minute = int(m.group(1) or m.group(2)), 0  # "15 Uhr", "um 3", "at 8"
        found.clock_literal = hour > 12 or hour == 0
    elif m := _RE_CLOCK_HALB.search(current()):  # "halb drei" is 2:30
        hour, minute = (_number(m.group(1)) - 1) % 24, 30
        found.clock_literal = False
    if m is not None:
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            text = m.group().strip()
            raise _error(f"'{text}' is not a valid time of day; use e.g. '15:00' or '3 pm'.")
        take(m)
        found.clock, found.midnight = (hour % 24, minute), hour == 24
    if m := _RE_NOON_MIDNIGHT.search(current()):
        take(m)
        if m.group(1) in ("midnight", "mitternacht"):
            found.clock, found.midnight = (0, 0), True
        else:
            found.clock = found.clock or (12, 0)
    for m in _RE_PART.finditer(current()):
        take(m)
        found.part = found.part or _PART_WORDS[m.group(1)]
        if m.group(1) in ("tonight", "tonite") or m.group().startswith(("this", "heute")):
            found.today_explicit = True
    if m := _RE_NOW.search(current()):
        take(m)
        found.now_word = True


def _combine(  # noqa: PLR0911 - one return per way the pieces combine
    found: _Found, now: datetime, zone: ZoneInfo
) -> tuple[datetime, str]:
    """Put the found pieces together into one local time and the deciding rule."""
    next_hour = _shift(now.replace(minute=0, second=0, microsecond=0), timedelta(hours=1))
    if found.instant is not None:
        return found.instant.astimezone(zone), found.instant_rule
    hour_min, extra_day = _clock_in_part(found)
    if hour_min is None and found.part is not None:
        hour_min = (DAY_PARTS[found.part], 0)
    today = now.date()
    day = found.date
    rule = found.date_rule
    if day is None and found.today_explicit:
        day, rule = today, "relative-day"
    if day is None:
        if hour_min is None:
            if found.now_word:
                return now.replace(minute=0, second=0, microsecond=0), "now"
            return next_hour, "default-next-hour"
        rule = "clock" if found.clock is not None else "day-part"
        candidate = _at(today, hour_min, found.midnight, extra_day, zone)
        if candidate > now:
            return candidate, rule
        if found.clock is None and _in_window(found.part, now):
            return next_hour, rule
        return _at(today + timedelta(days=1), hour_min, found.midnight, extra_day, zone), rule
    if hour_min is None:
        if rule == "offset":
            return _at(day, (now.hour, now.minute), False, False, zone), rule
        if day == today and found.weekday is None:
            return next_hour, rule
        hour_min = (_DEFAULT_DAY_HOUR, 0)
    local = _at(day, hour_min, found.midnight, extra_day, zone)
    if local <= now and day == today:
        if found.clock is None and _in_window(found.part, now):
            return next_hour, rule
        if found.weekday is not None and not found.date_strict_future:
            local = _at(day + timedelta(days=7), hour_min, found.midnight, extra_day, zone)
    return local, rule


def _clock_in_part(found: _Found) -> tuple[tuple[int, int] | None, bool]:
    """The clock time read in the light of the day part; and whether it is the next day.

    A bare hour ("um 8") moves into an afternoon, evening or night; without a day
    part, bare hours 1 to 6 are p.m. A small hour at night ("3 Uhr nachts") is the
    early morning after the named day.
    """
    if found.clock is None:
        return None, False
    hour, minute = found.clock
    if found.part == "night" and hour <= 6:
        return found.clock, True
    if found.clock_literal:
        return found.clock, False
    if found.part in ("afternoon", "evening", "night") and hour < 12:
        return (hour + 12, minute), False
    if found.part is None and 1 <= hour <= 6:
        return (hour + 12, minute), False
    return found.clock, False


def _at(
    day: date, hour_min: tuple[int, int], midnight: bool, next_day: bool, zone: ZoneInfo
) -> datetime:
    """Wall-clock ``hour_min`` on ``day`` in ``zone`` (``midnight``/``next_day``: a day later)."""
    if midnight or next_day:
        day = day + timedelta(days=1)
    naive = datetime.combine(day, time(*hour_min))
    # A wall time skipped by a spring-forward change is moved past the gap.
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _shift(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta`` as elapsed time (through UTC), back in ``moment``'s zone."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def _in_window(part: str | None, now: datetime) -> bool:
    """Whether the day part ``part`` of today is going on at ``now``."""
    if part is None:
        return False
    start, end = _PART_WINDOWS[part]
    return start <= now.hour < end


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _meridiem(hour: int, suffix: str) -> int:
    """``hour`` with "am"/"pm" as a 24-hour hour (25, an impossible one, for 0 or 13+)."""
    if not 1 <= hour <= 12:
        return 25
    return hour % 12 + (12 if suffix.startswith("p") else 0)
