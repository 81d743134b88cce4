"""Chat answers that survive the client: stored from the start, finished after a
disconnect, stoppable through the database, failed when their process died."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message
from wxai.cockpit.conversations import ChatMessageRecord
from wxai.cockpit.db import utcnow

WORDS = [f"w{i} " for i in range(40)]
QUESTION = "Tell me a long story about a cat named Max"


class SlowModel:
    """A model that calls no tool, then streams ``WORDS`` one every ``delay`` s."""

    capabilities = Capabilities(native_tools=True, context_length=4096)

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.started = threading.Event()

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        return ChatResponse(content="")

    def stream(self, messages: Sequence[Message], **_: Any) -> Iterator[ChatChunk]:
        self.started.set()
        for word in WORDS:
            time.sleep(self.delay)
            yield ChatChunk(delta=word)


def _use(client, model: SlowModel) -> None:
    client.app.state.chat_provider = lambda alias: model  # type: ignore[attr-defined]


def _first_part(response) -> dict[str, Any]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            return json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream sent no part")


def _poll(client, sid: str, mid: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = client.get(f"/api/sessions/{sid}/messages/{mid}").json()
        if message["status"] != "streaming":
            return message
        time.sleep(0.05)
    raise AssertionError(f"message {mid} still streaming after {timeout} s")


def test_an_answer_is_finished_and_stored_after_the_client_disconnects(client) -> None:
    model = SlowModel(0.02)
    _use(client, model)
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.stream("POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}) as r:
        assert r.status_code == 200
        first = _first_part(r)  # then the client goes away
    assert first["type"] == "session" and first["message_id"]
    mid = first["message_id"]
    listed = client.get(f"/api/sessions/{sid}/messages").json()
    assert [m["role"] for m in listed] == ["user", "assistant"]
    assert listed[1]["id"] == mid and listed[1]["status"] in ("streaming", "complete")
    done = _poll(client, sid, mid)
    assert done["status"] == "complete"
    assert done["text"] == "".join(WORDS)
    assert "w39" in done["html"]


def test_partial_text_is_visible_while_streaming(client) -> None:
    model = SlowModel(0.1)  # 4 s in all; the text is written every 0.5 s
    _use(client, model)
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.stream("POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}) as r:
        mid = _first_part(r)["message_id"]
    deadline = time.monotonic() + 10
    partial = ""
    while time.monotonic() < deadline:
        message = client.get(f"/api/sessions/{sid}/messages/{mid}").json()
        if message["status"] == "streaming" and message["text"]:
            partial = message["text"]
            break
        time.sleep(0.05)
    assert partial and partial != "".join(WORDS) and "".join(WORDS).startswith(partial)
    assert _poll(client, sid, mid)["status"] == "complete"


def test_cancel_stops_the_turn_and_keeps_what_was_written(client) -> None:
    model = SlowModel(0.05)
    _use(client, model)
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.stream("POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}) as r:
        lines = r.iter_lines()
        mid = None
        parts = []
        for line in lines:
            if not line.startswith("data: "):
                continue
            part = json.loads(line.removeprefix("data: "))
            parts.append(part)
            if part["type"] == "session":
                mid = part["message_id"]
            if part["type"] == "text" and part["delta"]:
                stopped = client.post(f"/api/sessions/{sid}/messages/{mid}/cancel")
                assert stopped.status_code == 200 and stopped.json()["id"] == mid
    kinds = [p["type"] for p in parts]
    assert kinds[-1] == "done" and parts[-1]["status"] == "cancelled", kinds
    assert parts[-2]["type"] == "error" and "cancelled" in parts[-2]["message"]
    stored = client.get(f"/api/sessions/{sid}/messages/{mid}").json()
    assert stored["status"] == "cancelled"
    assert stored["text"] and len(stored["text"]) < len("".join(WORDS))
    # a final answer is not changed by a late cancel
    again = client.post(f"/api/sessions/{sid}/messages/{mid}/cancel").json()
    assert again["status"] == "cancelled" and again["text"] == stored["text"]


def test_another_user_can_neither_read_nor_cancel_an_answer(client) -> None:
    _use(client, SlowModel(0.0))
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user("mallory", "correct-horse-battery")
    other = {"Authorization": f"Bearer {accounts.create_api_key('mallory', 't').token}"}
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.stream("POST", f"/api/sessions/{sid}/messages", json={"text": QUESTION}) as r:
        mid = _first_part(r)["message_id"]
    for method, path in [
        ("GET", f"/api/sessions/{sid}/messages/{mid}"),
        ("POST", f"/api/sessions/{sid}/messages/{mid}/cancel"),
    ]:
        assert client.request(method, path, headers=other).status_code == 404
    own = client.post("/api/sessions", json={}, headers=other).json()["id"]
    # the message id under one's own session id is not found either
    assert client.get(f"/api/sessions/{own}/messages/{mid}", headers=other).status_code == 404
    assert client.get(f"/api/sessions/{sid}/messages/nope").status_code == 404
    assert _poll(client, sid, mid)["status"] == "complete"


def test_an_answer_whose_process_died_is_failed_when_read(client) -> None:
    conversations = client.app.state.conversations  # type: ignore[attr-defined]
    user = client.get("/api/me").json()["id"]
    sid = client.post("/api/sessions", json={}).json()["id"]
    conversations.append(user, sid, "user", "hello", model="m")
    answer = conversations.start_answer(user, sid, model="m")
    conversations.save_answer(answer.id, "half an ans", [])
    assert client.get(f"/api/sessions/{sid}/messages/{answer.id}").json()["status"] == "streaming"
    with conversations.session() as session:  # no update for longer than the timeout
        session.execute(
            update(ChatMessageRecord)
            .where(ChatMessageRecord.id == answer.id)
            .values(updated_at=utcnow() - timedelta(seconds=conversations.stale_after_s + 5))
        )
    listed = client.get(f"/api/sessions/{sid}/messages").json()
    assert listed[1]["status"] == "failed" and listed[1]["text"] == "half an ans"
    assert listed[1]["parts"][-1]["type"] == "error"
    assert "stopped" in listed[1]["parts"][-1]["message"]


def test_a_full_server_answers_503_with_retry_after(client) -> None:
    from wxai.cockpit.routers.sessions import _turns

    turns = _turns(client.app)  # type: ignore[arg-type]
    held = 0
    while turns.slots.acquire(blocking=False):
        held += 1
    try:
        sid = client.post("/api/sessions", json={}).json()["id"]
        answer = client.post(f"/api/sessions/{sid}/messages", json={"text": QUESTION})
        assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
        assert "retry" in answer.json()["detail"]
        assert client.get(f"/api/sessions/{sid}/messages").json() == []
    finally:
        for _ in range(held):
            turns.slots.release()
    assert held == 4 * 5  # WXAI_CHAT_CONCURRENCY threads, each with 4 waiting turns
