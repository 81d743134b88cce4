"""The weather workflow as a LangGraph graph, and the functions that run it.

::

    START -> time, place, variable (in parallel) -> understood
          -> run -> fetch -> extract -> draw -> answer
    (a step that leaves nothing to compute jumps to answer)

>>> result = run_weather_workflow("Temperatur morgen 15 Uhr in München", offline=True)
... # doctest: +SKIP
>>> print(result.answer)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

from wxai.assistant.agents.events import AgentEvent, FinalState, jsonable, stream_graph
from wxai.assistant.agents.weather.answer import compose_answer
from wxai.assistant.agents.weather.nodes import (
    PlaceExtractor,
    choose_data_run,
    draw_map,
    extract_values,
    fetch_data,
    has_fatal_error,
    resolve_place,
    resolve_valid_time,
    resolve_variable,
)
from wxai.assistant.agents.weather.schedule import get_schedule
from wxai.assistant.agents.weather.state import StepError, WeatherState
from wxai.core.errors import ConfigError

__all__ = [
    "MAX_REQUEST_CHARS",
    "WeatherResult",
    "build_weather_graph",
    "run_weather_workflow",
    "stream_weather_workflow",
]

#: Longest request accepted [characters]; longer ones are answered with an error.
MAX_REQUEST_CHARS = 2000


def _next_or_answer(target: str) -> Any:
    def route(state: WeatherState) -> str:
        return "answer" if has_fatal_error(state) else target

    route.__name__ = f"to_{target}"
    return route


def _join(state: WeatherState) -> dict[str, Any]:
    """Waits for time, place and variable (they run in parallel); changes nothing."""
    return {}


def build_weather_graph(
    *, sources: Mapping[str, Any] | None = None, place_extractor: PlaceExtractor | None = None
) -> Any:
    """The compiled workflow graph.

    Parameters
    ----------
    sources:
        Model name -> data source (default: ICON-EU and IFS open data).
    place_extractor:
        Optional language-model step for places the gazetteer does not find.
    """
    graph = StateGraph(WeatherState)
    graph.add_node("time", resolve_valid_time)
    graph.add_node("place", functools.partial(resolve_place, extractor=place_extractor))
    graph.add_node("variable", resolve_variable)
    graph.add_node("run", choose_data_run)
    graph.add_node("fetch", functools.partial(fetch_data, sources=sources))
    graph.add_node("extract", extract_values)
    graph.add_node("draw", draw_map)
    graph.add_node("answer", compose_answer)
    for first in ("time", "place", "variable"):
        graph.add_edge(START, first)
    graph.add_node("understood", _join)
    graph.add_edge(["time", "place", "variable"], "understood")
    graph.add_conditional_edges("understood", _next_or_answer("run"), ["run", "answer"])
    graph.add_conditional_edges("run", _next_or_answer("fetch"), ["fetch", "answer"])
    graph.add_conditional_edges("fetch", _next_or_answer("extract"), ["extract", "answer"])
    graph.add_conditional_edges("extract", _next_or_answer("draw"), ["draw", "answer"])
    graph.add_edge("draw", "answer")
    graph.add_edge("answer", END)
    return graph.compile()


@dataclass(frozen=True)
class WeatherResult:
    """The outcome of one forecast question.

    Attributes
    ----------
    answer:
        Text for the user (Markdown).
    state:
        The final workflow state (time, place, variable, run, data, values, ...).
    events:
        Every event of the run, in order.
    """

    answer: str
    state: Mapping[str, Any]
    events: tuple[AgentEvent, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether numbers were given (no fatal error)."""
        return not any(e.fatal for e in self.state.get("errors", []))

    @property
    def errors(self) -> list[StepError]:
        return list(self.state.get("errors", []))

    @property
    def figure(self) -> str | None:
        return self.state.get("figure")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``--json`` of the CLI, the tool's result)."""
        s = self.state
        data = s.get("data")
        return jsonable({
            "ok": self.ok,
            "answer": self.answer,
            "request": s.get("request"),
            "time": s.get("time"),
            "place": s.get("place"),
            "variable": s.get("variable"),
            "run": {"model": data.model, "run": data.run, "lead_hours": data.lead_hours,
                    "valid": data.valid, "origin": data.origin, "synthetic": data.synthetic,
                    "notes": list(data.notes)} if data else None,
            "values": s.get("values") or [],
            "figure": s.get("figure"),
            "errors": self.errors,
        })  # fmt: skip


