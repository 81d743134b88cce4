"""How well a model calls tools: valid-call rate, right-tool rate, argument accuracy.

:func:`load_cases` reads an evaluation set (the packaged ``tool_prompts.yaml``, 35
weather requests for the tools of :mod:`.weather`, by default);
:func:`evaluate_tool_calling` asks a provider for a call for each request with one
:class:`~wxai.assistant.llm.tools.caller.ToolCaller` strategy and scores the calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from wxai.assistant.llm.tools.caller import Strategy, ToolCaller
from wxai.assistant.llm.tools.tool import Tool, ToolRegistry
from wxai.assistant.llm.types import LLMProvider, Message
from wxai.core.errors import ConfigError, ToolCallError

__all__ = ["CaseResult", "ToolCase", "ToolEvaluation", "evaluate_tool_calling", "load_cases"]


@dataclass(frozen=True)
class ToolCase:
    """One request, the tool it needs, and key arguments the call should have."""

    prompt: str
    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


def load_cases(path: str | Path | None = None) -> list[ToolCase]:
    """Evaluation cases from a YAML file with a ``cases`` list (default: the packaged set).

    Raises
    ------
    ConfigError
        The file has no ``cases`` list or a case lacks ``prompt`` or ``tool``.
    """
    if path is None:
        data = resources.files("wxai.assistant.llm").joinpath("data/tool_prompts.yaml")
        text = data.read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    document = yaml.safe_load(text) or {}
    raw = document.get("cases") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        raise ConfigError(f"{path or 'tool_prompts.yaml'}: expected a 'cases' list")
    cases = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "prompt" not in item or "tool" not in item:
            raise ConfigError(f"case {i}: needs 'prompt' and 'tool' keys, got {item!r}")
        cases.append(ToolCase(str(item["prompt"]), str(item["tool"]), item.get("arguments") or {}))
    return cases


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case.

    Attributes
    ----------
    valid:
        A call validating against its tool's schema was obtained (retries allowed).
    first_valid:
        The first attempt was already valid.
    tool:
        The tool called (``None`` when no valid call was obtained).
    arguments_match:
        The right tool was called with every expected key argument.
    """

    case: ToolCase
    valid: bool
    first_valid: bool
    tool: str | None
    arguments: Mapping[str, Any]
    arguments_match: bool
    seconds: float
    error: str = ""


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(float(expected) - float(got)) <= 1e-6 + 1e-3 * abs(float(expected))
    return str(expected).casefold().strip() == str(got).casefold().strip()


@dataclass(frozen=True)
class ToolEvaluation:
    """Scores of one strategy on an evaluation set."""

    label: str
    results: tuple[CaseResult, ...]

    def _rate(self, flags: Iterable[bool]) -> float:
        values = list(flags)
        return sum(values) / len(values) if values else float("nan")

    @property
    def valid_rate(self) -> float:
        """Fraction of cases that ended with a valid call."""
        return self._rate(r.valid for r in self.results)

    @property
    def first_valid_rate(self) -> float:
        """Fraction valid at the first attempt (before any retry)."""
        return self._rate(r.first_valid for r in self.results)

    @property
    def right_tool_rate(self) -> float:
        """Fraction of cases with a valid call of the expected tool."""
        return self._rate(r.valid and r.tool == r.case.tool for r in self.results)

    @property
    def argument_accuracy(self) -> float:
        """Fraction of cases with the right tool and every expected key argument."""
        return self._rate(r.arguments_match for r in self.results)

    @property
    def seconds_per_prompt(self) -> float:
        return self._rate(r.seconds for r in self.results)  # type: ignore[arg-type]

    def summary(self) -> dict[str, float | str | int]:
        """The rates as a flat dict (for printing and tracking)."""
        return {
            "label": self.label,
            "n": len(self.results),
            "valid_rate": round(self.valid_rate, 3),
            "first_valid_rate": round(self.first_valid_rate, 3),
            "right_tool_rate": round(self.right_tool_rate, 3),
            "argument_accuracy": round(self.argument_accuracy, 3),
            "seconds_per_prompt": round(self.seconds_per_prompt, 3),
        }

    def confusion(self) -> dict[tuple[str, str], int]:
        """``{(expected, called or "invalid"): count}``."""
        out: dict[tuple[str, str], int] = {}
        for r in self.results:
            key = (r.case.tool, r.tool if r.valid and r.tool else "invalid")
            out[key] = out.get(key, 0) + 1
        return out


def evaluate_tool_calling(
    provider: LLMProvider,
    tools: ToolRegistry | Iterable[Tool],
    cases: Sequence[ToolCase],
    *,
    strategy: Strategy = "auto",
    few_shot: bool = False,
    shot_style: Literal["system", "turns"] = "system",
    retries: int = 1,
    label: str | None = None,
    max_tokens: int = 160,
    **options: Any,
) -> ToolEvaluation:
    """Ask ``provider`` for a tool call for each case and score the calls.

    Parameters
    ----------
    provider:
        The model under test.
    tools:
        The tools offered (every case's expected tool must be among them).
    cases:
        Requests with their expected tool (see :func:`load_cases`).
    strategy, few_shot, shot_style, retries, max_tokens:
        Passed to :class:`~wxai.assistant.llm.tools.caller.ToolCaller`.
    label:
        Name of this run in the summary (default: the strategy).
    options:
        Further :class:`~wxai.assistant.llm.tools.caller.ToolCaller` options
        (``router``, ``shortlist``, ``argument_hints``).

    Raises
    ------
    ConfigError
        A case expects a tool that is not offered.
    """
    caller = ToolCaller(
        provider,
        tools,
        strategy=strategy,
        few_shot=few_shot,
        shot_style=shot_style,
        retries=retries,
        max_tokens=max_tokens,
        **options,
    )
    missing = sorted({c.tool for c in cases} - set(caller.tools.names))
    if missing:
        raise ConfigError(f"cases expect tools that are not offered: {', '.join(missing)}")
    results = []
    for case in cases:
        start = time.perf_counter()
        try:
            decision = caller.decide([Message.user(case.prompt)])
        except ToolCallError as exc:
            seconds = time.perf_counter() - start
            results.append(CaseResult(case, False, False, None, {}, False, seconds, str(exc)))
            continue
        seconds = time.perf_counter() - start
        call = decision.call
        name = call.name if call else None
        arguments = dict(call.arguments) if call else {}
        matches = name == case.tool and all(
            k in arguments and _same(v, arguments[k]) for k, v in case.arguments.items()
        )
        results.append(
            CaseResult(
                case,
                call is not None,
                call is not None and decision.attempts == 1,
                name,
                arguments,
                matches,
                seconds,
                "; ".join(decision.errors),
            )
        )
    return ToolEvaluation(label or caller.strategy, tuple(results))
