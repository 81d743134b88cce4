"""The embedded local model: a GGUF shipped in a PyPI package, run by llama.cpp.

The model file comes from :mod:`wxai.core.assets` (``smollm2-135m-instruct`` by
default), so nothing is downloaded. :func:`load_engine` starts llama.cpp's server
(:mod:`xllamacpp`) once per process and setting in a child process,
:mod:`wxai.assistant.llm.llama_worker`, which listens on a loopback port behind a
random API key; :class:`LocalProvider` talks to it with the OpenAI-compatible
client. A child process keeps llama.cpp's native libraries apart from those of
the weather-data stack (netCDF4, cftime and ecCodes cannot share a process with
it), and a crash of the model cannot take the cockpit down: the next request
starts a new child.

The chat template stored in the GGUF formats the messages. Decoding is greedy
unless a temperature is given, so answers are reproducible. ``json_schema`` turns
on grammar-constrained decoding: every token the model may emit keeps the output a
prefix of a document valid for the schema.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wxai.assistant.llm.openai_compat import OpenAICompatibleProvider
from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message, ToolSpec
from wxai.core.errors import ConfigError, ProviderUnavailable

__all__ = ["LocalEngine", "LocalProvider", "load_engine"]

#: Seconds to wait for the child to load the model and announce its URL.
START_TIMEOUT_S = 120.0
#: Seconds one request may take (a long answer on a busy CPU).
REQUEST_TIMEOUT_S = 600.0

_ENGINES: dict[tuple[str, int, int], LocalEngine] = {}
_ENGINES_LOCK = threading.Lock()


@dataclass
class LocalEngine:
    """A running llama.cpp server process serving one GGUF model.

    Attributes
    ----------
    base_url:
        ``http://127.0.0.1:PORT`` of its OpenAI-compatible HTTP API.
    api_key:
        The random key the server requires; only this process knows it.
    """

    process: subprocess.Popen[bytes]
    base_url: str
    api_key: str
    model_path: str
    context_length: int
    log_path: Path

    @property
    def alive(self) -> bool:
        """Whether the server process still runs."""
        return self.process.poll() is None

    def close(self) -> None:
        """Stop the server process and delete its log."""
        if self.alive:
            if self.process.stdin is not None:
                self.process.stdin.close()  # the worker exits at EOF
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log_path.unlink(missing_ok=True)


def load_engine(asset: str, context_length: int = 2048, threads: int = 1) -> LocalEngine:
    """The llama.cpp server for the GGUF asset ``asset``, started on first use.

    One server runs per process and setting; a server that died is replaced.

    Raises
    ------
    AssetNotFound
        The package that ships the model is not installed (the message names it).
    ProviderUnavailable
        The server process did not start; the message has the end of its log.
    """
    from wxai.core.assets import resolve

    key = (asset, context_length, threads)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None or not engine.alive:
            if engine is not None:
                engine.close()
            engine = _start(resolve(asset), context_length, threads)
            atexit.register(engine.close)
            _ENGINES[key] = engine
        return engine


def _start(path: Path, context_length: int, threads: int) -> LocalEngine:
    api_key = secrets.token_hex(16)
    from wxai.assistant.llm.llama_worker import API_KEY_ENV

    fd, log_name = tempfile.mkstemp(prefix="wxai-llama-", suffix=".log")
    log_path = Path(log_name)
    command = [sys.executable, "-m", "wxai.assistant.llm.llama_worker"]
    command += [str(path), str(context_length), str(threads)]
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env={**os.environ, API_KEY_ENV: api_key},
        )
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_S)
    try:
        url = json.loads(line[0])["url"] if line and line[0] else None
    except (ValueError, KeyError):
        url = None
    if url is None:
        process.kill()
        process.wait(10)
        tail = log_path.read_text(errors="replace")[-2000:].strip()
        log_path.unlink(missing_ok=True)
        raise ProviderUnavailable(
            "local",
            f"the llama.cpp process for {path.name} did not start within "
            f"{START_TIMEOUT_S:.0f} s (exit code {process.returncode}); its log ends with:\n{tail}",
        )
    return LocalEngine(process, url, api_key, str(path), context_length, log_path)


class _LlamaServerClient(OpenAICompatibleProvider):
    """The OpenAI-compatible client, reporting errors as the ``local`` provider."""

    name = "local"


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
        """The running llama.cpp server of this model (started on first use)."""
        return load_engine(self.asset, self._context_length, self._threads)

    def _client(self) -> _LlamaServerClient:
        engine = self.engine
        return _LlamaServerClient(
            self.asset,
            engine.base_url,
            engine.api_key,
            timeout=REQUEST_TIMEOUT_S,
            capabilities=self.capabilities,
        )

    def _check(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None
    ) -> list[Message]:
        if tools:
            raise ConfigError(
                "the local model has no native tool calling; call tools through "
                "wxai.assistant.llm.tools, which uses schema-constrained decoding for it"
            )
        for message in messages:
            if message.images:
                raise ConfigError(f"the local model {self.asset!r} cannot read images")
        return [_to_wire(m) for m in messages]

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> ChatResponse:
        wire = self._check(messages, tools)
        return self._client().chat(
            wire, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
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

        Closing the iterator early (``break``, Ctrl-C, a dropped client) closes the
        HTTP stream, and llama.cpp stops generating at the next token.
        """
        wire = self._check(messages, tools)
        yield from self._client().stream(
            wire, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature
        )


def _to_wire(message: Message) -> Message:
    if message.role == "tool":
        # SmolLM2's template has no tool role; present the result as text the model reads.
        return Message.user(f"Tool result:\n{message.content}")
    return message
