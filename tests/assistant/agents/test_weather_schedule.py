"""choose_run: newest published run, lead time, nearest step, range errors (calendar oracles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wxai.assistant.agents.weather.schedule import choose_run, get_schedule
from wxai.core.errors import ConfigError, RequestNotUnderstood, UnknownNameError

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_icon_eu_newest_published_run_and_lead() -> None:
    # 12:00 - 2 h delay = 10:00 -> newest run 09 UTC (intermediate runs reach +30 h)
    c = choose_run("icon-eu", datetime(2026, 12, 4, 14, tzinfo=UTC), now=NOW)
    assert (c.run, c.lead_hours, c.valid) == (
        datetime(2026, 12, 3, 9, tzinfo=UTC), 29, datetime(2026, 12, 4, 14, tzinfo=UTC),
    )  # fmt: skip
    assert not c.shifted
    # fall-backs are older runs that also reach the time, newest first
    assert c.older_runs[0] == (datetime(2026, 12, 3, 6, tzinfo=UTC), 32)


def test_beyond_30_h_needs_a_main_run() -> None:
    c = choose_run("icon-eu", datetime(2026, 12, 5, 12, tzinfo=UTC), now=NOW)
    assert c.run == datetime(2026, 12, 3, 6, tzinfo=UTC)  # 09 UTC run stops at +30 h
    assert c.lead_hours == 54


def test_three_hourly_steps_snap_to_the_nearest_and_say_so() -> None:
    c = choose_run("icon-eu", datetime(2026, 12, 7, 14, tzinfo=UTC), now=NOW)
    assert c.run == datetime(2026, 12, 3, 6, tzinfo=UTC)
    assert c.lead_hours == 105  # +104 h is not published (3-hourly after +78 h)
    assert c.valid - c.wanted == timedelta(hours=1)
    assert c.shifted


def test_out_of_range_states_the_range() -> None:
    with pytest.raises(RequestNotUnderstood, match=r"\+120 h from its 00/06/12/18 UTC runs") as e:
        choose_run("icon-eu", datetime(2026, 12, 9, 14, tzinfo=UTC), now=NOW)
    assert e.value.field == "time"
    assert "IFS" in str(e.value)
    # IFS reaches it: 00 UTC run (8 h availability delay), 3/6-hourly steps
    c = choose_run("ifs", datetime(2026, 12, 9, 12, tzinfo=UTC), now=NOW)
    assert (c.run, c.lead_hours) == (datetime(2026, 12, 3, 0, tzinfo=UTC), 156)


def test_time_before_the_newest_run_is_an_error() -> None:
    with pytest.raises(RequestNotUnderstood, match="before the newest"):
        choose_run("icon-eu", datetime(2026, 12, 2, 12, tzinfo=UTC), now=NOW)


def test_bad_arguments() -> None:
    with pytest.raises(UnknownNameError, match="icon-eu"):
        get_schedule("gfs")
    with pytest.raises(ConfigError, match="timezone-aware"):
        choose_run("ifs", datetime(2026, 12, 4, 12), now=NOW)


def test_range_text_lists_both_kinds_of_run() -> None:
    assert get_schedule("ifs").range_text() == (
        "+240 h from its 00/12 UTC runs; +90 h from its 06/18 UTC runs"
    )
