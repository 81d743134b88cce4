"""The weather workflow's steps, each a plain function of the state.

A node takes the :class:`~wxai.assistant.agents.weather.state.WeatherState`
(and, where it needs them, injected dependencies) and returns the keys it
sets. No node raises: a failure becomes a
:class:`~wxai.assistant.agents.weather.state.StepError` in ``errors``, and the
graph goes on to the answer, which says what failed.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from wxai.assistant.agents.events import emit
from wxai.assistant.agents.weather.fetch import fetch_fields
from wxai.assistant.agents.weather.point import (
    PointValue,
    field_at_step,
    field_for_people,
    for_people,
    point_value,
    wind_speed_direction,
)
from wxai.assistant.agents.weather.schedule import RunChoice, choose_run, get_schedule
from wxai.assistant.agents.weather.state import StepError, WeatherState
from wxai.assistant.agents.weather.what import find_variable
from wxai.assistant.agents.weather.when import resolve_time
from wxai.assistant.agents.weather.where import Place, find_place
from wxai.core.errors import RequestNotUnderstood, WxaiError

__all__ = [
    "choose_data_run",
    "draw_map",
    "extract_values",
    "fetch_data",
    "has_fatal_error",
    "resolve_place",
    "resolve_valid_time",
    "resolve_variable",
]

LOG = logging.getLogger(__name__)

PlaceExtractor = Callable[[str], str | None]


def _guarded(
    step: str, *, fatal: bool = True
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Turn any exception of a node into a StepError (expected ones keep their message)."""

    def wrap(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(func)
        def node(state: WeatherState, *args: Any, **kwargs: Any) -> dict[str, Any]:
            try:
                return func(state, *args, **kwargs)
            except WxaiError as exc:
                emit("error", step, message=str(exc), type=type(exc).__name__)
                return {"errors": [StepError(step, str(exc), fatal)]}
            except Exception as exc:  # a bug or a library failure: report, never crash
                LOG.exception("weather workflow step %s failed", step)
                message = f"internal error in step {step!r}: {type(exc).__name__}: {exc}"
                emit("error", step, message=message, type=type(exc).__name__)
                return {"errors": [StepError(step, message, fatal)]}

        return node

    return wrap


def has_fatal_error(state: WeatherState) -> bool:
    """Whether a failed step leaves nothing to compute."""
    return any(e.fatal for e in state.get("errors", []))


def _now(state: WeatherState) -> datetime:
    now = state.get("now") or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


@_guarded("time")
def resolve_valid_time(state: WeatherState) -> dict[str, Any]:
    """``time``: the valid time asked for (calendar rules, no language model)."""
    resolved = resolve_time(
        state["request"], _now(state), tz=state.get("timezone") or "Europe/Berlin"
    )
    emit("tool_result", "time", name="resolve_time", result=resolved)
    return {"time": resolved}


@_guarded("place")
def resolve_place(state: WeatherState, extractor: PlaceExtractor | None = None) -> dict[str, Any]:
    """``place``: gazetteer first, the language model only for what it cannot find."""
    place = find_place(state["request"], extractor=extractor)
    emit("tool_result", "place", name="find_place", result=place)
    return {"place": place}


@_guarded("variable")
def resolve_variable(state: WeatherState) -> dict[str, Any]:
    """``variable``: canonical names from words in English or German."""
    choice = find_variable(state["request"])
    emit("tool_result", "variable", name="find_variable", result=choice)
    return {"variable": choice}


_NAMED_MODEL = re.compile(r"\b(icon[- ]?eu|icon|ifs|ecmwf|dwd)\b", re.IGNORECASE)


def _models_to_try(state: WeatherState) -> list[str]:
    """The model asked for; with ``auto``, the one the request names, else ICON-EU then IFS."""
    model = (state.get("model") or "auto").lower()
    if model != "auto":
        return [model]
    named = _NAMED_MODEL.search(state.get("request", ""))
    if named:
        return ["ifs"] if named.group(1).lower() in ("ifs", "ecmwf") else ["icon-eu"]
    return ["icon-eu", "ifs"]


def _run_for(model: str, state: WeatherState) -> RunChoice:
    resolved, place = state["time"], state.get("place")
    assert resolved is not None
    schedule = get_schedule(model)
    if place is not None and not schedule.covers(place.latitude, place.longitude):
        lon0, lon1, lat0, lat1 = schedule.domain or (0, 0, 0, 0)
        raise RequestNotUnderstood(
            "place",
            f"{place.name} ({place.country}, {place.latitude:.1f} N {place.longitude:.1f} E) lies "
            f"outside the {schedule.label} domain ({lat0:g}..{lat1:g} N, {lon0:g}..{lon1:g} E); "
            "ask again with the global IFS model",
        )
    return choose_run(schedule.name, resolved.utc, now=_now(state))


@_guarded("run")
def choose_data_run(state: WeatherState) -> dict[str, Any]:
    """``run``: the newest published run reaching the valid time, and the lead time.

    With ``model="auto"``, ICON-EU answers where it covers the place and time and
    IFS (global, 10 days) everywhere else; a model named in the request wins.
    """
    models = _models_to_try(state)
    for model in models:
        try:
            choice = _run_for(model, state)
        except RequestNotUnderstood:
            if model == models[-1]:
                raise
            continue
        emit("tool_result", "run", name="choose_run", result=choice)
        return {"run": choice}
    raise AssertionError("unreachable")  # pragma: no cover


@_guarded("fetch")
def fetch_data(state: WeatherState, sources: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``data``: GRIB files from the server, the cache, or a synthetic run."""
    choice, variable = state["run"], state["variable"]
    assert choice is not None and variable is not None
    emit(
        "tool_called",
        "fetch",
        name="fetch_fields",
        arguments={"model": choice.model, "run": choice.run, "lead_hours": choice.lead_hours,
                   "variables": list(variable.names), "offline": bool(state.get("offline"))},
    )  # fmt: skip
    data = fetch_fields(
        choice,
        variable.names,
        accumulation_hours=variable.accumulation_hours,
        offline=bool(state.get("offline")),
        sources=sources,
    )
    emit("tool_result", "fetch", name="fetch_fields", result={
        "origin": data.origin, "synthetic": data.synthetic, "run": data.run,
        "steps": list(data.steps), "notes": list(data.notes)})  # fmt: skip
    return {"data": data}


def _people_field(state: WeatherState) -> tuple[xr.DataArray, str]:
    """The field to map and a short name for it, in people's units."""
    data, variable = state["data"], state["variable"]
    assert data is not None and variable is not None
    lead = data.lead_hours
    names = variable.names
    if "tp" in names:
        end = field_at_step(data.files["tp"], "tp", lead)
        if len(data.steps) > 1:
            start = field_at_step(data.files["tp"], "tp", data.steps[0])
            amount = (end - start.values).clip(min=0.0).assign_attrs(end.attrs)
        else:
            amount = end
        return field_for_people(amount.rename("tp")), "tp"
    if "u10" in names and "v10" in names:
        u = field_at_step(data.files["u10"], "u10", lead)
        v = field_at_step(data.files["v10"], "v10", lead)
        speed = np.hypot(u, v.values).assign_attrs(
            {"units": u.attrs.get("units", "m s-1"), "long_name": "10 m wind speed"}
        )
        return field_for_people(speed.rename("wind_speed")), "wind_speed"
    name = names[0]
    return field_for_people(field_at_step(data.files[name], name, lead)), name


@_guarded("extract")
def extract_values(state: WeatherState) -> dict[str, Any]:
    """``values``: numbers at the place (nearest grid point and bilinear), people's units."""
    place: Place | None = state.get("place")
    if place is None:
        return {"values": []}
    data, variable = state["data"], state["variable"]
    assert data is not None and variable is not None
    field, name = _people_field(state)
    main = point_value(field, place.latitude, place.longitude, name=name)
    values = [main]
    if name == "wind_speed":
        lead = data.lead_hours
        u = point_value(field_at_step(data.files["u10"], "u10", lead), place.latitude,
                        place.longitude)  # fmt: skip
        v = point_value(field_at_step(data.files["v10"], "v10", lead), place.latitude,
                        place.longitude)  # fmt: skip
        _, direction = wind_speed_direction(u.bilinear, v.bilinear)
        values.append(
            PointValue(
                "wind_direction",
                direction,
                direction,
                "deg",
                main.grid_latitude,
                main.grid_longitude,
                main.distance_km,
            )
        )
        if "gust" in variable.names:
            try:
                gust = field_at_step(data.files["gust"], "gust", lead)
                values.append(for_people(point_value(gust, place.latitude, place.longitude)))
            except WxaiError as exc:  # gusts are extra: say so, keep the wind
                emit("error", "extract", message=f"no gusts: {exc}")
    emit("tool_result", "extract", name="point_value", result=[v.__dict__ for v in values])
    return {"values": values}


_FIELD_LABELS = {
    "t2m": "2 m temperature",
    "wind_speed": "10 m wind speed",
    "tp": "precipitation",
    "msl": "mean sea-level pressure",
    "tcc": "total cloud cover",
    "rh2m": "2 m relative humidity",
}


def map_title(state: WeatherState, name: str = "") -> str:
    """Figure title: variable, model, run, lead and valid time (and SYNTHETIC when it is)."""
    data, resolved = state["data"], state["time"]
    assert data is not None
    label = get_schedule(data.model).label
    valid_local = data.valid.astimezone(resolved.local.tzinfo) if resolved else data.valid
    head = "SYNTHETIC data, not a real forecast\n" if data.synthetic else ""
    what = _FIELD_LABELS.get(name, name)
    return (
        f"{head}{label} {what}, run {data.run:%Y-%m-%d %H} UTC +{data.lead_hours} h\n"
        f"valid {valid_local:%a %d %b %Y %H:%M %Z}"
    )


@_guarded("draw", fatal=False)
def draw_map(state: WeatherState) -> dict[str, Any]:
    """``figure``: the field around the place (or the region), the place marked."""
    from wxai.viz.place_map import place_map

    field, name = _people_field(state)
    place: Place | None = state.get("place")
    values = state.get("values") or []
    data = state["data"]
    assert data is not None
    folder = Path(state.get("figure_dir") or ".")
    stamp = f"{data.run:%Y%m%d%H}+{data.lead_hours:03d}"
    where = place.name.replace(" ", "_").replace("/", "_") if place else "region"
    path = folder / f"forecast_{data.model}_{name}_{stamp}_{where}.png"
    text = f"{values[0].bilinear:.1f} {_unit(values[0].units)}" if values else ""
    place_map(
        field,
        path,
        title=map_title(state, name),
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        place=place.name if place else "",
        value_text=text,
    )
    emit("tool_result", "draw", name="place_map", result={"figure": str(path)})
    return {"figure": str(path)}


def _unit(units: str) -> str:
    return {"degC": "°C", "deg": "°"}.get(units, units)
