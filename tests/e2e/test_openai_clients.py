"""Real OpenAI clients against a real cockpit: the ``openai`` package, LangChain, LangGraph.

The cockpit runs in its own uvicorn process; its ``vllm-core`` alias points at a fake
OpenAI-compatible upstream in a thread (fixed answers, tool calls, streaming), and
Ollama at a port nobody listens on, so the clients meet every answer they must
handle: completions, streams, tool calls, and OpenAI-shaped errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conftest import CockpitServer, _new_home

pytestmark = pytest.mark.e2e

ALIAS = "vllm-core"  # an openai-compatible alias of configs/models.yaml, native tools
TOOL = {
    "type": "function",
    "function": {
        "name": "get_temperature",
        "description": "The temperature at a place, in degrees Celsius",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


class FakeUpstream(ThreadingHTTPServer):
    """An OpenAI-compatible server with scripted answers; it records the request bodies."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def _message(body: dict[str, Any]) -> dict[str, Any]:
    last = body["messages"][-1]
    if last["role"] == "tool":
        return {"role": "assistant", "content": f"It is {last['content']} degrees in Offenbach."}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        arguments = json.dumps({"city": "Offenbach"})
        call = {"id": "call_fake1", "type": "function",
                "function": {"name": name, "arguments": arguments}}  # fmt: skip
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": "Hello from the fake upstream."}


