"""The OpenAI chat-completions dialect of the ``/v1/`` API, translated to and from wxai's types.

Requests are validated by pydantic models that accept every field OpenAI's clients
send (unknown ones are kept out of the way and ignored); :func:`to_messages` and
:func:`to_tools` turn them into :class:`~wxai.assistant.llm.types.Message` and
:class:`~wxai.assistant.llm.types.ToolSpec`; :func:`completion` and :func:`chunk`
build the answers (``chat.completion`` and ``chat.completion.chunk`` objects).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from wxai.assistant.llm.types import Message, ToolCall, ToolSpec
from wxai.cockpit.conversations import estimate_tokens

__all__ = [
    "DONE",
    "ChatCompletionOut",
    "ChatCompletionRequest",
    "ChatMessageIn",
    "ChunkWriter",
    "ModelList",
    "ModelObject",
    "OpenAIErrorOut",
    "Usage",
    "completion",
    "completion_id",
    "error_event",
    "estimate_usage",
    "json_schema_of",
    "select_tools",
    "to_messages",
    "to_tools",
    "tool_calls_out",
    "usage_of",
]

DEFAULT_MAX_TOKENS = 512


class _Open(BaseModel):
    """A part of a request: fields beyond ours are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")


class FunctionCallIn(_Open):
    """``function`` of a tool call in an assistant message; ``arguments`` is JSON text."""

    name: str = Field(min_length=1, max_length=128)
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(_Open):
    """A tool call the model made earlier, sent back in the history."""

    id: str = Field("", max_length=200)
    type: Literal["function"] = "function"
    function: FunctionCallIn


class ContentPart(_Open):
    """One part of a message's content: ``text``, or ``image_url`` with a ``data:`` URL."""

    type: str = Field(max_length=40)
    text: str | None = None
    image_url: dict[str, Any] | str | None = None


class ChatMessageIn(_Open):
    """One message; ``developer`` is OpenAI's newer name for ``system``."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = Field(None, max_length=128)
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = Field(None, max_length=200)


class FunctionSpecIn(_Open):
    """``function`` of a tool offered to the model."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-.]+$")
    description: str = Field("", max_length=4000)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ToolIn(_Open):
    """A tool offered to the model (only ``function`` tools exist)."""

    type: Literal["function"] = "function"
    function: FunctionSpecIn


class NamedFunction(_Open):
    name: str = Field(min_length=1, max_length=128)


class NamedToolChoice(_Open):
    """``{"type": "function", "function": {"name": ...}}``: this tool and no other."""

    type: Literal["function"] = "function"
    function: NamedFunction


class StreamOptions(_Open):
    include_usage: bool = False


class ResponseFormat(_Open):
    """``text``, ``json_object`` or ``json_schema`` (``{"name", "schema", "strict"}``)."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: dict[str, Any] | None = None


class ChatCompletionRequest(_Open):
    """The body of ``POST /v1/chat/completions``.

    ``temperature`` defaults to 0 (greedy, reproducible), unlike OpenAI's 1.
    ``top_p``, ``stop``, ``presence_penalty``, ``seed``, ``user`` and other fields
    are accepted and not used. ``wxai_tools`` and ``wxai_session`` are this
    server's extensions (send them with the client's ``extra_body``).
    """

    model: str = Field(min_length=1, max_length=128)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=131072)
    max_completion_tokens: int | None = Field(None, ge=1, le=131072)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    n: int | None = Field(None, ge=1, le=128)
    stop: str | list[str] | None = None
    tools: list[ToolIn] | None = Field(None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None
    user: str | None = Field(None, max_length=256)
    wxai_tools: bool = Field(
        False, description="Answer with the cockpit's own tools (weather, data, documents)."
    )
    wxai_session: str | None = Field(
        None, max_length=64, description="Continue this chat session of yours (wxai_tools)."
    )

    @property
    def output_budget(self) -> int:
        """The most tokens the answer may have."""
        return self.max_completion_tokens or self.max_tokens or DEFAULT_MAX_TOKENS

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with a usage chunk."""
        return bool(self.stream_options and self.stream_options.include_usage)


