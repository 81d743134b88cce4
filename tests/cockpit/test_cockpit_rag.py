"""The document-store API: uploads, search, cited answers (streamed or not), bad input."""

from __future__ import annotations

import json

import pytest
from fpdf import FPDF

from wxai.cockpit.routers import rag as rag_router

NOTES = """# Station notes

## Foehn at Innsbruck

Foehn is a warm, dry downslope wind on the lee side of the Alps. At the Innsbruck
station it raises the temperature by several kelvin within an hour and the relative
humidity drops below 30 percent.

## Radar maintenance

The Feldberg radar is switched off for maintenance every first Monday of the month
between 06 and 08 UTC; composites then have a gap over the Black Forest.
"""


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _events(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


@pytest.fixture
def notes(client):
    response = client.put("/api/rag/stores/station/documents/notes.md", content=NOTES)
    assert response.status_code == 201, response.text
    return response.json()


def test_upload_lists_and_skips_an_unchanged_document(client, notes):
    assert notes["status"] == "added" and notes["chunks"] >= 1
    again = client.put("/api/rag/stores/station/documents/notes.md", content=NOTES)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert client.get("/api/rag/stores").json() == [
        {"name": "station", "documents": 1, "chunks": notes["chunks"]}
    ]
    (doc,) = client.get("/api/rag/stores/station/documents").json()
    assert doc["source"] == "notes.md" and doc["kind"] == "markdown"


def test_search_cites_the_passage(client, notes):
    hits = client.get("/api/rag/stores/station/search", params={"q": "when is the radar off?"})
    best = hits.json()[0]
    assert best["citation"].startswith("[notes.md, lines")
    assert "Feldberg" in best["text"]


def test_ask_answers_with_citations_or_says_not_found(client, notes):
    body = {"question": "What does foehn do to the temperature at Innsbruck?", "max_tokens": 40}
    answer = client.post("/api/rag/stores/station/ask", json=body).json()
    assert answer["found"] is True
    assert answer["citations"] and answer["citations"][0].startswith("[notes.md")
    assert answer["answer"].strip()

    off_topic = {"question": "How long do I boil pasta?"}
    refused = client.post("/api/rag/stores/station/ask", json=off_topic).json()
    assert refused == {"answer": "Not found in these documents.", "found": False, "citations": []}


def test_ask_streams_deltas_then_citations(client, notes):
    body = {"question": "Why do radar composites have a gap?", "max_tokens": 24, "stream": True}
    response = client.post("/api/rag/stores/station/ask", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert len([e for e in events if "delta" in e]) > 3
    done = events[-1]
    assert done["done"] is True and done["found"] is True
    assert any(c.startswith("[notes.md") for c in done["citations"])


def test_a_corrupt_upload_is_refused_and_the_old_version_kept(client):
    good = _pdf("Hail forms in strong updrafts of deep convective storms.")
    assert client.put("/api/rag/stores/docs/documents/hail.pdf", content=good).status_code == 201
    broken = client.put("/api/rag/stores/docs/documents/hail.pdf", content=b"%PDF-1.7 garbage")
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("hail.pdf:")
    (doc,) = client.get("/api/rag/stores/docs/documents").json()
    assert doc["size"] == len(good)
    hits = client.get("/api/rag/stores/docs/search", params={"q": "how does hail form"}).json()
    assert hits[0]["citation"] == "[hail.pdf, page 1]"


@pytest.mark.parametrize(
    ("name", "body", "status", "phrase"),
    [
        ("tool.exe", b"MZ", 400, "ending in one of"),
        ("..hidden.md", b"x", 400, "invalid document name"),
        ("empty.md", b"", 400, "empty"),
    ],
)
def test_bad_uploads_get_clear_errors(client, name, body, status, phrase):
    response = client.put(f"/api/rag/stores/docs/documents/{name}", content=body)
    assert response.status_code == status, response.text
    assert phrase in response.json()["detail"]
    assert client.get("/api/rag/stores").json() == []


def test_an_oversized_upload_is_413(client, monkeypatch):
    monkeypatch.setattr(rag_router, "MAX_UPLOAD_BYTES", 1000)
    response = client.put("/api/rag/stores/docs/documents/big.txt", content=b"a" * 5000)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_remove_a_document_and_unknown_names(client, notes):
    assert client.delete("/api/rag/stores/station/documents/notes.md").status_code == 204
    assert client.get("/api/rag/stores/station/documents").json() == []
    missing = client.delete("/api/rag/stores/station/documents/notes.md")
    assert missing.status_code == 404
    unknown = client.get("/api/rag/stores/statoin/search", params={"q": "x"})
    assert unknown.status_code == 404
    assert "did you mean 'station'" in unknown.json()["detail"]
