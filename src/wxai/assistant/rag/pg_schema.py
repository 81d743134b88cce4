"""The PostgreSQL side of retrieval: the ``rag_*`` tables, their indexes, and each chunk's
text-search language (used by :mod:`wxai.assistant.rag.pg_store`).

:func:`ensure_schema` creates the pgvector extension, the tables and the indexes once per
database (idempotent, serialised by an advisory lock) and checks that the stored
embedding model and dimension are the caller's. The HNSW index's build parameters
(:class:`HnswParams`, ``WXAI_RAG_HNSW_*``) apply when the index is made; an index built
with others is kept, with a warning naming :func:`rebuild_hnsw` (``wxai rag reindex``).
"""

from __future__ import annotations

import logging
import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Literal, Protocol

import numpy as np
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from wxai.assistant.rag.documents import Chunk
from wxai.core.errors import ConfigError

__all__ = [
    "CHUNK_FIELDS",
    "EMBEDDING_DIM",
    "HNSW_INDEX",
    "WORD",
    "Encoder",
    "HnswParams",
    "Language",
    "chunk_language",
    "ensure_schema",
    "hnsw_in_use",
    "rag_tables",
    "rebuild_hnsw",
    "server_name",
]

log = logging.getLogger(__name__)

Language = Literal["english", "german"]
#: Dimension of the default embedding model (MiniLM-L6).
EMBEDDING_DIM = 384
#: Key of the advisory lock held while the schema is made (``"wxrg"`` in ASCII); the
#: per-document locks use the two-key form, a separate key space.
_SCHEMA_LOCK_KEY = 0x77787267
_SCHEMA_VERSION = "1"

CHUNK_FIELDS = tuple(f.name for f in fields(Chunk))
WORD = re.compile(r"\w+")
_ENGLISH_STOP = frozenset(
    WORD.findall(
        "the and of to is are were be been being that this these those with for from by on "
        "at as it its which or not have has had can will would when where into than then "
        "there their they you your we our if but how what should could"
    )
)
_GERMAN_STOP = frozenset(
    WORD.findall(
        "der die das und ist sind waren nicht mit von vom zum zur den dem des ein eine einer "
        "eines einem einen zu auf für sich im auch wird werden wurde bei oder wie dass aus "
        "nach über unter durch nur noch kann können wenn als es sie er wir ich ihr sehr "
        "haben diese dieser dieses welche"
    )
)


@dataclass(frozen=True)
class HnswParams:
    """Parameters of the HNSW vector index (pgvector's names and defaults).

    Attributes
    ----------
    m:
        Links per node and layer (2..100). More links: better recall, a larger index,
        a slower build.
    ef_construction:
        Candidate list while building (at least ``2 m``, at most 1000).
    ef_search:
        Least candidate list while searching (1..1000); None: twice the ranking depth
        (at least 40). Higher: better recall, slower queries.

    ``benchmarks/rag_backends.py`` measures the trade-off: at 10^6 chunks the defaults
    reach recall@10 0.938; ``m=32, ef_construction=128, ef_search=400`` reaches 0.954
    at 16 ms (docs/retrieval.md).
    """

    m: int = 16
    ef_construction: int = 64
    ef_search: int | None = None

    def __post_init__(self) -> None:
        if not 2 <= self.m <= 100:
            raise ConfigError(f"HNSW m={self.m}: pgvector accepts 2 to 100")
        if not 2 * self.m <= self.ef_construction <= 1000:
            raise ConfigError(
                f"HNSW ef_construction={self.ef_construction}: pgvector needs at least "
                f"2 m = {2 * self.m} and at most 1000"
            )
        if self.ef_search is not None and not 1 <= self.ef_search <= 1000:
            raise ConfigError(f"HNSW ef_search={self.ef_search}: pgvector accepts 1 to 1000")


class Encoder(Protocol):
    """What the store needs of an embedding model (:class:`Embedder` is one)."""

    asset: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def chunk_language(text_: str) -> Language:
    """The text-search configuration of a chunk: German or English, by stop words.

    Counts the words of ``text_`` (lower-cased) that are frequent German function words
    (*der, und, nicht, mit, für, ...*) and those that are English ones (*the, and, of,
    with, ...*); German wins only with strictly more. Code, numbers and text without
    function words fall back to English. Words common to both languages (*in, an, so*)
    are in neither list.
    """
    words = WORD.findall(text_.lower())
    german = sum(w in _GERMAN_STOP for w in words)
    english = sum(w in _ENGLISH_STOP for w in words)
    return "german" if german > english else "english"