class _Handler(BaseHTTPRequestHandler):
    server: FakeUpstream

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        message = _message(body)
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        if not body.get("stream"):
            usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
            answer = {"id": "x", "object": "chat.completion", "model": body["model"],
                      "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                      "usage": usage}  # fmt: skip
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        for i, word in enumerate((message.get("content") or "").split(" ")):
            if word:
                deltas.append({"content": word if i == 0 else " " + word})
        for call in message.get("tool_calls") or ():
            deltas.append({"tool_calls": [{"index": 0, **call}]})
        for delta in deltas:
            chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def cockpit(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[CockpitServer]:
    base = tmp_path_factory.mktemp("openai-cockpit")
    env = {
        "WXAI_VLLM_URL": upstream.url,
        "WXAI_OLLAMA_URL": "http://127.0.0.1:9",  # down: its aliases answer 502
        "WXAI_USER_MODELS": f"{ALIAS},local-fast",
        "WXAI_OFFLINE": "1",
    }
    server = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    yield server
    server.stop()


def _user_key(server: CockpitServer, name: str) -> str:
    """A new ordinary user and an API key of theirs, made as a browser would."""
    with server.client() as admin:
        assert admin.post("/api/admin/users", json={"name": name}).status_code == 201
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert browser.get(server.login_link(name)).status_code in (200, 303)
        csrf = browser.get("/api/me").json()["csrf_token"]
        made = browser.post("/api/me/keys", json={"label": "e2e"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        return made.json()["key"]


def _client(server: CockpitServer, key: str | None = None) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"{server.url}/v1", api_key=key or server.admin_key(), max_retries=0)


def test_openai_client_models_completions_streams_and_tools(
    cockpit: CockpitServer, upstream: FakeUpstream
) -> None:
    client = _client(cockpit)
    ids = [model.id for model in client.models.list()]
    assert ALIAS in ids and "local-fast" in ids  # admins: every alias that works now
    assert client.models.retrieve(ALIAS).owned_by == "vllm"

    answer = client.chat.completions.create(
        model=ALIAS, messages=[{"role": "user", "content": "Hi"}], max_tokens=20
    )
    assert answer.id.startswith("chatcmpl-") and answer.model == ALIAS
    assert answer.choices[0].message.content == "Hello from the fake upstream."
    assert answer.usage is not None and answer.usage.total_tokens == 17
    assert upstream.bodies[-1]["model"] == "Qwen/Qwen2.5-7B-Instruct"  # the alias's model

    stream = client.chat.completions.create(
        model=ALIAS, messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the fake upstream."
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0

    asked = [{"role": "user", "content": "How warm is it in Offenbach?"}]
    first = client.chat.completions.create(model=ALIAS, messages=asked, tools=[TOOL])
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_temperature"
    assert json.loads(call.function.arguments) == {"city": "Offenbach"}
    assert upstream.bodies[-1]["tools"][0]["function"]["name"] == "get_temperature"
    history = [*asked, first.choices[0].message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": "21"}]  # fmt: skip
    second = client.chat.completions.create(model=ALIAS, messages=history, tools=[TOOL])
    assert second.choices[0].message.content == "It is 21 degrees in Offenbach."
    streamed = client.chat.completions.create(
        model=ALIAS, messages=asked, tools=[TOOL], stream=True
    )
    fragments = [tc for c in streamed if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert fragments[0].function.name == "get_temperature"


def test_openai_client_errors_and_foreign_sessions(cockpit: CockpitServer) -> None:
    import openai

    admin = _client(cockpit)
    hi = [{"role": "user", "content": "Hi"}]
    with pytest.raises(openai.AuthenticationError):
        _client(cockpit, "wxai_not-a-key").models.list()
    with pytest.raises(openai.NotFoundError, match=ALIAS):
        admin.chat.completions.create(model="gpt-17", messages=hi)
    with pytest.raises(openai.BadRequestError, match="n must be 1"):
        admin.chat.completions.create(model=ALIAS, messages=hi, n=2)
    with pytest.raises(openai.BadRequestError, match=ALIAS):
        admin.chat.completions.create(model="local-fast", messages=hi, tools=[TOOL])  # type: ignore[list-item]
    with pytest.raises(openai.APIStatusError) as down:
        admin.chat.completions.create(model="ollama-core", messages=hi, stream=True)
    assert down.value.status_code == 502

    bob = _client(cockpit, _user_key(cockpit, "bob"))
    assert [m.id for m in bob.models.list()] == ["local-fast", ALIAS]
    with pytest.raises(openai.PermissionDeniedError):
        bob.chat.completions.create(model="openai-core", messages=hi)

    # the cockpit's own tools, in a session of the caller's
    question = [{"role": "user", "content": "convert 10 m/s to km/h"}]
    mine = admin.chat.completions.create(model=ALIAS, messages=question,
                                         extra_body={"wxai_tools": True})  # fmt: skip
    assert "36" in (mine.choices[0].message.content or "")
    session = (mine.model_extra or {})["wxai_session"]
    # another user's key can neither continue nor read that session
    with pytest.raises(openai.NotFoundError):
        stolen = {"wxai_tools": True, "wxai_session": session}
        bob.chat.completions.create(model=ALIAS, messages=question, extra_body=stolen)
    with cockpit.client() as api:
        assert len(api.get(f"/api/sessions/{session}/messages").json()) == 2


def test_langchain_and_langgraph_use_the_cockpit(cockpit: CockpitServer) -> None:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    model = ChatOpenAI(
        model=ALIAS, base_url=f"{cockpit.url}/v1", api_key=cockpit.admin_key(), max_retries=0
    )
    assert model.invoke("Hi").content == "Hello from the fake upstream."
    assert "".join(str(c.content) for c in model.stream("Hi")) == "Hello from the fake upstream."

    @tool
    def get_temperature(city: str) -> str:
        """The temperature at a place, in degrees Celsius."""
        return "19" if city == "Offenbach" else "0"

    bound = model.bind_tools([get_temperature])
    graph = StateGraph(MessagesState)
    graph.add_node("model", lambda state: {"messages": [bound.invoke(state["messages"])]})
    graph.add_node("tools", ToolNode([get_temperature]))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    result = graph.compile().invoke({"messages": [("user", "How warm is it in Offenbach?")]})
    kinds = [m.type for m in result["messages"]]
    assert kinds == ["human", "ai", "tool", "ai"]
    assert result["messages"][-1].content == "It is 19 degrees in Offenbach."
