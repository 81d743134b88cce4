"""Semantic routing (real MiniLM embeddings) and the ``semantic`` strategy's steps.

The router runs the real offline embedding model; the strategy's model requests go
to a scripted provider (see test_tool_caller.py), so the tests can check what the
model is asked: one constrained request for the arguments of the routed tool.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from wxai.assistant.llm.tools import SemanticRouter, ToolCaller, tool
from wxai.assistant.llm.tools.evaluation import load_cases
from wxai.assistant.llm.tools.schema import ground_numbers, numbers_in
from wxai.assistant.llm.tools.weather import weather_tools
from wxai.assistant.llm.types import (
    Capabilities,
    ChatChunk,
    ChatResponse,
    LLMProvider,
    Message,
    ToolSpec,
)
from wxai.core.errors import ConfigError, ToolCallError

CONSTRAINED = Capabilities(constrained_output=True)


@dataclass
class Scripted:
    """An LLMProvider with constrained decoding that replays answers and records requests."""

    answers: list[ChatResponse]
    capabilities: Capabilities = field(default_factory=lambda: CONSTRAINED)
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
        self.requests.append({"messages": list(messages), "schema": json_schema})
        return self.answers.pop(0)

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[ChatChunk]:
        yield ChatChunk(self.chat(messages, **kwargs).content, finish_reason="stop")


def text(content: str) -> ChatResponse:
    return ChatResponse(content)


def test_scripted_provider_is_an_llm_provider() -> None:
    assert isinstance(Scripted([]), LLMProvider)


@pytest.fixture(scope="module")
def router() -> SemanticRouter:
    return SemanticRouter(weather_tools())


def test_example_requests_are_not_evaluation_prompts() -> None:
    prompts = {c.prompt.casefold() for c in load_cases()}
    for item in weather_tools():
        assert len(item.requests) >= 5
        assert not prompts & {r.casefold() for r in item.routing_texts}, item.name
    assert not any(t.requests for t in weather_tools(requests=False))
    with pytest.raises(ConfigError, match="must not be empty"):

        @tool(requests=[" "])
        def echo(text: str) -> str:
            """Echo the text."""
            return text


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ("Is it going to be foggy in Edinburgh tomorrow morning?", "point_forecast"),
        ("Have the authorities issued gale alerts for Belgium?", "active_warnings"),
        ("It's -7 out and the wind is 20 km/h, how cold will it feel?", "wind_chill"),
        ("At 16 C and 88% humidity, when does condensation start?", "dew_point"),
        ("What's 5 miles per hour in metres per second?", "convert_units"),
    ],
)
def test_router_ranks_the_fitting_tool_first(
    router: SemanticRouter, request_: str, expected: str
) -> None:
    ranked = router.rank(request_)
    assert ranked[0].tool == expected
    assert len(ranked) == 5 and ranked[0].score >= router.floor
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


@pytest.mark.parametrize(
    "request_", ["Tell me a joke about cats.", "How do I bake sourdough bread?"]
)
def test_router_finds_no_tool_for_unrelated_requests(router: SemanticRouter, request_: str) -> None:
    assert router.route(request_) == []
    assert router.rank(request_)[0].score < router.floor


def test_router_checks_its_arguments() -> None:
    with pytest.raises(ConfigError, match="at least one tool"):
        SemanticRouter([])
    with pytest.raises(ConfigError, match="floor"):
        SemanticRouter(weather_tools(), floor=2.0)


def test_semantic_strategy_makes_one_grounded_request(router: SemanticRouter) -> None:
    provider = Scripted([text('{"temperature_c": -7, "wind_speed_kmh": 20}')])
    caller = ToolCaller(
        provider,
        router.tools,
        strategy="semantic",
        router=router,
        argument_hints=True,
        ground_numbers=True,
    )
    decision = caller.decide([Message.user("It's -7 out with 20 km/h of wind; felt temperature?")])
    assert decision.call is not None and decision.call.name == "wind_chill"
    assert decision.call.arguments == {"temperature_c": -7.0, "wind_speed_kmh": 20.0}
    assert decision.strategy == "semantic" and decision.attempts == 1
    assert decision.routes[0].tool == "wind_chill" and len(decision.routes) == 5
    (request,) = provider.requests
    props = request["schema"]["properties"]
    assert props["temperature_c"]["enum"] == [-7.0, 20.0]
    system = request["messages"][0].content
    assert "- wind_speed_kmh (number): Wind speed in km/h." in system
    assert "minus sign" in system and request["messages"][-1].role == "user"


def test_semantic_strategy_retry_counts_as_an_attempt(router: SemanticRouter) -> None:
    provider = Scripted(
        [text('{"temperature_c": 1}'), text('{"temperature_c": 1, "relative_humidity": 90}')],
    )
    caller = ToolCaller(provider, router.tools, strategy="semantic", router=router)
    decision = caller.decide([Message.user("Dew point at 1 C and 90% relative humidity?")])
    assert decision.attempts == 2 and "relative_humidity" in decision.errors[0]
    provider.answers = [text("{}")] * 4  # two fills of two attempts each
    with pytest.raises(ToolCallError, match="no valid tool call"):
        caller.decide([Message.user("Dew point at 1 C and 90% relative humidity?")])


def test_semantic_shortlist_lets_the_model_choose(router: SemanticRouter) -> None:
    provider = Scripted(
        [text('{"tool": "dew_point"}'), text('{"temperature_c": 3, "relative_humidity": 90}')],
    )
    caller = ToolCaller(provider, router.tools, strategy="semantic", router=router, shortlist=2)
    decision = caller.decide([Message.user("3 C, wind 20 km/h, 90% humidity: dew point?")])
    assert decision.call is not None and decision.call.name == "dew_point"
    choice = provider.requests[0]["schema"]["properties"]["tool"]["enum"]
    assert len(choice) == 2 and "dew_point" in choice
    with pytest.raises(ConfigError, match="shortlist"):
        ToolCaller(provider, router.tools, strategy="semantic", shortlist=0)


def test_semantic_answers_without_a_tool_below_the_floor(router: SemanticRouter) -> None:
    provider = Scripted([text("Why did the cat sit on the computer? To keep an eye on the mouse.")])
    caller = ToolCaller(
        provider, router.tools, strategy="semantic", router=router, require_tool=False
    )
    run = caller.run([Message.user("Tell me a joke about cats.")])
    assert run.decision.calls == () and "mouse" in run.answer
    assert provider.requests[0]["schema"] is None


def test_numbers_in_keeps_signs() -> None:
    assert numbers_in("-5 C, 30 km/h; 15-20 km/h gusts at (-3) and 29.92 inHg") == [
        -5.0,
        30.0,
        15.0,
        20.0,
        -3.0,
        29.92,
    ]
    assert numbers_in("no numbers, A4 paper") == []


def test_ground_numbers_restricts_required_numbers_only() -> None:
    tools = weather_tools()
    dew = ground_numbers(tools["dew_point"].spec.parameters, "65% at 22.5 C, 150 and -3")
    assert dew["properties"]["temperature_c"]["enum"] == [65.0, 22.5, 150.0, -3.0]
    assert dew["properties"]["relative_humidity"]["enum"] == [65]  # integers within 1..100
    forecast = tools["point_forecast"].spec.parameters
    assert ground_numbers(forecast, "Paris in 48 hours") == dict(forecast)  # optional
    convert = tools["convert_units"].spec.parameters
    assert "enum" not in ground_numbers(convert, "Fahrenheit to Celsius")["properties"]["value"]
