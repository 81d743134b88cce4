"""A throwaway PostgreSQL server with pgvector for tests: one ``pgserver`` per test session.

Debian's PostgreSQL (``tests/postgres_server.py``) has no pgvector package; the PyPI
package ``pgserver`` (a dev dependency) ships PostgreSQL 16 with pgvector. This module
starts one such server, in a temporary folder, the first time a test asks for it, and
removes it when the test session ends::

    url = new_database()          # postgresql+psycopg://postgres@/rag_xxxx?host=/tmp/...
    ...
    drop_database(url)

Tests call :func:`new_database` through a fixture (see ``pg_vector_url`` in
``tests/assistant/rag/test_pg_store.py``); it skips the test, saying why, only when
``pgserver`` cannot be imported. The server listens on a Unix socket only and trusts
local connections (it runs as an unprivileged ``pgserver`` user when started as root).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

_lock = threading.Lock()
#: The session's server ("server") and the temporary folder holding it ("root").
_state: dict[str, Any] = {}


def _start() -> Any:
    """The session's pgserver, started on first use (skips the test without pgserver)."""
    with _lock:
        if "server" not in _state:
            pgserver = pytest.importorskip(
                "pgserver",
                reason="pgserver (PostgreSQL with pgvector for tests) is not installed; "
                "install the dev dependencies: pip install -e '.[dev]'",
            )
            # A short path: the Unix socket's path must stay under ~100 characters.
            root = _state["root"] = Path(tempfile.mkdtemp(prefix="wxai-pgv-"))
            server = pgserver.get_server(root / "data", cleanup_mode="delete")
            # A throwaway server: no flushing to disk (CREATE/DROP DATABASE in milliseconds).
            server.psql(
                "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off; "
                "ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
            )
            _state["server"] = server
            atexit.register(_stop)
        return _state["server"]


def _stop() -> None:
    with _lock:
        server = _state.pop("server", None)
        if server is not None:
            server.cleanup()
        root = _state.pop("root", None)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def server_url(database: str = "postgres") -> str:
    """SQLAlchemy URL (``postgresql+psycopg``) of ``database`` on the session's server."""
    from sqlalchemy.engine import make_url

    uri = make_url(_start().get_uri())
    url = uri.set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    """Run one statement on the maintenance database, outside a transaction."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url())
    with psycopg.connect(
        host=url.query["host"], user=url.username, dbname=url.database, autocommit=True
    ) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def new_database(prefix: str = "rag") -> str:
    """Create an empty database on the session's server; its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE DATABASE {name}")
    return server_url(name)


def drop_database(url: str) -> None:
    """Drop the database of ``url``, closing connections still open to it."""
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"not a database made by new_database: {url}")
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
