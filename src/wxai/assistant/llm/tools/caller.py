"""Let a language model choose a tool and its arguments, whatever the provider can do.

:class:`ToolCaller` picks a strategy from the provider's
:class:`~wxai.assistant.llm.types.Capabilities`:

``native``
    The provider takes the :class:`~wxai.assistant.llm.types.ToolSpec` list and
    returns structured tool calls (Ollama, OpenAI-compatible servers).
``constrained``
    The provider decodes under a JSON Schema (the embedded llama.cpp model). The
    schema is an ``anyOf`` over ``{"tool": <const name>, "arguments": <its schema>}``,
    so every call the model can emit names a real tool with valid arguments.
``routed``
    Two constrained steps: first only the tool name (an ``enum``), then that
    tool's arguments under its own schema. Smaller choices suit small models.
``semantic``
    No language model for the choice: the tool whose description and example
    requests are closest to the request in sentence-embedding space
    (:class:`~wxai.assistant.llm.tools.router.SemanticRouter`), then its arguments
    under its own schema, so one model request per call. With ``shortlist=2`` the
    model chooses between the two closest tools (an ``enum`` of two) first. A
    request far from every tool (similarity below the router's floor) is answered
    in text when ``require_tool`` is false.
``json_block``
    Any provider: the model is asked for a fenced JSON block, which is extracted,
    parsed and validated.

Every returned call is validated against its tool's schema outside the model. An
invalid call is retried once with the error fed back to the model; a call still
invalid after that raises :class:`~wxai.core.errors.ToolCallError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from wxai.assistant.llm.tools.parsing import extract_json, to_tool_call
from wxai.assistant.llm.tools.router import Route, SemanticRouter, _last_user_text
from wxai.assistant.llm.tools.schema import ground_numbers
from wxai.assistant.llm.tools.tool import Tool, ToolExample, ToolRegistry
from wxai.assistant.llm.types import ChatResponse, LLMProvider, Message, ToolCall
from wxai.core.errors import ConfigError, ToolCallError, WxaiError

__all__ = ["Strategy", "ToolCaller", "ToolDecision", "ToolRun", "call_tools", "choice_schema"]

Strategy = Literal["auto", "native", "constrained", "routed", "semantic", "json_block"]
_STRATEGIES = ("auto", "native", "constrained", "routed", "semantic", "json_block")


@dataclass(frozen=True)
class ToolDecision:
    """What the model chose.

    Attributes
    ----------
    calls:
        Validated tool calls (empty when the model answered in text instead).
    answer:
        The model's text when it made no call.
    strategy:
        The strategy that was used.
    attempts:
        Model requests made (more than one when a call was retried).
    errors:
        What was wrong with each rejected attempt, in order.
    routes:
        ``semantic`` strategy: every tool with its similarity to the request, best first.
    """

    calls: tuple[ToolCall, ...]
    answer: str = ""
    strategy: str = ""
    attempts: int = 1
    errors: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()

    @property
    def call(self) -> ToolCall | None:
        """The first call, or ``None``."""
        return self.calls[0] if self.calls else None


@dataclass(frozen=True)
class ToolRun:
    """A decision, the tools' results, and the conversation including them."""

    decision: ToolDecision
    results: tuple[Any, ...]
    messages: tuple[Message, ...]
    answer: str = ""


def _branch(item: Tool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "tool": {"const": item.name},
            "arguments": dict(item.spec.parameters),
        },
        "required": ["tool", "arguments"],
        "additionalProperties": False,
    }


def choice_schema(tools: Iterable[Tool], *, allow_answer: bool = False) -> dict[str, Any]:
    """JSON Schema of one call of any of ``tools`` (``anyOf`` of one branch per tool).

    With ``allow_answer`` a branch ``{"answer": <text>}`` lets the model reply
    without calling a tool.
    """
    branches = [_branch(t) for t in tools]
    if allow_answer:
        branches.append(
            {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
                "additionalProperties": False,
            }
        )
    return {"anyOf": branches}


def _argument_lines(item: Tool) -> list[str]:
    """One line per argument: name, type or choices, default, description."""
    params = item.spec.parameters.get("properties", {})
    required = set(item.spec.parameters.get("required", ()))
    lines = []
    for name, schema in params.items():
        if "enum" in schema:
            kind = "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
        else:
            kind = str(schema.get("type", "any"))
        if name not in required and "default" in schema:
            kind += f", default {json.dumps(schema['default'])}"
        text = f"- {name} ({kind})"
        if schema.get("description"):
            text += f": {schema['description']}"
        lines.append(text)
    return lines


