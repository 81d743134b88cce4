"""One chat turn that acts: route the request, run tools on real data, stream typed parts.

:func:`run_turn` yields plain JSON-ready dicts, one per *part*:

``session``      ``{"type", "id", "title", "model", "message_id"}`` (first)
``tool_call``    ``{"type", "id", "name", "arguments"}``
``tool_result``  ``{"type", "id", "name", "summary", "figures", "html"}``
``citations``    ``{"type", "items": [{source, dataspace, page, url, text}]}``
``text``         ``{"type", "delta", "html"}``; ``html`` renders the whole answer so far
``error``        ``{"type", "message"}``
``done``         ``{"type", "message_id", "status", "usage": {"tokens"}, "context"}`` (last)

The request is decided by the agents' rules first (:func:`route_request`): forecast
questions run ``get_weather_forecast`` without any language model; other requests
go to :class:`ToolCaller` over the registered tools, or get a plain answer. Only
registered tools run, with validated arguments; nothing a tool does escapes as an
exception. The user's message and the assistant's (``streaming``) are stored together
before anything runs, the answer's text while it streams (each write also reads
its cancel flag, which stops the turn between parts), and at the end with its
status.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from wxai.assistant.agents.events import jsonable
from wxai.assistant.agents.router import RouteDecision, route_request
from wxai.assistant.llm.tools.caller import ToolCaller
from wxai.assistant.llm.types import LLMProvider, Message, ToolCall
from wxai.cockpit.accounts import Principal
from wxai.cockpit.chat_rules import (
    data_file_call,
    emulator_call,
    product_call,
    unit_conversion_call,
)
from wxai.cockpit.chat_tools import ChatToolbox
from wxai.cockpit.conversations import ConversationStore, estimate_tokens
from wxai.cockpit.image_tools import image_call
from wxai.cockpit.radar_tools import radar_call
from wxai.cockpit.rendering import render_markdown, render_partial
from wxai.core.errors import WxaiError

__all__ = ["run_turn"]

log = logging.getLogger(__name__)

Part = dict[str, Any]
HTML_INTERVAL_S = 0.1
FLUSH_INTERVAL_S = 0.5  # how often a streaming answer's text is written to the database
CANCEL_INTERVAL_S = 0.5  # how often a caller's should_stop is asked
STORE_ATTEMPTS = 5  # final writes of an answer, 1 s, 2 s, ... apart
_PRIVATE = ("text", "figures", "citations", "markdown")
_IMAGE_HINT = re.compile(
    r"\.(png|jpe?g|h5|hdf5?|nc4?)\b|\b(image|picture|photo|screenshot|bild|foto|radar|"
    r"satellite|cloud[- ]top|cth)\b",
    re.IGNORECASE,
)
_FILE_HINT = re.compile(r"\.(nc|nc4|grib2?|grb2?)\b|\bfile\b", re.IGNORECASE)

#: Questions about the user's own documents: answered from their dataspaces, cited.
_DOCUMENT_QUESTION = re.compile(
    r"\b(my|our|the|uploaded|this)\s+(documents?|docs|pdfs?|files?|notes|manuals?|handbooks?|"
    r"dataspaces?|guidelines?|reports?)\b|\baccording to\b|\bin my (documents|files|notes)\b|"
    r"\bsearch (my|the|our)\b|\.(pdf|md|txt|html)\b",
    re.IGNORECASE,
)

#: Words that make a tool worth offering to the model. The small offline model picks
#: *some* tool when offered many; a rule keeps off-topic questions (maths, concepts)
#: away from tools, so they get a plain answer.
TOOL_TRIGGERS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "search_dataspaces": r"\b(search|find|document|documents|docs?|pdf|manual|uploaded|"
        r"upload|file|files|dataspace|dataspaces|according|says?|notes?|handbook|guideline)",
        "field_value": r"\b(value|values|file|uploaded|netcdf|grib|\.nc|\.grib|at \d)",
        "field_map": r"\b(map|plot|draw|chart|show)\b",
        "run_lab": r"\b(lab|labs|übung|run|start|starte)\b",
        "write_report": r"\b(report|bericht|summary of|write up)\b",
        "wind_chill": r"(wind ?chill|feels? like|felt|gefühlt)",
        "dew_point": r"(dew ?point|taupunkt)",
        "convert_units": r"\b(convert|in (m/s|km/h|knots|kt|mph|hpa|pa|°?[cfk]|kelvin|celsius|"
        r"fahrenheit|inch|inches|mm))\b",
        "wind_from_uv": r"\b(u and v|u/v|u,? ?v|components?)\b",
        "relative_humidity": r"(relative humidity|humidity|feuchte)",
        "emulator_forecast": r"\bemulators?\b",
        "emulator_scorecard": r"\bemulators?\b",
        "emulator_ensemble": r"\bemulators?\b",
    }.items()
}
_SYSTEM = (
    "You are wxai, an assistant for weather forecasters. Answer briefly. Never invent "
    "forecast numbers: forecasts come from the get_weather_forecast tool."
)


class _Turn:
    """What a turn has produced so far (stored at the end)."""

    def __init__(self) -> None:
        self.answer = ""
        self.parts: list[Part] = []

    def keep(self, part: Part) -> Part:
        if part["type"] != "text":
            self.parts.append(part)
        return part


def _text_parts(turn: _Turn, deltas: Iterator[str], interval: float) -> Iterator[Part]:
    """Text parts for ``deltas``: at most one per ``interval``, then a full render."""
    pending = ""
    last = 0.0
    for delta in deltas:
        if not delta:
            continue
        turn.answer += delta
        pending += delta
        now = time.monotonic()
        if now - last >= interval:
            yield {"type": "text", "delta": pending, "html": render_partial(turn.answer)}
            pending, last = "", now
    yield {"type": "text", "delta": pending, "html": render_markdown(turn.answer)}


def _run_tool(
    turn: _Turn, toolbox: ChatToolbox, name: str, arguments: Mapping[str, Any], call_id: str
) -> Iterator[Part]:
    """Parts of one tool call; the tool's result dict is stored on ``turn.parts``."""
    yield turn.keep(
        {"type": "tool_call", "id": call_id, "name": name, "arguments": jsonable(dict(arguments))}
    )
    try:
        call = toolbox.registry.validate(ToolCall(name, dict(arguments), call_id))
        result = toolbox.registry.get(name).function(**call.arguments)
    except WxaiError as exc:
        yield turn.keep({"type": "error", "message": f"{name}: {exc}"})
        return
    except Exception as exc:  # a tool's bug must not end the server or the stream
        log.exception("chat tool %s failed", name)
        message = f"{name} failed ({type(exc).__name__}: {exc}); the server log has details"
        yield turn.keep({"type": "error", "message": message})
        return
    if not isinstance(result, Mapping):
        result = {"result": result, "text": str(result)}
    text = str(result.get("text") or "") or result_text(name, arguments, result)
    figures = [str(u) for u in result.get("figures") or []]
    summary = jsonable({k: v for k, v in result.items() if k not in _PRIVATE})
    yield turn.keep({
        "type": "tool_result", "id": call_id, "name": name, "summary": summary,
        "figures": figures, "html": render_markdown(text),
    })  # fmt: skip
    citations = result.get("citations") or []
    if citations:
        items = [
            {k: c.get(k) for k in ("source", "dataspace", "page", "url", "text")} for c in citations
        ]
        yield turn.keep({"type": "citations", "items": jsonable(items)})
    if text:
        images = "".join(f"\n\n![figure]({u})" for u in figures)
        block = text + images
        turn.answer += ("\n\n" if turn.answer else "") + block


