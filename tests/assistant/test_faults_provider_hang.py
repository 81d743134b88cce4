"""A language-model server that hangs must not hang wxai: bounded waits, visible errors.

A local TCP server plays three kinds of broken upstream: one that accepts and never
answers, one that sends headers and a first token and then stalls, and one that
trickles bytes forever. The providers end within their per-read ``timeout`` or their
whole-answer ``deadline`` with a :class:`ProviderUnavailable`, and the cockpit shows
the user an error: ``/api/llm/chat`` answers 502, or a stream ends with an error event.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from wxai.assistant.llm.ollama import OllamaProvider
from wxai.assistant.llm.openai_compat import OpenAICompatibleProvider
from wxai.assistant.llm.types import Message
from wxai.cockpit.app import create_app
from wxai.core.errors import ProviderUnavailable
from wxai.core.settings import Settings

TIMEOUT = 0.5  # seconds per read
BOUND = 5.0  # no fault may hold a caller longer than this in these tests
QUESTION = [Message.user("Will it rain?")]
FIRST = {"choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]}


class _Hanging(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "silent"
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _Hanging = self.server  # type: ignore[assignment]
        sock: socket.socket = self.request
        sock.settimeout(2.0)
        try:
            sock.recv(65536)  # the request (headers and small JSON body)
        except OSError:
            return
        head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: {}\r\n\r\n"
        try:
            if server.mode == "stall":
                sock.sendall(head.format("text/event-stream").encode())
                sock.sendall(_chunk(f"data: {json.dumps(FIRST)}\n\n"))
            elif server.mode == "stall-json":
                sock.sendall(head.format("application/json").encode())
                sock.sendall(_chunk('{"choices": ['))
            elif server.mode == "trickle":
                sock.sendall(head.format("text/event-stream").encode())
                while not server.release.is_set():
                    sock.sendall(_chunk(": keep-alive\n"))
                    time.sleep(0.05)
            server.release.wait(30)  # "silent" and the stalls: say nothing more
        except OSError:
            return


def _chunk(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@pytest.fixture
def hanging() -> Iterator[_Hanging]:
    server = _Hanging()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _openai(server: _Hanging, **kwargs) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider("m", f"{server.url}/v1", None, timeout=TIMEOUT, **kwargs)


def _timed(call) -> tuple[BaseException | None, float]:
    start = time.monotonic()
    try:
        call()
    except BaseException as exc:
        return exc, time.monotonic() - start
    return None, time.monotonic() - start


@pytest.mark.parametrize("mode", ["silent", "stall-json"])
def test_chat_ends_with_timeout_error(hanging, mode) -> None:
    hanging.mode = mode
    error, took = _timed(lambda: _openai(hanging).chat(QUESTION))
    assert isinstance(error, ProviderUnavailable), error
    assert "timeout" in str(error)
    assert hanging.url in str(error)
    assert took < BOUND


def test_stream_stalled_after_first_token_ends(hanging) -> None:
    hanging.mode = "stall"
    chunks = _openai(hanging).stream(QUESTION)
    assert next(chunks).delta == "Hel"  # the first token arrives
    error, took = _timed(lambda: list(chunks))
    assert isinstance(error, ProviderUnavailable), error
    assert took < BOUND


def test_trickling_server_meets_the_deadline(hanging) -> None:
    hanging.mode = "trickle"
    provider = _openai(hanging)
    provider._http.deadline = 1.0  # the keep-alives come every 0.05 s, below the timeout
    error, took = _timed(lambda: list(provider.stream(QUESTION)))
    assert isinstance(error, ProviderUnavailable), error
    assert "deadline" in str(error)
    assert 0.9 < took < BOUND


def test_ollama_silent_server_times_out(hanging) -> None:
    hanging.mode = "silent"
    provider = OllamaProvider("m", hanging.url, timeout=TIMEOUT)
    error, took = _timed(lambda: provider.chat(QUESTION))
    assert isinstance(error, ProviderUnavailable), error
    error, took = _timed(lambda: list(provider.stream(QUESTION)))
    assert isinstance(error, ProviderUnavailable), error
    assert took < BOUND


def test_deadline_must_be_positive() -> None:
    from wxai.assistant.llm._http import HttpEndpoint
    from wxai.core.errors import ConfigError

    with pytest.raises(ConfigError, match="deadline"):
        HttpEndpoint("x", timeout=1.0, deadline=0)
    assert HttpEndpoint("x", timeout=2.0).deadline == 20.0


# -- what the cockpit user sees --------------------------------------------------------


@pytest.fixture
def llm_client(tmp_path, hanging, monkeypatch) -> Iterator[TestClient]:
    """The cockpit, signed in as admin, whose models all live on the hanging server."""
    import wxai.cockpit.routers.llm as llm_router

    monkeypatch.setattr(llm_router, "get_provider", lambda alias=None, **_: _openai(hanging))
    settings = Settings(home=tmp_path / "home", database_url=None, tracking_uri=None)
    with TestClient(create_app(settings, start_worker=False)) as client:
        key = client.app.state.accounts.create_api_key("admin", "hang")  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {key.token}"
        client.app.state.chat_provider = lambda alias=None, **_: _openai(hanging)  # type: ignore[attr-defined]
        yield client


@pytest.mark.parametrize("stream", [False, True])
def test_api_llm_chat_answers_502_when_the_model_is_silent(llm_client, hanging, stream) -> None:
    hanging.mode = "silent"
    body = {"messages": [{"role": "user", "content": "Rain?"}], "stream": stream}
    start = time.monotonic()
    answer = llm_client.post("/api/llm/chat", json=body)
    assert time.monotonic() - start < BOUND
    assert answer.status_code == 502, answer.text
    assert "timeout" in answer.json()["detail"]


def test_api_llm_chat_stream_stalled_ends_with_error_event(llm_client, hanging) -> None:
    hanging.mode = "stall"
    body = {"messages": [{"role": "user", "content": "Rain?"}], "stream": True}
    start = time.monotonic()
    answer = llm_client.post("/api/llm/chat", json=body)
    assert time.monotonic() - start < BOUND
    assert answer.status_code == 200
    assert '{"delta": "Hel"}' in answer.text
    assert "event: error" in answer.text
    assert "timeout" in answer.text
    assert '"done": true' not in answer.text


@pytest.mark.parametrize("mode", ["silent", "stall"])
def test_chat_session_shows_an_error_part(llm_client, hanging, mode) -> None:
    hanging.mode = mode
    session = llm_client.post("/api/sessions", json={}).json()
    start = time.monotonic()
    answer = llm_client.post(
        f"/api/sessions/{session['id']}/messages",
        json={"text": "Explain what a neural network is."},
    )
    assert time.monotonic() - start < 30  # the first turn also loads the chat tools
    assert answer.status_code == 200, answer.text
    events = [block.split("\n", 1) for block in answer.text.strip().split("\n\n")]
    kinds = [head.removeprefix("event: ") for head, _ in events]
    assert "error" in kinds, answer.text
    error = json.loads(events[kinds.index("error")][1].removeprefix("data: "))
    assert error.get("message") or error.get("detail")
