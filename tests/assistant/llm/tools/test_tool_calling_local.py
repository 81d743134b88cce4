"""Tool calling with the real embedded model (SmolLM2-135M-Instruct, greedy, llama.cpp).

One evaluation of the packaged 35-prompt set with the strategy that scored best in
``benchmarks/tool_calling.py``: ``semantic`` (the tool chosen by MiniLM embedding
similarity, its arguments decoded under its schema: one model request per prompt).
Its calls must all be valid (schema-constrained decoding makes that so by
construction) and its right-tool rate and argument accuracy must stay within a
margin of the measured ones (see MEASURED_*).
"""

from __future__ import annotations

import threading

import pytest

from wxai.assistant.llm.local import LocalProvider
from wxai.assistant.llm.tools import SemanticRouter, ToolCaller
from wxai.assistant.llm.tools.evaluation import ToolEvaluation, evaluate_tool_calling, load_cases
from wxai.assistant.llm.tools.weather import weather_tools
from wxai.assistant.llm.types import Message

#: Rates measured by benchmarks/tool_calling.py ("semantic (embedding route), signature only")
#: and again by this evaluation on 2026-12-03: 34 and 14 of the 35 prompts.
MEASURED_RIGHT_TOOL = 0.971
MEASURED_ARGUMENTS = 0.400
#: Allowed drop, two of the 35 prompts: greedy decoding is deterministic, but llama.cpp
#: builds may differ slightly; the routing itself (embeddings, no sampling) moves only
#: with the model.
MARGIN = 0.06
#: Token budget of each request: the longest weather-tool arguments object is ~25 tokens.
MAX_TOKENS = 48


@pytest.fixture(scope="module")
def provider() -> LocalProvider:
    return LocalProvider()


@pytest.fixture(scope="module")
def router(provider: LocalProvider) -> SemanticRouter:
    # start llama.cpp's process while this one loads MiniLM (2 cores: ~10 s saved)
    starting = threading.Thread(target=lambda: provider.engine, daemon=True)
    starting.start()
    router = SemanticRouter(weather_tools())
    router.rank("warm-up")
    starting.join()
    return router


@pytest.fixture(scope="module")
def best(provider: LocalProvider, router: SemanticRouter) -> ToolEvaluation:
    return evaluate_tool_calling(
        provider,
        router.tools,
        load_cases(),
        strategy="semantic",
        router=router,
        max_tokens=MAX_TOKENS,
    )


def test_every_call_is_valid_by_construction(best: ToolEvaluation) -> None:
    assert len(best.results) >= 30
    assert best.valid_rate == 1.0 and best.first_valid_rate == 1.0


def test_right_tool_rate(best: ToolEvaluation) -> None:
    assert best.right_tool_rate >= MEASURED_RIGHT_TOOL - MARGIN, best.confusion()


def test_argument_accuracy(best: ToolEvaluation) -> None:
    misses = [(r.case.prompt, dict(r.arguments)) for r in best.results if not r.arguments_match]
    assert best.argument_accuracy >= MEASURED_ARGUMENTS - MARGIN, misses


def test_run_executes_the_chosen_tool(provider: LocalProvider, router: SemanticRouter) -> None:
    caller = ToolCaller(
        provider, router.tools, strategy="semantic", router=router, max_tokens=MAX_TOKENS
    )
    run = caller.run([Message.user("Give me the forecast for Hamburg in 48 hours.")])
    call = run.decision.call
    assert call is not None and call.name == "point_forecast"
    assert run.results[0]["city"] == "Hamburg" and "temperature_c" in run.results[0]
    assert run.messages[-1].role == "tool"


def test_unrelated_request_is_answered_without_a_tool(
    provider: LocalProvider, router: SemanticRouter
) -> None:
    caller = ToolCaller(
        provider, router.tools, strategy="semantic", router=router, require_tool=False
    )
    caller.max_tokens = 16
    run = caller.run([Message.user("Tell me a joke about cats.")])
    assert run.decision.calls == () and run.results == () and run.answer.strip()
