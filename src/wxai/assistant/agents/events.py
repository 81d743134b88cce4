"""Typed events streamed by every agent, and the adapter from LangGraph's streams.

An agent run is a sequence of :class:`AgentEvent` followed by its final state.
The cockpit forwards the events to the browser (server-sent events), the CLI
prints them with ``--verbose`` or as JSON lines, and tests assert on them.

Inside a LangGraph node, :func:`emit` sends an event on the graph's ``custom``
stream; outside a graph run (a node called directly in a unit test) it does
nothing, so nodes stay plain functions.

>>> for item in stream_graph(graph, {"request": "..."}):  # doctest: +SKIP
...     if isinstance(item, AgentEvent):
...         print(item.kind, item.node)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["AgentEvent", "EventKind", "FinalState", "emit", "jsonable", "stream_graph"]

EventKind = Literal[
    "node_started",  # a graph node began; data: input keys
    "node_finished",  # a graph node returned; data: the keys it updated
    "tool_called",  # data: name, arguments
    "tool_result",  # data: name, result (JSON-serialisable summary)
    "error",  # data: message (and where useful, type)
    "message",  # free text for the user: data: text
]


@dataclass(frozen=True)
class AgentEvent:
    """One step of an agent run.

    Attributes
    ----------
    kind:
        What happened (see :data:`EventKind`).
    node:
        The graph node or agent role it happened in ("" when not in a node).
    data:
        JSON-serialisable details; their keys depend on ``kind``.
    time:
        When the event was created (UTC).
    """

    kind: EventKind
    node: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``time`` as ISO 8601)."""
        return {
            "kind": self.kind,
            "node": self.node,
            "data": jsonable(self.data),
            "time": self.time.isoformat(),
        }


@dataclass(frozen=True)
class FinalState:
    """The last item of :func:`stream_graph`: the graph's final state."""

    state: Mapping[str, Any]


def emit(kind: EventKind, node: str = "", **data: Any) -> None:
    """Send an event from inside a LangGraph node; a no-op outside a graph run."""
    try:
        from langgraph.config import get_stream_writer

        writer = get_stream_writer()
    except RuntimeError:  # not inside a runnable context
        return
    writer(AgentEvent(kind, node, data))


def stream_graph(
    graph: Any, state: Mapping[str, Any], *, config: Mapping[str, Any] | None = None
) -> Iterator[AgentEvent | FinalState]:
    """Run a compiled LangGraph graph, yielding events and finally its state.

    Parameters
    ----------
    graph:
        A compiled ``StateGraph``.
    state:
        The input state.
    config:
        LangGraph run config (``recursion_limit``, ``configurable``, ...).
    """
    final: Mapping[str, Any] = dict(state)
    for mode, chunk in graph.stream(
        dict(state), config=dict(config or {}), stream_mode=["tasks", "custom", "values"]
    ):
        if mode == "values":
            final = chunk
        elif mode == "custom":
            if isinstance(chunk, AgentEvent):
                yield chunk
            else:
                yield AgentEvent("message", data={"value": chunk})
        elif mode == "tasks":
            name = chunk.get("name", "")
            if "result" not in chunk and "error" not in chunk:
                yield AgentEvent("node_started", name, {"inputs": sorted(chunk.get("input") or {})})
            elif chunk.get("error"):
                yield AgentEvent("error", name, {"message": str(chunk["error"])})
            else:
                result = chunk.get("result") or {}
                keys = sorted(result) if isinstance(result, Mapping) else []
                yield AgentEvent("node_finished", name, {"updated": keys})
    yield FinalState(final)


def jsonable(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """Turn datetimes, paths, dataclasses and other objects into JSON-ready values."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)
