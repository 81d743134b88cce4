"""The embedded local model: a GGUF shipped in a PyPI package, run in-process by llama.cpp.

The model file comes from :mod:`wxai.core.assets` (``smollm2-135m-instruct`` by
default), so nothing is downloaded. :mod:`xllamacpp` loads it once per process and
per setting (:func:`load_engine` caches the engine); the chat template stored in
the GGUF formats the messages. Decoding is greedy unless a temperature is given,
so answers are reproducible. ``json_schema`` turns on grammar-constrained decoding:
every token the model may emit keeps the output a prefix of a document valid for
the schema.
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message, ToolSpec
from wxai.core.errors import ConfigError, ProviderError, ProviderResponseError

__all__ = ["LocalEngine", "LocalProvider", "load_engine"]

_DONE = object()


@dataclass
class LocalEngine:
    """A loaded llama.cpp model; one request at a time (``lock``).

    llama.cpp also serves the model over its OpenAI-compatible HTTP API on a loopback
    port (:attr:`base_url`); requests there need ``api_key``, a random key made at
    load time that only this process knows.
    """

    server: Any
    model_path: str
    context_length: int
    lock: threading.Lock
    api_key: str = ""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of llama.cpp's HTTP listener in this process."""
        return str(self.server.listening_address)


@lru_cache(maxsize=4)
def load_engine(asset: str, context_length: int = 2048, threads: int = 1) -> LocalEngine:
    """Load the GGUF asset ``asset`` with llama.cpp; cached per process and setting.

    Raises
    ------
    AssetNotFound
        The package that ships the model is not installed (the message names it).
    """
    import xllamacpp

    from wxai.core.assets import resolve

    path = resolve(asset)
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = context_length
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = 0
    # llama.cpp also opens an HTTP listener on a loopback port; require a key nobody knows.
    api_key = secrets.token_hex(16)
    params.api_keys = [api_key]
    server = xllamacpp.Server(params)
    return LocalEngine(server, str(path), context_length, threading.Lock(), api_key)


class LocalProvider:
    """:class:`~wxai.assistant.llm.types.LLMProvider` for the embedded GGUF model.

    Parameters
    ----------
    asset:
        Name of a ``llm-gguf`` asset in :mod:`wxai.core.assets`.
    context_length:
        Context window (tokens) to allocate; the KV cache grows with it.
    threads:
        CPU threads for prompt processing and generation. The default, 1, is the
        fastest for this small, memory-bound model on a shared machine: llama.cpp's
        threads spin-wait for each other, and with more threads than free cores one
        answer measured 10-60x slower (2 threads on a busy 2-core box).
    """

    name = "local"

    def __init__(
        self, asset: str = "smollm2-135m-instruct", *, context_length: int = 2048, threads: int = 1
    ) -> None:
        if context_length < 256:
            raise ConfigError(f"context_length must be >= 256 tokens, got {context_length}")
        self.asset = asset
        self._context_length = context_length
        self._threads = threads

    @property
    def model(self) -> str:
        return self.asset

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            native_tools=False,
            vision=False,
            constrained_output=True,
            context_length=self._context_length,
        )

    @property
    def engine(self) -> LocalEngine:
        return load_engine(self.asset, self._context_length, self._threads)

    def _request(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None,
        json_schema: Mapping[str, Any] | None,
        max_tokens: int,
        temperature: float,
        stream: bool,
    ) -> dict[str, Any]:
        if tools:
            raise ConfigError(
                "the local model has no native tool calling; call tools through "
                "wxai.assistant.llm.tools, which uses schema-constrained decoding for it"
            )
        for message in messages:
            if message.images:
                raise ConfigError(f"the local model {self.asset!r} cannot read images")
        request: dict[str, Any] = {
            "messages": [_to_wire(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }
        if temperature == 0.0:
            request["top_k"] = 1
        if json_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(json_schema), "strict": True},
            }
        return request

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> ChatResponse:
        request = self._request(
            messages,
            tools=tools,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=False,
        )
        engine = self.engine
        with engine.lock:
            response = engine.server.handle_chat_completions(request)
        if not isinstance(response, dict) or "choices" not in response:
            raise ProviderResponseError(self.name, f"llama.cpp returned an error: {response}")
        choice = response["choices"][0]
        usage = response.get("usage", {})
        return ChatResponse(
            content=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            model=self.asset,
            usage={k: int(v) for k, v in usage.items() if isinstance(v, int)},
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
        """Yield the answer token by token while llama.cpp generates it.

        Generation runs in a worker thread that feeds a queue; the iterator yields
        from the queue, so the caller sees each token as soon as it exists. Closing
        the iterator early stops the generation at the next token.
        """
        request = self._request(
            messages,
            tools=tools,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
        )
        engine = self.engine
        chunks: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()

        def on_chunk(item: Any) -> bool:
            chunks.put(item)
            return stop.is_set()  # True makes llama.cpp stop generating

        def generate() -> None:
            try:
                with engine.lock:
                    result = engine.server.handle_chat_completions(request, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    chunks.put(ProviderResponseError(self.name, str(result["error"])))
            except Exception as exc:  # handed to the consuming thread
                chunks.put(ProviderError(self.name, f"generation failed: {exc}"))
            finally:
                chunks.put(_DONE)

        worker = threading.Thread(target=generate, name="wxai-local-llm", daemon=True)
        worker.start()
        try:
            while (item := chunks.get()) is not _DONE:
                if isinstance(item, Exception):
                    raise item
                chunk = _from_wire_chunk(item, self.name)
                if chunk is not None:
                    yield chunk
        finally:
            # The caller may stop early (break, Ctrl-C, a closed connection): end the
            # generation at the next token instead of running on to max_tokens.
            stop.set()
            worker.join()


def _to_wire(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "tool":
        # SmolLM2's template has no tool role; present the result as user-visible text.
        wire = {"role": "user", "content": f"Tool result:\n{message.content}"}
    return wire


def _from_wire_chunk(item: Any, provider: str) -> ChatChunk | None:
    if not isinstance(item, dict):
        raise ProviderResponseError(provider, f"unexpected stream item {item!r}")
    if "error" in item:
        raise ProviderResponseError(provider, str(item["error"]))
    choices = item.get("choices") or []
    if not choices:
        return None
    choice = choices[0]
    delta = (choice.get("delta") or {}).get("content") or ""
    finish = choice.get("finish_reason")
    if not delta and finish is None:
        return None
    return ChatChunk(delta=delta, finish_reason=finish)
