"""The request router: rules decide what they can; measured on a labelled request set."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolcheck import require_tool
from wxai.assistant.agents.events import AgentEvent, FinalState
from wxai.assistant.agents.router import RequestContext, handle_request, route_request
from wxai.assistant.llm.types import ChatResponse

SET = yaml.safe_load((Path(__file__).parent / "router_requests.yaml").read_text())
NOW = datetime.fromisoformat(SET["now"])


def test_the_set_covers_every_action() -> None:
    actions = {item["action"] for item in SET["requests"]}
    assert actions == {"answer", "tool", "weather", "code", "report", "clarify"}
    assert len(SET["requests"]) >= 45


def test_rules_alone_route_the_set() -> None:
    """Without a model, unmatched requests get a direct answer: every label must come out."""
    wrong = []
    for item in SET["requests"]:
        got = route_request(item["text"], now=NOW)
        if (got.action, got.target) != (item["action"], item.get("target", "")):
            wrong.append((item["text"], item["action"], got.action, got.reason))
    score = 1 - len(wrong) / len(SET["requests"])
    print(f"router rules alone: {score:.3f} of {len(SET['requests'])}")
    assert not wrong, wrong


def test_clarifying_questions_say_what_is_missing() -> None:
    got = route_request("Temperature in Gondor tomorrow", now=NOW)
    assert got.action == "clarify" and "Gondor" in got.question
    got = route_request("Wie warm wird es?", now=NOW)
    assert "place and time" in got.question
    assert route_request("x" * 10_000, now=NOW).action == "clarify"


class _Scripted:
    """A provider that always answers the same text (control flow only)."""

    name, model = "scripted", "scripted"

    def __init__(self, content: str) -> None:
        self.content = content
        self.calls: list[Any] = []

    def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
        self.calls.append((messages, kwargs))
        return ChatResponse(self.content)


def test_the_model_decides_only_what_no_rule_does() -> None:
    provider = _Scripted('{"action": "weather"}')
    assert (
        route_request("Dew point at 18 C and 75% humidity", provider=provider, now=NOW).action
        == "tool"
    )
    assert not provider.calls
    got = route_request("What is a cold front?", provider=provider, now=NOW)
    assert (got.action, got.decided_by) == ("weather", "model")
    assert provider.calls[0][1]["json_schema"]["properties"]["action"]["enum"]
    broken = route_request("What is a cold front?", provider=_Scripted("not json"), now=NOW)
    assert (broken.action, broken.decided_by) == ("answer", "default")


def test_handle_request_runs_the_weather_workflow(tmp_path: Path) -> None:
    ctx = RequestContext(offline=True, work_dir=tmp_path, now=lambda: NOW)
    items = list(handle_request("Wind in Bremen heute Abend", ctx))
    final = items[-1]
    assert isinstance(final, FinalState)
    assert final.state["decision"].action == "weather"
    assert "Bremen" in final.state["answer"] and "SYNTHETIC" in final.state["answer"]
    kinds = [i.kind for i in items if isinstance(i, AgentEvent)]
    assert kinds[0] == "message" and "node_started" in kinds


def test_handle_request_asks_back_and_never_raises(tmp_path: Path) -> None:
    ctx = RequestContext(offline=True, work_dir=tmp_path, now=lambda: NOW)
    final = list(handle_request("", ctx))[-1]
    assert final.state["decision"].action == "clarify"
    assert final.state["answer"].startswith("What would you like to know?")
    final = list(handle_request("Write a Python script to plot a sine", ctx))[-1]
    assert "needs a language model" in final.state["answer"]


@pytest.mark.parametrize("text", ["Dew point at 18 C and 75% humidity"])
def test_tool_without_a_model_says_so(text: str, tmp_path: Path) -> None:
    final = list(handle_request(text, RequestContext(work_dir=tmp_path, now=lambda: NOW)))[-1]
    assert "needs a language model" in final.state["answer"]


def test_handle_request_runs_the_coding_agent_in_the_sandbox(tmp_path: Path) -> None:
    require_tool("bwrap", "bubblewrap")
    ctx = RequestContext(provider=_Scripted("print(6 * 7)\n"), now=lambda: NOW)
    items = list(handle_request("Write a Python script that prints 6 times 7", ctx))
    final = items[-1].state
    assert final["decision"].action == "code"
    assert final["result"]["success"] is True
    assert final["result"]["attempts"][0]["stdout"].strip() == "42"
