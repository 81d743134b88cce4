"""Chat sessions: CRUD, search, another user's ids answer 404, the context budget."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from wxai.cockpit.conversations import ConversationStore, SessionNotFound


def _other(client: TestClient) -> dict[str, str]:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user("eve", "correct-horse-battery")
    return {"Authorization": f"Bearer {accounts.create_api_key('eve', 't').token}"}


def test_crud_and_search(client: TestClient) -> None:
    made = client.post("/api/sessions", json={"title": "Gusts at Kiel"})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert made.json()["model"]
    other = client.post("/api/sessions", json={}).json()["id"]
    store: ConversationStore = client.app.state.conversations  # type: ignore[attr-defined]
    admin = client.app.state.accounts.user_info("admin").id  # type: ignore[attr-defined]
    store.append(admin, other, "user", "Is there fog over the Elbe?")
    assert [s["id"] for s in client.get("/api/sessions", params={"q": "kiel"}).json()] == [sid]
    assert [s["id"] for s in client.get("/api/sessions", params={"q": "FOG"}).json()] == [other]
    assert client.get(f"/api/sessions/{other}").json()["title"].startswith("Is there fog")
    patched = client.patch(f"/api/sessions/{sid}", json={"title": "Renamed"})
    assert patched.json()["title"] == "Renamed"
    assert client.patch(f"/api/sessions/{sid}", json={"model": "no-such"}).status_code == 400
    bad = client.post("/api/sessions", json={"model": "gpt-99"})
    assert bad.status_code == 400 and "local-fast" in bad.json()["detail"]
    assert client.delete(f"/api/sessions/{other}").status_code == 204
    assert client.get(f"/api/sessions/{other}").status_code == 404
    assert client.get(f"/api/sessions/{other}/messages").status_code == 404
    with pytest.raises(SessionNotFound):
        store.messages(admin, other)


def test_session_list_pages_most_recent_first(client: TestClient) -> None:
    made = [client.post("/api/sessions", json={"title": f"s{i}"}).json()["id"] for i in range(5)]
    newest_first = made[::-1]
    assert [s["id"] for s in client.get("/api/sessions").json()] == newest_first
    first = client.get("/api/sessions", params={"limit": 2}).json()
    rest = client.get("/api/sessions", params={"limit": 2, "offset": 2}).json()
    last = client.get("/api/sessions", params={"limit": 2, "offset": 4}).json()
    assert [s["id"] for s in first + rest + last] == newest_first
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "x"}):
        assert client.get("/api/sessions", params=bad).status_code == 400, bad


def test_another_users_session_is_not_found(client: TestClient) -> None:
    sid = client.post("/api/sessions", json={"title": "mine"}).json()["id"]
    eve = _other(client)
    assert client.get(f"/api/sessions/{sid}", headers=eve).status_code == 404
    assert client.patch(f"/api/sessions/{sid}", json={"title": "x"}, headers=eve).status_code == 404
    assert client.delete(f"/api/sessions/{sid}", headers=eve).status_code == 404
    assert client.get(f"/api/sessions/{sid}/messages", headers=eve).status_code == 404
    posted = client.post(f"/api/sessions/{sid}/messages", json={"text": "hi"}, headers=eve)
    assert posted.status_code == 404
    assert client.get("/api/sessions", headers=eve).json() == []
    assert client.get(f"/api/sessions/{sid}").json()["title"] == "mine"  # untouched


def test_message_body_is_validated(client: TestClient) -> None:
    sid = client.post("/api/sessions", json={}).json()["id"]
    url = f"/api/sessions/{sid}/messages"
    assert client.post(url, json={"text": "x" * 8001}).status_code == 400
    assert client.post(url, json={"text": ""}).status_code == 400
    unknown = client.post(url, json={"text": "hello", "model": "nope"})
    assert unknown.status_code == 400 and "valid:" in unknown.json()["detail"]
    assert client.get(f"/api/sessions/{sid}/messages").json() == []


def test_context_drops_oldest_turns(tmp_path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'c.db'}")
    store.create_tables()
    sid = store.create("u1", "t", "local-fast").id
    for i in range(6):
        store.append("u1", sid, "user", f"Question {i}. " + "word " * 40)
        store.append("u1", sid, "assistant", f"Answer {i} " + "text " * 40)
    whole = store.context("u1", sid, 100_000)
    assert whole.dropped_turns == 0 and len(whole.messages) == 12
    small = store.context("u1", sid, 250)
    assert small.dropped_turns == 4
    assert small.messages[0].role == "system" and "Question 3." in small.messages[0].content
    assert [m.content.split()[1] for m in small.messages[1:]] == ["4.", "4", "5.", "5"]
    assert small.tokens <= 250
    with pytest.raises(SessionNotFound):
        store.context("u2", sid, 1000)
    store.close()


def test_a_turn_is_stored_in_one_go_and_its_progress_reads_the_cancel_flag(
    database_url: str,
) -> None:
    store = ConversationStore(database_url)
    store.create_tables()
    sid = store.create("u1", "", "local-fast").id
    info, asked, answer = store.begin_turn("u1", sid, "Gusts at Kiel tomorrow?", model="m")
    assert info.title.startswith("Gusts at Kiel") and (asked.seq, answer.seq) == (1, 2)
    assert (asked.role, answer.role, answer.status) == ("user", "assistant", "streaming")
    assert store.save_progress(answer.id, "Gusts of", [])  # nobody asked to stop
    assert store.message("u1", sid, answer.id).text == "Gusts of"
    store.request_cancel("u1", sid, answer.id)
    assert not store.save_progress(answer.id, "Gusts of 60", [])  # stop, but keep the text
    assert store.message("u1", sid, answer.id).text == "Gusts of 60"
    store.save_answer(answer.id, "Gusts of 60 km/h", [], "cancelled")
    assert not store.save_progress(answer.id, "late", [])  # a final answer stays final
    assert store.message("u1", sid, answer.id).text == "Gusts of 60 km/h"
    assert not store.save_progress("no-such-id", "x", [])
    with pytest.raises(SessionNotFound):
        store.begin_turn("u2", sid, "not mine")
    assert [m.seq for m in store.messages("u1", sid)] == [1, 2]
    store.close()


def test_user_models_limit_the_chat_sessions_too(client: TestClient) -> None:
    client.app.state.settings.user_models = "ollama-core"  # type: ignore[attr-defined]
    eve = _other(client)
    made = client.post("/api/sessions", json={}, headers=eve)
    assert made.status_code == 201 and made.json()["model"] == "ollama-core"  # default closed
    closed = client.post("/api/sessions", json={"model": "local-fast"}, headers=eve)
    assert closed.status_code == 403 and "ollama-core" in closed.json()["detail"]
    sid = made.json()["id"]
    assert (
        client.patch(f"/api/sessions/{sid}", json={"model": "local-fast"}, headers=eve).status_code
        == 403
    )
    sent = client.post(f"/api/sessions/{sid}/messages", json={"text": "hi", "model": "local-fast"},
                       headers=eve)  # fmt: skip
    assert sent.status_code == 403
    assert client.get("/api/sessions", headers=eve).json()[0]["model"] == "ollama-core"
    admin = client.post("/api/sessions", json={"model": "local-fast"})  # admins: every alias
    assert admin.status_code == 201
