"""A named, persistent retrieval store: chunks and metadata in SQLite, vectors in FAISS.

Layout of a store directory (``<WXAI home>/rag/<name>/`` or an explicit path)::

    meta.sqlite          documents (source, sha256, mtime, kind, n_chunks),
                         chunks (id, source, text, lines/page/section, embedding),
                         info (embedding model, dimension, version)
    vectors.faiss        the VectorIndex over the chunk embeddings, ids = chunk ids
    vectors.faiss.json   its settings and the store version it reflects
    .lock                taken (flock) while a process writes

SQLite is the source of truth: every chunk keeps its embedding there, so the FAISS
file is a cache that is rebuilt without re-embedding when it is missing, corrupt,
or older than the SQLite ``version`` (a writer crashed, or another process wrote).
Each document is written in one SQLite transaction that bumps ``version``; a
process that finds a newer version before a search reloads the index. Writers
serialise on ``.lock``, so a store opened twice, in one process or in two, does
not lose or duplicate chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from wxai.assistant.rag.documents import Chunk, iter_files, kind_of, load_chunks
from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.ranking import BM25Index, reciprocal_rank_fusion
from wxai.assistant.rag.types import Hit
from wxai.assistant.rag.vector_index import IndexKind, VectorIndex
from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError, WxaiError
from wxai.core.locking import exclusive

__all__ = ["IngestReport", "RagStore", "SearchMode", "list_stores", "store_dir"]

SearchMode = Literal["hybrid", "vector", "bm25"]
ProgressCallback = Callable[[str, int, int], None]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, mtime REAL,
    size INTEGER, kind TEXT, n_chunks INTEGER NOT NULL,
    indexed_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, ordinal INTEGER NOT NULL,
    kind TEXT NOT NULL, text TEXT NOT NULL, start_line INTEGER, end_line INTEGER,
    page INTEGER, section TEXT, embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks (source);
"""
_CHUNK_COLUMNS = "id, source, kind, text, start_line, end_line, page, section"


def _rag_root() -> Path:
    from wxai.core.paths import home_dir

    return home_dir() / "rag"


def store_dir(name: str) -> Path:
    """Directory of the named store under the wxai home (not created)."""
    if not _NAME.match(name):
        raise ConfigError(
            f"invalid store name {name!r}: use letters, digits, '_', '-', '.', "
            "or give a path containing '/'"
        )
    return _rag_root() / name


def list_stores() -> list[str]:
    """Names of the stores under the wxai home."""
    root = _rag_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "meta.sqlite").is_file())


def _is_path(name_or_path: str | os.PathLike) -> bool:
    """A Path object, or a string with a directory separator (``./x``, ``~/x``, ``/srv/x``).

    Anything else is a NAME, which :func:`store_dir` checks: ``~``, ``.``, ``..`` or
    ``.hidden`` are refused there rather than read as the home or parent directory.
    """
    if isinstance(name_or_path, os.PathLike):
        return True
    text = str(name_or_path)
    return "/" in text or os.sep in text


def stored_source(source: str, known: Sequence[str]) -> str:
    """``source`` as stored: itself, or the source name its path maps to.

    Raises
    ------
    UnknownNameError
        Neither is in ``known``.
    """
    if source in known:
        return source
    candidate = source_name(Path(source))
    if candidate not in known:
        raise UnknownNameError("document", source, list(known))
    return candidate


def source_name(path: Path) -> str:
    """The name a file is stored under: relative to the working directory if inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class IngestReport:
    """What :meth:`RagStore.add` did, per source.

    ``failed`` holds ``(source, reason)`` pairs; ``n_chunks`` counts chunks written;
    ``superseded`` the sources not written because a newer version was uploaded meanwhile.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    n_chunks: int = 0
    superseded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    def summary(self) -> str:
        """One line: counts of added, updated, unchanged and failed documents."""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.skipped)} unchanged, {len(self.failed)} failed; "
            f"{self.n_chunks} chunks written"
        )