def _data_file_rule(
    text: str, data_files: Callable[[], Iterable[Any]]
) -> tuple[str, dict[str, Any]] | None:
    """A ``field_map``/``field_value`` call when ``text`` names a data file of the user."""
    if not TOOL_TRIGGERS["field_value"].search(text) and not _FILE_HINT.search(text):
        return None  # cheap test first: most requests are not about files
    return data_file_call(text, data_files())


def _image_rule(
    text: str, data_files: Callable[[], Iterable[Any]]
) -> tuple[str, dict[str, Any]] | None:
    """A ``read_image`` call when ``text`` names an uploaded picture, radar or CTH file."""
    if not _IMAGE_HINT.search(text):
        return None  # cheap test first
    return image_call(text, data_files())


def _rule_call(
    text: str, data_files: Callable[[], Iterable[Any]]
) -> tuple[str, dict[str, Any]] | None:
    """The tool call a rule decides for ``text`` (unit, data file, documents), or None."""
    return unit_conversion_call(text) or _data_file_rule(text, data_files) or _document_rule(text)


def _decided_call(
    decision: RouteDecision, text: str, data_files: Callable[[], Iterable[Any]]
) -> tuple[str, dict[str, Any]] | None:
    """The tool call the rules decide: a request naming an uploaded image, the emulator,
    fronts, wind warnings or the radar first (they read like forecast questions to the
    router), then the router's weather and report, then the cockpit's own rules."""
    call = (
        _image_rule(text, data_files)
        or emulator_call(text)
        or product_call(text)
        or radar_call(text)
    )
    if call is not None:
        return call
    if decision.action == "weather":
        return "get_weather_forecast", {"question": text}
    if decision.action == "report":
        return "write_report", {"topic": text}
    if decision.action != "clarify":
        return _rule_call(text, data_files)
    return None


