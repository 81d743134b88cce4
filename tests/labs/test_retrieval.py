"""Retrieval labs (unit U5) in their smoke presets, with the real MiniLM, FAISS and LLM."""

from __future__ import annotations

import json
from pathlib import Path

from wxai.labs.framework.runner import run_lab
from wxai.train.tracking import make_client


def _artifacts(result) -> list[str]:
    return [a.path for a in make_client(result.tracking_uri).list_artifacts(result.run_id)]


def test_vector_db_elementary_finds_paraphrases_and_faiss_agrees_with_numpy():
    result = run_lab("vector-db-elementary", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["top1_accuracy"] >= 10 * metrics["random_top1"]
    # The FAISS flat index is the explicit cosine formula, ranking for ranking.
    assert metrics["faiss_same_ranking"] == 1.0
    assert metrics["faiss_max_score_diff"] < 1e-5
    assert all(Path(path).is_file() for path in result.figures)
    assert "retrieval.json" in _artifacts(result)


def test_pdf_search_finds_pages_without_shared_keywords():
    from pypdf import PdfReader

    result = run_lab("pdf-search", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    pdf = Path(result.run_dir) / "topics.pdf"
    assert len(PdfReader(pdf).pages) == metrics["n_pages"] == 12
    assert metrics["n_chunks"] == 12  # one chunk per page, read back by pypdf
    # The questions avoid the pages' words: meaning beats keyword matching.
    assert metrics["top1_accuracy"] > metrics["top1_bm25"]
    assert metrics["recall_at_3"] >= metrics["top1_accuracy"]
    assert all(Path(path).is_file() for path in result.figures)


def test_faiss_scaling_ivf_is_faster_than_exact_at_high_recall():
    result = run_lab("faiss-scaling", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["ivf_recall_used"] >= 0.9
    assert metrics["loop_over_flat"] > 5  # the Python loop is the slowest exact search
    assert metrics["largest_n"] == 20_000
    assert "timings.json" in _artifacts(result)


def test_rag_answer_cites_its_sources_and_refuses_out_of_scope_questions():
    result = run_lab("rag-answer", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["out_of_scope_refused"] == 1.0
    assert metrics["cited_source_fraction"] == 1.0
    assert metrics["no_retrieval_cites"] == 0.0
    answers = json.loads((Path(result.run_dir) / "answers.json").read_text())
    assert answers["out_of_scope"]["answer"] == "Not found in these documents."
    assert "README.md" in answers["corpus"]
    for record in answers["answers"]:
        assert record["found"] and record["answer"].strip()
        expected = record["expected_source"].split("|")  # the files that answer it
        assert any(c.startswith("[") and any(f in c for f in expected) for c in record["citations"])
