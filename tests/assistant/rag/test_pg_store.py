"""PgRagStore (PostgreSQL + pgvector) against the file backend: same answers, same semantics.

Runs on a pgserver (``tests/pg_vector_server.py``), one per session, a fresh database per
test. A hashed bag-of-words embedder stands in for MiniLM where meaning is not tested;
the recall gate and the agreement with FAISS use the real model.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from rag_small_corpus import DOCS
from sqlalchemy import Engine, create_engine, event, text

from pg_vector_server import drop_database, new_database
from wxai.assistant.rag.documents import load_chunks
from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.pg_schema import HnswParams, hnsw_in_use
from wxai.assistant.rag.pg_store import (
    PgRagStore,
    chunk_language,
    ensure_schema,
    search_spaces,
)
from wxai.assistant.rag.store import RagStore
from wxai.assistant.rag.types import Retriever
from wxai.core.errors import ConfigError, UnknownNameError

GERMAN = (
    "Die Niederschläge waren in den Alpen besonders stark, und der Wind drehte auf Nord.\n"
    "Das Hochdruckgebiet über Skandinavien wird sich nur langsam abschwächen.\n"
)


class HashEmbedder:
    """Bag of hashed words -> unit vectors: texts sharing words are similar (no model)."""

    def __init__(self, asset: str = "hash-words", dim: int = 384) -> None:
        self.asset, self.dim = asset, dim
        self.barrier: threading.Barrier | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.barrier is not None and any("\n" in t for t in texts):
            self.barrier.wait()  # documents (chunks: name, newline, text), not queries
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for word in t.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


@pytest.fixture
def pg_vector_url() -> Iterator[str]:
    """A fresh, empty database on the session's pgvector server (dropped afterwards)."""
    url = new_database()
    yield url
    drop_database(url)


@pytest.fixture
def engine(pg_vector_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_vector_url)
    yield engine
    engine.dispose()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body)
    return root


def _rows(engine: Engine, space: str) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT source, ordinal, id FROM rag_chunks WHERE space = :s ORDER BY id"),
            {"s": space},
        ).all()


def _consistent(engine: Engine, space: str) -> dict[str, int]:
    """Chunks per source, after checking no duplicates and n_chunks == rows per document."""
    rows = _rows(engine, space)
    keys = [(source, ordinal) for source, ordinal, _ in rows]
    assert len(keys) == len(set(keys)), "duplicate chunks"
    counts: dict[str, int] = {}
    for source, _, _ in rows:
        counts[source] = counts.get(source, 0) + 1
    with engine.connect() as connection:
        documents = dict(
            connection.execute(
                text("SELECT source, n_chunks FROM rag_documents WHERE space = :s"), {"s": space}
            ).all()
        )
    assert documents == counts
    return counts


# ------------------------------------------------------------------ language, schema, errors
@pytest.mark.parametrize(
    ("text_", "language"),
    [
        (GERMAN, "german"),
        ("Der Luftdruck ist über dem Meer höher als an Land.", "german"),
        (DOCS["radar.md"], "english"),
        ("The Föhn is a warm wind in the Alps.", "english"),
        (DOCS["units.py"], "english"),  # code: no function words
        ("die and", "english"),  # a tie falls back to English
    ],
)
def test_chunk_language_counts_function_words(text_: str, language: str):
    assert chunk_language(text_) == language


def test_schema_is_idempotent_and_safe_from_two_processes(pg_vector_url: str):
    engines = [create_engine(pg_vector_url) for _ in range(3)]
    errors: list[BaseException] = []

    def make(engine: Engine) -> None:
        try:
            ensure_schema(engine, model="hash-words")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=make, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    ensure_schema(engines[0], model="hash-words")
    with engines[0].connect() as connection:
        names = "SELECT indexname FROM pg_indexes WHERE tablename LIKE 'rag_%'"
        indexes = set(connection.scalars(text(names)))
        info = dict(connection.execute(text("SELECT key, value FROM rag_info")).all())
    assert {"rag_chunks_embedding_hnsw", "rag_chunks_tsv", "rag_chunks_space_source"} <= indexes
    assert info == {"dim": "384", "embedder": "hash-words", "schema": "1"}
    for engine in engines:
        engine.dispose()


