"""ToolCaller logic with a scripted provider (pure logic: strategies, retries, errors).

The scripted provider implements the ``LLMProvider`` Protocol and replays fixed
answers while recording every request, so the tests can check what the model was
told (the schema, the tools, the error fed back on a retry).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from wxai.assistant.llm.tools import ToolCaller, ToolRegistry, call_tools, choice_schema, tool
from wxai.assistant.llm.tools.evaluation import ToolCase, evaluate_tool_calling, load_cases
from wxai.assistant.llm.types import (
    Capabilities,
    ChatChunk,
    ChatResponse,
    LLMProvider,
    Message,
    ToolCall,
    ToolSpec,
)
from wxai.core.errors import ConfigError, ToolCallError


@dataclass
class Scripted:
    """An LLMProvider that answers from a script and records the requests."""

    answers: list[ChatResponse]
    capabilities: Capabilities = field(default_factory=Capabilities)
    requests: list[dict[str, Any]] = field(default_factory=list)
    name: str = "scripted"
    model: str = "script"

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> ChatResponse:
        self.requests.append({"messages": list(messages), "tools": tools, "schema": json_schema})
        return self.answers.pop(0)

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[ChatChunk]:
        yield ChatChunk(self.chat(messages, **kwargs).content, finish_reason="stop")


def text(content: str) -> ChatResponse:
    return ChatResponse(content)


@tool
def wind_chill(temperature_c: float, wind_speed_kmh: float) -> float:
    """Felt temperature in wind [degC]."""
    v = wind_speed_kmh**0.16
    return round(13.12 + 0.6215 * temperature_c - 11.37 * v + 0.3965 * temperature_c * v, 1)


@tool
def warnings_for(region: Literal["alps", "iberia"]) -> list[str]:
    """Warnings in force in a region."""
    return [f"wind in the {region}"]


TOOLS = ToolRegistry([wind_chill, warnings_for])
GOOD = '{"tool": "wind_chill", "arguments": {"temperature_c": -5, "wind_speed_kmh": 30}}'
ASK = [Message.user("Wind chill at -5 C and 30 km/h?")]


def test_scripted_provider_is_an_llm_provider() -> None:
    assert isinstance(Scripted([]), LLMProvider)


def test_auto_strategy_follows_capabilities() -> None:
    native = Capabilities(native_tools=True, constrained_output=True)
    assert ToolCaller(Scripted([], native), TOOLS).strategy == "native"
    assert ToolCaller(Scripted([], Capabilities(constrained_output=True)), TOOLS).strategy == (
        "semantic"
    )
    assert ToolCaller(Scripted([]), TOOLS).strategy == "json_block"
    with pytest.raises(ConfigError, match="no native tool calling"):
        ToolCaller(Scripted([]), TOOLS, strategy="native")
    with pytest.raises(ConfigError, match="needs constrained decoding"):
        ToolCaller(Scripted([]), TOOLS, strategy="routed")
    with pytest.raises(ConfigError, match="unknown strategy"):
        ToolCaller(Scripted([]), TOOLS, strategy="magic")  # type: ignore[arg-type]


def test_json_block_retries_once_with_the_error() -> None:
    provider = Scripted(
        [
            text('```json\n{"tool": "wind_chill", "arguments": {"t": 1,}}\n```'),
            text(f"Here you go:\n```json\n{GOOD}\n```"),
        ]
    )
    run = ToolCaller(provider, TOOLS).run(ASK)
    assert run.decision.attempts == 2 and run.decision.strategy == "json_block"
    assert run.results == (-13.0,)
    retry = provider.requests[1]["messages"]
    assert retry[-2].role == "assistant" and "{" in retry[-2].content
    assert retry[-1].role == "user" and "invalid" in retry[-1].content
    assert "line 1 column" in retry[-1].content
    system = provider.requests[0]["messages"][0]
    assert (
        system.role == "system" and "```json" in system.content and "wind_chill(" in system.content
    )
    assert run.messages[-1].role == "tool" and run.messages[-1].content == "-13.0"


def test_json_block_schema_error_is_fed_back_then_gives_up() -> None:
    bad = '```json\n{"tool": "wind_chill", "arguments": {"temperature_c": "cold"}}\n```'
    provider = Scripted([text(bad), text('{"tool": "nowcast", "arguments": {}}')])
    with pytest.raises(ToolCallError, match="2 attempts") as info:
        ToolCaller(provider, TOOLS).decide(ASK)
    first, second = info.value.attempts
    assert "temperature_c" in first and "missing required argument 'wind_speed_kmh'" in first
    assert "unknown tool 'nowcast'" in second and "warnings_for" in second
    assert (
        "missing required argument 'wind_speed_kmh'" in provider.requests[1]["messages"][-1].content
    )


def test_json_block_may_answer_in_text_when_allowed() -> None:
    provider = Scripted([text("Hello! I can help with the weather.")])
    run = call_tools(provider, ASK, TOOLS, require_tool=False)
    assert run.decision.calls == () and run.answer.startswith("Hello")


def test_native_strategy_validates_and_retries() -> None:
    caps = Capabilities(native_tools=True)
    bad = ChatResponse("", tool_calls=(ToolCall("wind_chill", {"temperature_c": -5}, "c1"),))
    good = ChatResponse(
        "", tool_calls=(ToolCall("wind_chill", {"temperature_c": -5, "wind_speed_kmh": 30}, "c2"),)
    )
    provider = Scripted([bad, good, text("It feels like -13 C.")], caps)
    run = ToolCaller(provider, TOOLS).run(ASK, answer=True)
    assert provider.requests[0]["tools"] == TOOLS.specs
    feedback = provider.requests[1]["messages"][-1]
    assert feedback.role == "tool" and feedback.tool_call_id == "c1"
    assert "missing required argument 'wind_speed_kmh'" in feedback.content
    assert run.decision.attempts == 2 and run.results == (-13.0,)
    assert run.answer == "It feels like -13 C."
    assert [m.role for m in run.messages] == ["user", "assistant", "tool", "assistant"]


def test_native_text_answer_is_retried_when_a_tool_is_required() -> None:
    caps = Capabilities(native_tools=True)
    provider = Scripted([text("I think it's cold."), text("Still no tool.")], caps)
    with pytest.raises(ToolCallError, match="answered in text"):
        ToolCaller(provider, TOOLS).decide(ASK)


def test_constrained_strategy_sends_the_choice_schema() -> None:
    provider = Scripted([text(GOOD)], Capabilities(constrained_output=True))
    decision = ToolCaller(provider, TOOLS, strategy="constrained").decide(ASK)
    assert decision.call == ToolCall("wind_chill", {"temperature_c": -5.0, "wind_speed_kmh": 30.0})
    schema = provider.requests[0]["schema"]
    assert schema == choice_schema(TOOLS)
    branches = schema["anyOf"]
    assert [b["properties"]["tool"] for b in branches] == [
        {"const": "wind_chill"},
        {"const": "warnings_for"},
    ]
    assert branches[1]["properties"]["arguments"]["properties"]["region"]["enum"] == [
        "alps",
        "iberia",
    ]


def test_tool_errors_become_results() -> None:
    @tool
    def fails(city: str) -> str:
        """Always fails."""
        raise ConfigError(f"no data for {city}")

    provider = Scripted([text('{"tool": "fails", "arguments": {"city": "Atlantis"}}')])
    run = ToolCaller(provider, [fails]).run(ASK)
    assert run.results == ({"error": "no data for Atlantis"},)
    assert json.loads(run.messages[-1].content) == {"error": "no data for Atlantis"}


def test_routed_strategy_two_constrained_steps_and_few_shot() -> None:
    chill = tool(examples=[("Chill at 1 C, 9 km/h?", {"temperature_c": 1, "wind_speed_kmh": 9})])(
        wind_chill.function
    )
    provider = Scripted(
        [text('{"tool": "wind_chill"}'), text('{"temperature_c": -5, "wind_speed_kmh": 30}')],
        Capabilities(constrained_output=True),
    )
    caller = ToolCaller(
        provider, [chill, warnings_for], strategy="routed", few_shot=True, shot_style="turns"
    )
    decision = caller.decide(ASK)
    assert decision.call is not None and decision.call.arguments["wind_speed_kmh"] == 30
    route, fill = provider.requests
    assert route["schema"]["properties"]["tool"]["enum"] == ["wind_chill", "warnings_for"]
    assert fill["schema"] == chill.spec.parameters
    shots = [m.content for m in route["messages"][1:3]]
    assert shots == ["Chill at 1 C, 9 km/h?", '{"tool": "wind_chill"}']
    # default: the examples go into the system prompt
    provider.answers = [
        text('{"tool": "wind_chill"}'),
        text('{"temperature_c": 1, "wind_speed_kmh": 2}'),
    ]
    ToolCaller(provider, [chill, warnings_for], strategy="routed", few_shot=True).decide(ASK)
    system = provider.requests[2]["messages"][0].content
    assert 'Request: Chill at 1 C, 9 km/h?\nReply: {"tool": "wind_chill"}' in system
    assert len(provider.requests[2]["messages"]) == 2


def test_evaluation_scores_calls() -> None:
    cases = [
        ToolCase("a", "wind_chill", {"temperature_c": -5}),
        ToolCase("b", "warnings_for", {"region": "alps"}),
        ToolCase("c", "wind_chill"),
    ]
    provider = Scripted(
        [
            text(GOOD),
            text(GOOD),  # wrong tool
            text("no idea"),
            text("still no idea"),  # invalid twice
        ]
    )
    result = evaluate_tool_calling(provider, TOOLS, cases, strategy="json_block")
    assert result.valid_rate == pytest.approx(2 / 3)
    assert result.right_tool_rate == pytest.approx(1 / 3)
    assert result.argument_accuracy == pytest.approx(1 / 3)
    assert result.confusion()[("wind_chill", "invalid")] == 1
    with pytest.raises(ConfigError, match="not offered"):
        evaluate_tool_calling(provider, TOOLS, [ToolCase("x", "nowcast")])


def test_packaged_cases() -> None:
    cases = load_cases()
    assert len(cases) >= 30
    assert len({c.tool for c in cases}) == 5
    assert len({c.prompt for c in cases}) == len(cases)