def _document_rule(text: str) -> tuple[str, dict[str, Any]] | None:
    """A ``search_dataspaces`` call when ``text`` asks about the user's documents."""
    if _DOCUMENT_QUESTION.search(text):
        return "search_dataspaces", {"query": text, "k": 5}
    return None


def _worth_offering(name: str, text: str) -> bool:
    """Whether tool ``name`` fits request ``text`` (tools without a trigger always fit)."""
    trigger = TOOL_TRIGGERS.get(name)
    return trigger is None or bool(trigger.search(text))


#: Unit suffixes of result keys (``dew_point_c``) and how people write them.
_KEY_UNITS = {"_c": "°C", "_k": "K", "_kmh": "km/h", "_ms": "m/s", "_percent": "%", "_deg": "°"}


def _labelled(key: str, value: object) -> str:
    """``dew_point_c, 12.0`` -> ``dew point **12.0 °C**``."""
    for suffix, unit in _KEY_UNITS.items():
        if key.endswith(suffix) and isinstance(value, int | float):
            return f"{key[: -len(suffix)].replace('_', ' ')} **{value} {unit}**"
    return f"{key.replace('_', ' ')} **{value}**"


def result_text(name: str, arguments: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """A one-line Markdown answer for a tool result that brings no ``text`` of its own."""
    if name == "convert_units" and {"value", "unit"} <= set(result):
        given = f"{arguments.get('value')} {arguments.get('from_unit')}"
        return f"{given} = **{result['value']} {result['unit']}**"
    pairs = [
        _labelled(key, value)
        for key, value in result.items()
        if isinstance(value, int | float | str) and not isinstance(value, bool) and value != ""
    ]
    return f"{name.replace('_', ' ')}: " + ", ".join(pairs) if pairs else ""


def _strategy(provider: LLMProvider) -> str:
    caps = provider.capabilities
    if caps.native_tools:
        return "native"
    return "constrained" if caps.constrained_output else "json_block"


def _model_turn(
    turn: _Turn,
    toolbox: ChatToolbox,
    provider: LLMProvider,
    history: list[Message],
    text: str,
    *,
    only: str | None,
    max_tokens: int,
    interval: float,
) -> Iterator[Part]:
    """The model chooses a registered tool (or answers); tools run, their texts answer."""
    if only is not None:
        offered = [toolbox.registry.get(only)]
    else:
        offered = [t for t in toolbox.registry if _worth_offering(t.name, text)]
    messages = [Message.system(_SYSTEM), *history, Message.user(text)]
    if not offered:  # nothing to act with: the model answers in its own words
        chunks = provider.stream(messages, max_tokens=max_tokens)
        yield from _text_parts(turn, (c.delta for c in chunks), interval)
        return
    caller = ToolCaller(
        provider, offered, strategy=_strategy(provider), require_tool=only is not None,  # type: ignore[arg-type]
        max_tokens=max_tokens, ground_numbers=only is not None and _strategy(provider) != "native",
    )  # fmt: skip
    decision = caller.decide(messages)
    before = len(turn.answer)
    for i, call in enumerate(decision.calls):
        yield from _run_tool(turn, toolbox, call.name, call.arguments, call.id or f"call_{i}")
    if decision.calls:
        if len(turn.answer) > before:
            yield {
                "type": "text",
                "delta": turn.answer[before:],
                "html": render_markdown(turn.answer),
            }
        return
    if decision.answer.strip():
        yield from _text_parts(turn, iter([decision.answer]), interval)
        return
    chunks = provider.stream(messages, max_tokens=max_tokens)
    yield from _text_parts(turn, (c.delta for c in chunks), interval)


def run_turn(
    conversations: ConversationStore,
    principal: Principal,
    session_id: str,
    text: str,
    *,
    alias: str,
    toolbox: ChatToolbox,
    provider_factory: Callable[[str], LLMProvider],
    now: Callable[[], datetime] | None = None,
    budget_tokens: int = 1500,
    max_tokens: int = 384,
    html_interval: float = HTML_INTERVAL_S,
    data_files: Callable[[], Iterable[Any]] = list,
    should_stop: Callable[[], bool] | None = None,
    flush_interval: float = FLUSH_INTERVAL_S,
    cancel_interval: float = CANCEL_INTERVAL_S,
) -> Iterator[Part]:
    """Answer ``text`` in session ``session_id`` of ``principal``, streaming typed parts.

    The answer is stored when the turn starts (status ``streaming``, its id in the
    ``session`` part), its text every ``flush_interval`` s, and at the end with its
    status (``complete``, ``failed``, ``cancelled``) in the ``done`` part.

    Parameters
    ----------
    alias:
        The model alias for requests no rule decides (checked by the caller).
    toolbox:
        The tools this user may run (:func:`wxai.cockpit.chat_tools.build_chat_tools`).
    provider_factory:
        Makes the model's provider, only when one is needed.
    now:
        Clock for resolving "tomorrow at 3pm" (tests pass a fixed one).
    budget_tokens:
        How much history the model sees; older turns are dropped (and counted).
    data_files:
        Lists the caller's GRIB/NetCDF files, for requests that name one
        (:func:`wxai.cockpit.chat_rules.data_file_call` decides those without the model).
    should_stop:
        Asked at most every ``cancel_interval`` s between parts; True stops the turn
        (default: the answer's cancel flag, read by each write of the text so far,
        every ``flush_interval`` s).

    Raises
    ------
    SessionNotFound
        Before the first part, when the session is not the caller's.
    """
    info, _, answer = conversations.begin_turn(principal, session_id, text, model=alias)
    turn = _Turn()
    state: dict[str, Any] = {
        "status": None, "flushed": time.monotonic(), "checked": 0.0, "go_on": True,
    }  # fmt: skip

    def store(status: str | None) -> None:
        """Write the answer so far; the final write is retried while the database restarts.

        A periodic write (``status`` None) also reads the cancel flag, in one statement.
        """
        for attempt in range(1 if status is None else STORE_ATTEMPTS):
            try:
                if status is None:
                    state["go_on"] = conversations.save_progress(answer.id, turn.answer, turn.parts)
                else:
                    conversations.save_answer(answer.id, turn.answer, turn.parts, status)  # type: ignore[arg-type]
                break
            except Exception:
                if status is None:  # a periodic write: the next one catches up
                    log.warning("could not store answer %s yet", answer.id, exc_info=True)
                elif attempt == STORE_ATTEMPTS - 1:
                    raise
                else:
                    time.sleep(1.0 + attempt)
        state["flushed"] = time.monotonic()
        if status is not None:
            state["status"] = status

    def stopped() -> bool:
        if should_stop is None:  # the periodic write read the flag
            return not state["go_on"]
        now_s = time.monotonic()
        if now_s - state["checked"] < cancel_interval:
            return False
        state["checked"] = now_s
        try:
            return should_stop()
        except Exception:  # the database is away a moment: go on, ask again later
            log.warning("could not read the cancel flag of answer %s", answer.id)
            return False

    title = info.title
    try:
        yield {
            "type": "session", "id": info.id, "title": title, "model": alias,
            "message_id": answer.id,
        }  # fmt: skip
        window = conversations.context(principal, session_id, budget_tokens, skip_last=2)
        parts = _answer_parts(
            turn, text, alias=alias, toolbox=toolbox, provider_factory=provider_factory,
            history=window.messages, now=now, max_tokens=max_tokens, html_interval=html_interval,
            data_files=data_files,
        )  # fmt: skip
        status = "complete"
        try:
            for part in parts:
                if stopped():
                    status = "cancelled"
                    break
                yield part
                if time.monotonic() - state["flushed"] >= flush_interval:
                    store(None)
        finally:
            parts.close()
        if status == "cancelled":
            yield turn.keep({"type": "error", "message": CANCELLED_NOTE})
        elif any(p["type"] == "error" for p in turn.parts) and not turn.answer:
            status = "failed"
        store(status)
        yield {
            "type": "done", "message_id": answer.id, "status": status,
            "usage": {"tokens": turn_tokens(window.tokens, text, turn.answer)},
            "context": {"dropped_turns": window.dropped_turns},
        }  # fmt: skip
    except GeneratorExit:  # the consumer stopped reading
        state["end"] = "cancelled"
        raise
    finally:
        if state["status"] is None:  # stopped early, or an error (the database) ended it
            try:
                store(state.get("end", "failed"))
            except Exception:  # the database may be the reason: the stale check ends it
                log.exception("could not store the end of answer %s", answer.id)


CANCELLED_NOTE = "stopped: the answer was cancelled"


def turn_tokens(history_tokens: int, question: str, answer: str) -> int:
    """Tokens a turn is charged: history and question read, answer written (estimates)."""
    return history_tokens + estimate_tokens(question) + estimate_tokens(answer)


def _answer_parts(
    turn: _Turn,
    text: str,
    *,
    alias: str,
    toolbox: ChatToolbox,
    provider_factory: Callable[[str], LLMProvider],
    history: list[Message],
    now: Callable[[], datetime] | None,
    max_tokens: int,
    html_interval: float,
    data_files: Callable[[], Iterable[Any]],
) -> Iterator[Part]:
    """The parts of the answer to ``text``; errors become ``error`` parts, never exceptions."""
    clock = now or (lambda: datetime.now(UTC))
    try:
        decision = route_request(text, provider=None, now=clock())
        call = _decided_call(decision, text, data_files)
        if call is not None:
            yield from _run_tool(turn, toolbox, call[0], call[1], "call_0")
            if turn.answer:
                yield {"type": "text", "delta": turn.answer, "html": render_markdown(turn.answer)}
        elif decision.action == "clarify":
            yield from _text_parts(turn, iter([decision.question]), html_interval)
        else:
            only = decision.target if decision.action == "tool" else None
            if only is not None and only not in toolbox.registry:
                only = None
            yield from _model_turn(
                turn, toolbox, provider_factory(alias), history, text,
                only=only, max_tokens=max_tokens, interval=html_interval,
            )  # fmt: skip
    except WxaiError as exc:
        yield turn.keep({"type": "error", "message": str(exc)})
    except Exception as exc:  # the stream ends with a message, never a broken connection
        log.exception("chat turn failed")
        message = f"the turn failed ({type(exc).__name__}); the server log has details"
        yield turn.keep({"type": "error", "message": message})
