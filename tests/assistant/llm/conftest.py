"""Local servers speaking Ollama's and OpenAI's chat protocols, for the provider clients.

Both run as real uvicorn servers in a thread on a free loopback port. What a fake
model does is chosen by its name (the request's ``model``):

``echo``     answers "You said: <last user text>", streamed in small pieces
``tools``    asks for tools (OpenAI: argument fragments split and interleaved)
``badargs``  asks for a tool with arguments that are not JSON
``broken``   a good piece, then a line that is not JSON
``garbage``  (OpenAI) a line that is not a server-sent event
``cut``      the stream stops before it is done
``errline``  (Ollama) an ``{"error": ...}`` line in the middle of the stream
``slow``     sleeps ``SLOW_S`` seconds before answering
``fail``     HTTP 500 with an error message
``missing``  HTTP 404 (Ollama: model not pulled)
``plain``    (OpenAI) ignores ``stream`` and answers one JSON document

Every request body is kept in ``server.requests`` for checks of the wire format.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

SLOW_S = 1.5
API_KEY = "sk-test-123"


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pieces(text: str) -> list[str]:
    """``text`` cut into pieces of up to 4 characters, like tokens."""
    return [text[i : i + 4] for i in range(0, len(text), 4)]


def _echo(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1]["content"] if users else body.get("prompt", "")
    if isinstance(content, list):  # OpenAI multi-part content
        content = " ".join(p.get("text", "") for p in content if p.get("type") == "text")
    return f"You said: {content}"


class FakeServer:
    """A FastAPI app served by uvicorn in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        app.state.fake = self
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="error", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> FakeServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


async def _record(request: Request) -> dict[str, Any]:
    body = await request.json()
    fake: FakeServer = request.app.state.fake
    fake.requests.append(body)
    fake.headers.append(dict(request.headers))
    return body


# -- Ollama ---------------------------------------------------------------------------


def _ollama_app() -> FastAPI:
    app = FastAPI()

    async def answer(request: Request, kind: str) -> Response:
        body = await _record(request)
        model = body.get("model")
        if model == "slow":
            await asyncio.sleep(SLOW_S)
        if model == "fail":
            return JSONResponse({"error": "llama runner process has terminated"}, 500)
        if model == "missing":
            return JSONResponse({"error": f'model "{model}" not found, try pulling it first'}, 404)
        text = _echo(body)

        def item(piece: str, done: bool, calls: list[dict[str, Any]] | None = None) -> dict:
            base: dict[str, Any] = {"model": model, "created_at": "2025-01-01T00:00:00Z"}
            if kind == "chat":
                message: dict[str, Any] = {"role": "assistant", "content": piece}
                if calls:
                    message["tool_calls"] = calls
                base["message"] = message
            else:
                base["response"] = piece
            base["done"] = done
            if done:
                base.update(done_reason="stop", prompt_eval_count=7, eval_count=5)
            return base

        calls = None
        if model == "tools":
            text = ""
            calls = [
                {"function": {"name": "get_weather", "arguments": {"city": "Reading"}}},
                {"function": {"name": "get_time", "arguments": {}}},
            ]
        elif model == "badargs":
            text, calls = "", [{"function": {"name": "get_weather", "arguments": "{oops"}}]
        if not body.get("stream", True):
            if model == "broken":
                return Response("this is not json", media_type="application/json")
            return JSONResponse(item(text, True, calls))

        async def lines() -> AsyncIterator[bytes]:
            for piece in _pieces(text):
                yield (json.dumps(item(piece, False)) + "\n").encode()
                if model == "broken":
                    yield b"this is not json\n"
                    return
                if model == "errline":
                    yield b'{"error": "out of memory"}\n'
                    return
            if model == "cut":
                return
            yield (json.dumps(item("", True, calls)) + "\n").encode()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        return await answer(request, "chat")

    @app.post("/api/generate")
    async def generate(request: Request) -> Response:
        return await answer(request, "generate")

    return app


# -- OpenAI ---------------------------------------------------------------------------


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    item = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(item)}\n\n".encode()


# Tool-call fragments as OpenAI streams them: id and name first, then pieces of the
# arguments' JSON text, the two calls interleaved.
TOOL_DELTAS: list[dict[str, Any]] = [
    {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    },
    {"index": 0, "function": {"arguments": '{"ci'}},
    {
        "index": 1,
        "id": "call_b",
        "type": "function",
        "function": {"name": "get_time", "arguments": '{"tz": '},
    },
    {"index": 0, "function": {"arguments": 'ty": "Read'}},
    {"index": 1, "function": {"arguments": '"UTC"}'}},
    {"index": 0, "function": {"arguments": 'ing", "days": 2}'}},
]


def _openai_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await _record(request)
        fake: FakeServer = request.app.state.fake
        key = getattr(fake, "api_key", None)
        if key and request.headers.get("authorization") != f"Bearer {key}":
            error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
            return JSONResponse({"error": error}, 401)
        model = body.get("model")
        if model == "slow":
            await asyncio.sleep(SLOW_S)
        if model == "fail":
            return JSONResponse({"error": {"message": "The server had an error"}}, 500)
        text = _echo(body)
        calls: list[dict[str, Any]] = []
        if model == "tools":
            text = ""
            calls = [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Reading"}'},
                }
            ]
        elif model == "badargs":
            calls = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{x"}}]
        if not body.get("stream") or model == "plain":
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = calls
            finish = "tool_calls" if calls else "stop"
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
                }
            )

        async def events() -> AsyncIterator[bytes]:
            yield b": keep-alive\n\n"
            yield _chunk({"role": "assistant", "content": ""})
            if model == "tools":
                for fragment in TOOL_DELTAS:
                    yield _chunk({"tool_calls": [fragment]})
                yield _chunk({}, "tool_calls")
                yield b"data: [DONE]\n\n"
                return
            if model == "badargs":
                yield _chunk({"tool_calls": [{"index": 0, **calls[0]}]})
                yield _chunk({}, "tool_calls")
                yield b"data: [DONE]\n\n"
                return
            for piece in _pieces(text):
                yield _chunk({"content": piece})
                if model == "broken":
                    yield b'data: {"choices": [{"delta": \n\n'
                    return
                if model == "garbage":
                    yield b"<html>proxy error</html>\n\n"
                    return
            if model == "cut":
                return
            yield _chunk({}, "stop")
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[FakeServer]:
    """A local server speaking Ollama's ``/api/chat`` and ``/api/generate``."""
    server = FakeServer(_ollama_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeServer]:
    """A local server speaking OpenAI's ``/v1/chat/completions`` (no API key)."""
    server = FakeServer(_openai_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server_with_key() -> Iterator[FakeServer]:
    """Like :func:`openai_server` but it requires ``Authorization: Bearer API_KEY``."""
    server = FakeServer(_openai_app())
    server.api_key = API_KEY  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL with nothing listening (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"
