"""Any OpenAI-compatible chat-completions server as an ``LLMProvider``.

OpenAI, vLLM, LM Studio, Mistral, IONOS, llama.cpp's ``llama-server`` and Ollama's
``/v1`` all speak this dialect. Streaming uses server-sent events: lines
``data: {json}`` carrying ``choices[0].delta``, ended by ``data: [DONE]``. Tool calls
stream as fragments keyed by ``index`` (the first fragment has the id and name,
later ones append to the JSON text of the arguments); they are assembled here and
handed out as complete :class:`~wxai.assistant.llm.types.ToolCall` objects with
decoded arguments.

Base URLs
---------
The base URL is the prefix that ``/chat/completions`` is appended to, as in the
OpenAI SDK: ``https://api.openai.com/v1`` -> ``https://api.openai.com/v1/chat/completions``.
Two conveniences, both exact rules:

* a base URL that is only scheme, host and port (no path), e.g.
  ``http://127.0.0.1:8000``, gets ``/v1`` added, since every server listed above
  serves the API under ``/v1``;
* a base URL that already ends in ``/chat/completions`` is used as it is.

Any other path is kept unchanged (``.../v1beta/openai`` -> ``.../v1beta/openai/chat/completions``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from wxai.assistant.llm._http import HttpEndpoint, check_base_url, decode_json
from wxai.assistant.llm.types import (
    Capabilities,
    ChatChunk,
    ChatResponse,
    Message,
    ToolCall,
    ToolSpec,
)
from wxai.core.errors import ConfigError, ProviderResponseError

__all__ = ["OpenAICompatibleProvider", "chat_completions_url", "image_data_url"]

_ENDPOINT = "/chat/completions"


def chat_completions_url(base_url: str) -> str:
    """The chat-completions endpoint for ``base_url`` (rules in the module docstring)."""
    url = check_base_url(base_url, "OpenAI-compatible")
    if url.endswith(_ENDPOINT):
        return url
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url + _ENDPOINT


def image_data_url(image: bytes) -> str:
    """A ``data:`` URL for PNG, JPEG, GIF or WebP bytes (the type is read from the bytes)."""
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif image.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif image.startswith((b"GIF87a", b"GIF89a")):
        mime = "image/gif"
    elif image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        mime = "image/webp"
    else:
        raise ConfigError("images must be PNG, JPEG, GIF or WebP bytes; got an unknown format")
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


class OpenAICompatibleProvider:
    """:class:`~wxai.assistant.llm.types.LLMProvider` for an OpenAI-compatible endpoint.

    Parameters
    ----------
    model:
        Model id at the server (``"gpt-4.1-mini"``, ``"Qwen/Qwen2.5-7B-Instruct"``).
    base_url:
        API prefix, e.g. ``"https://api.openai.com/v1"`` (see the module docstring).
    api_key:
        Sent as ``Authorization: Bearer ...``; ``None`` for servers without keys.
    timeout:
        Seconds to wait for the connection and between two streamed events.
    capabilities:
        What the model can do (from ``configs/models.yaml``).
    api_key_env:
        Name of the environment variable the key came from, quoted in the message of
        an HTTP 401/403 so the user knows what to fix. Never the key itself.
    max_tokens_field:
        Request field for the output budget: ``max_tokens`` (most servers) or
        ``max_completion_tokens`` (OpenAI's current name).
    send_temperature:
        False for models that accept only their default temperature (OpenAI's
        reasoning models).
    base_url_env:
        Environment variable that overrides the base URL, named in error messages.
    """

    name = "openai-compatible"

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        capabilities: Capabilities | None = None,
        api_key_env: str | None = None,
        max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        send_temperature: bool = True,
        base_url_env: str | None = None,
    ) -> None:
        self.url = chat_completions_url(base_url)
        self._model = model
        self._capabilities = capabilities or Capabilities(
            native_tools=True, vision=False, constrained_output=True, context_length=8192
        )
        self.max_tokens_field = max_tokens_field
        self.send_temperature = send_temperature
        key_hint = (
            f"check the API key in the environment variable {api_key_env}"
            if api_key_env
            else "check the API key given to the provider"
        )
        self._http = HttpEndpoint(
            self.name,
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            unreachable_hint="check that the server is running and that the base URL is right"
            + (f" (set it with {base_url_env})" if base_url_env else ""),
            status_hints={
                401: key_hint,
                403: key_hint,
                404: f"check the base URL and the model id {model!r}",
            },
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> ChatResponse:
        body = self._body(
            messages,
            tools=tools,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=False,
        )
        return self._response(self._http.post_json(self.url, body))

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Iterator[ChatChunk]:
        """Yield text deltas as the server sends them; tool calls come complete, at the end."""
        body = self._body(
            messages,
            tools=tools,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
        )
        calls = _ToolCallAssembler(self.name)
        finish: str | None = None
        complete = False
        whole: list[str] = []
        for content_type, line in self._http.stream_lines(self.url, body):
            if "application/json" in content_type:
                whole.append(line)  # a server that ignored "stream": one JSON document
                continue
            data = _sse_data(line, self.name)
            if data is None:
                continue
            if data == "[DONE]":
                complete = True
                break
            item = decode_json(data, self.name, "stream chunk")
            if not isinstance(item, dict):
                raise ProviderResponseError(self.name, f"malformed stream chunk: {data[:300]!r}")
            if "error" in item:
                raise ProviderResponseError(self.name, f"error in stream: {_error_text(item)}")
            for choice in item.get("choices") or ():
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta") or {}
                if not isinstance(delta, dict):
                    raise ProviderResponseError(self.name, f"malformed delta: {delta!r}")
                calls.add(delta.get("tool_calls") or ())
                finish = choice.get("finish_reason") or finish
                text = delta.get("content") or ""
                if text:
                    yield ChatChunk(delta=str(text))
        if whole:
            response = self._response(decode_json("\n".join(whole), self.name, "response"))
            yield ChatChunk(response.content, response.tool_calls, response.finish_reason)
            return
        if not complete and finish is None:
            raise ProviderResponseError(
                self.name, f"the stream from {self.url} ended before the answer was complete"
            )
        yield ChatChunk(tool_calls=calls.finish(), finish_reason=finish or "stop")

    # -- wire format ------------------------------------------------------------------

    def _body(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None,
        json_schema: Mapping[str, Any] | None,
        max_tokens: int,
        temperature: float,
        stream: bool,
    ) -> dict[str, Any]:
        if tools and not self._capabilities.native_tools:
            raise ConfigError(
                f"the model {self._model!r} is configured without native tool calling; "
                "call tools through wxai.assistant.llm.tools instead"
            )
        if any(m.images for m in messages) and not self._capabilities.vision:
            raise ConfigError(
                f"the model {self._model!r} is configured without vision; "
                "choose a vision model (see `wxai llm models`)"
            )
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [_to_wire(m) for m in messages],
            "stream": stream,
            self.max_tokens_field: max_tokens,
        }
        if self.send_temperature:
            body["temperature"] = temperature
        if tools:
            body["tools"] = [t.to_openai() for t in tools]
        if json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": dict(json_schema),
                    "strict": self._capabilities.constrained_output,
                },
            }
        return body

    def _response(self, answer: Any) -> ChatResponse:
        if isinstance(answer, dict) and "error" in answer:
            raise ProviderResponseError(self.name, f"error from {self.url}: {_error_text(answer)}")
        try:
            choice = answer["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise ProviderResponseError(
                self.name, f"unexpected chat-completions answer: {str(answer)[:300]}"
            ) from None
        assembler = _ToolCallAssembler(self.name)
        assembler.add(
            [{"index": i, **call} for i, call in enumerate(message.get("tool_calls") or ())]
        )
        usage = answer.get("usage") or {}
        return ChatResponse(
            content=str(message.get("content") or ""),
            tool_calls=assembler.finish(),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            model=str(answer.get("model") or self._model),
            usage={k: v for k, v in usage.items() if isinstance(v, int)},
        )


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _ToolCallAssembler:
    """Collects streamed ``tool_calls`` fragments by ``index`` into complete calls."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.partial: dict[int, _PartialCall] = {}

    def add(self, fragments: Any) -> None:
        if not isinstance(fragments, list | tuple):
            raise ProviderResponseError(self.provider, f"malformed tool_calls: {fragments!r}")
        for position, fragment in enumerate(fragments):
            if not isinstance(fragment, dict):
                raise ProviderResponseError(self.provider, f"malformed tool call: {fragment!r}")
            index = fragment.get("index", position)
            call = self.partial.setdefault(int(index), _PartialCall())
            call.id = call.id or str(fragment.get("id") or "")
            function = fragment.get("function") or {}
            if not isinstance(function, dict):
                raise ProviderResponseError(self.provider, f"malformed tool call: {fragment!r}")
            name = str(function.get("name") or "")
            if name and name != call.name:  # some servers repeat the name in every fragment
                call.name += name
            arguments = function.get("arguments")
            if isinstance(arguments, dict):  # some servers send the object, not its text
                arguments = json.dumps(arguments)
            if arguments:
                call.arguments.append(str(arguments))

    def finish(self) -> tuple[ToolCall, ...]:
        calls = []
        for index in sorted(self.partial):
            call = self.partial[index]
            if not call.name:
                raise ProviderResponseError(self.provider, f"tool call #{index} has no name")
            text = "".join(call.arguments).strip() or "{}"
            arguments = decode_json(text, self.provider, f"arguments of tool {call.name!r}")
            if not isinstance(arguments, dict):
                raise ProviderResponseError(
                    self.provider, f"arguments of tool {call.name!r} are not a JSON object"
                )
            calls.append(ToolCall(call.name, arguments, call.id))
        self.partial.clear()
        return tuple(calls)


def _sse_data(line: str, provider: str) -> str | None:
    """The payload of an SSE ``data:`` line; ``None`` for blank, comment and other fields."""
    if not line.strip() or line.startswith(":"):
        return None
    field_name, sep, value = line.partition(":")
    if not sep:
        raise ProviderResponseError(
            provider, f"malformed stream line (not a server-sent event): {line[:300]!r}"
        )
    if field_name == "data":
        return value.removeprefix(" ").strip()
    if field_name in ("event", "id", "retry"):
        return None
    raise ProviderResponseError(
        provider, f"malformed stream line (unknown event field): {line[:300]!r}"
    )


def _error_text(item: Mapping[str, Any]) -> str:
    error = item.get("error")
    if isinstance(error, dict):
        error = error.get("message", error)
    return str(error)[:300]


def _to_wire(message: Message) -> dict[str, Any]:
    content: Any = message.content
    if message.images:
        content = [{"type": "text", "text": message.content}] + [
            {"type": "image_url", "image_url": {"url": image_data_url(image)}}
            for image in message.images
        ]
    wire: dict[str, Any] = {"role": message.role, "content": content}
    if message.tool_calls:
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    return wire
