"""Retrieval on PostgreSQL: chunks, pgvector embeddings and full-text search in shared tables.

The file backend (:class:`~wxai.assistant.rag.store.RagStore`) keeps one FAISS + SQLite
pair per dataspace on one machine's disk. Here every dataspace lives as rows of three
tables in one PostgreSQL database, so workers on several machines read and write one
index. Tables (made by :func:`ensure_schema`)::

    rag_info        key -> value: embedding model, dimension, schema version
    rag_documents   (space, source) primary key, sha256, kind, n_chunks, indexed_at
    rag_chunks      id bigserial, space, source, ordinal, kind, text, start_line,
                    end_line, page, section, language ('english' | 'german'),
                    tsv tsvector (generated from file name, section and text with the
                    chunk's language configuration), embedding vector(dim)
    indexes         HNSW on embedding (vector_cosine_ops), GIN on tsv,
                    btree on (space, source)

Search (:func:`search_spaces`) ranks by cosine distance through the HNSW index and by
PostgreSQL full-text search (the query's words ORed, parsed with the English and the
German configuration, ranked by ``ts_rank``: not BM25, see
:data:`TEXT_RANK_NORMALIZATION`), and fuses both by reciprocal rank as the file backend
does. ``space = ANY(:spaces)`` sits in every statement: the caller passes the dataspaces
the user may read and no row of another space can come back. Each document is written
in one transaction under an advisory lock on (space, source), so readers never see half
a document and two writers of one document never duplicate its chunks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    Text,
    any_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG

from wxai.assistant.rag.documents import Chunk, kind_of, load_chunks
from wxai.assistant.rag.pg_schema import (
    CHUNK_FIELDS,
    EMBEDDING_DIM,
    WORD,
    Encoder,
    HnswParams,
    Language,
    chunk_language,
    ensure_schema,
    rag_tables,
    server_name,
)
from wxai.assistant.rag.ranking import reciprocal_rank_fusion
from wxai.assistant.rag.store import IngestReport, SearchMode, file_sha256, stored_source
from wxai.assistant.rag.types import Hit
from wxai.core.errors import ConfigError, UnknownNameError, WxaiError

__all__ = [
    "EMBEDDING_DIM",
    "TEXT_RANK_NORMALIZATION",
    "Language",
    "PgRagStore",
    "chunk_language",
    "ensure_schema",
    "search_spaces",
]

#: ``ts_rank`` normalization: 1 divides by 1 + log(number of lexemes of the chunk).
#: Measured on the recall@5 gate's corpus (hybrid / keyword only): ``ts_rank`` 0.946 /
#: 0.875 (0 and 1 alike in hybrid); ``ts_rank_cd`` 0.875 / 0.625 (normalization 0 or 32),
#: under the gate of 0.9 (an OR query's cover density counts matches without weighing
#: repeats down); the file backend's bm25s reaches 0.946 / 0.786.
TEXT_RANK_NORMALIZATION = 1
#: hnsw.ef_search bounds: pgvector accepts 1..1000.
_EF_MIN, _EF_MAX = 40, 1000


# ---------------------------------------------------------------------------------- search
def _keyword_words(query: str) -> str:
    """The query's words joined by ``or`` for ``websearch_to_tsquery`` (an OR of lexemes).

    Only ``\\w+`` runs are kept, so no quote or ``-`` of the user's text is read as
    websearch syntax; the word ``or`` itself is dropped (a stop word in both languages).
    """
    words = [w for w in WORD.findall(query) if w.lower() != "or"]
    return " or ".join(words)


def _tsquery(words: str) -> Any:
    """English OR German parse of ``words`` (stemmed, stop words dropped) as one tsquery."""
    english = func.websearch_to_tsquery(cast(literal("english"), REGCONFIG), words)
    german = func.websearch_to_tsquery(cast(literal("german"), REGCONFIG), words)
    return english.op("||")(german)


def _text_rank(chunks: Table, tsq: Any) -> Any:
    """``ts_rank(tsv, tsq, TEXT_RANK_NORMALIZATION)``: the keyword score of a chunk."""
    return func.ts_rank(chunks.c.tsv, tsq, TEXT_RANK_NORMALIZATION)


def _spaces_param(spaces: Sequence[str]) -> Any:
    return literal(list(spaces), ARRAY(Text))


def _vector_ranking(
    connection: Connection,
    chunks: Table,
    spaces: Sequence[str],
    qv: np.ndarray,
    depth: int,
    *,
    ef_search: int | None = None,
) -> list[int]:
    """Ids of the ``depth`` chunks nearest to ``qv`` (cosine) in ``spaces``, nearest first.

    Through the HNSW index with ``ef_search = clip(2 depth, 40, 1000)``, or the given
    ``ef_search`` where that is larger. pgvector 0.6
    filters the index's candidates afterwards, so few readable rows among many others
    can leave fewer than ``depth``: then the ranking is recomputed exactly (index scans
    off), which costs a scan of those spaces' rows.
    """
    ef = min(_EF_MAX, max(_EF_MIN, 2 * depth, ef_search or 0))
    connection.execute(select(func.set_config("hnsw.ef_search", str(ef), True)))
    distance = chunks.c.embedding.cosine_distance(qv)
    query = (
        select(chunks.c.id)
        .where(chunks.c.space == any_(_spaces_param(spaces)))
        .order_by(distance)
        .limit(depth)
    )
    ids = list(connection.scalars(query))
    if len(ids) < depth:
        connection.execute(select(func.set_config("enable_indexscan", "off", True)))
        ids = list(connection.scalars(query.order_by(None).order_by(distance, chunks.c.id)))
        connection.execute(select(func.set_config("enable_indexscan", "on", True)))
    return [int(i) for i in ids]


def _keyword_ranking(
    connection: Connection, chunks: Table, spaces: Sequence[str], words: str, depth: int
) -> list[int]:
    """Ids of the ``depth`` chunks of ``spaces`` best ranked by ``ts_rank``, best first."""
    tsq = _tsquery(words)
    rank = _text_rank(chunks, tsq)
    query = (
        select(chunks.c.id)
        .where(chunks.c.space == any_(_spaces_param(spaces)), chunks.c.tsv.op("@@")(tsq))
        .order_by(rank.desc(), chunks.c.id)
        .limit(depth)
    )
    return [int(i) for i in connection.scalars(query)]


def _fetch_hits(
    connection: Connection,
    chunks: Table,
    spaces: Sequence[str],
    fused: list[tuple[int, float]],
    *,
    qv: np.ndarray,
    words: str,
) -> list[tuple[str, Hit]]:
    """The rows of ``fused`` (in order) as hits with their cosine and text-search rank."""
    ids = [i for i, _ in fused]
    cosine = (1.0 - chunks.c.embedding.cosine_distance(qv)).label("cosine")
    rank = (_text_rank(chunks, _tsquery(words)) if words else literal(0.0)).label("rank")
    columns = [chunks.c[name] for name in ("id", "space", *CHUNK_FIELDS)]
    query = select(*columns, cosine, rank).where(
        chunks.c.id == any_(literal(ids, ARRAY(BigInteger))),
        chunks.c.space == any_(_spaces_param(spaces)),
    )  # fmt: skip
    rows = {int(r.id): r for r in connection.execute(query)}
    hits: list[tuple[str, Hit]] = []
    for chunk_id, score in fused:
        row = rows.get(chunk_id)
        if row is None:
            continue
        chunk = Chunk(**{name: getattr(row, name) for name in CHUNK_FIELDS})
        hit = Hit(chunk, score, vector_score=row.cosine, bm25_score=row.rank, rank=len(hits) + 1)
        hits.append((row.space, hit))
    return hits


def search_spaces(
    engine: Engine,
    spaces: Sequence[str],
    query: str,
    k: int = 5,
    *,
    embedder: Encoder,
    mode: SearchMode = "hybrid",
    ef_search: int | None = None,
) -> list[tuple[str, Hit]]:
    """The ``k`` chunks of ``spaces`` most relevant to ``query``, with their space.

    Every statement filters on ``space = ANY(:spaces)``: pass exactly the dataspaces the
    user may read. All statements run in one read-only REPEATABLE READ transaction, so
    the rankings and the rows come from one snapshot.

    Parameters
    ----------
    engine:
        PostgreSQL engine whose schema :func:`ensure_schema` made.
    spaces:
        Dataspace ids; an empty list returns ``[]`` without touching the database.
    query:
        Free text.
    k:
        Number of hits.
    embedder:
        The model the chunks were embedded with.
    mode:
        ``"hybrid"`` fuses the vector and the text-search rankings (each ``max(4k, 20)``
        long) by reciprocal rank; ``"vector"`` and ``"bm25"`` use one ranking (``"bm25"``
        names the keyword ranking, here PostgreSQL full-text search).
    ef_search:
        Least HNSW candidate list (``HnswParams.ef_search``); None: twice the depth.

    Returns
    -------
    list of (space, Hit)
        Best first. ``Hit.vector_score`` is the cosine similarity and ``Hit.bm25_score``
        the ``ts_rank`` of the chunk (0.0 without a shared lexeme; not a BM25
        score), whatever the mode.
    """
    if mode not in ("hybrid", "vector", "bm25"):
        raise ConfigError(f"unknown search mode {mode!r}; choose hybrid, vector or bm25")
    if isinstance(spaces, str):
        raise ConfigError(f"spaces must be a list of dataspace ids, not the string {spaces!r}")
    spaces = list(dict.fromkeys(spaces))
    if not spaces or k <= 0 or not query.strip():
        return []
    depth = max(4 * k, 20)
    qv = np.asarray(embedder.encode([query])[0], dtype=np.float32)
    words = _keyword_words(query)
    _, _, _, chunks = rag_tables(len(qv))
    reader = engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    with reader as connection, connection.begin():
        rankings: list[list[int]] = []
        if mode in ("hybrid", "vector"):
            ranking = _vector_ranking(connection, chunks, spaces, qv, depth, ef_search=ef_search)
            rankings.append(ranking)
        if mode in ("hybrid", "bm25") and words:
            rankings.append(_keyword_ranking(connection, chunks, spaces, words, depth))
        fused = reciprocal_rank_fusion(rankings)[:k]
        if not fused:
            return []
        return _fetch_hits(connection, chunks, spaces, fused, qv=qv, words=words)


# ---------------------------------------------------------------------------------- store
def _failure_reason(exc: BaseException, file: Path) -> str:
    reason = str(exc)
    for prefix in (f"{file}: ", f"{file.resolve()}: "):
        reason = reason.removeprefix(prefix)
    return reason


class PgRagStore:
    """One dataspace's documents in the shared PostgreSQL tables; the API of ``RagStore``.

    Parameters
    ----------
    engine:
        A PostgreSQL engine; several stores (one per dataspace) share it.
    space:
        The dataspace id; every row this store reads or writes carries it.
    embedder:
        The embedding model; default :class:`~wxai.assistant.rag.embedding.Embedder`
        (MiniLM). The tables remember their model and refuse another one.
    chunk_chars, overlap_chars:
        Chunking of new documents (as ``RagStore``).
    hnsw:
        Parameters of the vector index (default :class:`HnswParams`).

    Raises
    ------
    ConfigError
        See :func:`ensure_schema`; also an empty ``space``.
    """

    def __init__(
        self,
        engine: Engine,
        space: str,
        *,
        embedder: Encoder | None = None,
        chunk_chars: int = 1200,
        overlap_chars: int = 200,
        hnsw: HnswParams | None = None,
    ) -> None:
        if not space:
            raise ConfigError("a PgRagStore needs a non-empty dataspace id")
        if embedder is None:
            from wxai.assistant.rag.embedding import Embedder

            embedder = Embedder()
        self.engine = engine
        self.space = space
        self.name = space
        self.embedder = embedder
        self.chunk_chars = chunk_chars
        self.overlap_chars = overlap_chars
        self.dim = int(embedder.dim)
        self.hnsw = hnsw or HnswParams()
        ensure_schema(engine, dim=self.dim, model=embedder.asset, hnsw=self.hnsw)
        _, _, self._documents, self._chunks = rag_tables(self.dim)

    # ------------------------------------------------------------------ contents
    def sources(self) -> list[str]:
        """The stored documents' sources, sorted."""
        docs = self._documents
        query = select(docs.c.source).where(docs.c.space == self.space).order_by(docs.c.source)
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def documents(self) -> list[dict]:
        """One dict per document: source, sha256, kind, n_chunks, indexed_at (aware datetime)."""
        docs = self._documents
        query = (
            select(docs.c.source, docs.c.sha256, docs.c.kind, docs.c.n_chunks, docs.c.indexed_at)
            .where(docs.c.space == self.space)
            .order_by(docs.c.source)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def __len__(self) -> int:
        """Number of chunks in this dataspace."""
        query = select(func.count()).where(self._chunks.c.space == self.space)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def chunk_counts(self) -> dict[str, int]:
        """Chunk rows per document source of this dataspace (for verifying a migration)."""
        chunks = self._chunks
        query = (
            select(chunks.c.source, func.count())
            .where(chunks.c.space == self.space)
            .group_by(chunks.c.source)
        )
        with self.engine.connect() as connection:
            return {str(source): int(n) for source, n in connection.execute(query)}

    # ------------------------------------------------------------------ writing
    def _lock_document(self, connection: Connection, source: str) -> None:
        """Hold the (space, source) advisory lock until the transaction ends."""
        key = func.pg_advisory_xact_lock(func.hashtext(self.space), func.hashtext(source))
        connection.execute(select(key))

    def _stored_sha(self, connection: Connection, source: str) -> str | None:
        docs = self._documents
        query = select(docs.c.sha256).where(docs.c.space == self.space, docs.c.source == source)
        return connection.execute(query).scalar_one_or_none()

    def _writer(self) -> Connection:
        return self.engine.connect().execution_options(isolation_level="READ COMMITTED")

    def _replace(
        self,
        connection: Connection,
        source: str,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        sha256: str,
        kind: str,
    ) -> None:
        """Delete the document's rows and write ``chunks`` (inside the caller's transaction)."""
        self._delete_rows(connection, source)
        if len(chunks):
            pairs = enumerate(zip(chunks, vectors, strict=True))
            rows = [
                {**asdict(chunk), "space": self.space, "source": source, "ordinal": ordinal,
                 "language": chunk_language(chunk.text), "embedding": vector.astype(np.float32)}
                for ordinal, (chunk, vector) in pairs
            ]  # fmt: skip
            connection.execute(insert(self._chunks), rows)
        row = {"space": self.space, "source": source, "sha256": sha256, "kind": kind}
        connection.execute(insert(self._documents), [{**row, "n_chunks": len(chunks)}])

    def _delete_rows(self, connection: Connection, source: str) -> int:
        chunks, docs = self._chunks, self._documents
        gone = connection.execute(
            delete(chunks).where(chunks.c.space == self.space, chunks.c.source == source)
        ).rowcount
        connection.execute(delete(docs).where(docs.c.space == self.space, docs.c.source == source))
        return int(gone)

    def add_document(
        self,
        file: str | os.PathLike,
        source: str,
        *,
        still_current: Callable[[], bool] | None = None,
    ) -> IngestReport:
        """Index one file under the source name ``source``.

        As ``RagStore.add_document``: a file whose SHA-256 matches the stored one is
        skipped, a changed file replaces its old chunks, a file that cannot be read is
        reported as failed. The document is written in one transaction under the
        (space, source) advisory lock: readers see the old or the new version, never a
        mix, and a second writer of the same version finds it stored and skips it.

        ``still_current`` is asked under that lock, just before writing: False (a newer
        version of the file was uploaded, or it was deleted) writes nothing and reports
        the source as ``superseded``. Two workers indexing two versions of one file in
        either order thus leave the newest version indexed.
        """
        report = IngestReport()
        path = Path(file)
        try:
            sha = file_sha256(path)
            with self.engine.connect() as connection:
                if self._stored_sha(connection, source) == sha:
                    report.skipped.append(source)
                    return report
            chunks = load_chunks(
                path, chunk_chars=self.chunk_chars, overlap_chars=self.overlap_chars, source=source
            )
        except (WxaiError, OSError, ValueError) as exc:
            report.failed.append((source, _failure_reason(exc, path)))
            return report
        vectors = self.embedder.encode([c.embed_text for c in chunks])
        kind = kind_of(path) or "text"
        with self._writer() as connection, connection.begin():
            self._lock_document(connection, source)
            stored = self._stored_sha(connection, source)
            if stored == sha:  # another writer stored this version meanwhile
                report.skipped.append(source)
                return report
            if still_current is not None and not still_current():
                report.superseded.append(source)
                return report
            self._replace(connection, source, chunks, vectors, sha256=sha, kind=kind)
        (report.updated if stored is not None else report.added).append(source)
        report.n_chunks += len(chunks)
        return report

    def import_chunks(
        self,
        source: str,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        *,
        sha256: str,
        kind: str,
    ) -> int:
        """Store a document's chunks with embeddings computed elsewhere (no re-embedding).

        For ``wxai rag migrate``. A document already stored with the same ``sha256`` is
        left alone, so an interrupted migration can be run again.

        Parameters
        ----------
        source:
            The document's name in this dataspace (the chunks' own ``source`` is ignored).
        chunks:
            The chunks in document order.
        embeddings:
            float32, shape ``(len(chunks), dim)``, unit rows.
        sha256, kind:
            The document's digest and kind, as the file backend recorded them.

        Returns
        -------
        int
            Chunks written (0 when the document was already stored).

        Raises
        ------
        ConfigError
            ``embeddings`` do not have one row of ``dim`` numbers per chunk.
        """
        vectors = np.asarray(embeddings, dtype=np.float32)
        if len(chunks) == 0:
            vectors = np.zeros((0, self.dim), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(chunks), self.dim):
            raise ConfigError(
                f"{source}: embeddings of shape {vectors.shape} for {len(chunks)} chunks; "
                f"expected ({len(chunks)}, {self.dim})"
            )
        with self._writer() as connection, connection.begin():
            self._lock_document(connection, source)
            if self._stored_sha(connection, source) == sha256:
                return 0
            self._replace(connection, source, chunks, vectors, sha256=sha256, kind=kind)
        return len(chunks)

    def remove(self, source: str) -> int:
        """Remove a document and its chunks; returns how many chunks went.

        ``source`` is a stored source name, or a path that maps to one (as ``RagStore``).

        Raises
        ------
        UnknownNameError
            If this dataspace holds no such document.
        """
        known = self.sources()
        if source not in known and Path(source).name == source:
            known.append(source)  # maybe being written now: the lock below waits for it
        source = stored_source(source, known)
        with self._writer() as connection, connection.begin():
            self._lock_document(connection, source)
            if self._stored_sha(connection, source) is None:  # removed meanwhile
                raise UnknownNameError("document", source, [s for s in known if s != source])
            return self._delete_rows(connection, source)

    def clear(self) -> int:
        """Remove every document of this dataspace (a deleted dataspace); returns chunks gone."""
        chunks, docs = self._chunks, self._documents
        with self._writer() as connection, connection.begin():
            gone = connection.execute(delete(chunks).where(chunks.c.space == self.space))
            connection.execute(delete(docs).where(docs.c.space == self.space))
            return int(gone.rowcount)

    # ------------------------------------------------------------------ searching
    def search(self, query: str, k: int = 5, *, mode: SearchMode = "hybrid") -> list[Hit]:
        """The ``k`` chunks of this dataspace most relevant to ``query``.

        See :func:`search_spaces` (``Hit.bm25_score`` is the ``ts_rank``).
        """
        found = search_spaces(
            self.engine,
            [self.space],
            query,
            k,
            embedder=self.embedder,
            mode=mode,
            ef_search=self.hnsw.ef_search,
        )
        return [hit for _, hit in found]

    def __repr__(self) -> str:
        return f"PgRagStore({server_name(self.engine)!r}, space={self.space!r})"