# ---------------------------------------------------------------------------------- schema
#: The text the tsvector is built from: the file name (punctuation as spaces), the
#: section and the chunk text, as the file backend's BM25 sees ``Chunk.embed_text``.
_TSV_TEXT = (
    "regexp_replace(regexp_replace(source, '^.*/', ''), '[^[:alnum:]]+', ' ', 'g')"
    " || ' ' || coalesce(section, '') || ' ' || text"
)
_TSV_SQL = (
    f"CASE language WHEN 'german' THEN to_tsvector('german'::regconfig, {_TSV_TEXT}) "
    f"ELSE to_tsvector('english'::regconfig, {_TSV_TEXT}) END"
)


#: Name of the HNSW index on ``rag_chunks.embedding``.
HNSW_INDEX = "rag_chunks_embedding_hnsw"


@lru_cache(maxsize=8)
def rag_tables(dim: int, hnsw: HnswParams = HnswParams()) -> tuple[MetaData, Table, Table, Table]:
    """The metadata and the info, documents and chunks tables for ``dim``-wide vectors
    (``hnsw``: the vector index's build parameters)."""
    from sqlalchemy.dialects.postgresql import TSVECTOR

    metadata = MetaData()
    info = Table(
        "rag_info",
        metadata,
        Column("key", Text, primary_key=True),
        Column("value", Text, nullable=False),
    )
    documents = Table(
        "rag_documents",
        metadata,
        Column("space", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("sha256", Text, nullable=False),
        Column("kind", Text, nullable=False),
        Column("n_chunks", Integer, nullable=False),
        Column("indexed_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
        PrimaryKeyConstraint("space", "source", name="rag_documents_pkey"),
    )
    chunks = Table(
        "rag_chunks",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("space", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("ordinal", Integer, nullable=False),
        Column("kind", Text, nullable=False),
        Column("text", Text, nullable=False),
        Column("start_line", Integer),
        Column("end_line", Integer),
        Column("page", Integer),
        Column("section", Text),
        Column("language", Text, nullable=False),
        Column("tsv", TSVECTOR, Computed(_TSV_SQL, persisted=True)),
        Column("embedding", Vector(dim), nullable=False),
    )
    Index("rag_chunks_space_source", chunks.c.space, chunks.c.source)
    Index("rag_chunks_tsv", chunks.c.tsv, postgresql_using="gin")
    Index(
        HNSW_INDEX,
        chunks.c.embedding,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
        postgresql_with={"m": hnsw.m, "ef_construction": hnsw.ef_construction},
    )
    return metadata, info, documents, chunks


_ensured: weakref.WeakKeyDictionary[Engine, set[tuple[int, str | None, HnswParams]]] = (
    weakref.WeakKeyDictionary()
)


def server_name(engine: Engine) -> str:
    """The engine's URL without its password (for messages)."""
    return engine.url.render_as_string(hide_password=True)


def _create_extension(connection: Connection, server: str) -> None:
    """``CREATE EXTENSION vector`` unless present; a clear error where the server lacks it."""
    present = connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    ).first()
    if present is not None:
        return
    major = connection.execute(text("SHOW server_version_num")).scalar_one()
    try:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise ConfigError(
            f"the PostgreSQL server at {server} cannot provide the pgvector extension "
            f"({reason}). Install pgvector on that server (Debian/Ubuntu: `apt-get install "
            f"postgresql-{int(major) // 10000}-pgvector`; Docker: the pgvector/pgvector image; "
            "see https://github.com/pgvector/pgvector), then run `CREATE EXTENSION vector` "
            "as a superuser; or keep the file backend (WXAI_RAG_BACKEND=files)"
        ) from None


def _check_info(connection: Connection, info: Table, dim: int, model: str | None) -> None:
    """Record the model and dimension on first use; refuse others later."""
    stored = dict(connection.execute(select(info.c.key, info.c.value)).all())
    if "dim" not in stored:
        connection.execute(insert(info), [{"key": "dim", "value": str(dim)}])
        connection.execute(insert(info), [{"key": "schema", "value": _SCHEMA_VERSION}])
    elif int(stored["dim"]) != dim:
        raise ConfigError(
            f"the retrieval tables hold {stored['dim']}-dimensional embeddings "
            f"({stored.get('embedder', 'unknown model')}), not {dim}-dimensional ones; "
            "use that model or another database"
        )
    if model is None:
        return
    if "embedder" not in stored:
        connection.execute(insert(info), [{"key": "embedder", "value": model}])
    elif stored["embedder"] != model:
        raise ConfigError(
            f"the retrieval tables were built with the embedding model {stored['embedder']!r}, "
            f"not {model!r}; open them with that model or use another database"
        )


def ensure_schema(
    engine: Engine,
    *,
    dim: int = EMBEDDING_DIM,
    model: str | None = None,
    hnsw: HnswParams | None = None,
) -> None:
    """Create the pgvector extension, the ``rag_*`` tables and their indexes if missing.

    Idempotent; several processes may call it at once (they serialise on a transaction-level
    advisory lock). Once per engine, dimension and model in a process.

    Parameters
    ----------
    engine:
        A PostgreSQL engine (``postgresql+psycopg://...``).
    dim:
        Embedding dimension (384 for MiniLM-L6).
    model:
        Embedding model name (``Embedder.asset``), recorded on first use; None checks
        nothing.
    hnsw:
        Build parameters of a new vector index (default :class:`HnswParams`); an
        existing index built with others is kept and a warning says how to rebuild it.

    Raises
    ------
    ConfigError
        Not a PostgreSQL engine; the server has no pgvector extension (the message says
        how to install it); or the tables hold another model's or dimension's vectors.
    """
    if engine.dialect.name != "postgresql":
        raise ConfigError(
            f"the PostgreSQL retrieval backend needs a PostgreSQL database, not "
            f"{engine.dialect.name} ({server_name(engine)})"
        )
    hnsw = hnsw or HnswParams()
    done = _ensured.setdefault(engine, set())
    if (dim, model, hnsw) in done:
        return
    metadata, info, _, _ = rag_tables(dim, hnsw)
    with engine.begin() as connection:
        connection.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
        _create_extension(connection, server_name(engine))
        metadata.create_all(connection, checkfirst=True)
        _check_info(connection, info, dim, model)
        built = _hnsw_of(connection)
    if built is not None and (built.m, built.ef_construction) != (hnsw.m, hnsw.ef_construction):
        log.warning(
            "the HNSW index of %s was built with m=%d, ef_construction=%d; the settings ask "
            "for m=%d, ef_construction=%d: run `wxai rag reindex` to rebuild it",
            server_name(engine), built.m, built.ef_construction, hnsw.m, hnsw.ef_construction,
        )  # fmt: skip
    done.add((dim, model, hnsw))


def _hnsw_of(connection: Connection) -> HnswParams | None:
    """The build parameters of the existing vector index, None if there is none."""
    definition = connection.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": HNSW_INDEX}
    ).scalar()
    if definition is None:
        return None
    found = dict(re.findall(r"(m|ef_construction)\s*=\s*'?(\d+)'?", definition))
    defaults = HnswParams()
    return HnswParams(
        m=int(found.get("m", defaults.m)),
        ef_construction=int(found.get("ef_construction", defaults.ef_construction)),
    )


def hnsw_in_use(engine: Engine) -> HnswParams | None:
    """Build parameters of the vector index in ``engine``'s database (None: no index)."""
    with engine.connect() as connection:
        return _hnsw_of(connection)


def rebuild_hnsw(engine: Engine, hnsw: HnswParams, *, dim: int = EMBEDDING_DIM) -> float:
    """Drop the vector index and build it again with ``hnsw``; return the build time in s.

    Searches fall back to exact (sequential) scans while it builds; writers wait for
    it. For 10^6 chunks at ``m=32`` expect tens of minutes on 2 cores.
    """
    _, _, _, chunks = rag_tables(dim, hnsw)
    index = next(i for i in chunks.indexes if i.name == HNSW_INDEX)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
        connection.execute(text(f"DROP INDEX IF EXISTS {HNSW_INDEX}"))
        index.create(connection)
    _ensured.pop(engine, None)
    return time.perf_counter() - started