def test_another_embedding_model_or_dimension_is_refused(engine: Engine):
    PgRagStore(engine, "a", embedder=HashEmbedder())
    with pytest.raises(ConfigError, match="'hash-words', not 'other-model'"):
        PgRagStore(engine, "b", embedder=HashEmbedder("other-model"))
    with pytest.raises(ConfigError, match="hold 384-dimensional embeddings"):
        PgRagStore(engine, "b", embedder=HashEmbedder("hash-words", dim=128))


def test_server_without_pgvector_gets_a_clear_error(new_postgres_database):
    engine = create_engine(new_postgres_database(migrated=False))  # Debian's: no pgvector
    try:
        with pytest.raises(ConfigError) as caught:
            ensure_schema(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "cannot provide the pgvector extension" in message
    assert "127.0.0.1" in message and '"vector"' in message  # the server and its reason
    assert "apt-get install postgresql-15-pgvector" in message


def test_sqlite_engine_and_unknown_mode_are_refused(engine: Engine, tmp_path: Path):
    with pytest.raises(ConfigError, match="needs a PostgreSQL database, not sqlite"):
        ensure_schema(create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    store = PgRagStore(engine, "a", embedder=HashEmbedder())
    with pytest.raises(ConfigError, match="unknown search mode 'fuzzy'"):
        store.search("radar", mode="fuzzy")  # type: ignore[arg-type]


# ------------------------------------------------------------------ semantics like RagStore
def _steps(store, corpus: Path) -> list:
    """The same edits on either backend; what each step reported."""
    out = []
    for name in sorted(DOCS):
        out.append(store.add_document(corpus / name, name))
    out.append(store.add_document(corpus / "radar.md", "radar.md"))  # unchanged
    (corpus / "soil.txt").write_text("Snow cover raises the surface albedo strongly.\n")
    out.append(store.add_document(corpus / "soil.txt", "soil.txt"))  # changed
    (corpus / "broken.nc").write_bytes(b"not netcdf at all" * 20)
    out.append(store.add_document(corpus / "broken.nc", "broken.nc"))  # unreadable
    out.append(store.add_document(corpus / "missing.md", "missing.md"))
    out.append(store.remove("ensemble.md"))
    reports = [
        (r.added, r.updated, r.skipped, r.failed, r.n_chunks) if not isinstance(r, int) else r
        for r in out
    ]
    (corpus / "soil.txt").write_text(DOCS["soil.txt"])
    (corpus / "broken.nc").unlink()
    return reports


def test_add_update_unchanged_unreadable_remove_as_the_file_backend(
    engine: Engine, corpus: Path, tmp_path: Path
):
    embedder = HashEmbedder()
    files = RagStore.open(tmp_path / "faiss", embedder=embedder)
    pg = PgRagStore(engine, "space-1", embedder=embedder)
    assert isinstance(pg, Retriever)
    expected = _steps(files, corpus)
    old_soil = [r[2] for r in _rows(engine, "space-1") if r[0] == "soil.txt"]
    assert _steps(pg, corpus) == expected
    assert expected[4][2] == ["radar.md"] and expected[5][:2] == ([], ["soil.txt"])
    assert expected[6][3][0][0] == "broken.nc" and expected[7][3][0][0] == "missing.md"
    assert pg.sources() == files.sources() == ["radar.md", "soil.txt", "units.py"]
    assert len(pg) == len(files) == 3
    pg_docs = {d["source"]: d for d in pg.documents()}
    for doc in files.documents():
        mine = pg_docs[doc["source"]]
        assert (mine["sha256"], mine["kind"], mine["n_chunks"]) == (
            doc["sha256"],
            doc["kind"],
            doc["n_chunks"],
        )
    new_soil = [r[2] for r in _rows(engine, "space-1") if r[0] == "soil.txt"]
    assert new_soil and not set(new_soil) & set(old_soil)  # the old chunks were replaced
    # The chunks are RagStore's: same chunking of the same file.
    hits = pg.search("kelvin celsius temperature", k=1)
    assert hits[0].chunk == load_chunks(corpus / "units.py", source="units.py")[0]
    with pytest.raises(UnknownNameError) as caught:
        pg.remove("nowhere.md")
    with pytest.raises(UnknownNameError) as caught_files:
        files.remove("nowhere.md")
    assert str(caught.value) == str(caught_files.value)
    assert pg.clear() == 3 and len(pg) == 0 and pg.sources() == []


# ------------------------------------------------------------------ search
def test_vector_hits_agree_with_faiss_and_import_keeps_them(
    engine: Engine, corpus: Path, tmp_path: Path, embedder: Embedder
):
    files = RagStore.open(tmp_path / "faiss", embedder=embedder)
    files.add_document(corpus / "radar.md", "radar.md")
    for name in sorted(DOCS):
        files.add_document(corpus / name, name)
    pg = PgRagStore(engine, "s", embedder=embedder)
    for name in sorted(DOCS):
        pg.add_document(corpus / name, name)
    queries = [
        "How strong is the echo of heavy showers?",
        "uncertainty from many model runs",
        "ground wetness and evaporation",
        "convert temperatures to Celsius",
        "what does dBZ measure",
    ]
    for query in queries:
        want = files.search(query, k=4, mode="vector")
        got = pg.search(query, k=4, mode="vector")
        assert got[0].chunk == want[0].chunk
        cos_want = {h.chunk.citation: h.vector_score for h in want}
        cos_got = {h.chunk.citation: h.vector_score for h in got}
        assert cos_got.keys() == cos_want.keys()
        for citation, cosine in cos_want.items():
            assert cos_got[citation] == pytest.approx(cosine, abs=1e-5)
    # Moving the file store's chunks and embeddings (wxai rag migrate) changes nothing.
    moved = PgRagStore(engine, "moved", embedder=embedder)
    for document, chunks, vectors in files.export_documents():
        written = moved.import_chunks(
            document["source"], chunks, vectors, sha256=document["sha256"], kind=document["kind"]
        )
        assert written == document["n_chunks"]
        again = moved.import_chunks(
            document["source"], chunks, vectors, sha256=document["sha256"], kind=document["kind"]
        )
        assert again == 0  # already there: a second migration run is harmless
    assert _consistent(engine, "moved") == _consistent(engine, "s")
    for query in queries:
        a = [(h.chunk, h.score, h.vector_score, h.bm25_score) for h in pg.search(query)]
        b = [(h.chunk, h.score, h.vector_score, h.bm25_score) for h in moved.search(query)]
        assert a == b
    with pytest.raises(ConfigError, match=r"embeddings of shape \(2, 384\) for 1 chunks"):
        moved.import_chunks("x.md", chunks[:1], np.zeros((2, 384)), sha256="0", kind="text")


def test_german_and_english_keywords_match_by_stem(engine: Engine, tmp_path: Path):
    store = PgRagStore(engine, "s", embedder=HashEmbedder())
    (tmp_path / "wetter.txt").write_text(GERMAN)
    (tmp_path / "radar.md").write_text(DOCS["radar.md"])
    store.add_document(tmp_path / "wetter.txt", "wetter.txt")
    store.add_document(tmp_path / "radar.md", "radar.md")
    with engine.connect() as connection:
        languages = dict(connection.execute(text("SELECT source, language FROM rag_chunks")).all())
    assert languages == {"wetter.txt": "german", "radar.md": "english"}
    # The text has "Niederschläge" and "Hochdruckgebiet": found by their German stems.
    for query in ("Wie viel Niederschlag fiel?", "Wo liegen die Hochdruckgebiete?"):
        hits = store.search(query, k=2, mode="bm25")
        assert [h.chunk.source for h in hits] == ["wetter.txt"], query
        assert hits[0].bm25_score > 0
    hits = store.search("measuring reflectivities", k=2, mode="bm25")  # measures, reflectivity
    assert [h.chunk.source for h in hits] == ["radar.md"]
    # English stemming alone would not have found the German passage.
    with engine.connect() as connection:
        english_only = connection.scalar(
            text("SELECT to_tsvector('english', :t) @@ websearch_to_tsquery('english', :q)"),
            {"t": GERMAN, "q": "Niederschlag"},
        )
    assert english_only is False
    assert store.search("und der die", mode="bm25") == []  # only stop words: no keyword hit


def test_search_spaces_never_returns_rows_of_other_spaces(engine: Engine, corpus: Path):
    embedder = HashEmbedder()
    for space in ("alpha", "beta", "gamma"):
        store = PgRagStore(engine, space, embedder=embedder)
        for name in sorted(DOCS):
            store.add_document(corpus / name, name)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for mode in ("hybrid", "vector", "bm25"):
        for spaces in (["alpha"], ["beta", "gamma"]):
            query = "radar reflectivity soil"
            found = search_spaces(engine, spaces, query, 50, embedder=embedder, mode=mode)
            assert found and {space for space, _ in found} == set(spaces), mode
            # The same text in each space: every chunk once per readable space.
            assert len(found) == len({(s, h.chunk) for s, h in found})
    assert search_spaces(engine, ["delta"], "radar", 5, embedder=embedder) == []
    with pytest.raises(ConfigError, match="not the string 'alpha'"):
        search_spaces(engine, "alpha", "radar", 5, embedder=embedder)
    reads = [s for s in statements if "FROM rag_chunks" in s]
    assert reads and all("rag_chunks.space = ANY" in s for s in reads)
    # No readable space: no query at all (an object that is not an engine proves it).
    assert search_spaces(object(), [], "radar", 5, embedder=embedder) == []  # type: ignore[arg-type]


def test_hnsw_ranks_like_exact_search_and_a_small_space_is_complete(engine: Engine):
    """Many rows of one space around a small one: HNSW recall, exact fallback when filtered."""
    embedder = HashEmbedder()
    rng = np.random.default_rng(0)
    big = PgRagStore(engine, "big", embedder=embedder)
    small = PgRagStore(engine, "small", embedder=embedder)
    vectors = rng.normal(size=(400, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    from wxai.assistant.rag.documents import Chunk

    chunks = [Chunk(f"row {i}", f"doc{i // 100}.txt") for i in range(len(vectors))]
    for d in range(4):
        part = slice(100 * d, 100 * (d + 1))
        big.import_chunks(f"doc{d}.txt", chunks[part], vectors[part], sha256=str(d), kind="text")
    small.import_chunks("few.txt", chunks[:3], vectors[:3], sha256="s", kind="text")
    query = rng.normal(size=384).astype(np.float32)
    query /= np.linalg.norm(query)
    truth = np.argsort(-(vectors @ query))[:20]
    with engine.connect() as connection:
        plan = "\n".join(
            connection.scalars(
                text("EXPLAIN SELECT id FROM rag_chunks ORDER BY embedding <=> :q LIMIT 20"),
                {"q": str(query.tolist())},
            )
        )

    class Fixed(HashEmbedder):
        def encode(self, texts: Sequence[str]) -> np.ndarray:
            return query[None, :]

    assert "rag_chunks_embedding_hnsw" in plan
    found = search_spaces(engine, ["big"], "q", 5, embedder=Fixed(), mode="vector")
    assert len(found) == 5
    rows = [int(h.chunk.text.split()[1]) for _, h in found]
    assert len(set(rows) & set(truth[:5].tolist())) >= 4  # approximate, but close
    cosines = [h.vector_score for _, h in found]
    assert cosines == sorted(cosines, reverse=True)
    few = search_spaces(engine, ["small"], "q", 5, embedder=Fixed(), mode="vector")
    assert len(few) == 3  # all of the small space, though the index saw mostly others
    exact = np.argsort(-(vectors[:3] @ query)).tolist()
    assert [int(h.chunk.text.split()[1]) for _, h in few] == exact


# ------------------------------------------------------------------ concurrency
def _race(calls) -> list:
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_writers_leave_a_consistent_index(pg_vector_url: str, corpus: Path):
    """Two workers (two engines) write at once: different documents, then the same one."""
    engines = [create_engine(pg_vector_url) for _ in range(2)]
    embedders = [HashEmbedder(), HashEmbedder()]
    barrier = threading.Barrier(2, timeout=30)
    for e in embedders:
        e.barrier = barrier  # both have read "not stored" before either writes
    stores = [PgRagStore(g, "s", embedder=e) for g, e in zip(engines, embedders, strict=True)]
    first, second = _race(
        [
            lambda: stores[0].add_document(corpus / "radar.md", "radar.md"),
            lambda: stores[1].add_document(corpus / "ensemble.md", "ensemble.md"),
        ]
    )
    assert first.added == ["radar.md"] and second.added == ["ensemble.md"]
    assert _consistent(engines[0], "s") == {"radar.md": 1, "ensemble.md": 1}

    long_text = "\n".join(f"Line {i} about the soil moisture budget." for i in range(200))
    (corpus / "long.txt").write_text(long_text)
    reports = _race([lambda s=s: s.add_document(corpus / "long.txt", "long.txt") for s in stores])
    assert sorted((r.added, r.skipped) for r in reports) == [([], ["long.txt"]), (["long.txt"], [])]
    counts = _consistent(engines[1], "s")
    assert counts["long.txt"] == len(load_chunks(corpus / "long.txt", source="long.txt")) > 3
    for engine in engines:
        engine.dispose()


def test_a_version_superseded_while_it_was_embedded_is_not_written(engine: Engine, tmp_path: Path):
    """``still_current`` is asked under the document's lock, after embedding."""
    store = PgRagStore(engine, "s", embedder=HashEmbedder())
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe first version of the forecaster's note.\n")
    asked: list[str] = []

    def replaced() -> bool:
        asked.append("asked")
        return False

    report = store.add_document(note, "note.md", still_current=replaced)
    assert report.superseded == ["note.md"] and not report.added and asked == ["asked"]
    assert store.sources() == [] and store.chunk_counts() == {}
    report = store.add_document(note, "note.md", still_current=lambda: True)
    assert report.added == ["note.md"] and store.chunk_counts() == {"note.md": 1}
    again = store.add_document(note, "note.md", still_current=replaced)
    assert again.skipped == ["note.md"] and len(asked) == 1  # stored already: not asked


def test_hnsw_parameters_are_checked_used_and_rebuilt(pg_vector_url: str, corpus: Path, caplog):
    from typer.testing import CliRunner

    from wxai.cli.app import app as cli

    with pytest.raises(ConfigError, match="at least 2 m = 64"):
        HnswParams(m=32, ef_construction=50)
    with pytest.raises(ConfigError, match="1 to 1000"):
        HnswParams(ef_search=0)
    engine = create_engine(pg_vector_url)
    params = HnswParams(m=8, ef_construction=32, ef_search=300)
    store = PgRagStore(engine, "s", embedder=HashEmbedder(), hnsw=params)
    store.add_document(corpus / "radar.md", "radar.md")
    assert hnsw_in_use(engine) == HnswParams(m=8, ef_construction=32)
    sent: list[object] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[3]))
    assert store.search("radar reflectivity", k=2)[0].chunk.source == "radar.md"
    assert any("300" in str(p) and "hnsw.ef_search" in str(p) for p in sent), sent

    other = create_engine(pg_vector_url)  # another process whose settings differ
    with caplog.at_level("WARNING", logger="wxai.assistant.rag.pg_schema"):
        ensure_schema(other, model="hash-words", hnsw=HnswParams(m=12, ef_construction=48))
    assert "built with m=8, ef_construction=32" in caplog.text and "wxai rag reindex" in caplog.text
    assert hnsw_in_use(other) == HnswParams(m=8, ef_construction=32)  # kept until rebuilt
    result = CliRunner().invoke(
        cli, ["rag", "reindex", "--url", pg_vector_url, "--m", "12", "--ef-construction", "48"]
    )
    assert result.exit_code == 0, result.output
    assert "m 8 -> 12, ef_construction 32 -> 48" in result.output
    assert hnsw_in_use(engine) == HnswParams(m=12, ef_construction=48)
    assert store.search("radar reflectivity", k=2)[0].chunk.source == "radar.md"
    other.dispose()
    engine.dispose()


# ------------------------------------------------------------------ recall gate
@pytest.fixture(scope="module")
def docs_pg_store() -> Iterator[PgRagStore]:
    """The documentation corpus of the file backend's recall gate, in a PgRagStore."""
    from assistant.rag_quality.test_docs_recall import ROOT, corpus
    from rag_docs_embedder import docs_embedder

    url = new_database()
    engine = create_engine(url)
    store = PgRagStore(engine, "docs", embedder=docs_embedder())
    for path in corpus():
        report = store.add_document(ROOT / path, path.as_posix())
        assert report.ok, report.failed
    yield store
    engine.dispose()
    drop_database(url)


def test_recall_at_5_gate_on_the_project_docs(docs_pg_store: PgRagStore, record_property):
    from assistant.rag_quality.test_docs_recall import MIN_RECALL, K, is_hit, load_questions

    questions, _ = load_questions()
    misses = [
        q.question
        for q in questions
        if not any(is_hit(h.chunk, q) for h in docs_pg_store.search(q.question, k=K))
    ]
    recall = 1 - len(misses) / len(questions)
    record_property("recall_at_5_postgres", recall)
    print(f"\npostgres hybrid recall@{K} over {len(questions)} questions: {recall:.3f}")
    assert recall >= MIN_RECALL, f"recall@{K} {recall:.3f} < {MIN_RECALL}; misses: {misses}"
