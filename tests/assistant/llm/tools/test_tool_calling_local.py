"""Tool calling with the real embedded model (SmolLM2-135M-Instruct, greedy, llama.cpp).

One evaluation of the packaged 35-prompt set with the strategy that scored best in
``benchmarks/tool_calling.py``; its calls must all be valid (schema-constrained
decoding makes that so by construction) and the right-tool rate must stay within
a margin of the measured one (see MEASURED_RIGHT_TOOL).
"""

from __future__ import annotations

import pytest

from wxai.assistant.llm.local import LocalProvider
from wxai.assistant.llm.tools import ToolCaller
from wxai.assistant.llm.tools.evaluation import ToolEvaluation, evaluate_tool_calling, load_cases
from wxai.assistant.llm.tools.weather import weather_tools
from wxai.assistant.llm.types import Message

#: Right-tool rate measured by benchmarks/tool_calling.py for the best strategy.
MEASURED_RIGHT_TOOL = 0.571
#: Allowed drop (greedy decoding is deterministic, but llama.cpp builds may differ slightly).
MARGIN = 0.1


@pytest.fixture(scope="module")
def provider() -> LocalProvider:
    return LocalProvider()


@pytest.fixture(scope="module")
def best(provider: LocalProvider) -> ToolEvaluation:
    return evaluate_tool_calling(
        provider, weather_tools(detailed=True), load_cases(), strategy="routed"
    )


def test_every_call_is_valid_by_construction(best: ToolEvaluation) -> None:
    assert len(best.results) >= 30
    assert best.valid_rate == 1.0 and best.first_valid_rate == 1.0


def test_right_tool_rate(best: ToolEvaluation) -> None:
    assert best.right_tool_rate >= MEASURED_RIGHT_TOOL - MARGIN, best.confusion()


def test_run_executes_the_chosen_tool(provider: LocalProvider) -> None:
    caller = ToolCaller(provider, weather_tools(), strategy="constrained")
    run = caller.run([Message.user("Give me the forecast for Hamburg in 48 hours.")])
    call = run.decision.call
    assert call is not None and call.name == "point_forecast"
    assert run.results[0]["city"] == "Hamburg" and "temperature_c" in run.results[0]
    assert run.messages[-1].role == "tool"