def _signature(item: Tool) -> str:
    params = item.spec.parameters.get("properties", {})
    required = set(item.spec.parameters.get("required", ()))
    parts = []
    for name, schema in params.items():
        kind = "|".join(json.dumps(v) for v in schema["enum"]) if "enum" in schema else None
        text = f"{name}: {kind or schema.get('type', 'any')}"
        if name not in required and "default" in schema:
            text += f" = {json.dumps(schema['default'])}"
        parts.append(text)
    return f"{item.name}({', '.join(parts)})"


def _interleave(tools: Sequence[Tool]) -> list[tuple[Tool, ToolExample]]:
    """Examples round-robin across tools, so no tool is always shown last."""
    out: list[tuple[Tool, ToolExample]] = []
    depth = max((len(t.examples) for t in tools), default=0)
    for k in range(depth):
        out += [(t, t.examples[k]) for t in tools if k < len(t.examples)]
    return out


class ToolCaller:
    """Ask ``provider`` for tool calls among ``tools``, validated, with one retry.

    Parameters
    ----------
    provider:
        Any :class:`~wxai.assistant.llm.types.LLMProvider`.
    tools:
        A :class:`ToolRegistry` or tools.
    strategy:
        ``"auto"`` (native, else semantic routing with constrained arguments, else
        JSON block) or one strategy.
    few_shot:
        Show the tools' examples (text strategies only).
    shot_style:
        ``"system"``: list the examples in the system prompt; ``"turns"``: show
        them as earlier user/assistant turns (small models then tend to copy
        the last one).
    require_tool:
        The model must call a tool; when false it may answer in text instead.
    retries:
        Extra attempts after an invalid call, each told what was wrong.
    max_tokens:
        Token budget of each model request.
    router:
        ``semantic`` strategy: the :class:`SemanticRouter` (default: one over
        ``tools`` with the offline MiniLM embedder, built on first use).
    shortlist:
        ``semantic`` strategy: 1 takes the closest tool; k > 1 lets the model choose
        among the k closest (one more model request).
    argument_hints:
        When filling arguments in a separate step (``routed``, ``semantic``), list
        each argument with its description and tell the model to copy numbers with
        their sign; when false (the default: hints did not help SmolLM2-135M, see
        docs/tool-calling.md), show the tool's signature and description.
    ground_numbers:
        When filling arguments in a separate step, restrict each required number
        argument to the numbers written in the request (see :func:`ground_numbers`).

    Raises
    ------
    ConfigError
        The strategy is unknown or needs a capability the provider lacks.
    """

    def __init__(
        self,
        provider: LLMProvider,
        tools: ToolRegistry | Iterable[Tool],
        *,
        strategy: Strategy = "auto",
        few_shot: bool = False,
        shot_style: Literal["system", "turns"] = "system",
        require_tool: bool = True,
        retries: int = 1,
        max_tokens: int = 160,
        router: SemanticRouter | None = None,
        shortlist: int = 1,
        argument_hints: bool = False,
        ground_numbers: bool = False,
    ) -> None:
        self.provider = provider
        self.tools = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        if not len(self.tools):
            raise ConfigError("ToolCaller needs at least one tool")
        self.strategy = self._resolve(strategy)
        self.few_shot = few_shot
        self.shot_style = shot_style
        self.require_tool = require_tool
        self.retries = retries
        self.max_tokens = max_tokens
        if shortlist < 1:
            raise ConfigError(f"shortlist must be >= 1, got {shortlist}")
        self.shortlist = shortlist
        self.argument_hints = argument_hints
        self.ground_numbers = ground_numbers
        self._router = router

    def _resolve(self, strategy: str) -> str:
        caps = self.provider.capabilities
        if strategy not in _STRATEGIES:
            raise ConfigError(f"unknown strategy {strategy!r}; valid: {', '.join(_STRATEGIES)}")
        if strategy == "auto":
            if caps.native_tools:
                return "native"
            # semantic routing measured best for constrained decoders (docs/tool-calling.md)
            return "semantic" if caps.constrained_output else "json_block"
        if strategy == "native" and not caps.native_tools:
            raise ConfigError(
                f"provider {self.provider.name!r} has no native tool calling; "
                "use strategy 'constrained' or 'json_block'"
            )
        if strategy in {"constrained", "routed", "semantic"} and not caps.constrained_output:
            raise ConfigError(
                f"strategy {strategy!r} needs constrained decoding, which provider "
                f"{self.provider.name!r} lacks; use 'native' or 'json_block'"
            )
        return strategy

    @property
    def router(self) -> SemanticRouter:
        """The semantic router over this caller's tools (built on first use)."""
        if self._router is None:
            self._router = SemanticRouter(self.tools)
        return self._router

    # ------------------------------------------------------------------ prompts

    def _system(self, tools: Sequence[Tool], fmt: str) -> str:
        lines = ["You are a weather assistant. You answer a request by calling one tool.", ""]
        lines += ["Tools:"]
        for item in tools:
            lines.append(f"- {_signature(item)}: {item.description}")
        lines += ["", fmt]
        return "\n".join(lines)

    def _with_system(self, system: str, messages: Sequence[Message]) -> list[Message]:
        if messages and messages[0].role == "system":
            return [Message.system(f"{system}\n\n{messages[0].content}"), *messages[1:]]
        return [Message.system(system), *messages]

    def _shots(self, render: Any, tools: Sequence[Tool] | None = None) -> tuple[str, list[Message]]:
        """Few-shot examples: text for the system prompt, or earlier chat turns."""
        if not self.few_shot:
            return "", []
        pairs = _interleave(list(tools or self.tools))
        if self.shot_style == "turns":
            turns: list[Message] = []
            for item, example in pairs:
                turns += [Message.user(example.prompt), Message.assistant(render(item, example))]
            return "", turns
        lines = ["", "", "Examples:"]
        for item, example in pairs:
            lines += [f"Request: {example.prompt}", f"Reply: {render(item, example)}"]
        return "\n".join(lines), []

    # --------------------------------------------------------------- strategies

    def decide(self, messages: Sequence[Message]) -> ToolDecision:
        """The model's validated tool call(s) for the conversation ``messages``.

        Raises
        ------
        ToolCallError
            No valid call after ``1 + retries`` attempts (``.attempts`` lists why).
        """
        method = getattr(self, f"_decide_{self.strategy}")
        return method(list(messages))

    def _loop(self, messages: list[Message], attempt: Any) -> ToolDecision:
        """Run ``attempt(messages)`` until it returns a decision; feed back each error."""
        errors: list[str] = []
        for _ in range(1 + self.retries):
            try:
                decision = attempt(messages)
            except _Rejected as rejected:
                errors.append(str(rejected))
                messages = [*messages, *rejected.feedback]
                continue
            errors += decision.errors  # rejected inner steps (argument filling)
            return replace(
                decision, strategy=self.strategy, attempts=len(errors) + 1, errors=tuple(errors)
            )
        raise ToolCallError(
            f"{self.provider.name} ({self.provider.model}) made no valid tool call in "
            f"{len(errors)} attempts ({self.strategy} strategy); last problem: {errors[-1]}",
            attempts=tuple(errors),
        )

    def _chat(self, messages: Sequence[Message], **kwargs: Any) -> ChatResponse:
        kwargs.setdefault("max_tokens", self.max_tokens)
        return self.provider.chat(messages, **kwargs)

    def _decide_native(self, messages: list[Message]) -> ToolDecision:
        def attempt(msgs: list[Message]) -> ToolDecision:
            response = self._chat(msgs, tools=self.tools.specs)
            if not response.tool_calls:
                if not self.require_tool:
                    return ToolDecision((), response.content)
                raise _Rejected(
                    "the model answered in text instead of calling a tool",
                    [
                        Message.assistant(response.content),
                        Message.user("Call one of the tools to answer the request."),
                    ],
                )
            calls, problems = [], []
            for i, raw in enumerate(response.tool_calls):
                call = raw if raw.id else ToolCall(raw.name, raw.arguments, f"call_{i}")
                try:
                    calls.append(self.tools.validate(call))
                except ToolCallError as exc:
                    problems.append((call, str(exc)))
            if problems:
                feedback = [Message.assistant(response.content, tool_calls=response.tool_calls)]
                feedback += [
                    Message("tool", f"Error: {msg}. Call the tool again, fixed.", tool_call_id=c.id)
                    for c, msg in problems
                ]
                raise _Rejected("; ".join(msg for _, msg in problems), feedback)
            return ToolDecision(tuple(calls))

        return self._loop(messages, attempt)

    def _decide_constrained(self, messages: list[Message]) -> ToolDecision:
        allow = not self.require_tool
        schema = choice_schema(self.tools, allow_answer=allow)
        fmt = 'Reply with JSON: {"tool": <tool name>, "arguments": {<argument>: <value>}}'
        if allow:
            fmt += ', or {"answer": <text>} if no tool fits'
        extra, shots = self._shots(lambda t, e: _dump({"tool": t.name, "arguments": e.arguments}))
        system = self._system(list(self.tools), fmt + ".") + extra
        prompt = self._with_system(system, shots + messages)

        def attempt(msgs: list[Message]) -> ToolDecision:
            text = self._chat(msgs, json_schema=schema).content
            document = self._parse(text, decode_only=True)
            if "answer" in document and allow:
                return ToolDecision((), str(document["answer"]))
            return ToolDecision((self._checked(document, text),))

        return self._loop(prompt, attempt)

    def _decide_routed(self, messages: list[Message]) -> ToolDecision:
        names = self.tools.names + ([] if self.require_tool else ["none"])
        route = {
            "type": "object",
            "properties": {"tool": {"enum": names}},
            "required": ["tool"],
            "additionalProperties": False,
        }
        fmt = 'Reply with JSON naming the tool to call: {"tool": <tool name>}.'
        extra, shots = self._shots(lambda t, e: _dump({"tool": t.name}))
        prompt = self._with_system(self._system(list(self.tools), fmt) + extra, shots + messages)

        def attempt(msgs: list[Message]) -> ToolDecision:
            text = self._chat(msgs, json_schema=route, max_tokens=32).content
            choice = self._parse(text, decode_only=True).get("tool")
            if choice == "none" or choice not in self.tools:
                if not self.require_tool:
                    return ToolDecision((), self._chat(messages).content)
                raise _Rejected(f"{choice!r} is not a tool", [])
            call, errors = self._fill(self.tools[choice], messages)
            return ToolDecision((call,), errors=errors)

        return self._loop(prompt, attempt)

    def _decide_semantic(self, messages: list[Message]) -> ToolDecision:
        routes = tuple(self.router.rank(_last_user_text(messages)))
        if routes[0].score < self.router.floor and not self.require_tool:
            return ToolDecision((), self._chat(messages).content, routes=routes)
        names = [r.tool for r in routes[: self.shortlist]]
        route = {
            "type": "object",
            "properties": {"tool": {"enum": names}},
            "required": ["tool"],
            "additionalProperties": False,
        }
        fmt = 'Reply with JSON naming the tool to call: {"tool": <tool name>}.'
        chosen = [self.tools[n] for n in names]
        prompt = self._with_system(self._system(chosen, fmt), messages)

        def attempt(msgs: list[Message]) -> ToolDecision:
            choice = names[0]
            if len(names) > 1:
                text = self._chat(msgs, json_schema=route, max_tokens=32).content
                choice = self._parse(text, decode_only=True).get("tool")
                if choice not in names:
                    raise _Rejected(f"{choice!r} is not one of {names}", [])
            call, errors = self._fill(self.tools[choice], messages)
            return ToolDecision((call,), errors=errors, routes=routes)

        return self._loop(prompt, attempt)

    def _fill(self, item: Tool, messages: list[Message]) -> tuple[ToolCall, tuple[str, ...]]:
        """Argument step: the arguments of ``item`` under its own schema.

        Returns the validated call and what was wrong with rejected attempts.
        """
        if self.argument_hints:
            summary = item.description.split("\n\n")[0]
            system = "\n".join(
                [
                    f"You fill in the arguments of the tool {item.name}: {summary}",
                    "",
                    "Arguments:",
                    *_argument_lines(item),
                    "",
                    "Copy every number exactly as the request writes it, with its minus sign. "
                    "Reply with only the JSON object of the arguments.",
                ]
            )
        else:
            system = (
                f"Fill in the arguments of the tool {_signature(item)}: {item.description}\n\n"
                "Reply with the arguments as a JSON object."
            )
        extra, shots = self._shots(lambda t, e: _dump(dict(e.arguments)), [item])
        prompt = self._with_system(system + extra, shots + messages)
        errors: list[str] = []
        schema = item.spec.parameters
        if self.ground_numbers:
            schema = ground_numbers(schema, _last_user_text(messages))
        for k in range(1 + self.retries):
            text = self._chat(prompt, json_schema=schema).content
            try:
                document = self._parse(text, decode_only=True)
                return self.tools.validate(ToolCall(item.name, document)), tuple(errors)
            except (_Rejected, ToolCallError) as exc:
                if k == self.retries:
                    raise _Rejected(str(exc), []) from None
                errors.append(str(exc))
                prompt = [*prompt, Message.assistant(text), Message.user(f"Error: {exc}. Again.")]
        raise AssertionError("unreachable")

    def _decide_json_block(self, messages: list[Message]) -> ToolDecision:
        fmt = (
            "Reply with only one fenced JSON block and nothing else:\n"
            '```json\n{"tool": "<tool name>", "arguments": {"<argument>": <value>}}\n```'
        )
        if not self.require_tool:
            fmt += "\nIf no tool fits, answer in plain text without JSON."
        extra, shots = self._shots(
            lambda t, e: f"```json\n{_dump({'tool': t.name, 'arguments': e.arguments})}\n```"
        )
        prompt = self._with_system(self._system(list(self.tools), fmt) + extra, shots + messages)

        def attempt(msgs: list[Message]) -> ToolDecision:
            text = self._chat(msgs).content
            try:
                document = self._parse(text, decode_only=False)
            except _Rejected:
                if not self.require_tool and "{" not in text:
                    return ToolDecision((), text)
                raise
            return ToolDecision((self._checked(document, text),))

        return self._loop(prompt, attempt)

    # ----------------------------------------------------------------- helpers

    def _parse(self, text: str, *, decode_only: bool) -> dict[str, Any]:
        try:
            if decode_only:
                document = json.loads(text)
                if not isinstance(document, dict):
                    raise ToolCallError("the answer is not a JSON object")
                return document
            return extract_json(text)
        except (json.JSONDecodeError, ToolCallError) as exc:
            message = f"the answer is not valid JSON ({exc})"
            raise _Rejected(message, _retry_messages(text, message)) from None

    def _checked(self, document: Mapping[str, Any], text: str) -> ToolCall:
        try:
            return self.tools.validate(to_tool_call(document))
        except ToolCallError as exc:
            raise _Rejected(str(exc), _retry_messages(text, str(exc))) from None

    def run(self, messages: Sequence[Message], *, answer: bool = False) -> ToolRun:
        """Decide, run the chosen tools, and optionally let the model answer with the results.

        A tool that raises a :class:`~wxai.core.errors.WxaiError` (unknown city, ...)
        gives ``{"error": message}`` as its result instead of failing the run.
        """
        decision = self.decide(messages)
        convo = list(messages)
        results: list[Any] = []
        if decision.calls:
            calls = tuple(
                c if c.id else ToolCall(c.name, c.arguments, f"call_{i}")
                for i, c in enumerate(decision.calls)
            )
            text = "" if self.strategy == "native" else _dump(_as_json(calls[0]))
            convo.append(Message.assistant(text, tool_calls=calls))
            for call in calls:
                try:
                    result = self.tools.invoke(call)
                except WxaiError as exc:
                    result = {"error": str(exc)}
                results.append(result)
                convo.append(Message("tool", _dump(result), tool_call_id=call.id))
        final = decision.answer
        if answer and decision.calls:
            final = self._chat(convo).content
            convo.append(Message.assistant(final))
        return ToolRun(decision, tuple(results), tuple(convo), final)


class _Rejected(Exception):
    """An attempt's answer was unusable; ``feedback`` continues the conversation."""

    def __init__(self, message: str, feedback: Sequence[Message]) -> None:
        super().__init__(message)
        self.feedback = list(feedback)


def _retry_messages(text: str, problem: str) -> list[Message]:
    return [
        Message.assistant(text),
        Message.user(f"That tool call was rejected: {problem}. Reply again with a corrected call."),
    ]


def _as_json(call: ToolCall) -> dict[str, Any]:
    return {"tool": call.name, "arguments": dict(call.arguments)}


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def call_tools(
    provider: LLMProvider,
    messages: Sequence[Message],
    tools: ToolRegistry | Iterable[Tool],
    *,
    answer: bool = False,
    **options: Any,
) -> ToolRun:
    """One-shot :meth:`ToolCaller.run` (``options`` go to :class:`ToolCaller`)."""
    return ToolCaller(provider, tools, **options).run(messages, answer=answer)