class Usage(BaseModel):
    """Token counts of one completion."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ModelObject(BaseModel):
    """One model alias as OpenAI lists models."""

    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="when the models file changed, Unix seconds")
    owned_by: str = Field(description="the alias's supplier (configs/models.yaml)")


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelObject]


class FunctionOut(BaseModel):
    name: str
    arguments: str = Field(description="the arguments as JSON text")


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionOut


class AssistantMessageOut(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: None = None
    tool_calls: list[ToolCallOut] | None = None


class ChoiceOut(BaseModel):
    index: int
    message: AssistantMessageOut
    finish_reason: str = Field(description="stop, length or tool_calls")
    logprobs: None = None


class ChatCompletionOut(BaseModel):
    """A ``chat.completion`` (the answer without ``stream``)."""

    id: str = Field(description="chatcmpl-...")
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChoiceOut]
    usage: Usage
    wxai_session: str | None = Field(None, description="the chat session (wxai_tools only)")


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorOut(BaseModel):
    """An error in OpenAI's shape."""

    error: OpenAIError


def _bad(message: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, message)


def _image(part: ContentPart, index: int) -> bytes:
    url = part.image_url.get("url") if isinstance(part.image_url, dict) else part.image_url
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        raise _bad(
            f"messages[{index}]: image_url must be a data: URL with base64 bytes "
            "(this server fetches no URLs)"
        )
    try:
        return base64.b64decode(url.split(";base64,", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"messages[{index}]: the image's base64 is invalid") from None


def _content(message: ChatMessageIn, index: int) -> tuple[str, tuple[bytes, ...]]:
    """Text and images of a message; text parts are joined with blank lines."""
    if message.content is None or isinstance(message.content, str):
        return message.content or "", ()
    texts, images = [], []
    for part in message.content:
        if part.type in ("text", "input_text"):
            texts.append(part.text or "")
        elif part.type == "image_url":
            images.append(_image(part, index))
        else:
            raise _bad(
                f"messages[{index}]: content part type {part.type!r} is not supported; "
                "send text or image_url parts"
            )
    return "\n\n".join(texts), tuple(images)


def _arguments(call: ToolCallIn, index: int) -> dict[str, Any]:
    if isinstance(call.function.arguments, dict):
        return call.function.arguments
    try:
        decoded = json.loads(call.function.arguments or "{}")
    except json.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict):
        raise _bad(
            f"messages[{index}].tool_calls: arguments of {call.function.name!r} must be "
            "a JSON object as text"
        )
    return decoded


def to_messages(messages: Sequence[ChatMessageIn]) -> list[Message]:
    """wxai messages for OpenAI ones (400 for a tool message without ``tool_call_id``)."""
    out = []
    for index, message in enumerate(messages):
        text, images = _content(message, index)
        role = "system" if message.role == "developer" else message.role
        if role == "tool":
            if not message.tool_call_id:
                raise _bad(f"messages[{index}]: a tool message needs tool_call_id")
            out.append(Message("tool", text, tool_call_id=message.tool_call_id))
        elif role == "assistant":
            calls = tuple(
                ToolCall(c.function.name, _arguments(c, index), c.id)
                for c in message.tool_calls or ()
            )
            out.append(Message("assistant", text, tool_calls=calls))
        else:
            out.append(Message(role, text, images=images))  # type: ignore[arg-type]
    return out


def to_tools(tools: Sequence[ToolIn] | None) -> list[ToolSpec]:
    """wxai tool specs for OpenAI ``tools`` entries."""
    return [
        ToolSpec(t.function.name, t.function.description, dict(t.function.parameters))
        for t in tools or ()
    ]


def select_tools(body: ChatCompletionRequest) -> list[ToolSpec]:
    """The tools to offer the model after ``tool_choice`` (none: no tools; named: that one).

    ``"required"`` offers them all: wxai's providers cannot force a call, the model is
    only asked.
    """
    specs = to_tools(body.tools)
    choice = body.tool_choice
    if choice == "none":
        return []
    if isinstance(choice, NamedToolChoice):
        chosen = [s for s in specs if s.name == choice.function.name]
        if not chosen:
            names = ", ".join(s.name for s in specs) or "none"
            raise _bad(
                f"tool_choice names {choice.function.name!r}, which is not in tools "
                f"(tools: {names})"
            )
        return chosen
    if choice == "required" and not specs:
        raise _bad("tool_choice 'required' needs tools")
    return specs


