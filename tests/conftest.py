"""Shared test setup: every test runs against its own, empty wxai home.

Databases: tests of the cockpit's stores run on SQLite and PostgreSQL alike.

``database_url``
    Parametrized ``["sqlite", "postgresql"]``: a SQLite file in ``tmp_path`` or a fresh
    PostgreSQL database already migrated to head (one per test, a copy of a template).
    Pass it to a store (``TaskStore(database_url)``) or use ``cockpit_database`` below.
``cockpit_database``
    ``database_url`` also set as ``WXAI_DATABASE_URL`` (settings reloaded), for tests
    that build the app with ``create_app()`` or run ``wxai`` subprocesses.
``postgres_url`` (session)
    The throwaway cluster's maintenance database; the cluster (``tests/postgres_server.py``)
    starts once per session. Tests skip when the PostgreSQL binaries are missing
    (``scripts/system-deps.sh`` installs them as root).
``fresh_database_url``
    A new migrated PostgreSQL database for this test; ``new_postgres_database(migrated=False)``
    makes empty ones (for migration tests).
"""

from __future__ import annotations

import os
import shutil
import sqlite3  # noqa: F401 - load the system SQLite before ecCodes can (see wxai.data)
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from postgres_server import PostgresServer, PostgresUnavailable
from wxai.core.settings import reload_settings

# The cockpit answers only to allowed host names; FastAPI's TestClient calls itself
# "testserver". Set before any fixture reads the settings.
os.environ.setdefault("WXAI_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1,[::1]")


@pytest.fixture(scope="session")
def _tracking_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store with its schema already migrated.

    Creating the tables of a new store takes seconds; each test copies this file
    instead. The copy holds no experiments or runs, so tests stay independent.
    """
    home = tmp_path_factory.mktemp("wxai-template-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WXAI_HOME", str(home))
        settings = reload_settings()
        from mlflow import MlflowClient

        MlflowClient(tracking_uri=settings.resolved_tracking_uri).search_experiments()
    reload_settings()
    return home / "mlflow.db"


@pytest.fixture(autouse=True)
def _isolated_wxai_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _tracking_store_template: Path
) -> Iterator[Path]:
    """Point ``WXAI_HOME`` at a fresh temporary directory for the test's duration."""
    home = tmp_path / "wxai-home"
    home.mkdir()
    shutil.copyfile(_tracking_store_template, home / "mlflow.db")
    monkeypatch.setenv("WXAI_HOME", str(home))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("WXAI_TRACKING_URI", raising=False)
    reload_settings()
    yield home
    monkeypatch.undo()
    reload_settings()


# -- databases ---------------------------------------------------------------------------

_TEMPLATE = "wxai_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the session, with a migrated template database."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as error:
        pytest.skip(str(error))
    try:
        from sqlalchemy import create_engine

        from wxai.cockpit.db import migrate

        server.create_database(_TEMPLATE)
        engine = create_engine(server.url(_TEMPLATE))
        try:
            migrate(engine)
        finally:
            engine.dispose()  # a template must have no open connections when copied
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of the session cluster's maintenance database ``postgres``."""
    return postgres_server.url()


@pytest.fixture
def new_postgres_database(postgres_server: PostgresServer) -> Iterator[Callable[..., str]]:
    """Factory ``(migrated=True) -> url`` of new databases, dropped after the test."""
    names: list[str] = []

    def make(migrated: bool = True) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        names.append(name)
        return postgres_server.create_database(name, template=_TEMPLATE if migrated else None)

    yield make
    for name in names:
        postgres_server.drop_database(name)


@pytest.fixture
def fresh_database_url(new_postgres_database: Callable[..., str]) -> str:
    """A new PostgreSQL database migrated to head, for this test only."""
    return new_postgres_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A cockpit database for this test: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cockpit-test.db'}"
    return request.getfixturevalue("fresh_database_url")


@pytest.fixture
def cockpit_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``database_url`` set as ``WXAI_DATABASE_URL`` for the app and subprocesses."""
    monkeypatch.setenv("WXAI_DATABASE_URL", database_url)
    reload_settings()
    return database_url


# -- ending the run ------------------------------------------------------------------------
# The whole suite (never a subset we tried) twice ended with a segmentation fault after
# pytest had reported every test passed, with no Python frame: a crash in native
# teardown after interpreter finalization (CTranslate2, onnxruntime, PyTorch, llama.cpp
# and libpq are all loaded by then). The run ends like this instead: pytest has written
# its report, the atexit handlers run (temporary directories, model worker processes),
# then the process exits with pytest's status, skipping native static destructors.
_SESSION_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _SESSION_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if not _SESSION_STATUS or os.environ.get("WXAI_TEST_NATIVE_EXIT") == "1":
        return  # WXAI_TEST_NATIVE_EXIT=1: exit the normal way (to look into the crash)
    import atexit
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(_SESSION_STATUS[-1])
