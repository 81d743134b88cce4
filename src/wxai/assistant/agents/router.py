"""One entry point for a user's request: answer, call a tool, run an agent, or ask back.

:func:`route_request` decides what to do with a request, by rules first and by
the language model only for what no rule decides:

1. an empty request, or one too long to be a question: ask back;
2. notes of three or more bullet points, or a request for a report: the
   multi-role ``report`` agent;
3. a request to write or run code: the ``code`` agent (sandboxed);
4. a calculation a weather tool does (dew point, wind chill, unit conversion)
   with numbers in it: that ``tool``;
5. a forecast question (a weather variable or word, and a place or a time):
   the ``weather`` workflow; a forecast question naming neither place nor time,
   or a place the gazetteer does not know: ask back about exactly that;
6. anything else: the model chooses among these actions with constrained
   decoding; without a model, a direct ``answer``.

:func:`handle_request` then carries the decision out and streams its events.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from wxai.assistant.agents.events import AgentEvent, FinalState
from wxai.assistant.agents.weather.graph import MAX_REQUEST_CHARS, run_weather_workflow
from wxai.assistant.agents.weather.what import find_variable
from wxai.assistant.agents.weather.when import resolve_time
from wxai.assistant.agents.weather.where import find_place
from wxai.assistant.llm.types import LLMProvider, Message
from wxai.core.errors import RequestNotUnderstood, WxaiError

__all__ = ["ACTIONS", "Action", "RouteDecision", "handle_request", "route_request"]

Action = Literal["answer", "tool", "weather", "code", "report", "clarify"]
ACTIONS: tuple[str, ...] = ("answer", "tool", "weather", "code", "report", "clarify")


@dataclass(frozen=True)
class RouteDecision:
    """What to do with a request.

    Attributes
    ----------
    action:
        One of :data:`ACTIONS`.
    target:
        The tool's name for ``tool``; empty otherwise.
    reason:
        Why, in words (shown in the cockpit's step list).
    question:
        For ``clarify``: what to ask the user.
    decided_by:
        ``"rule"`` or ``"model"`` (or ``"default"`` without a model).
    """

    action: Action
    target: str = ""
    reason: str = ""
    question: str = ""
    decided_by: str = "rule"


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)
_REPORT = re.compile(
    r"\b(report|briefing|write[- ]?up|summary|bericht|lagebericht|zusammenfassung|"
    r"zusammenfassen|summari[sz]e)\b",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"\b(write|generate|create|make|give me|schreib\w*|erstell\w*|programmier\w*)\b.{0,60}?"
    r"\b(code|python|script|skript|function|funktion|program|programm|plot|matplotlib|numpy)\b"
    r"|\b(python|numpy|matplotlib)\b.{0,40}?\b(code|script|skript|plot|function|funktion)\b"
    r"|\b(plot|draw|zeichne)\b.{0,40}?\b(python|numpy|matplotlib)\b"
    r"|```",
    re.IGNORECASE | re.DOTALL,
)
_NUMBER = re.compile(r"[-−]?\d+(?:[.,]\d+)?")
_TOOL_WORDS: dict[str, re.Pattern[str]] = {
    "dew_point": re.compile(r"\b(dew ?point|taupunkt\w*)\b", re.IGNORECASE),
    "wind_chill": re.compile(
        r"\b(wind ?chill\w*|chill factor|feels?[- ]like|gefühlte?\w*|windchill)\b", re.IGNORECASE
    ),
    "convert_units": re.compile(
        r"\b(convert|conversion|umrechn\w*|umwandeln)\b|\bin (knots|mph|fahrenheit|celsius|"
        r"kelvin|inhg|hpa|km/h|m/s|inches|millimet\w*)\b|\bhow many (fahrenheit|celsius|knots)\b",
        re.IGNORECASE,
    ),
}
_DEFINITION = re.compile(
    r"^\s*(what (is|are|does|do)|what's|explain|define|why|how does|was (ist|sind|bedeutet)|"
    r"erkl(ä|ae)r\w*|wie funktionier\w*|warum)\b",
    re.IGNORECASE,
)
_WEATHER_WORDS = re.compile(
    r"\b(weather|forecast|wetter\w*|vorhersage\w*|prognose\w*|will it|wird es|regnet|schneit|"
    r"gewitter\w*|sunny|sonnig\w*|frost\w*|storm\w*|sturm\w*)\b",
    re.IGNORECASE,
)


def _rule(text: str, now: datetime, tz: str) -> RouteDecision | None:
    """The decision of the first rule that applies, or None."""
    stripped = text.strip()
    if not stripped:
        return RouteDecision(
            "clarify", reason="empty request",
            question="What would you like to know? For example: 'Wind in Kiel tomorrow 6pm'.",
        )  # fmt: skip
    if len(text) > MAX_REQUEST_CHARS:
        return RouteDecision(
            "clarify",
            reason=f"request of {len(text):,} characters (limit {MAX_REQUEST_CHARS:,})",
            question="That is too long for one request. What is the one thing you want to know?",
        )
    bullets = len(_BULLET.findall(text))
    if bullets >= 3 or (bullets >= 1 and _REPORT.search(text)):
        return RouteDecision("report", reason=f"{bullets} bullet points to turn into a report")
    if _CODE.search(text):
        return RouteDecision("code", reason="asks for code")
    if _NUMBER.search(text):
        for name, pattern in _TOOL_WORDS.items():
            if pattern.search(text):
                return RouteDecision("tool", name, reason=f"a {name.replace('_', ' ')} calculation")
    return _weather_rule(text, now, tz)


def _weather_rule(text: str, now: datetime, tz: str) -> RouteDecision | None:  # noqa: PLR0911
    variable = find_variable(text)
    weatherish = not variable.defaulted or bool(_WEATHER_WORDS.search(text))
    try:
        place = find_place(text)
    except RequestNotUnderstood as exc:
        if not weatherish:
            return None
        return RouteDecision("clarify", reason="unknown place", question=f"{exc} Which place?")
    try:
        timed = resolve_time(text, now, tz).rule != "default-next-hour"
    except RequestNotUnderstood:
        timed = True  # a time phrase was there: the workflow explains what is wrong with it
    if not weatherish:
        if place is not None and timed:  # "today at 9am in Berlin": a forecast question here
            return RouteDecision("weather", reason="a place and a time")
        return None
    if place is None and not timed:
        if _DEFINITION.search(text):
            return None  # "What is a cold front?": a question about weather, not a forecast
        return RouteDecision(
            "clarify",
            reason="forecast question without place or time",
            question=f"For which place and time would you like the {variable.label} forecast?",
        )
    return RouteDecision("weather", reason=f"{variable.label} forecast question")


_MODEL_SCHEMA = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": ["answer", "weather", "code", "report"]}},
    "required": ["action"],
}
_MODEL_PROMPT = (
    'Classify the user\'s request. Reply with JSON {"action": ...} where action is one of:\n'
    "weather: a question about the weather to come at a place or time;\n"
    "code: a request to write or run a program;\n"
    "report: notes to be turned into a written report;\n"
    "answer: anything else (explanations, definitions, chat)."
)


def route_request(
    text: str,
    *,
    provider: LLMProvider | None = None,
    now: datetime | None = None,
    timezone: str = "Europe/Berlin",
) -> RouteDecision:
    """Decide what to do with a request (see the module docstring for the rules).

    Parameters
    ----------
    text:
        The user's request.
    provider:
        Language model for requests no rule decides; None answers directly.
    now, timezone:
        For resolving times in forecast questions.
    """
    when = now or datetime.now(UTC)
    decided = _rule(text, when, timezone)
    if decided is not None:
        return decided
    if provider is None:
        return RouteDecision("answer", reason="no rule applies", decided_by="default")
    try:
        reply = provider.chat(
            [Message.system(_MODEL_PROMPT), Message.user(text[:MAX_REQUEST_CHARS])],
            json_schema=_MODEL_SCHEMA,
            max_tokens=32,  # the schema's JSON with whitespace takes about 12 tokens
        )
        import json

        action = json.loads(reply.content)["action"]
    except (WxaiError, ValueError, KeyError, TypeError):
        return RouteDecision("answer", reason="model gave no usable choice", decided_by="default")
    if action not in ("answer", "weather", "code", "report"):
        action = "answer"
    return RouteDecision(action, reason="chosen by the language model", decided_by="model")


@dataclass
class RequestContext:
    """What :func:`handle_request` needs besides the request.

    Attributes
    ----------
    provider:
        Language model for direct answers, tool arguments and model decisions.
    offline:
        Weather data from the cache or synthetic only.
    work_dir:
        Folder for figures and produced files.
    now:
        Clock (tests pass a fixed time).
    timezone:
        The user's time zone.
    code_runner, report_writer:
        The coding and report agents (``request -> dict``); None: not available.
    place_extractor:
        Language-model fall-back for places the gazetteer does not know.
    """

    provider: LLMProvider | None = None
    offline: bool = False
    work_dir: Path = field(default_factory=Path.cwd)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    timezone: str = "Europe/Berlin"
    code_runner: Callable[[str], Mapping[str, Any]] | None = None
    report_writer: Callable[[str], Mapping[str, Any]] | None = None
    place_extractor: Callable[[str], str | None] | None = None


def handle_request(
    text: str, context: RequestContext | None = None
) -> Iterator[AgentEvent | FinalState]:
    """Route a request and carry the decision out, streaming events.

    The final item is a :class:`FinalState` with ``decision``, ``answer`` (text
    for the user) and ``result`` (the agent's or tool's JSON-ready result).
    Nothing raises: failures become an answer that says what failed.
    """
    ctx = context or RequestContext()
    now = ctx.now()
    decision = route_request(text, provider=ctx.provider, now=now, timezone=ctx.timezone)
    yield AgentEvent("message", "router", {"decision": decision.__dict__})
    result: Mapping[str, Any] = {}
    try:
        answer, result = yield from _execute(decision, text, ctx, now)
    except WxaiError as exc:
        answer = f"I could not do that: {exc}"
        yield AgentEvent("error", decision.action, {"message": str(exc)})
    yield FinalState({"decision": decision, "answer": answer, "result": result})


def _execute(  # noqa: PLR0911 - one return per action
    decision: RouteDecision, text: str, ctx: RequestContext, now: datetime
) -> Iterator[AgentEvent]:
    action = decision.action
    if action == "clarify":
        return decision.question, {}
    if action == "weather":
        weather = run_weather_workflow(
            text, now=now, timezone=ctx.timezone, offline=ctx.offline, figure_dir=ctx.work_dir,
            place_extractor=ctx.place_extractor,
        )  # fmt: skip
        yield from weather.events
        return weather.answer, weather.to_dict()
    if action == "tool":
        from wxai.assistant.llm.tools.weather import weather_tools

        tools = weather_tools()
        if ctx.provider is None:
            return f"The {decision.target} tool needs a language model to read its arguments.", {}
        from wxai.assistant.llm.tools.caller import ToolCaller

        chosen = tools.get(decision.target)
        run = ToolCaller(ctx.provider, [chosen], ground_numbers=True).run([Message.user(text)])
        call = run.decision.call
        if call is not None:
            yield AgentEvent(
                "tool_called", "tool", {"name": call.name, "arguments": call.arguments}
            )
        outcome = run.results[0] if run.results else {"error": "no valid call"}
        yield AgentEvent("tool_result", "tool", {"name": decision.target, "result": outcome})
        return _tool_text(decision.target, outcome), {"tool": decision.target, "result": outcome}
    if action == "code" and (ctx.code_runner or ctx.provider) is not None:
        out = (ctx.code_runner or functools.partial(_run_coder, ctx))(text)
        return str(out.get("message") or out.get("answer") or ""), out
    if action == "report" and (ctx.report_writer or ctx.provider) is not None:
        out = (ctx.report_writer or functools.partial(_write_report, ctx))(text)
        return str(out.get("markdown") or out.get("answer") or ""), out
    if action in ("code", "report"):
        return f"The {action} agent needs a language model; none is configured here.", {}
    if ctx.provider is None:
        return "No language model is configured to answer this directly.", {}
    reply = ctx.provider.chat([Message.user(text)], max_tokens=256)
    return reply.content, {}


def _run_coder(ctx: RequestContext, text: str) -> dict[str, Any]:
    """The coding agent with the context's model (sandboxed; files kept in the result)."""
    from wxai.assistant.agents.coder import run_coder

    assert ctx.provider is not None
    return run_coder(text, ctx.provider).to_dict()


def _write_report(ctx: RequestContext, text: str) -> dict[str, Any]:
    """The report agent with the context's model for every role."""
    from wxai.assistant.agents.report import parse_bullets, write_report

    assert ctx.provider is not None
    roles = dict.fromkeys(("planner", "writer", "impact", "editor"), ctx.provider)
    return write_report(parse_bullets(text), providers=roles).to_dict()


def _tool_text(name: str, outcome: Any) -> str:
    if isinstance(outcome, Mapping) and "error" in outcome:
        return f"The {name.replace('_', ' ')} tool failed: {outcome['error']}"
    return f"{name.replace('_', ' ')}: {outcome}"