class RagStore:
    """A persistent document store searchable by BM25, vectors, or both (hybrid).

    Use :meth:`open` rather than the constructor.

    Parameters
    ----------
    directory:
        The store directory (created if missing).
    embedder:
        The embedding model; default :class:`Embedder` (MiniLM). A store remembers
        its model and refuses another one.
    chunk_chars, overlap_chars:
        Chunking of new documents.
    exact_max, index_kind, nprobe:
        See :class:`~wxai.assistant.rag.vector_index.VectorIndex`; ``nprobe`` also
        applies to an index read from disk.
    """

    def __init__(
        self,
        directory: Path,
        *,
        embedder: Embedder | None = None,
        chunk_chars: int = 1200,
        overlap_chars: int = 200,
        exact_max: int = 20_000,
        index_kind: IndexKind = "auto",
        nprobe: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.name = self.directory.name
        self.embedder = embedder if embedder is not None else Embedder()
        self.chunk_chars = chunk_chars
        self.overlap_chars = overlap_chars
        self.exact_max = exact_max
        self.index_kind: IndexKind = index_kind
        self.nprobe = nprobe
        self._lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._index_version = -1
        self._bm25: BM25Index | None = None
        self._bm25_version = -1
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            info = dict(db.execute("SELECT key, value FROM info").fetchall())
            if not info:
                db.executemany(
                    "INSERT INTO info (key, value) VALUES (?, ?)",
                    [("embedder", self.embedder.asset), ("version", "0")],
                )
            elif info.get("embedder") != self.embedder.asset:
                raise ConfigError(
                    f"store {self.directory} was built with the embedding model "
                    f"{info.get('embedder')!r}, not {self.embedder.asset!r}; "
                    "open it with that model or index into a new store"
                )

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        name_or_path: str | os.PathLike,
        *,
        embedder: Embedder | None = None,
        create: bool = True,
        **options,
    ) -> RagStore:
        """Open (or create) a store by name or by directory path.

        Parameters
        ----------
        name_or_path:
            A name (``"docs"`` -> ``<WXAI home>/rag/docs``: letters, digits, ``_``,
            ``-``, ``.``, not starting with ``.`` or ``~``) or a path (a
            :class:`~pathlib.Path`, or a string containing ``/`` such as ``./docs``
            or ``~/stores/docs``).
        embedder:
            Embedding model (default MiniLM).
        create:
            Create a missing store; if False a missing store raises.
        **options:
            Passed to the constructor (``chunk_chars``, ``exact_max``, ...).

        Raises
        ------
        ConfigError
            A name that is not a plain name (``~``, ``..``, ``.x``).
        UnknownNameError
            ``create=False`` and no such store (the message lists the stores).
        """
        if _is_path(name_or_path):
            directory = Path(name_or_path).expanduser()
        else:
            directory = store_dir(str(name_or_path))
        if not create and not (directory / "meta.sqlite").is_file():
            if _is_path(name_or_path):
                raise DataFormatError(
                    f"{directory}: not a RAG store (no meta.sqlite); create one there with "
                    f"`wxai rag index PATH... --store {directory}`"
                )
            raise UnknownNameError(
                "RAG store",
                str(name_or_path),
                list_stores(),
                hint="Create it with `wxai rag index PATH... --store NAME`.",
            )
        return cls(directory, embedder=embedder, **options)

    # ------------------------------------------------------------------ plumbing
    @property
    def db_path(self) -> Path:
        """The SQLite metadata file."""
        return self.directory / "meta.sqlite"

    @property
    def index_path(self) -> Path:
        """The FAISS index file."""
        return self.directory / "vectors.faiss"

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction: commit on success, roll back on error
                yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        with exclusive(self.directory / ".lock", self._lock):
            yield

    def version(self) -> int:
        """The store version, increased by every committed change."""
        with self._connect() as db:
            return int(db.execute("SELECT value FROM info WHERE key='version'").fetchone()[0])

    def _new_index(self) -> VectorIndex:
        return VectorIndex(
            self.embedder.dim, exact_max=self.exact_max, kind=self.index_kind, nprobe=self.nprobe
        )

    def _load_index(self) -> VectorIndex:
        """The vector index matching the current version: from file, or rebuilt."""
        with self._lock:
            version = self.version()
            if self._index is not None and self._index_version == version:
                return self._index
            index = None
            if self.index_path.exists():
                with contextlib.suppress(DataFormatError):
                    index = VectorIndex.load(self.index_path)
                    if index.meta.get("store_version") != version:
                        index = None
            if index is None:
                index = self.rebuild_index(save=False)
            index.nprobe = self.nprobe
            self._index, self._index_version = index, version
            return index

    def rebuild_index(self, *, save: bool = True) -> VectorIndex:
        """Build the vector index afresh from the embeddings kept in SQLite.

        Also retrains an IVF index on all current vectors. ``save`` writes it.
        """
        with self._connect() as db:
            rows = db.execute("SELECT id, embedding FROM chunks ORDER BY id").fetchall()
            version = int(db.execute("SELECT value FROM info WHERE key='version'").fetchone()[0])
        index = self._new_index()
        if rows:
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            vectors = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            index.add(ids, vectors)
        if save:
            with self._write_lock():
                index.save(self.index_path, store_version=version)
                self._index, self._index_version = index, version
        return index

    # ------------------------------------------------------------------ contents
    def sources(self) -> list[str]:
        """The stored documents' sources, sorted."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT source FROM documents ORDER BY source")]

    def documents(self) -> list[dict]:
        """One dict per document: source, path, sha256, mtime, size, kind, n_chunks."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM documents ORDER BY source").fetchall()
        return [dict(r) for r in rows]

    def export_documents(self) -> Iterator[tuple[dict, list[Chunk], np.ndarray]]:
        """Each document with its chunks (in order) and their embeddings, shape (n, dim).

        For moving a store to another backend without embedding again
        (``wxai rag migrate``).
        """
        for document in self.documents():
            with self._connect() as db:
                ids = [
                    int(r[0])
                    for r in db.execute(
                        "SELECT id FROM chunks WHERE source = ? ORDER BY ordinal",
                        (document["source"],),
                    )
                ]
            rows = self.chunks(ids)
            chunks = [rows[i][0] for i in ids]
            vectors = np.stack([rows[i][1] for i in ids]) if ids else np.zeros((0, 0), np.float32)
            yield document, chunks, vectors

    def __len__(self) -> int:
        """Number of chunks in the store."""
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def chunks(self, ids: Iterable[int]) -> dict[int, tuple[Chunk, np.ndarray]]:
        """Chunks and their embeddings by id (ids not in the store are left out)."""
        ids = [int(i) for i in ids]
        out: dict[int, tuple[Chunk, np.ndarray]] = {}
        with self._connect() as db:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT {_CHUNK_COLUMNS}, embedding FROM chunks WHERE id IN ({marks})"
                for row in db.execute(query, part):
                    chunk = Chunk(row[3], row[1], row[2], row[4], row[5], row[6], row[7])
                    out[int(row[0])] = (chunk, np.frombuffer(row[8], dtype=np.float32))
        return out

    # ------------------------------------------------------------------ writing
    def _collect(
        self, paths: Iterable[str | os.PathLike], report: IngestReport
    ) -> list[tuple[Path, str]]:
        files: list[tuple[Path, str]] = []
        for given in paths:
            path = Path(given).expanduser()
            if not path.exists():
                report.failed.append((str(given), "no such file or directory"))
                continue
            for file in iter_files(path):
                if file.is_file():
                    files.append((file, source_name(file)))
        return files

    def add(
        self, paths: Iterable[str | os.PathLike], *, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Index files and directories; only new or changed files are (re)embedded.

        A file whose SHA-256 matches the stored one is skipped; a changed file has
        its old chunks removed and new ones added. A file that cannot be read
        (corrupt PDF/NetCDF/GRIB, binary) is reported as failed and the rest goes on.

        Parameters
        ----------
        paths:
            Files, or directories walked for ingestible files
            (see :func:`~wxai.assistant.rag.documents.iter_files`).
        progress:
            Called as ``progress(source, i, n)`` before the i-th of n files.

        Returns
        -------
        IngestReport
        """
        report = IngestReport()
        files = self._collect(paths, report)
        self._ingest(files, report, progress)
        if progress is not None:
            progress("", len(files), len(files))
        return report

    def add_document(self, file: str | os.PathLike, source: str) -> IngestReport:
        """Index one file under the source name ``source`` (an upload keeps its own name).

        Like :meth:`add`, an unchanged file is skipped and a changed one replaces its
        old chunks; a file that cannot be read is reported as failed.
        """
        report = IngestReport()
        self._ingest([(Path(file), source)], report, None)
        return report

    def _ingest(
        self,
        files: Sequence[tuple[Path, str]],
        report: IngestReport,
        progress: ProgressCallback | None,
    ) -> None:
        with self._write_lock():
            index = self._load_index()
            try:
                for i, (file, source) in enumerate(files):
                    if progress is not None:
                        progress(source, i, len(files))
                    self._add_file(index, file, source, report)
            finally:
                version = self.version()
                index.save(self.index_path, store_version=version)
                self._index, self._index_version = index, version

    def _add_file(self, index: VectorIndex, file: Path, source: str, report: IngestReport) -> None:
        try:
            sha = file_sha256(file)
            with self._connect() as db:
                row = db.execute(
                    "SELECT sha256 FROM documents WHERE source=?", (source,)
                ).fetchone()
            if row is not None and row[0] == sha:
                report.skipped.append(source)
                return
            chunks = load_chunks(
                file,
                chunk_chars=self.chunk_chars,
                overlap_chars=self.overlap_chars,
                source=source,
            )
        except (WxaiError, OSError, ValueError) as exc:
            reason = str(exc)
            for prefix in (f"{file}: ", f"{file.resolve()}: "):
                reason = reason.removeprefix(prefix)
            report.failed.append((source, reason))
            return
        vectors = self.embedder.encode([c.embed_text for c in chunks])
        stat = file.stat()
        with self._connect() as db:
            old = [r[0] for r in db.execute("SELECT id FROM chunks WHERE source=?", (source,))]
            db.execute("DELETE FROM chunks WHERE source=?", (source,))
            db.execute("DELETE FROM documents WHERE source=?", (source,))
            new_ids = []
            for ordinal, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True)):
                cursor = db.execute(
                    "INSERT INTO chunks (source, ordinal, kind, text, start_line, end_line, "
                    "page, section, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        source,
                        ordinal,
                        chunk.kind,
                        chunk.text,
                        chunk.start_line,
                        chunk.end_line,
                        chunk.page,
                        chunk.section,
                        vector.astype(np.float32).tobytes(),
                    ),
                )
                new_ids.append(cursor.lastrowid)
            db.execute(
                "INSERT INTO documents (source, path, sha256, mtime, size, kind, n_chunks) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    str(file.resolve()),
                    sha,
                    stat.st_mtime,
                    stat.st_size,
                    kind_of(file) or "text",
                    len(chunks),
                ),
            )
            db.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='version'")
        index.remove(np.array(old, dtype=np.int64))
        index.add(np.array(new_ids, dtype=np.int64), vectors)
        (report.updated if row is not None else report.added).append(source)
        report.n_chunks += len(chunks)

    def remove(self, source: str) -> int:
        """Remove a document and its chunks; returns how many chunks went.

        ``source`` is a stored source name, or a path that maps to one.

        Raises
        ------
        UnknownNameError
            If the store holds no such document.
        """
        source = stored_source(source, self.sources())
        with self._write_lock():
            index = self._load_index()
            with self._connect() as db:
                old = [r[0] for r in db.execute("SELECT id FROM chunks WHERE source=?", (source,))]
                db.execute("DELETE FROM chunks WHERE source=?", (source,))
                db.execute("DELETE FROM documents WHERE source=?", (source,))
                db.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='version'")
            index.remove(np.array(old, dtype=np.int64))
            version = self.version()
            index.save(self.index_path, store_version=version)
            self._index, self._index_version = index, version
        return len(old)

    # ------------------------------------------------------------------ searching
    def _bm25_index(self) -> BM25Index:
        with self._lock:
            version = self.version()
            if self._bm25 is None or self._bm25_version != version:
                with self._connect() as db:
                    rows = db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY id").fetchall()
                texts = [Chunk(r[3], r[1], r[2], r[4], r[5], r[6], r[7]).embed_text for r in rows]
                self._bm25 = BM25Index([r[0] for r in rows], texts)
                self._bm25_version = version
            return self._bm25

    def search(self, query: str, k: int = 5, *, mode: SearchMode = "hybrid") -> list[Hit]:
        """The ``k`` chunks most relevant to ``query``.

        Parameters
        ----------
        query:
            Free text.
        k:
            Number of hits.
        mode:
            ``"hybrid"`` fuses the BM25 and vector rankings (each ``max(4k, 20)``
            long) by reciprocal rank; ``"vector"`` and ``"bm25"`` use one ranking.

        Returns
        -------
        list of Hit
            Best first. Every hit carries its cosine similarity to the query
            (``vector_score``) and its BM25 score, whatever the mode.
        """
        if mode not in ("hybrid", "vector", "bm25"):
            raise ConfigError(f"unknown search mode {mode!r}; choose hybrid, vector or bm25")
        if k <= 0 or not query.strip():
            return []
        depth = max(4 * k, 20)
        qv = self.embedder.encode([query])[0]
        rankings: list[list[int]] = []
        bm25 = self._bm25_index()
        bm25_scores = dict(zip(bm25.ids.tolist(), bm25.scores(query).tolist(), strict=True))
        if mode in ("hybrid", "vector"):
            _, ids = self._load_index().search(qv[None, :], depth)
            rankings.append([int(i) for i in ids[0] if i >= 0])
        if mode in ("hybrid", "bm25"):
            rankings.append([i for i, _ in bm25.search(query, depth)])
        fused = reciprocal_rank_fusion(rankings)
        rows = self.chunks(i for i, _ in fused[: 2 * k])
        hits: list[Hit] = []
        for chunk_id, score in fused:
            if chunk_id not in rows:
                continue  # in the index but not (yet) in SQLite: ignore
            chunk, vector = rows[chunk_id]
            hits.append(
                Hit(
                    chunk,
                    float(score),
                    vector_score=float(np.dot(qv, vector)),
                    bm25_score=float(bm25_scores.get(chunk_id, 0.0)),
                    rank=len(hits) + 1,
                )
            )
            if len(hits) == k:
                break
        return hits

    def __repr__(self) -> str:
        return f"RagStore({str(self.directory)!r})"
