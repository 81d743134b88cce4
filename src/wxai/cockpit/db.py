"""The cockpit's database: the declarative base, engines, and a UTC datetime column type.

Every cockpit table (tasks, accounts, sessions, dataspaces) derives from :class:`Base`;
the schema is made and changed by the Alembic scripts in ``migrations/`` through
:func:`migrate`. SQLite is the embedded default; PostgreSQL
(``WXAI_DATABASE_URL=postgresql+psycopg://...``) serves several processes and machines.
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Index,
    MetaData,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from wxai.core.errors import WxaiError
from wxai.core.locking import exclusive


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and always read back timezone-aware (SQLite drops it)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base of the cockpit tables."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the worker's writes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url``; for SQLite the file's directory is created.

    A server database gets a pool of ``WXAI_DB_POOL_SIZE`` kept connections (plus
    ``WXAI_DB_MAX_OVERFLOW`` closed after use): with SQLAlchemy's default of 5, a
    busy process opened and closed connections all the time, and each new one costs
    PostgreSQL a process fork.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        from wxai.core.settings import get_settings

        settings = get_settings()
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def shared_engine(url: str) -> Engine:
    """The engine of ``url`` in this process, made on first use (:func:`make_engine`).

    All stores of one database share it, so a process holds one connection pool per
    database instead of one per store (PostgreSQL's ``max_connections`` is finite).
    """
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


class DatabaseStore:
    """What every cockpit store shares: the engine, sessions, migrations, closing.

    Parameters
    ----------
    url:
        SQLAlchemy URL of the cockpit database.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = shared_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def create_tables(self) -> None:
        """Bring the cockpit database to the newest schema (:func:`migrate`)."""
        migrate(self.engine)

    def close(self) -> None:
        """Release the pooled connections (a later call opens new ones)."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A database session committed at the end of the block (rolled back on error)."""
        with self._session.begin() as session:
            yield session


#: The modules whose classes make up the cockpit schema (``Base.metadata``).
MODEL_MODULES = (
    "wxai.cockpit.storage",
    "wxai.cockpit.accounts",
    "wxai.cockpit.conversations",
    "wxai.cockpit.dataspaces",
    "wxai.cockpit.quotas",
)
#: Where the Alembic scripts live (``env.py``, ``versions/``), inside the package.
MIGRATIONS = Path(__file__).with_name("migrations")
#: The first revision: the schema as ``create_all`` made it before migrations existed.
BASELINE = "0001_baseline"
#: Key of the PostgreSQL advisory lock held while migrating ("wxai" in ASCII).
_LOCK_KEY = 0x77786169
#: The table holding the schema revision (not ``alembic_version``, which MLflow uses).
VERSION_TABLE = "wxai_schema_version"
_thread_lock = threading.Lock()


def load_models() -> None:
    """Import every module defining cockpit tables, so ``Base.metadata`` is complete."""
    for name in MODEL_MODULES:
        importlib.import_module(name)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the cockpit scripts, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision of the cockpit schema."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise WxaiError(f"no migration scripts found in {MIGRATIONS}; reinstall wxai")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database at ``engine`` is stamped with (None: not migrated)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Exclusive right to migrate a SQLite file (PostgreSQL: the advisory lock instead)."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        yield  # migrate() takes pg_advisory_xact_lock in its transaction
    elif url.database and url.database != ":memory:":
        with exclusive(Path(f"{url.database}.migrate.lock"), _thread_lock):
            yield
    else:
        with _thread_lock:
            yield


def migrate(engine: Engine) -> str:
    """Upgrade the cockpit database at ``engine`` to the newest schema (``head``).

    Several processes may call this at once: SQLite migrates under a file lock beside
    the database, PostgreSQL under an advisory lock held by the migrating transaction.
    A database made by an older wxai (tables but no ``wxai_schema_version``) is brought to
    the baseline first (missing tables created, missing nullable columns added), then
    stamped ``0001_baseline`` and upgraded.

    Returns
    -------
    str
        The revision the database is at afterwards.
    """
    head = head_revision()
    if current_revision(engine) == head:  # the common case: nothing to do, no lock taken
        return head
    with _migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if VERSION_TABLE not in tables and tables:
            baseline = ScriptDirectory.from_config(config).get_revision(BASELINE)
            if baseline is None or baseline.module is None:
                raise WxaiError(f"the baseline migration is missing from {MIGRATIONS}; reinstall")
            old_schema: MetaData = baseline.module.metadata
            if tables & set(old_schema.tables):
                old_schema.create_all(connection, checkfirst=True)
                add_missing_columns(connection, old_schema.tables.values())
                command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    return head


def add_missing_columns(connection: Connection, tables: Iterable[Table]) -> list[str]:
    """Add the nullable columns of ``tables`` the database lacks (``ALTER TABLE ADD``).

    Returns
    -------
    list of str
        ``table.column`` of every column added.

    Raises
    ------
    WxaiError
        If a missing column is required (not nullable): it cannot be filled in.
    """
    inspector = inspect(connection)
    preparer = connection.dialect.identifier_preparer
    added: list[str] = []
    for table in tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise WxaiError(
                    f"the {table.name} table lacks the required column {column.name!r}; "
                    "move the old cockpit database aside and restart"
                )
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} "
                    f"ADD COLUMN {preparer.format_column(column)} {kind}"
                )
            )
            if column.index:
                Index(f"ix_{table.name}_{column.name}", column).create(connection)
            added.append(f"{table.name}.{column.name}")
    return added


def create_tables(engine: Engine, tables: Sequence[Table] | None = None, attempts: int = 5) -> None:
    """Create ``tables`` that do not exist yet with ``create_all`` (no migration).

    Prefer :func:`migrate`; this remains for tables that have no migration script yet.
    Several processes racing between "does the table exist" and "create it" are
    tolerated: the loser's error is retried (``checkfirst`` then sees the table).
    """
    for attempt in range(attempts):
        try:
            Base.metadata.create_all(engine, tables=tables)
            return
        except (OperationalError, ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
