"""Which retrieval backend a deployment uses: files (FAISS + SQLite) or PostgreSQL.

One machine keeps each dataspace's index in files under the wxai home
(:class:`~wxai.assistant.rag.store.RagStore`). Cockpit workers on several machines
need one index they all read and write: PostgreSQL with pgvector and full-text search
(:mod:`wxai.assistant.rag.pg_store`). ``WXAI_RAG_BACKEND`` chooses:

``files``     always the files;
``postgres``  always PostgreSQL (``WXAI_RAG_DATABASE_URL``, else the cockpit database);
``auto``      PostgreSQL when that URL is a PostgreSQL database whose server offers the
              ``vector`` extension, else the files (the default).

An OpenSearch backend would sit behind the same interface; it is not shipped because no
OpenSearch server can be run and tested on wxai's build machines.
"""

from __future__ import annotations

import logging

from wxai.core.errors import ConfigError

__all__ = ["has_pgvector", "ingest_by_worker", "rag_database_url"]

log = logging.getLogger(__name__)


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] in {"postgresql", "postgres"}


def has_pgvector(url: str) -> bool:
    """Whether the PostgreSQL server at ``url`` can create the ``vector`` extension."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            ).first()
        return found is not None
    finally:
        engine.dispose()


def rag_database_url(backend: str, database_url: str, rag_url: str | None = None) -> str | None:
    """The PostgreSQL URL for retrieval, or None for the file backend.

    Parameters
    ----------
    backend:
        ``"auto"``, ``"files"`` or ``"postgres"`` (``WXAI_RAG_BACKEND``).
    database_url:
        The cockpit database URL.
    rag_url:
        A separate retrieval database (``WXAI_RAG_DATABASE_URL``), if any.

    Raises
    ------
    ConfigError
        An unknown backend, or ``postgres`` without a PostgreSQL URL.
    """
    if backend not in {"auto", "files", "postgres"}:
        raise ConfigError(f"WXAI_RAG_BACKEND={backend!r}: choose auto, files or postgres")
    if backend == "files":
        return None
    url = rag_url or database_url
    if backend == "postgres":
        if not _is_postgres(url):
            raise ConfigError(
                "WXAI_RAG_BACKEND=postgres needs a PostgreSQL database: set "
                "WXAI_RAG_DATABASE_URL (or WXAI_DATABASE_URL) to a postgresql+psycopg:// URL "
                "of a server with the pgvector extension"
            )
        return url
    if not _is_postgres(url):
        return None
    if has_pgvector(url):
        return url
    log.warning(
        "retrieval stays in files: the PostgreSQL server has no pgvector extension "
        "(install it, e.g. Debian's postgresql-NN-pgvector, to share the index between workers)"
    )
    return None


def ingest_by_worker(ingest: str, rag_url: str | None) -> bool:
    """Whether uploads are indexed by task workers rather than in the upload request.

    Parameters
    ----------
    ingest:
        ``"auto"``, ``"request"`` or ``"worker"`` (``WXAI_RAG_INGEST``); ``auto`` means
        workers when retrieval is in PostgreSQL.
    rag_url:
        The retrieval database from :func:`rag_database_url` (None: the file backend).

    Raises
    ------
    ConfigError
        An unknown mode, or ``worker`` with the file backend (a worker on another machine
        cannot write this machine's index files).
    """
    if ingest not in {"auto", "request", "worker"}:
        raise ConfigError(f"WXAI_RAG_INGEST={ingest!r}: choose auto, request or worker")
    if ingest == "worker" and rag_url is None:
        raise ConfigError(
            "WXAI_RAG_INGEST=worker needs the postgres retrieval backend (WXAI_RAG_BACKEND): "
            "the file index lives on the disk of one machine"
        )
    return ingest == "worker" or (ingest == "auto" and rag_url is not None)
