"""Stored XSS at the API: payloads of the corpus saved as messages, titles, names, documents.

JSON answers carry the payloads back unchanged, as data (the frontend inserts them as
text); every ``html`` field the server renders passes the strict checker of
:mod:`html_checker`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from html_checker import assert_safe, load_xss_corpus

from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message
from wxai.cockpit.app import create_app
from wxai.core.settings import Settings

PAYLOADS = load_xss_corpus()


class Echo:
    """A provider without tools that answers with the user's message (the payload)."""

    capabilities = Capabilities()
    name = "echo"
    model = "echo"

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        return ChatResponse(messages[-1].content)

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[ChatChunk]:
        yield ChatChunk(self.chat(messages, **kwargs).content, finish_reason="stop")


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("xss")
    settings = Settings(home=root / "home", database_url=None, tracking_uri=None)
    with TestClient(create_app(settings, start_worker=False)) as client:
        key = client.app.state.accounts.create_api_key("admin", "xss")  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {key.token}"
        client.app.state.chat_provider = lambda alias: Echo()  # type: ignore[attr-defined]
        yield client


def _sse_parts(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    blocks = response.text.strip().split("\n\n")
    return [json.loads(block.split("\n", 1)[1].removeprefix("data: ")) for block in blocks]


def _html_fields(value: Any) -> Iterator[str]:
    """Every string under a key ``html`` anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "html" and isinstance(item, str):
                yield item
            else:
                yield from _html_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from _html_fields(item)


def test_corpus_is_loaded():
    assert len(PAYLOADS) > 50 and any("<script" in p for p in PAYLOADS)


def test_messages_come_back_as_data_and_their_html_is_safe(client):
    """Every payload as a user message; the echo model stores it as the answer too."""
    sid = client.post("/api/sessions", json={"title": "xss"}).json()["id"]
    streamed = []
    for payload in PAYLOADS:
        parts = _sse_parts(client.post(f"/api/sessions/{sid}/messages", json={"text": payload}))
        assert parts[-1]["type"] == "done", parts
        streamed.extend(_html_fields(parts))
    stored = client.get(f"/api/sessions/{sid}/messages").json()
    users = [m for m in stored if m["role"] == "user"]
    answers = [m for m in stored if m["role"] == "assistant"]
    assert [m["text"] for m in users] == PAYLOADS  # unchanged data, in order
    assert len(answers) == len(PAYLOADS)
    htmls = [*streamed, *_html_fields(stored)]
    assert len(htmls) >= 2 * len(PAYLOADS)
    for html in htmls:
        assert_safe(html)


def _same_text(shown: str, sent: str) -> bool:
    """``shown`` is ``sent`` as the store keeps titles: spaces collapsed, maybe cut with "…"."""
    plain = " ".join(sent.split())
    return shown == plain or (shown.endswith("…") and plain.startswith(shown[:-1].rstrip()))


@pytest.mark.parametrize("payload", PAYLOADS[::4])
def test_a_session_title_is_data(client, payload):
    title = payload[:120]
    made = client.post("/api/sessions", json={"title": title})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert _same_text(client.get(f"/api/sessions/{sid}").json()["title"], title)
    renamed = client.patch(f"/api/sessions/{sid}", json={"title": title[::-1]})
    assert _same_text(renamed.json()["title"], title[::-1])
    listed = {s["id"]: s["title"] for s in client.get("/api/sessions").json()}
    assert listed[sid] == renamed.json()["title"]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204


@pytest.mark.parametrize("payload", PAYLOADS[1::4])
def test_a_dataspace_name_is_data(client, payload):
    name = " ".join(payload.split())[:100] or "x"
    made = client.post("/api/dataspaces", json={"name": name})
    if made.status_code == 400:  # names the server refuses (control characters, ...)
        assert "name" in made.json()["detail"]
        return
    assert made.status_code == 201, made.text
    did = made.json()["id"]
    assert client.get(f"/api/dataspaces/{did}").json()["name"] == made.json()["name"]
    shown = {d["id"]: d["name"] for d in client.get("/api/dataspaces").json()}
    assert shown[did] == made.json()["name"]
    assert made.json()["name"].strip() == name.strip()
    assert client.delete(f"/api/dataspaces/{did}").status_code == 204


def test_document_content_is_data_in_search_and_chat(client):
    (space,) = [d for d in client.get("/api/dataspaces").json() if d["name"].endswith("(private)")]
    url = f"/api/dataspaces/{space['id']}/files"
    body = "# Hostile notes\n\nThe codeword is zanzibarfrog.\n\n" + "\n\n".join(PAYLOADS)
    up = client.post(url, files={"file": ("hostile.md", body.encode())})
    assert up.status_code == 201, up.text
    hits = client.get(f"/api/dataspaces/{space['id']}/search", params={"q": "zanzibarfrog"})
    assert hits.status_code == 200 and "zanzibarfrog" in hits.text
    download = client.get(f"{url}/{up.json()['file']['id']}")
    assert download.text == body  # the file comes back as it was uploaded
    assert not download.headers["content-type"].startswith("text/html")
    sid = client.post("/api/sessions", json={}).json()["id"]
    question = "Search my documents: what is the codeword zanzibarfrog?"
    parts = _sse_parts(client.post(f"/api/sessions/{sid}/messages", json={"text": question}))
    assert any(p["type"] == "citations" for p in parts), parts
    stored = client.get(f"/api/sessions/{sid}/messages").json()
    htmls = [*_html_fields(parts), *_html_fields(stored)]
    assert htmls and "zanzibarfrog" in "".join(htmls)
    for html in htmls:
        assert_safe(html)
