"""The language-model API of a real cockpit server, over HTTP: aliases, chat, streaming."""

from __future__ import annotations

import json
import os

import httpx
import pytest

pytestmark = pytest.mark.e2e

QUESTION = [
    {"role": "system", "content": "You are a concise weather assistant."},
    {"role": "user", "content": "What is a cold front?"},
]


def _events(response: httpx.Response) -> list[dict]:
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append({"event": name, **json.loads(line.removeprefix("data: "))})
            name = "message"
    return events


def test_models_show_aliases_but_not_backends(api):
    models = api.get("/api/llm/models").json()
    by_alias = {m["alias"]: m for m in models}
    assert by_alias["local-fast"]["default"] is True
    assert by_alias["local-fast"]["available"] is True
    assert by_alias["local-fast"]["constrained_output"] is True
    assert {m["tier"] for m in models} >= {"fast", "core", "pro", "ultra"}
    text = json.dumps(models)
    assert "base_url" not in text and "http" not in text and "api_key" not in text


def test_streamed_chat_equals_the_complete_answer(api):
    body = {"messages": QUESTION, "max_tokens": 24}
    complete = api.post("/api/llm/chat", json=body)
    assert complete.status_code == 200, complete.text
    answer = complete.json()
    assert answer["model"] == "local-fast" and answer["content"].strip()

    with api.stream("POST", "/api/llm/chat", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    deltas = [e["delta"] for e in events if "delta" in e]
    assert len(deltas) > 3, "the answer should arrive in several events"
    assert "".join(deltas) == answer["content"]
    assert events[-1] == {"event": "message", "done": True, "finish_reason": "length"}


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        ({"model": "local-fats", "messages": QUESTION}, 404, "did you mean 'local-fast'"),
        ({"model": "openai-core", "messages": QUESTION}, 400, "OPENAI_API_KEY"),
        ({"messages": []}, 400, "messages"),
        ({"messages": [{"role": "user", "content": "x" * 20_000}]}, 400, "16000"),
        ({"messages": QUESTION, "max_tokens": 0}, 400, "max_tokens"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, 400, "role"),
    ],
)
def test_bad_chat_requests_get_clear_errors(api, body, status, phrase):
    if phrase == "OPENAI_API_KEY" and os.environ.get(phrase):
        pytest.skip("this machine has an OpenAI key; the server would use it")
    response = api.post("/api/llm/chat", json=body)
    assert response.status_code == status, response.text
    assert phrase in response.json()["detail"]


def test_a_provider_that_is_down_answers_502(server_factory):
    # The alias resolves on the server: point its Ollama at a port nobody listens on.
    server = server_factory(env={"WXAI_OLLAMA_URL": "http://127.0.0.1:9"})
    with server.client() as client:
        for stream in (False, True):
            body = {"model": "ollama-core", "messages": QUESTION, "stream": stream}
            response = client.post("/api/llm/chat", json=body)
            assert response.status_code == 502, response.text
            assert "127.0.0.1:9" in response.json()["detail"]
