"""Search-timing helpers, citation checks and the PDF writer of :mod:`wxai.assistant.rag`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wxai.assistant.rag.citations import bracketed, cites, corpus_files, is_source
from wxai.assistant.rag.search_timing import (
    brute_force_search,
    clustered_unit_vectors,
    loop_search,
    query_latencies_ms,
    thread_limit,
)
from wxai.core.errors import ConfigError


def test_clustered_vectors_are_unit_and_cluster() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16, dtype=np.float32)
    x = clustered_unit_vectors(rng, 300, centres, spread=0.3, dim=16)
    assert x.shape == (300, 16) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    assert np.all((x @ centres.T).max(axis=1) > 0.8)  # every vector near one centre
    iso = clustered_unit_vectors(np.random.default_rng(0), 2000, None, spread=0.3, dim=16)
    assert abs(float(iso.mean())) < 0.02  # no preferred direction
    with pytest.raises(ConfigError):
        clustered_unit_vectors(rng, 3, centres, spread=0.3, dim=8)


def test_loop_and_numpy_searches_agree_with_a_sort() -> None:
    rng = np.random.default_rng(1)
    db = clustered_unit_vectors(rng, 200, None, 1.0, 8)
    q = clustered_unit_vectors(rng, 1, None, 1.0, 8)
    exact = np.argsort(-(db @ q[0]))[:5]
    np.testing.assert_array_equal(brute_force_search(db, q, 5), exact)
    assert loop_search(db, q, 5) == exact.tolist()
    # the loop divides by norms: scaling a stored vector does not change its rank
    scaled = db.copy()
    scaled[exact[0]] *= 10
    assert loop_search(scaled, q, 5) == exact.tolist()


def test_latencies_and_thread_limit() -> None:
    calls = []
    with thread_limit(1):
        ms = query_latencies_ms(lambda q: calls.append(q.shape), np.zeros((3, 4)))
    assert ms.shape == (3,) and np.all(ms >= 0)
    assert calls == [(1, 4)] * 3


def test_citation_checks() -> None:
    assert is_source("docs/retrieval.md", "README.md|retrieval.md")
    assert not is_source("docs/myretrieval.md", "retrieval.md")
    assert cites(["[docs/retrieval.md, lines 1-9]"], "retrieval.md")
    assert not cites(["[README.md, lines 1-9]"], "retrieval.md")
    text = "See [README.md, lines 3-5], then, later, [docs/a.md, lines 1-2] and [open"
    assert bracketed(text) == ["[README.md, lines 3-5]", "[docs/a.md, lines 1-2]"]
    assert cites(bracketed(text), "docs/a.md")


def test_corpus_files(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for name in ("README.md", "docs/b.md", "docs/a.md"):
        (tmp_path / name).write_text("x")
    files = corpus_files(tmp_path, ["README.md", "docs/*.md", "README.md"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "README.md", "docs/a.md", "docs/b.md",
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="no file"):
        corpus_files(tmp_path, ["*.txt"])


def test_topic_pdf_round_trip(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from wxai.assistant.rag.pdf_writer import write_topic_pdf

    path = write_topic_pdf(tmp_path / "t.pdf", ["Fog", "Hail"], ["Fog is a cloud.", "Ice."])
    pages = PdfReader(path).pages
    assert len(pages) == 2
    assert "2. Hail" in pages[1].extract_text() and "Fog is a cloud." in pages[0].extract_text()
    assert not list(tmp_path.glob("*.tmp.pdf"))
    with pytest.raises(ConfigError):
        write_topic_pdf(tmp_path / "u.pdf", ["a"], [])


def test_answer_record_checks_each_kind_of_citation() -> None:
    from wxai.assistant.rag.answer import RagAnswer
    from wxai.assistant.rag.citations import answer_record

    result = RagAnswer(
        text="Run make [docs/setup.md, lines 2-4].",
        citations=["[README.md, lines 1-3]", "[docs/setup.md, lines 2-9]"],
        found=True,
    )
    record = answer_record("How?", "setup.md", result)
    assert record["cites_expected"] and record["text_cites_expected"]
    assert not record["first_cites_expected"]
    refused = RagAnswer(text="Not found.", citations=["[docs/setup.md, lines 2-9]"], found=False)
    assert not answer_record("How?", "setup.md", refused)["cites_expected"]


def test_page_search_records_first_pages_and_best_cosines() -> None:
    from wxai.assistant.rag.documents import Chunk
    from wxai.assistant.rag.page_search import evaluate_page_search
    from wxai.assistant.rag.types import Hit

    order = {"vector": [[2, 1, 2], [3, 1, 2]], "bm25": [[1, 2, 2], [3, 2, 1]]}

    class Store:  # pages ranked by a fixed table per mode; vector scores 0.9, 0.5, 0.1
        def search(self, query: str, k: int = 5, *, mode: str = "hybrid") -> list[Hit]:
            pages = order[mode][int(query)]
            return [
                Hit(Chunk(f"p{p}", "t.pdf", page=p), score=s, vector_score=s)
                for p, s in zip(pages[:k], (0.9, 0.5, 0.1), strict=False)
            ]

    seen = []
    found = evaluate_page_search(
        Store(), ["0", "1"], np.array([1, 3]), n_pages=3, n_chunks=3, top_k=1,
        modes=("vector", "bm25"), progress=lambda f, _: seen.append(f),
    )  # fmt: skip
    np.testing.assert_array_equal(found.first["vector"], [2, 3])
    assert found.accuracy(np.array([1, 3])) == {"vector": 0.5, "bm25": 1.0}
    np.testing.assert_array_equal(found.in_top_k, [False, True])
    np.testing.assert_allclose(found.similarity, [[0.5, 0.9, np.nan], [0.5, 0.1, 0.9]])
    assert seen == [0.5, 1.0]
