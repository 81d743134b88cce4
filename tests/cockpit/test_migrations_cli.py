"""`wxai db upgrade|current|history` on SQLite and PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from wxai.cli.app import app
from wxai.cockpit.db import current_revision, head_revision, make_engine
from wxai.core.settings import reload_settings


def test_db_commands_upgrade_report_and_list(database_url, new_postgres_database, monkeypatch):
    url = database_url if database_url.startswith("sqlite") else new_postgres_database(False)
    monkeypatch.setenv("WXAI_DATABASE_URL", url)
    reload_settings()
    runner = CliRunner()
    head = head_revision()

    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0, before.output
    assert "at no revision" in before.output and "wxai db upgrade" in before.output

    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded from nothing to {head}" in " ".join(upgraded.output.split())
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head
    finally:
        engine.dispose()
    again = runner.invoke(app, ["db", "upgrade"])
    assert f"already at {head}" in " ".join(again.output.split())
    assert "up to date" in runner.invoke(app, ["db", "current"]).output

    listed = runner.invoke(app, ["db", "history"]).output.split()
    assert listed.index("0001_baseline") < listed.index("0002_task_claims") <= listed.index(head)
