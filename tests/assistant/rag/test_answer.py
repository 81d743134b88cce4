"""Answers from context: budget, relevance floor, the real local model, web retrieval."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from wxai.assistant.llm.types import LLMProvider
from wxai.assistant.rag.answer import (
    DEFAULT_MIN_SCORE,
    NOT_FOUND,
    answer,
    build_context,
    stream_answer,
)
from wxai.assistant.rag.documents import Chunk
from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.store import RagStore
from wxai.assistant.rag.types import Hit, Retriever
from wxai.assistant.rag.web import WebSearchRetriever
from wxai.core.errors import ConfigError


class MustNotBeCalled:
    """A provider whose every use fails the test."""

    name = "forbidden"
    model = "none"
    capabilities = None

    def chat(self, *args, **kwargs):
        raise AssertionError("the provider was called below the relevance floor")

    def stream(self, *args, **kwargs) -> Iterator:
        raise AssertionError("the provider was called below the relevance floor")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> RagStore:
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stations.md").write_text(
        "# Stations\n"
        "The station network has 42 automatic stations.\n"
        "Each station reports temperature, humidity and wind every 10 minutes.\n"
    )
    (docs / "radar.md").write_text(
        "# Radar\n"
        "The radar composite is updated every 5 minutes.\n"
        "Reflectivity above 45 dBZ indicates heavy rain.\n"
    )
    rag = RagStore.open(tmp_path / "store", embedder=embedder)
    rag.add([docs])
    return rag


def _hit(text: str, source: str, score: float, start: int = 1) -> Hit:
    return Hit(Chunk(text, source, "text", start, start + 2), score, 0.5, 1.0, 1)


def test_build_context_orders_by_score_and_respects_budget():
    hits = [_hit("low " * 30, "b.txt", 0.01), _hit("high " * 30, "a.txt", 0.03, 5)]
    context, cited = build_context(hits, budget_chars=10_000)
    assert context.startswith("[a.txt, lines 5-7]\nhigh")
    assert cited == ["[a.txt, lines 5-7]", "[b.txt, lines 1-3]"]
    for budget in (60, 250, 300):
        context, cited = build_context(hits, budget_chars=budget)
        assert len(context) <= budget
        assert cited[0] == "[a.txt, lines 5-7]"
    # A second block is only cut if a useful part of it (200 chars) fits.
    context, cited = build_context(hits, budget_chars=300)
    assert cited == ["[a.txt, lines 5-7]"]


def test_relevance_floor_refuses_without_calling_the_provider(store: RagStore):
    provider = MustNotBeCalled()
    result = answer("What is a good recipe for vegetarian lasagne?", store, provider)
    assert not result.found
    assert result.text == NOT_FOUND and result.citations == []
    assert max(h.vector_score for h in result.hits) < DEFAULT_MIN_SCORE
    assert list(stream_answer("Who won the football world cup in 2014?", store, provider)) == [
        NOT_FOUND
    ]


def test_answer_with_the_local_model_cites_the_right_chunk(store: RagStore):
    from wxai.assistant.llm.local import LocalProvider

    provider = LocalProvider()
    assert isinstance(provider, LLMProvider)
    question = "How many automatic stations does the station network have?"
    result = answer(question, store, provider, k=2, max_tokens=48)
    assert result.found
    assert result.citations[0] == "[docs/stations.md, lines 1-3]"
    assert "42" in result.text
    parts = list(stream_answer(question, store, provider, k=2, max_tokens=48))
    assert len(parts) > 2  # streamed in pieces
    assert parts[-1] == "\n\nSources:\n[docs/stations.md, lines 1-3]\n[docs/radar.md, lines 1-3]"
    assert "42" in "".join(parts[:-1])


def test_web_search_is_disabled_offline_with_a_clear_message(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WXAI_WEB_SEARCH_URL", raising=False)
    web = WebSearchRetriever()
    assert isinstance(web, Retriever) and not web.enabled
    with pytest.raises(ConfigError, match=r"web search is disabled.*WXAI_WEB_SEARCH_URL"):
        web.search("radar")
    with pytest.raises(ConfigError, match="offline mode"):
        WebSearchRetriever("http://127.0.0.1:9", offline=True).search("radar")


def test_web_search_against_a_local_searxng_style_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = parse_qs(urlparse(self.path).query)
            assert urlparse(self.path).path == "/search" and query["format"] == ["json"]
            body = {
                "results": [
                    {"url": f"https://example.org/{i}", "title": f"T{i}", "content": query["q"][0]}
                    for i in range(4)
                ]
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        web = WebSearchRetriever(f"http://127.0.0.1:{server.server_port}")
        hits = web.search("foehn wind", k=2)
    finally:
        server.shutdown()
        server.server_close()
    assert [h.chunk.citation for h in hits] == [
        "[https://example.org/0]",
        "[https://example.org/1]",
    ]
    assert hits[0].chunk.text == "foehn wind" and hits[0].vector_score is None
    # No embedding, so the floor does not apply; the provider is asked.
    assert build_context(hits)[1][0] == "[https://example.org/0]"


def test_a_looping_answer_is_cut_at_the_first_repeated_line():
    from wxai.assistant.rag.answer import without_repeated_lines

    deltas = ["The a", "nswer is 42.\n\nThe ans", "wer is 42.\n\nThe answer is 42.\n"]
    assert "".join(without_repeated_lines(deltas)) == "The answer is 42.\n\n"
    text = ["Line one\nLine two\nSame\nSame but longer\nLine t", "hree"]
    assert "".join(without_repeated_lines(text)) == "".join(text)
