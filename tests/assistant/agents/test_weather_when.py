"""resolve_time: relative days, weekdays, day parts, offsets, ISO, typos, DST, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wxai.assistant.agents.weather.when import DAY_PARTS, ResolvedTime, resolve_time
from wxai.core.errors import ConfigError, RequestNotUnderstood

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 2026-12-03 17:20 in Berlin (winter time, UTC+1).
NOW = datetime(2026, 12, 3, 17, 20, tzinfo=BERLIN)


def _local(text: str, now: datetime = NOW, tz: str = "Europe/Berlin") -> datetime:
    return resolve_time(text, now, tz).local


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "expected", "rule"),
    [
        ("tomorrow at 3pm", _at(4, 15), "relative-day"),
        ("Monday 4pm", _at(7, 16), "weekday"),
        ("next Friday 09:00", _at(4, 9), "weekday"),
        ("tonight", _at(3, 21), "relative-day"),
        ("this evening", _at(3, 18), "relative-day"),
        ("heute Abend", _at(3, 18), "relative-day"),
        ("morgen früh", _at(4, 9), "relative-day"),
        ("übermorgen um 14 Uhr", _at(5, 14), "relative-day"),
        ("Montag 16 Uhr", _at(7, 16), "weekday"),
        ("am Freitag", _at(4, 12), "weekday"),
        ("the day after tomorrow", _at(5, 12), "relative-day"),
        ("in 2 days", _at(5, 17, 20), "offset"),
        ("3 pm", _at(4, 15), "clock"),
        ("15:00", _at(4, 15), "clock"),
        ("15 Uhr", _at(4, 15), "clock"),
        ("halb drei", _at(4, 14, 30), "clock"),
        ("at noon", _at(4, 12), "clock"),
        ("midnight", _at(4, 0), "clock"),
        ("tomorrow at midnight", _at(5, 0), "relative-day"),
        ("morgen Morgen", _at(4, 9), "relative-day"),
        ("Sonntagnachmittag", _at(6, 15), "weekday"),
        ("Montagabend", _at(7, 18), "weekday"),
        ("heute Nacht um 2", _at(4, 2), "relative-day"),
        ("um 3 Uhr nachts", _at(4, 3), "clock"),
        ("heute Abend um 8", _at(3, 20), "relative-day"),
        ("tomorrow afternoon at 3", _at(4, 15), "relative-day"),
        ("Wetter am 24.12.", _at(24, 12), "date"),
        ("am Wochenende", _at(5, 12), "weekday"),
        ("on the weekend", _at(5, 12), "weekday"),
        ("tonight at 1am", _at(4, 1), "relative-day"),
        ("Mo 16 Uhr", _at(7, 16), "weekday"),
        ("Do. 10:00", _at(10, 10), "weekday"),
        ("Wetter morgen um 15.00.", _at(4, 15), "relative-day"),
        ("am 5.12. um 15.30 Uhr", _at(5, 15, 30), "date"),
        ("3:30 p.m.", _at(4, 15, 30), "clock"),
        ("Thursday next week 9am", _at(10, 9), "weekday"),
        ("nächste Woche Dienstag 15 Uhr", _at(8, 15), "weekday"),
        ("Friday this week", _at(4, 12), "weekday"),
    ],
)
def test_phrases(text: str, expected: datetime, rule: str) -> None:
    got = resolve_time(text, NOW)
    assert got.local == expected
    assert got.rule == rule
    assert got.phrase
    assert got.utc == expected.astimezone(UTC)
    assert got.local.tzinfo is not None


@pytest.mark.parametrize("text", ["tomorow", "tommorrow", "tomorrows"])
def test_typos_of_tomorrow(text: str) -> None:
    assert _local(f"{text} 3pm") == _at(4, 15)


@pytest.mark.parametrize("text", ["Mondy 4pm", "Monady 4pm", "mondayy 4pm", "Montg 16 Uhr"])
def test_typos_of_monday(text: str) -> None:
    assert _local(text) == _at(7, 16)


@pytest.mark.parametrize(
    "text", ["sonnig in Berlin", "Monat", "around 20°", "so 20 Grad?", "24h Regen"]
)
def test_words_that_are_no_time(text: str) -> None:
    # "sonnig" (sunny) must not become Sonntag, nor "Monat" Montag; degrees are no hour.
    assert resolve_time(text, NOW).rule == "default-next-hour"


def test_offsets_are_elapsed_time() -> None:
    assert _local("in 6 hours") == NOW + timedelta(hours=6)
    assert _local("in 6 Stunden") == NOW + timedelta(hours=6)
    assert _local("in einer Stunde") == NOW + timedelta(hours=1)
    assert _local("in 30 minutes") == NOW + timedelta(minutes=30)
    assert _local("6 hours from now") == NOW + timedelta(hours=6)
    assert _local("in the next 12 hours") == NOW + timedelta(hours=12)
    assert _local("in three weeks") == _at(24, 17, 20)


def test_iso_times_and_offsets() -> None:
    assert _local("2026-12-05T15:00") == _at(5, 15)
    got = resolve_time("2026-12-05 15:00Z", NOW)
    assert got.utc == datetime(2026, 12, 5, 15, tzinfo=UTC)
    assert got.local == _at(5, 16)
    assert got.rule == "iso"
    got = resolve_time("2026-12-05T15:00+03:00", NOW)
    assert got.utc == datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert _local("2026-12-05") == _at(5, 12)


def test_written_dates_go_through_dateparser() -> None:
    got = resolve_time("5 March 15:00", NOW)
    assert got.local == datetime(2027, 3, 5, 15, tzinfo=BERLIN)
    assert got.rule == "written-date"
    assert _local("5. März 14 Uhr") == datetime(2027, 3, 5, 14, tzinfo=BERLIN)
    assert _local("December 24th at 18:00") == _at(24, 18)


def test_no_time_phrase_is_the_next_full_hour() -> None:
    got = resolve_time("Wie ist das Wetter in Berlin?", NOW)
    assert got.local == _at(3, 18)
    assert got.rule == "default-next-hour"
    assert got.phrase == ""
    on_the_hour = NOW.replace(minute=0)
    assert _local("", on_the_hour) == _at(3, 18)


def test_now_is_the_current_hour() -> None:
    got = resolve_time("right now", NOW)
    assert (got.local, got.rule) == (_at(3, 17), "now")
    assert _local("jetzt") == _at(3, 17)


@pytest.mark.parametrize("day", range(7))
@pytest.mark.parametrize("hour", [0, 9, 15, 16, 17, 23])
def test_monday_4pm_is_always_a_monday_ahead(day: int, hour: int) -> None:
    # A week of nows, Monday 2026-12-07 to Sunday 2026-12-13, at several hours.
    now = datetime(2026, 12, 7 + day, hour, 30, tzinfo=BERLIN)
    for text in ("Monday 4pm", "Montag 16 Uhr", "next Monday 4pm", "am Montag", "Mondy 4pm"):
        local = _local(text, now)
        assert local.weekday() == 0, text
        assert now < local < now + timedelta(days=8), text


def test_monday_on_a_monday() -> None:
    monday_morning = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    monday_evening = datetime(2026, 12, 7, 18, 0, tzinfo=BERLIN)
    # Today while 4pm is ahead, otherwise a week later; "next Monday" never today.
    assert _local("Monday 4pm", monday_morning) == _at(7, 16)
    assert _local("Monday 4pm", monday_evening) == _at(14, 16)
    assert _local("next Monday 4pm", monday_morning) == _at(14, 16)


def test_day_part_of_today_under_way_is_the_next_hour() -> None:
    at_1930 = datetime(2026, 12, 3, 19, 30, tzinfo=BERLIN)
    assert _local("this evening", at_1930) == _at(3, 20)
    assert _local("heute Abend", at_1930) == _at(3, 20)
    # A day part without a day that is over today is tomorrow's.
    assert _local("in the morning", at_1930) == _at(4, 9)


def test_day_parts_table() -> None:
    assert DAY_PARTS == {
        "morning": 9,
        "forenoon": 10,
        "noon": 12,
        "afternoon": 15,
        "evening": 18,
        "night": 21,
    }
    assert _local("morgen nachmittag") == _at(4, 15)
    assert _local("tomorrow morning") == _at(4, 9)
    assert _local("morgen vormittag") == _at(4, 10)
    assert _local("morgen abends") == _at(4, 18)


def test_autumn_daylight_saving_change() -> None:
    # Saturday 2026-10-24 23:30 CEST; clocks go back at 03:00 on Sunday.
    now = datetime(2026, 10, 24, 23, 30, tzinfo=BERLIN)
    got = resolve_time("tomorrow 3pm", now)
    assert got.local.utcoffset() == timedelta(hours=1)
    assert got.utc == datetime(2026, 10, 25, 14, tzinfo=UTC)
    # Elapsed hours cross the change: 21:30 UTC + 6 h = 03:30 UTC = 04:30 CET.
    assert resolve_time("in 6 hours", now).utc == datetime(2026, 10, 25, 3, 30, tzinfo=UTC)
    # The repeated hour 02:30 is its first occurrence (summer time).
    assert resolve_time("tomorrow 02:30", now).utc == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_spring_daylight_saving_change() -> None:
    now = datetime(2027, 3, 27, 20, 0, tzinfo=BERLIN)
    got = resolve_time("tomorrow 15:00", now)
    assert got.utc == datetime(2027, 3, 28, 13, tzinfo=UTC)
    # 02:30 does not exist that night: moved past the gap.
    assert resolve_time("morgen um 2:30", now).local == datetime(2027, 3, 28, 3, 30, tzinfo=BERLIN)


def test_time_zone_is_configurable() -> None:
    now = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # 17:00 in New York
    got = resolve_time("tomorrow 9am", now, tz="America/New_York")
    assert got.local == datetime(2026, 12, 4, 9, tzinfo=ZoneInfo("America/New_York"))
    assert got.utc == datetime(2026, 12, 4, 14, tzinfo=UTC)
    naive = datetime(2026, 12, 3, 17, 20)
    assert resolve_time("tomorrow 9am", naive).local == _at(4, 9)
    with pytest.raises(ConfigError, match="time zone"):
        resolve_time("tomorrow", NOW, tz="Mars/Olympus")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("yesterday", "yesterday"),
        ("gestern Abend", "gestern"),
        ("2 hours ago", "ago"),
        ("vor 3 Stunden", "vor 3 Stunden"),
        ("today at 9am", "already past"),
        ("heute um 9 Uhr", "already past"),
        ("2026-12-01T12:00", "already past"),
        ("next week", "too vague"),
        ("nächste Woche", "too vague"),
        ("at 25:00", "not a valid time"),
        ("13pm", "not a valid time"),
        ("am 13.13.", "not a valid date"),
        ("am 31.02.", "not a valid date"),
        ("Feb 30", "Cannot read the date"),
        ("2026-13-45", "not a valid date"),
        ("2026-12-05T25:00", "not a valid date and time"),
        ("on my birthday", "birthday"),
        ("tomorrow Monday", "different days"),
    ],
)
def test_errors_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(RequestNotUnderstood, match=words) as info:
        resolve_time(text, NOW)
    assert info.value.field == "time"


def test_result_is_frozen() -> None:
    got = resolve_time("tomorrow", NOW)
    assert isinstance(got, ResolvedTime)
    with pytest.raises(AttributeError):
        got.rule = "x"  # type: ignore[misc]
