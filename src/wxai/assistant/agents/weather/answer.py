"""The weather workflow's answer: numbers with their provenance, or what failed.

The text is built from the state by rules, not by a language model, so every
number in it comes from the data and every claim about the data (model, run,
lead time, valid time, grid point distance, synthetic or real) is true.
"""

from __future__ import annotations

from typing import Any

from wxai.assistant.agents.events import emit
from wxai.assistant.agents.weather.point import PointValue
from wxai.assistant.agents.weather.state import WeatherState
from wxai.atmos.wind import compass_point

__all__ = ["compose_answer"]

_LABELS = {
    "t2m": "2 m temperature",
    "wind_speed": "10 m wind",
    "gust": "gusts",
    "tp": "precipitation",
    "msl": "mean sea-level pressure",
    "tcc": "total cloud cover",
    "rh2m": "2 m relative humidity",
}
_ORIGIN = {
    "server": "downloaded from the open-data server",
    "cache": "from the local cache of earlier downloads",
    "synthetic": "SYNTHETIC: wxai's synthetic atmosphere, not a real forecast",
}


def _fmt(value: PointValue) -> str:
    units = {"degC": "°C", "deg": "°"}.get(value.units, value.units)
    sep = "" if units in ("°C", "%", "°") else " "
    return f"{value.bilinear:.1f}{sep}{units}"


def _values_text(values: list[PointValue], state: WeatherState) -> str:
    by_name = {v.name: v for v in values}
    main = values[0]
    if main.name == "wind_speed":
        text = f"wind {_fmt(main)} ({main.bilinear / 3.6:.1f} m/s)"
        if (d := by_name.get("wind_direction")) is not None:
            text += f" from the {compass_point(d.bilinear)} ({d.bilinear:.0f}°)"
        if (g := by_name.get("gust")) is not None:
            text += f", gusts up to {_fmt(g)}"
        return text
    if main.name == "tp":
        data = state["data"]
        assert data is not None
        hours = data.steps[-1] - data.steps[0] if len(data.steps) > 1 else data.lead_hours
        return f"{_fmt(main)} of precipitation in the {hours} h before the valid time"
    return f"{_LABELS.get(main.name, main.name)} {_fmt(main)}"


def compose_answer(state: WeatherState) -> dict[str, Any]:
    """``answer``: what the forecast says, or an honest account of what failed."""
    errors = state.get("errors", [])
    fatal = [e for e in errors if e.fatal]
    if fatal:
        lines = ["I could not answer this forecast question:"]
        lines += [f"- {e.step}: {e.message}" for e in fatal]
        text = "\n".join(lines)
        emit("message", "answer", text=text)
        return {"answer": text}
    resolved, data, place = state["time"], state["data"], state.get("place")
    assert resolved is not None and data is not None
    values = state.get("values") or []
    when = f"{resolved.local:%A %d %B %Y, %H:%M %Z} ({resolved.utc:%H:%M} UTC)"
    if data.valid != resolved.utc:
        valid_local = data.valid.astimezone(resolved.local.tzinfo)
        when += f"; nearest forecast step valid {valid_local:%H:%M %Z}"
    parts = []
    if data.synthetic:
        parts.append("**SYNTHETIC DATA, not a real forecast.**")
    if place is not None and values:
        main = values[0]
        nearest = _fmt(PointValue(**{**main.__dict__, "bilinear": main.nearest}))
        parts.append(
            f"**{place.name} ({place.country})**, {when}: **{_values_text(values, state)}** "
            f"(interpolated; nearest grid point {nearest}, {main.distance_km:.0f} km away)."
        )
    else:
        parts.append(f"No place named: the map shows the whole region for {when}.")
    parts.append(
        f"Source: {data.label} run {data.run:%Y-%m-%d %H} UTC, lead time +{data.lead_hours} h, "
        f"valid {data.valid:%Y-%m-%d %H:%M} UTC; {_ORIGIN[data.origin]}."
    )
    notes = list(data.notes) + [e.message for e in errors if not e.fatal]
    if notes:
        parts.append("Notes: " + "; ".join(notes) + ".")
    if state.get("figure"):
        parts.append(f"Map: {state['figure']}")
    text = "\n\n".join(parts)
    emit("message", "answer", text=text)
    return {"answer": text}
