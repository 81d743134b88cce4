"""The OpenAI-compatible ``/v1/`` API: shapes, streaming, tools, wxai turns, errors.

A scripted stand-in provider replaces the models (``app.state.chat_provider``), so
the tests see exactly what the routes send to a model and what they make of its answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wxai.assistant.llm.tools.tool import Tool, ToolRegistry
from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, ToolCall
from wxai.cockpit.chat_tools import ChatToolbox, build_chat_tools
from wxai.core.errors import ProviderResponseError, ProviderUnavailable

TOOLS_ALIAS = "ollama-core"  # native tool calls in configs/models.yaml
PLAIN_ALIAS = "local-fast"  # no native tool calls
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_temperature",
        "description": "Temperature at a place",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class ScriptedProvider:
    """A provider that records every call and answers from a script."""

    name = "scripted"
    model = "scripted-1"
    capabilities = Capabilities(native_tools=True, constrained_output=True)

    def __init__(self, fail: Exception | None = None, fail_after: int | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail
        self.fail_after = fail_after

    def _answer(self, messages, tools) -> tuple[str, tuple[ToolCall, ...]]:
        if tools and messages[-1].role == "user":
            return "", (ToolCall(tools[0].name, {"city": "Offenbach"}, "call_abc"),)
        if messages[-1].role == "tool":
            return f"It is {messages[-1].content} degrees.", ()
        return "Hello from the scripted model.", ()

    def chat(self, messages, *, tools=None, json_schema=None, max_tokens=512, temperature=0.0):
        self.calls.append({"messages": list(messages), "tools": tools, "json_schema": json_schema,
                           "max_tokens": max_tokens, "temperature": temperature})  # fmt: skip
        if self.fail is not None:
            raise self.fail
        text, calls = self._answer(messages, tools)
        finish = "tool_calls" if calls else "stop"
        return ChatResponse(
            text, calls, finish, self.model, {"prompt_tokens": 11, "completion_tokens": 7}
        )

    def stream(self, messages, *, tools=None, json_schema=None, max_tokens=512, temperature=0.0
               ) -> Iterator[ChatChunk]:  # fmt: skip
        self.calls.append({"messages": list(messages), "tools": tools, "stream": True})
        if self.fail is not None and self.fail_after is None:
            raise self.fail
        text, calls = self._answer(messages, tools)
        for i, word in enumerate(text.split(" ")):
            if self.fail_after is not None and i == self.fail_after:
                raise self.fail  # type: ignore[misc]
            yield ChatChunk(delta=word if i == 0 else " " + word)
        yield ChatChunk(tool_calls=calls, finish_reason="stop")


@pytest.fixture
def scripted(client) -> ScriptedProvider:
    provider = ScriptedProvider()
    client.app.state.chat_provider = lambda alias: provider  # type: ignore[attr-defined]
    return provider


def _key(client: TestClient, name: str) -> dict[str, str]:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user(name, "correct-horse-battery")
    return {"Authorization": f"Bearer {accounts.create_api_key(name, 't').token}"}


def _events(response) -> list[Any]:
    """The ``data:`` payloads of a stream, ``[DONE]`` as the string."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in response.text.strip().split("\n\n"):
        assert block.startswith("data: "), block
        data = block.removeprefix("data: ")
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


def _chat(client: TestClient, headers: dict[str, str] | None = None, **body: Any):
    body.setdefault("model", TOOLS_ALIAS)
    body.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return client.post("/v1/chat/completions", json=body, headers=headers or {})


# -- models and access ---------------------------------------------------------------------


