"""Shared test setup: every test runs against its own, empty wxai home."""

from __future__ import annotations

import os
import shutil
import sqlite3  # noqa: F401 - load the system SQLite before ecCodes can (see wxai.data)
from collections.abc import Iterator
from pathlib import Path

import pytest

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
