"""Alembic migrations of the cockpit database, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    MetaData,
    create_engine,
    inspect,
    select,
    text,
)

from wxai.cockpit.accounts import AccountStore
from wxai.cockpit.db import (
    BASELINE,
    VERSION_TABLE,
    Base,
    alembic_config,
    current_revision,
    head_revision,
    load_models,
    make_engine,
    migrate,
)
from wxai.cockpit.storage import TaskRecord, TaskStore

MIGRATIONS = Path(__file__).parents[2] / "src/wxai/cockpit/migrations"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: no tables, no revision."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("new_postgres_database")(migrated=False)


def _differences(engine: Engine) -> list:
    load_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return compare_metadata(context, Base.metadata)


def _baseline_metadata() -> MetaData:
    script = ScriptDirectory.from_config(alembic_config())
    return script.get_revision(BASELINE).module.metadata


def _run(engine: Engine, action: str, revision: str) -> None:
    with engine.begin() as connection:
        getattr(command, action)(alembic_config(connection), revision)


def test_upgrade_from_empty_matches_the_models(empty_url):
    engine = make_engine(empty_url)
    try:
        assert current_revision(engine) is None
        assert migrate(engine) == head_revision()
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
        assert {"tasks", "users", "chat_messages", "dataspace_files"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_url):
    engine = make_engine(empty_url)
    try:
        migrate(engine)
        _run(engine, "downgrade", BASELINE)
        columns = {c["name"] for c in inspect(engine).get_columns("tasks")}
        assert "worker_id" not in columns and "owner_id" in columns
        _run(engine, "downgrade", "base")
        assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
        assert current_revision(engine) is None
        _run(engine, "upgrade", "head")
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
    finally:
        engine.dispose()


def _old_create_all_database(url: str) -> None:
    """A database as wxai made it before migrations: ``create_all`` of the 0001 tables,
    ``tasks`` still without ``owner_id`` (added later by ``ALTER TABLE``), some rows."""
    engine = create_engine(url)
    _baseline_metadata().create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_tasks_owner_id"))
        connection.execute(text("ALTER TABLE tasks DROP COLUMN owner_id"))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tasks (id, type, state, data, progress, message, "
                "cancel_requested, created_at, updated_at) VALUES ('old1', 'sleep', "
                "'completed', '{}', 1.0, 'done', false, '2025-01-02 03:04:05', "
                "'2025-01-02 03:04:06')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO users (id, name, role, disabled, created_at) "
                "VALUES ('u1', 'ada', 'admin', false, '2025-01-01 00:00:00')"
            )
        )
    engine.dispose()


def test_an_old_create_all_database_is_stamped_and_upgraded_keeping_rows(empty_url):
    _old_create_all_database(empty_url)
    engine = make_engine(empty_url)
    try:
        assert VERSION_TABLE not in inspect(engine).get_table_names()
        assert migrate(engine) == head_revision()
        assert current_revision(engine) == head_revision()
        columns = {c["name"] for c in inspect(engine).get_columns("tasks")}
        assert {"owner_id", "worker_id", "heartbeat_at"} <= columns
        # The index of the added column exists too (the models declare it).
        assert "ix_tasks_owner_id" in {i["name"] for i in inspect(engine).get_indexes("tasks")}
    finally:
        engine.dispose()
    store = TaskStore(empty_url)
    try:
        old = store.get("old1")
        assert old.state == "completed" and old.owner_id is None and old.worker_id is None
        assert store.add("sleep", {}, owner_id="u1").seq > 1  # the old sequence goes on
    finally:
        store.close()
    accounts = AccountStore(empty_url)
    try:
        accounts.create_tables()  # at head already: nothing to do
        with accounts.session() as session:
            assert session.scalar(text("SELECT name FROM users WHERE id = 'u1'")) == "ada"
    finally:
        accounts.close()


def test_processes_starting_at_once_migrate_once(empty_url):
    """Eight stores migrating at the same moment: no error, one schema, one revision row."""
    stores = [TaskStore(empty_url) for _ in range(8)]
    errors: list[BaseException] = []

    def start(store: TaskStore) -> None:
        try:
            store.create_tables()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        with stores[0].engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        assert [row[0] for row in rows] == [head_revision()]
        stores[0].add("sleep", {})
        with stores[1].engine.connect() as connection:
            assert len(connection.execute(select(TaskRecord.id)).all()) == 1
    finally:
        for store in stores:
            store.close()


def test_the_migration_scripts_ship_inside_the_package():
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    names = sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))
    assert names[:2] == ["0001_baseline.py", "0002_task_claims.py"]