def test_models_follow_user_models_for_users_not_admins(client, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app = client.app
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"user_models": f"{PLAIN_ALIAS}, {TOOLS_ALIAS}"}
    )
    listed = client.get("/v1/models").json()
    assert listed["object"] == "list" and len(listed["data"]) > 2
    assert {m["object"] for m in listed["data"]} == {"model"}
    assert {"id": "ollama-core", "owned_by": "ollama"}.items() <= next(
        m for m in listed["data"] if m["id"] == "ollama-core").items()  # fmt: skip
    # openai-* need OPENAI_API_KEY on the server: not offered while it is unset
    assert "openai-core" not in {m["id"] for m in listed["data"]}
    bob = _key(client, "bob")
    mine = client.get("/v1/models", headers=bob).json()["data"]
    assert [m["id"] for m in mine] == [PLAIN_ALIAS, TOOLS_ALIAS]
    assert isinstance(mine[0]["created"], int)
    assert client.get(f"/v1/models/{TOOLS_ALIAS}", headers=bob).json()["id"] == TOOLS_ALIAS
    denied = client.get("/v1/models/openai-core", headers=bob)
    assert denied.status_code == 403
    assert denied.json()["error"]["type"] == "permission_error"
    assert client.get("/v1/models/openai-core").status_code == 200  # admin
    blocked = _chat(client, bob, model="openai-core")
    assert blocked.status_code == 403 and PLAIN_ALIAS in blocked.json()["error"]["message"]
    unknown = client.get("/v1/models/gpt-17", headers=bob)
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert error["type"] == "not_found_error" and TOOLS_ALIAS in error["message"]
    assert _chat(client, bob, model="gpt-17").status_code == 404


def test_v1_needs_a_valid_key(client) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wxai_forged"}):
        answer = client.get("/v1/models", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "authentication_error"
        assert _chat(client, headers).status_code == 401


# -- plain completions ---------------------------------------------------------------------


def test_completion_shape_usage_and_token_accounting(client, scripted) -> None:
    seen: list[dict[str, Any]] = []
    app = client.app

    async def recording(scope, receive, send) -> None:
        await app(scope, receive, send)
        seen.append(dict(scope.get("state") or {}))

    spy = TestClient(recording, headers=dict(client.headers))
    answer = spy.post("/v1/chat/completions", json={
        "model": TOOLS_ALIAS, "max_completion_tokens": 40, "temperature": 0.3,
        "messages": [{"role": "developer", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Hi"},
                                                  {"type": "text", "text": "there"}]}],
        # fields wxai does not use are accepted, not rejected
        "top_p": 0.9, "stop": ["\n\n"], "user": "u-1", "seed": 3, "logit_bias": {},
        "parallel_tool_calls": True, "frequency_penalty": 0, "metadata": {"k": "v"},
    })  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == TOOLS_ALIAS and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["message"] == {
        "role": "assistant", "content": "Hello from the scripted model.", "refusal": None
    }  # fmt: skip
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert seen[-1]["usage_tokens"] == 18
    call = scripted.calls[-1]
    assert [(m.role, m.content) for m in call["messages"]] == [
        ("system", "Be brief."), ("user", "Hi\n\nthere")
    ]  # fmt: skip
    assert call["max_tokens"] == 40 and call["temperature"] == 0.3 and call["tools"] is None