def json_schema_of(body: ChatCompletionRequest) -> dict[str, Any] | None:
    """The JSON Schema the answer must match (``response_format``), or None."""
    fmt = body.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    schema = (fmt.json_schema or {}).get("schema")
    if not isinstance(schema, dict):
        raise _bad("response_format.json_schema.schema must be a JSON Schema object")
    return schema


def completion_id() -> str:
    """A new ``chatcmpl-...`` id."""
    return f"chatcmpl-{uuid.uuid4().hex}"


def tool_calls_out(
    calls: Sequence[ToolCall], *, indexed: bool = False, start: int = 0
) -> list[dict[str, Any]]:
    """Tool calls in OpenAI's format (arguments as JSON text); ``indexed`` for stream deltas,
    numbered from ``start``."""
    out = []
    for i, call in enumerate(calls, start=start):
        item: dict[str, Any] = {
            "id": call.id or f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
        }
        out.append({"index": i, **item} if indexed else item)
    return out


def estimate_usage(
    messages: Sequence[Message], answer: str, calls: Sequence[ToolCall] = ()
) -> Usage:
    """Token counts estimated from characters (four a token), when the provider gave none."""
    prompt = sum(estimate_tokens(m.content) for m in messages)
    completion_text = answer + "".join(json.dumps(dict(c.arguments)) + c.name for c in calls)
    done = estimate_tokens(completion_text) if completion_text else 0
    return Usage(prompt_tokens=prompt, completion_tokens=done, total_tokens=prompt + done)


def usage_of(
    reported: Mapping[str, int], messages: Sequence[Message], answer: str, calls: Sequence[ToolCall]
) -> Usage:
    """The provider's counts where it gave both, else :func:`estimate_usage`."""
    if "prompt_tokens" in reported and "completion_tokens" in reported:
        prompt, done = int(reported["prompt_tokens"]), int(reported["completion_tokens"])
        return Usage(prompt_tokens=prompt, completion_tokens=done, total_tokens=prompt + done)
    return estimate_usage(messages, answer, calls)


def completion(
    cid: str,
    model: str,
    *,
    content: str,
    calls: Sequence[ToolCall],
    finish_reason: str,
    usage: Usage,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object with one choice; ``extra`` adds top-level fields."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if calls:
        message["tool_calls"] = tool_calls_out(calls)
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": usage.model_dump(),
        **(extra or {}),
    }


class ChunkWriter:
    """The ``data: {chat.completion.chunk}`` events of one streamed completion.

    Parameters
    ----------
    model:
        The alias answering (``model`` of every chunk).
    extra:
        Top-level fields of the first chunk (``wxai_session``).
    """

    def __init__(self, model: str, extra: Mapping[str, Any] | None = None) -> None:
        self.id = completion_id()
        self.model = model
        self.created = int(time.time())
        self.extra = dict(extra or {})

    def _event(self, body: dict[str, Any]) -> str:
        head = {"id": self.id, "object": "chat.completion.chunk", "created": self.created}
        return f"data: {json.dumps({**head, 'model': self.model, **body}, ensure_ascii=False)}\n\n"

    def _choice(self, delta: Mapping[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return {
            "choices": [
                {"index": 0, "delta": dict(delta), "finish_reason": finish_reason, "logprobs": None}
            ]
        }

    def start(self) -> str:
        """The first chunk: ``role: assistant`` with empty content, and the extra fields."""
        return self._event(
            {**self.extra, **self._choice({"role": "assistant", "content": ""}, None)}
        )

    def delta(self, delta: Mapping[str, Any]) -> str:
        """A chunk with ``delta`` (``{"content": ...}`` or ``{"tool_calls": [...]}``)."""
        return self._event(self._choice(delta, None))

    def finish(self, reason: str) -> str:
        """The last chunk of the choice: an empty delta and ``finish_reason``."""
        return self._event(self._choice({}, reason))

    def usage(self, usage: Usage) -> str:
        """The usage chunk (``stream_options.include_usage``): empty ``choices``, as OpenAI."""
        return self._event({"choices": [], "usage": usage.model_dump()})


def error_event(message: str, kind: str = "server_error") -> str:
    """The last event of a stream that failed after it started."""
    error = {"message": message, "type": kind, "param": None, "code": None}
    return f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"


DONE = "data: [DONE]\n\n"