def _initial_state(
    request: str,
    *,
    now: datetime | None,
    timezone: str,
    model: str,
    offline: bool,
    figure_dir: str | Path | None,
) -> WeatherState:
    if model.lower() != "auto":
        get_schedule(model)  # unknown model -> UnknownNameError before anything runs
    if now is not None and now.tzinfo is None:
        raise ConfigError(f"now={now.isoformat()} has no time zone; add one (e.g. +01:00 or Z)")
    return {
        "request": request,
        "now": now or datetime.now(UTC),
        "timezone": timezone,
        "model": model.lower(),
        "offline": offline,
        "figure_dir": str(figure_dir or Path.cwd()),
        "errors": [],
    }


def _refused(state: WeatherState, message: str) -> WeatherResult:
    error = StepError("request", message)
    final = {**state, "errors": [error], "answer": f"I could not answer: {message}"}
    return WeatherResult(
        final["answer"], final, (AgentEvent("error", "request", {"message": message}),)
    )


def stream_weather_workflow(
    request: str,
    *,
    now: datetime | None = None,
    timezone: str = "Europe/Berlin",
    model: str = "auto",
    offline: bool = False,
    figure_dir: str | Path | None = None,
    sources: Mapping[str, Any] | None = None,
    place_extractor: PlaceExtractor | None = None,
) -> Iterator[AgentEvent | FinalState]:
    """Run the workflow, yielding its events, then its state (see :func:`run_weather_workflow`)."""
    state = _initial_state(
        request, now=now, timezone=timezone, model=model, offline=offline, figure_dir=figure_dir
    )
    problem = _check_request(request)
    if problem:
        result = _refused(state, problem)
        yield from result.events
        yield FinalState(result.state)
        return
    graph = build_weather_graph(sources=sources, place_extractor=place_extractor)
    yield from stream_graph(graph, state)


def _check_request(request: str) -> str:
    if not request or not request.strip():
        return "the question is empty; ask e.g. 'temperature in Frankfurt tomorrow at 3pm'"
    if len(request) > MAX_REQUEST_CHARS:
        return (
            f"the question has {len(request):,} characters; the limit is {MAX_REQUEST_CHARS:,}. "
            "Ask one short forecast question"
        )
    return ""


def run_weather_workflow(
    request: str,
    *,
    now: datetime | None = None,
    timezone: str = "Europe/Berlin",
    model: str = "auto",
    offline: bool = False,
    figure_dir: str | Path | None = None,
    sources: Mapping[str, Any] | None = None,
    place_extractor: PlaceExtractor | None = None,
) -> WeatherResult:
    """Answer a forecast question from open data (or the cache, or synthetic data).

    Parameters
    ----------
    request:
        The question, English or German (``"Wind in Hamburg morgen 18 Uhr"``).
    now:
        The current time (timezone-aware); default the clock.
    timezone:
        The user's IANA time zone for relative phrases and the answer.
    model:
        ``auto`` (default: the model the request names, else ICON-EU where it
        covers place and time, else IFS), ``icon-eu`` or ``ifs``.
    offline:
        Only the local cache, then synthetic data; never the network.
    figure_dir:
        Where the map PNG is written (default: the current directory).
    sources:
        Model -> data source, e.g. sources pointed at a local server in tests.
    place_extractor:
        Language-model fallback for places the gazetteer does not know.

    Returns
    -------
    WeatherResult
        Never raises for a bad question or missing data: see ``result.errors``.

    Raises
    ------
    UnknownNameError, ConfigError
        Only for invalid arguments (unknown model, naive ``now``).
    """
    events: list[AgentEvent] = []
    final: Mapping[str, Any] = {}
    for item in stream_weather_workflow(
        request,
        now=now,
        timezone=timezone,
        model=model,
        offline=offline,
        figure_dir=figure_dir,
        sources=sources,
        place_extractor=place_extractor,
    ):
        if isinstance(item, FinalState):
            final = item.state
        else:
            events.append(item)
    return WeatherResult(str(final.get("answer", "")), final, tuple(events))
