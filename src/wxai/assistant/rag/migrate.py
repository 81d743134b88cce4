"""Moving dataspace indexes from files (FAISS + SQLite) to PostgreSQL, without embedding again.

Each file store keeps every chunk's embedding in SQLite, so :func:`migrate_to_postgres`
copies chunks and vectors as they are (:meth:`RagStore.export_documents` ->
:meth:`PgRagStore.import_chunks`) and then compares, document by document, the chunk
counts on both sides. A document already in PostgreSQL with the same SHA-256 is left
alone, so an interrupted migration is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wxai.core.errors import WxaiError

__all__ = ["MigratedSpace", "MigrationMismatch", "dataspace_indexes", "migrate_to_postgres"]


class MigrationMismatch(WxaiError):
    """After copying, PostgreSQL does not hold what the file store holds."""


@dataclass(frozen=True)
class MigratedSpace:
    """One dataspace moved: documents and chunks in the file store, chunks written now."""

    space: str
    documents: int
    chunks: int
    written: int


def dataspace_indexes(root: Path) -> dict[str, Path]:
    """The file indexes of the cockpit's dataspaces under ``root`` (``<home>/dataspaces``),
    by dataspace id."""
    return {
        folder.name: folder / "index"
        for folder in sorted(Path(root).glob("*"))
        if (folder / "index" / "meta.sqlite").is_file()
    }


def migrate_to_postgres(
    indexes: Mapping[str, Path],
    engine: Any,
    *,
    embedder: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[MigratedSpace]:
    """Copy each file index into the PostgreSQL tables of its dataspace and verify counts.

    Parameters
    ----------
    indexes:
        Dataspace id -> file store directory (see :func:`dataspace_indexes`).
    engine:
        SQLAlchemy engine of a PostgreSQL server with pgvector.
    embedder:
        The embedding model both sides use (default MiniLM; it is never run here, only
        its name and dimension are checked against the stores).
    progress:
        Called as ``progress(space, i, n)`` before the i-th of n dataspaces.

    Raises
    ------
    MigrationMismatch
        A document's chunk count differs between the file store and PostgreSQL.
    """
    from wxai.assistant.rag.embedding import Embedder
    from wxai.assistant.rag.pg_store import PgRagStore
    from wxai.assistant.rag.store import RagStore

    model = embedder if embedder is not None else Embedder()
    done: list[MigratedSpace] = []
    for i, (space, directory) in enumerate(indexes.items()):
        if progress is not None:
            progress(space, i, len(indexes))
        files = RagStore.open(Path(directory), create=False, embedder=model)
        target = PgRagStore(engine, space, embedder=model)
        written = 0
        for document, chunks, vectors in files.export_documents():
            written += target.import_chunks(
                document["source"], chunks, vectors,
                sha256=document["sha256"], kind=document["kind"] or "text",
            )  # fmt: skip
        expected = {d["source"]: int(d["n_chunks"]) for d in files.documents()}
        stored = {d["source"]: int(d["n_chunks"]) for d in target.documents()}
        rows = target.chunk_counts()
        wrong = [
            source
            for source, n in expected.items()
            if stored.get(source) != n or rows.get(source, 0) != n
        ]
        if wrong:
            raise MigrationMismatch(
                f"dataspace {space}: {len(wrong)} document(s) differ after copying "
                f"(first: {wrong[0]!r}: {expected[wrong[0]]} chunks in files, "
                f"{rows.get(wrong[0], 0)} rows in PostgreSQL); nothing was deleted, run again"
            )
        done.append(MigratedSpace(space, len(expected), sum(expected.values()), written))
    if progress is not None:
        progress("", len(indexes), len(indexes))
    return done
