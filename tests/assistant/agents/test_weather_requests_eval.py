"""The evaluation set weather_requests.yaml: every deterministic part must be right.

Each item's expectation is written by hand (format at the top of the YAML); this
test turns it into a datetime, runs resolve_time, find_place and find_variable,
prints a score per part and demands 100 %.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from wxai.assistant.agents.weather.what import find_variable
from wxai.assistant.agents.weather.when import resolve_time
from wxai.assistant.agents.weather.where import find_place
from wxai.core.errors import RequestNotUnderstood
from wxai.vocab import get_variable

SET_PATH = Path(__file__).with_name("weather_requests.yaml")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
OUTCOMES = {"ok", "no_place", "place_unknown", "time_error", "out_of_range"}
OUT_OF_RANGE = timedelta(hours=360)


def _load() -> dict[str, Any]:
    return yaml.safe_load(SET_PATH.read_text(encoding="utf-8"))


def _expected_time(  # noqa: PLR0911 - one return per form of expectation
    spec: Any, now: datetime, zone: ZoneInfo
) -> datetime | None:
    """The hand-written time expectation as an aware datetime (None: an error)."""
    if spec == "error":
        return None
    if "local" in spec:
        t = datetime.fromisoformat(spec["local"])
        return t.astimezone(zone) if t.tzinfo else t.replace(tzinfo=zone)
    if "hours" in spec:
        return now + timedelta(hours=spec["hours"])  # aware: elapsed time through UTC
    if "minutes" in spec:
        return now + timedelta(minutes=spec["minutes"])
    if spec.get("next_hour"):
        floor = now.replace(minute=0, second=0, microsecond=0)
        return (floor.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(zone)
    if spec.get("current_hour"):
        return now.replace(minute=0, second=0, microsecond=0)
    if "weekday" in spec:
        wanted = WEEKDAYS.index(spec["weekday"])
        ahead = (wanted - now.weekday()) % 7 or 7
        day = now.date() + timedelta(days=ahead)
    else:
        day = now.date() + timedelta(days=spec["days"])
    if "at" in spec:
        hour, minute = map(int, spec["at"].split(":"))
    else:
        hour, minute = now.hour, now.minute
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _run(item: dict[str, Any], data: dict[str, Any]) -> dict[str, bool]:
    """Score one item: part -> correct."""
    zone = ZoneInfo(data["tz"])
    now = datetime.fromisoformat(item.get("now", data["now"])).astimezone(zone)
    expect = item["expect"]
    scores: dict[str, bool] = {}

    want = _expected_time(expect["time"], now, zone)
    try:
        got = resolve_time(item["text"], now, data["tz"])
    except RequestNotUnderstood as err:
        scores["time"] = want is None and err.field == "time"
    else:
        scores["time"] = want is not None and got.utc == want and got.local.tzinfo is not None
        if item["outcome"] == "out_of_range":
            scores["time"] = scores["time"] and got.utc - now > OUT_OF_RANGE

    try:
        place = find_place(item["text"])
    except RequestNotUnderstood as err:
        scores["place"] = expect["place"] == "error" and err.field == "place"
    else:
        want_place = expect["place"]
        if want_place is None or want_place == "error":
            scores["place"] = place is None and want_place is None
        else:
            scores["place"] = place is not None and (place.name, place.country) == (
                want_place["name"],
                want_place["country"],
            )

    choice = find_variable(item["text"])
    scores["variable"] = (
        list(choice.names) == expect["variable"]
        and choice.defaulted == expect.get("defaulted", False)
        and choice.accumulation_hours
        == expect.get("accumulation_hours", 1 if "tp" in choice.names else None)
    )
    return scores


def test_set_is_large_and_bilingual() -> None:
    items = _load()["requests"]
    langs = [i["lang"] for i in items]
    assert len(items) >= 80
    assert langs.count("en") >= 35
    assert langs.count("de") >= 35
    assert {i["outcome"] for i in items} == OUTCOMES
    texts = [i["text"] for i in items]
    assert len(set(texts)) == len(texts), "duplicate requests"
    for item in items:
        for name in item["expect"]["variable"]:
            get_variable(name)  # canonical names only


def test_every_deterministic_part_is_right(capsys: pytest.CaptureFixture[str]) -> None:
    data = _load()
    failures: list[str] = []
    totals: dict[str, int] = {"time": 0, "place": 0, "variable": 0}
    for item in data["requests"]:
        scores = _run(item, data)
        for part, ok in scores.items():
            totals[part] += ok
            if not ok:
                failures.append(f"{part}: {item['text']!r}")
    n = len(data["requests"])
    with capsys.disabled():
        print()
        for part, right in totals.items():
            print(f"weather request eval, {part:8}: {right}/{n} = {100 * right / n:.1f} %")
    assert not failures, "\n".join(failures)