def test_bad_bodies_answer_400_in_openai_shape(client, scripted) -> None:
    cases = [
        {"n": 2},
        {"messages": []},
        {"messages": [{"role": "wizard", "content": "x"}]},
        {"messages": [{"role": "tool", "content": "3"}]},  # no tool_call_id
        {"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": {"name": "x"}}},
        {"model": PLAIN_ALIAS, "tools": [WEATHER_TOOL]},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
        {"messages": [{"role": "assistant", "content": "",
                       "tool_calls": [{"id": "c", "type": "function",
                                       "function": {"name": "f", "arguments": "{nope"}}]}]},
    ]  # fmt: skip
    for case in cases:
        answer = _chat(client, **case)
        assert answer.status_code == 400, (case, answer.text)
        assert answer.json()["error"]["type"] == "invalid_request_error"
    no_tools = _chat(client, model=PLAIN_ALIAS, tools=[WEATHER_TOOL]).json()["error"]["message"]
    assert TOOLS_ALIAS in no_tools and PLAIN_ALIAS in no_tools
    raw = client.post(
        "/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert raw.status_code == 400 and "error" in raw.json()
    assert scripted.calls == []  # nothing reached the model


def test_tool_calls_pass_through_and_round_trip(client, scripted) -> None:
    first = _chat(client, tools=[WEATHER_TOOL], tool_choice="auto").json()
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["id"] == "call_abc" and call["type"] == "function"
    assert call["function"]["name"] == "get_temperature"
    assert json.loads(call["function"]["arguments"]) == {"city": "Offenbach"}
    (spec,) = scripted.calls[-1]["tools"]
    assert spec.name == "get_temperature" and spec.parameters["properties"]["city"]
    history = [
        {"role": "user", "content": "Temperature in Offenbach?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "21"},
    ]
    second = _chat(client, messages=history, tools=[WEATHER_TOOL]).json()
    assert second["choices"][0]["message"]["content"] == "It is 21 degrees."
    sent = scripted.calls[-1]["messages"]
    assert sent[1].tool_calls == (ToolCall("get_temperature", {"city": "Offenbach"}, "call_abc"),)
    assert sent[2].role == "tool" and sent[2].tool_call_id == "call_abc"
    _chat(client, tools=[WEATHER_TOOL], tool_choice="none")
    assert scripted.calls[-1]["tools"] is None
    # without tool calling, "none" strips the tools instead of refusing the request
    assert (
        _chat(client, model=PLAIN_ALIAS, tools=[WEATHER_TOOL], tool_choice="none").status_code
        == 200
    )
    other = {**WEATHER_TOOL, "function": {**WEATHER_TOOL["function"], "name": "other"}}
    named = {"type": "function", "function": {"name": "other"}}
    _chat(client, tools=[WEATHER_TOOL, other], tool_choice=named)
    assert [s.name for s in scripted.calls[-1]["tools"]] == ["other"]
    schema = {"type": "object", "properties": {"t": {"type": "number"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}}
    _chat(client, response_format=fmt)
    assert scripted.calls[-1]["json_schema"] == schema


# -- streaming -----------------------------------------------------------------------------


def test_stream_chunks_usage_and_done(client, scripted) -> None:
    answer = _chat(client, stream=True, stream_options={"include_usage": True})
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["x-accel-buffering"] == "no"
    events = _events(answer)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hello from the scripted model."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    plain = _events(_chat(client, stream=True))
    assert "usage" not in plain[-2] and plain[-2]["choices"][0]["finish_reason"] == "stop"


def test_stream_tool_call_deltas(client, scripted) -> None:
    chunks = _events(_chat(client, stream=True, tools=[WEATHER_TOOL]))[:-1]
    deltas = [
        c["choices"][0]["delta"] for c in chunks if c["choices"][0]["delta"].get("tool_calls")
    ]
    (fragment,) = deltas[0]["tool_calls"]
    assert fragment["index"] == 0 and fragment["id"] == "call_abc"
    assert json.loads(fragment["function"]["arguments"]) == {"city": "Offenbach"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_provider_down_is_502_before_and_error_event_after_the_start(client) -> None:
    down = ScriptedProvider(fail=ProviderUnavailable("ollama", "connection refused at :9"))
    client.app.state.chat_provider = lambda alias: down  # type: ignore[attr-defined]
    for stream in (False, True):
        answer = _chat(client, stream=stream)
        assert answer.status_code == 502, answer.text
        error = answer.json()["error"]
        assert error["type"] == "server_error" and "connection refused" in error["message"]
    broken = ScriptedProvider(fail=ProviderResponseError("ollama", "garbage"), fail_after=2)
    client.app.state.chat_provider = lambda alias: broken  # type: ignore[attr-defined]
    events = _events(_chat(client, stream=True))
    assert events[-1] == "[DONE]" and "garbage" in events[-2]["error"]["message"]
    assert events[1]["choices"][0]["delta"]["content"] == "Hello"


# -- wxai_tools: the cockpit's own chat ----------------------------------------------------


def _ask(client, text: str, headers=None, **extra: Any):
    return _chat(client, headers, messages=[{"role": "user", "content": text}],
                 wxai_tools=True, **extra)  # fmt: skip


def test_wxai_tools_runs_a_turn_in_a_new_then_the_same_session(client, scripted) -> None:
    first = _ask(client, "convert 10 m/s to km/h")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (
        "36" in body["choices"][0]["message"]["content"]
        and "km/h" in body["choices"][0]["message"]["content"]
    )
    sid = body["wxai_session"]
    session = client.get(f"/api/sessions/{sid}").json()
    assert session["title"] == "convert 10 m/s to km/h"
    stored = client.get(f"/api/sessions/{sid}/messages").json()
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["parts"][0]["name"] == "convert_units"
    chunks = _events(_ask(client, "convert 20 m/s to km/h", stream=True, wxai_session=sid))[:-1]
    assert chunks[0]["wxai_session"] == sid
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "72" in text
    assert len(client.get(f"/api/sessions/{sid}/messages").json()) == 4
    assert scripted.calls == []  # the rule answered without a model


def test_wxai_session_of_another_user_is_unreachable(client, scripted) -> None:
    sid = _ask(client, "convert 10 m/s to km/h").json()["wxai_session"]
    mallory = _key(client, "mallory")
    for stream in (False, True):
        stolen = _ask(client, "convert 5 m/s to km/h", mallory, wxai_session=sid, stream=stream)
        assert stolen.status_code == 404, stolen.text
        assert stolen.json()["error"]["type"] == "not_found_error"
    assert len(client.get(f"/api/sessions/{sid}/messages").json()) == 2  # nothing appended
    assert client.get(f"/api/sessions/{sid}/messages", headers=mallory).status_code == 404
    own = _ask(client, "convert 5 m/s to km/h", mallory).json()["wxai_session"]
    assert own != sid
    assert [s["id"] for s in client.get("/api/sessions", headers=mallory).json()] == [own]


def test_wxai_turn_whose_model_is_down_is_502(client) -> None:
    down = ScriptedProvider(fail=ProviderUnavailable("ollama", "connection refused at :9"))
    client.app.state.chat_provider = lambda alias: down  # type: ignore[attr-defined]
    answer = _ask(client, "Explain the Fourier transform in one sentence")
    assert answer.status_code == 502, answer.text
    assert "connection refused" in answer.json()["error"]["message"]
    assert _ask(client, "convert 1 m/s\x00 to km/h").status_code == 400
    only_system = [{"role": "system", "content": "x"}]
    assert _chat(client, messages=only_system, wxai_tools=True).status_code == 400


def test_wxai_stream_ends_when_the_user_is_disabled_meanwhile(client, scripted) -> None:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    carol = _key(client, "carol")

    def disabling(question: str, model: str = "auto") -> dict[str, Any]:
        worker = threading.Thread(target=accounts.set_disabled, args=("carol", True))
        worker.start()
        worker.join()
        return {"text": "should never be shown", "values": []}

    def toolbox(request, user) -> ChatToolbox:
        box = build_chat_tools(request.app.state, user, request.app.state.settings.home)
        real = box.registry.get("get_weather_forecast")
        others = [t for t in box.registry if t.name != real.name]
        return ChatToolbox(ToolRegistry([Tool(real.spec, disabling, real.model), *others]),
                           box.figures, user)  # fmt: skip

    client.app.state.chat_toolbox = toolbox  # type: ignore[attr-defined]
    events = _events(_ask(client, "Rain in Hamburg tomorrow", carol, stream=True))
    assert events[-1] == "[DONE]" and events[-2]["error"]["message"] == "signed out"
    assert "should never be shown" not in json.dumps(events)
    assert client.get("/v1/models", headers=carol).status_code == 401


def test_alias_without_its_provider_key_answers_400_naming_the_variable(
    client, monkeypatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    answer = _chat(client, model="openai-core")  # the real provider factory
    assert answer.status_code == 400, answer.text
    assert "OPENAI_API_KEY" in answer.json()["error"]["message"]
