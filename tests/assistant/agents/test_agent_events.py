"""The event stream adapter: node start/finish, custom events, errors and the final state."""

from __future__ import annotations

import json
from typing import TypedDict

from langgraph.graph import END, START, StateGraph

from wxai.assistant.agents.events import AgentEvent, FinalState, emit, stream_graph


class _State(TypedDict, total=False):
    x: int
    y: int


def _add_one(state: _State) -> _State:
    emit("tool_called", "add", name="plus", arguments={"x": state["x"]})
    return {"y": state["x"] + 1}


def _graph():
    g = StateGraph(_State)
    g.add_node("add", _add_one)
    g.add_edge(START, "add")
    g.add_edge("add", END)
    return g.compile()


def test_stream_yields_typed_events_then_the_final_state() -> None:
    items = list(stream_graph(_graph(), {"x": 41}))
    events = [i for i in items if isinstance(i, AgentEvent)]
    assert [(e.kind, e.node) for e in events] == [
        ("node_started", "add"),
        ("tool_called", "add"),
        ("node_finished", "add"),
    ]
    assert events[1].data == {"name": "plus", "arguments": {"x": 41}}
    assert events[2].data == {"updated": ["y"]}
    assert isinstance(items[-1], FinalState)
    assert items[-1].state == {"x": 41, "y": 42}
    json.dumps([e.to_dict() for e in events])  # JSON-ready


def test_emit_outside_a_graph_is_a_no_op() -> None:
    assert _add_one({"x": 1}) == {"y": 2}
