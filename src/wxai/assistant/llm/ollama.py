"""Ollama's REST API (``/api/chat``, ``/api/generate``) as an ``LLMProvider``.

Ollama streams newline-delimited JSON: one object per line, each carrying the
next piece of text, the last one ``"done": true`` with the token counts. Tools
are offered in the OpenAI ``tools`` shape and come back as complete calls in
``message.tool_calls`` (arguments already a JSON object); images travel as
base64 strings in a message's ``images``; ``format`` set to a JSON Schema makes
Ollama constrain the output to that schema.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

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

__all__ = ["DEFAULT_OLLAMA_URL", "OllamaProvider"]

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"


class OllamaProvider:
    """:class:`~wxai.assistant.llm.types.LLMProvider` for a model served by Ollama.

    Parameters
    ----------
    model:
        Model name as Ollama knows it (``ollama list``), e.g. ``"llama3.2:3b"``.
    base_url:
        Ollama's address; a trailing ``/api`` is accepted and dropped.
    timeout:
        Seconds to wait for the connection and between two streamed pieces. The
        first request after ``ollama serve`` may load the model for a while.
    capabilities:
        What the model can do (from ``configs/models.yaml``); tools or images are
        refused up front when the model lacks them.
    base_url_env:
        Environment variable that overrides ``base_url``, named in error messages.
    """

    name = "ollama"

    def __init__(
        self,
        model: str,
        base_url: str = DEFAULT_OLLAMA_URL,
        *,
        timeout: float = 120.0,
        capabilities: Capabilities | None = None,
        base_url_env: str | None = "WXAI_OLLAMA_URL",
    ) -> None:
        url = check_base_url(base_url, "Ollama")
        self.base_url = url.removesuffix("/api")
        self._model = model
        self._capabilities = capabilities or Capabilities(
            native_tools=True, vision=False, constrained_output=True, context_length=8192
        )
        where = f" or set {base_url_env} to where it runs" if base_url_env else ""
        self._http = HttpEndpoint(
            self.name,
            timeout=timeout,
            unreachable_hint=f"is Ollama running? start it with `ollama serve`{where}",
            status_hints={404: f"is the model pulled? run `ollama pull {model}`"},
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    # -- chat -------------------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> ChatResponse:
        body = self._chat_body(
            messages,
            tools=tools,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=False,
        )
        answer = self._http.post_json(f"{self.base_url}/api/chat", body)
        if not isinstance(answer, dict) or not isinstance(answer.get("message"), dict):
            raise ProviderResponseError(self.name, f"unexpected /api/chat answer: {answer!r}")
        message = answer["message"]
        return ChatResponse(
            content=str(message.get("content") or ""),
            tool_calls=self._tool_calls(message),
            finish_reason=str(answer.get("done_reason") or "stop"),
            model=str(answer.get("model") or self._model),
            usage=_usage(answer),
        )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Iterator[ChatChunk]:
        """Yield the answer piece by piece as Ollama sends its JSON lines."""
        body = self._chat_body(
            messages,
            tools=tools,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
        )
        done = False
        for item in self._json_lines(f"{self.base_url}/api/chat", body):
            message = item.get("message") or {}
            if not isinstance(message, dict):
                raise ProviderResponseError(self.name, f"malformed stream chunk: {item!r}")
            delta = str(message.get("content") or "")
            calls = self._tool_calls(message)
            done = bool(item.get("done"))
            finish = str(item.get("done_reason") or "stop") if done else None
            if delta or calls or finish:
                yield ChatChunk(delta=delta, tool_calls=calls, finish_reason=finish)
            if done:
                break
        if not done:
            raise ProviderResponseError(self.name, "the stream ended before the answer was done")

    # -- generate ---------------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> str:
        """Complete ``prompt`` with ``/api/generate`` (no chat template roles)."""
        body = self._generate_body(prompt, system, max_tokens, temperature, False)
        answer = self._http.post_json(f"{self.base_url}/api/generate", body)
        if not isinstance(answer, dict) or "response" not in answer:
            raise ProviderResponseError(self.name, f"unexpected /api/generate answer: {answer!r}")
        return str(answer["response"])

    def stream_generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Iterator[str]:
        """Yield the completion of ``prompt`` piece by piece (``/api/generate``, streamed)."""
        body = self._generate_body(prompt, system, max_tokens, temperature, True)
        done = False
        for item in self._json_lines(f"{self.base_url}/api/generate", body):
            text = item.get("response", "")
            if not isinstance(text, str):
                raise ProviderResponseError(self.name, f"malformed stream chunk: {item!r}")
            if text:
                yield text
            if item.get("done"):
                done = True
                break
        if not done:
            raise ProviderResponseError(self.name, "the stream ended before the answer was done")

    # -- wire format ------------------------------------------------------------------

    def _options(self, max_tokens: int, temperature: float) -> dict[str, Any]:
        options: dict[str, Any] = {"num_predict": max_tokens, "temperature": temperature}
        if temperature == 0.0:
            options["top_k"] = 1
        return options

    def _chat_body(
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
                f"the Ollama model {self._model!r} is configured without native tool "
                "calling; call tools through wxai.assistant.llm.tools instead"
            )
        if any(m.images for m in messages) and not self._capabilities.vision:
            raise ConfigError(
                f"the Ollama model {self._model!r} is configured without vision; "
                "choose a vision model (see `wxai llm models`)"
            )
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [_to_wire(m) for m in messages],
            "stream": stream,
            "options": self._options(max_tokens, temperature),
        }
        if tools:
            body["tools"] = [t.to_openai() for t in tools]
        if json_schema is not None:
            body["format"] = dict(json_schema)
        return body

    def _generate_body(
        self, prompt: str, system: str | None, max_tokens: int, temperature: float, stream: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "prompt": prompt,
            "stream": stream,
            "options": self._options(max_tokens, temperature),
        }
        if system is not None:
            body["system"] = system
        return body

    def _json_lines(self, url: str, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for _, line in self._http.stream_lines(url, body):
            if not line.strip():
                continue
            item = decode_json(line, self.name, "stream line")
            if not isinstance(item, dict):
                raise ProviderResponseError(self.name, f"malformed stream chunk: {line[:300]!r}")
            if "error" in item:
                raise ProviderResponseError(self.name, f"error from {url}: {item['error']}")
            yield item

    def _tool_calls(self, message: Mapping[str, Any]) -> tuple[ToolCall, ...]:
        calls = []
        for raw in message.get("tool_calls") or ():
            function = raw.get("function") if isinstance(raw, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise ProviderResponseError(self.name, f"malformed tool call: {raw!r}")
            arguments = function.get("arguments") or {}
            if isinstance(arguments, str):
                arguments = decode_json(arguments, self.name, f"arguments of {function['name']}")
            if not isinstance(arguments, dict):
                raise ProviderResponseError(
                    self.name, f"arguments of tool {function['name']!r} are not an object"
                )
            calls.append(ToolCall(function["name"], arguments, str(raw.get("id") or "")))
        return tuple(calls)


def _to_wire(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.images:
        wire["images"] = [base64.b64encode(image).decode("ascii") for image in message.images]
    if message.tool_calls:
        wire["tool_calls"] = [
            {"function": {"name": call.name, "arguments": dict(call.arguments)}}
            for call in message.tool_calls
        ]
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    return wire


def _usage(answer: Mapping[str, Any]) -> dict[str, int]:
    usage = {}
    for theirs, ours in (
        ("prompt_eval_count", "prompt_tokens"),
        ("eval_count", "completion_tokens"),
    ):
        value = answer.get(theirs)
        if isinstance(value, int):
            usage[ours] = value
    if len(usage) == 2:
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage
