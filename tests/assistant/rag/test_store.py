"""RagStore: incremental indexing, removal, hybrid search, persistence, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from rag_small_corpus import DOCS

from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.store import RagStore, list_stores
from wxai.assistant.rag.types import Retriever
from wxai.core.errors import ConfigError, UnknownNameError


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (root / name).write_text(text)
    return root


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # sources are recorded relative to the working directory
    return _corpus(tmp_path / "docs")


def _ids_of(store: RagStore, source: str) -> list[int]:
    import sqlite3

    with sqlite3.connect(store.db_path) as db:
        return [r[0] for r in db.execute("SELECT id FROM chunks WHERE source=?", (source,))]


def test_incremental_add_skip_update_remove(corpus: Path, embedder: Embedder):
    store = RagStore.open("docs-store", embedder=embedder)
    assert isinstance(store, Retriever)
    assert store.directory.parent.name == "rag"  # under the wxai home
    report = store.add([corpus])
    assert sorted(report.added) == sorted(f"docs/{n}" for n in DOCS)
    assert not report.failed and report.n_chunks == len(store) == 4
    assert (store.directory / "meta.sqlite").is_file()
    assert (store.directory / "vectors.faiss").is_file()

    # Unchanged files are skipped, nothing re-embedded.
    again = store.add([corpus])
    assert sorted(again.skipped) == sorted(report.added) and again.n_chunks == 0

    # Modify one file: only it is re-indexed, its old chunks are gone.
    old_ids = _ids_of(store, "docs/soil.txt")
    (corpus / "soil.txt").write_text("Snow cover raises the surface albedo strongly.\n")
    changed = store.add([corpus])
    assert changed.updated == ["docs/soil.txt"] and len(changed.skipped) == 3
    new_ids = _ids_of(store, "docs/soil.txt")
    assert set(new_ids).isdisjoint(old_ids)
    texts = [h.chunk.text for h in store.search("soil moisture evaporation", k=4)]
    assert not any("Soil moisture" in t for t in texts)
    top = store.search("snow albedo", k=1)[0]
    assert top.chunk.source == "docs/soil.txt" and "albedo" in top.chunk.text

    # Remove a source: its chunks are never returned again, also after reopening.
    assert store.remove("docs/radar.md") == 1
    assert "docs/radar.md" not in store.sources()
    reopened = RagStore.open("docs-store", embedder=embedder, create=False)
    for mode in ("hybrid", "vector", "bm25"):
        hits = reopened.search("radar reflectivity dBZ", k=3, mode=mode)
        assert all(h.chunk.source != "docs/radar.md" for h in hits)
    assert len(reopened) == 3
    with pytest.raises(UnknownNameError, match=r"docs/radar\.md"):
        reopened.remove("docs/radar.md")


def test_hits_carry_scores_and_citations(corpus: Path, embedder: Embedder):
    store = RagStore.open(corpus.parent / "store", embedder=embedder)
    store.add([corpus])
    hits = store.search("How is forecast uncertainty estimated?", k=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].chunk.source == "docs/ensemble.md"
    assert hits[0].chunk.citation == "[docs/ensemble.md, lines 1-3]"
    assert hits[0].chunk.section == "Ensembles"
    assert all(hits[i].score >= hits[i + 1].score for i in range(2))
    # The cosine is the true cosine between query and chunk embeddings.
    expected = float(
        embedder.encode([hits[0].chunk.embed_text])[0]
        @ embedder.encode(["How is forecast uncertainty estimated?"])[0]
    )
    assert hits[0].vector_score == pytest.approx(expected, abs=1e-5)


def test_hybrid_at_least_as_good_as_each_single_mode(corpus: Path, embedder: Embedder):
    store = RagStore.open(corpus.parent / "store", embedder=embedder)
    store.add([corpus])
    labelled = [
        # An identifier: no meaning for the embedding model, an exact term for BM25.
        ("zq7_flux_helper", "docs/units.py"),
        # Paraphrases sharing no content word with the answer: the vector ranking's job.
        ("How much does precipitation echo back to the instrument?", "docs/radar.md"),
        ("converting thermodynamic temperature to centigrade", "docs/units.py"),
    ]
    correct = {
        mode: sum(store.search(q, k=1, mode=mode)[0].chunk.source == s for q, s in labelled)
        for mode in ("hybrid", "vector", "bm25")
    }
    assert correct["hybrid"] == len(labelled)
    assert correct["hybrid"] >= max(correct["vector"], correct["bm25"])
    assert store.search("zq7_flux_helper", k=1, mode="bm25")[0].chunk.source == "docs/units.py"


def test_corrupt_file_is_reported_and_the_rest_indexed(corpus: Path, embedder: Embedder):
    (corpus / "broken.nc").write_bytes(b"not netcdf at all" * 20)
    store = RagStore.open(corpus.parent / "store", embedder=embedder)
    report = store.add([corpus, corpus / "missing.md"])
    failed = dict(report.failed)
    assert failed["docs/broken.nc"].startswith("not a readable NetCDF file")
    assert "no such file" in failed[str(corpus / "missing.md")]
    assert len(report.added) == 4 and not report.ok


def test_index_file_rebuilt_from_sqlite_and_two_handles_agree(corpus: Path, embedder: Embedder):
    path = corpus.parent / "store"
    first = RagStore.open(path, embedder=embedder)
    second = RagStore.open(path, embedder=embedder)
    first.add([corpus / "radar.md"])
    # The second handle sees the first one's writes (version check before search).
    assert second.search("reflectivity", k=1)[0].chunk.source == "docs/radar.md"
    second.add([corpus / "ensemble.md"])
    assert {h.chunk.source for h in first.search("ensemble spread", k=2)} == {
        "docs/radar.md",
        "docs/ensemble.md",
    }
    # Concurrent writers on the same store: nothing lost or duplicated.
    threads = [
        threading.Thread(target=first.add, args=([corpus / "soil.txt"],)),
        threading.Thread(target=second.add, args=([corpus / "units.py"],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(RagStore.open(path, embedder=embedder)) == 4
    # A lost or stale FAISS file is rebuilt from the embeddings kept in SQLite.
    (path / "vectors.faiss").unlink()
    fresh = RagStore.open(path, embedder=embedder)
    hits = fresh.search("Dry soils heat up", k=1, mode="vector")
    assert hits[0].chunk.source == "docs/soil.txt"
    assert np.isclose(hits[0].vector_score, hits[0].vector_score)


def test_unknown_store_lists_existing(corpus: Path, embedder: Embedder):
    RagStore.open("alpha", embedder=embedder)
    assert list_stores() == ["alpha"]
    with pytest.raises(UnknownNameError, match="alpha"):
        RagStore.open("alpah", embedder=embedder, create=False)
    with pytest.raises(ConfigError, match="invalid store name"):
        RagStore.open("bad name!", embedder=embedder)


def test_store_refuses_another_embedding_model(corpus: Path, embedder: Embedder):
    RagStore.open(corpus.parent / "store", embedder=embedder)

    class Other(Embedder):
        pass

    other = Other(asset="some-other-model")
    with pytest.raises(ConfigError, match="embedding model"):
        RagStore.open(corpus.parent / "store", embedder=other)
