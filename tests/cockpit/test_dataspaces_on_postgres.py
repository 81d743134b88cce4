"""Dataspaces whose index lives in PostgreSQL (pgvector + full-text search): the backend
chosen by configuration, two servers indexing uploads at once, and `wxai rag migrate`."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from typer.testing import CliRunner

from pg_vector_server import drop_database, new_database
from wxai.assistant.rag.backend import rag_database_url
from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.pg_store import PgRagStore
from wxai.cli.app import app as cli
from wxai.cockpit.app import create_app
from wxai.core.errors import ConfigError
from wxai.core.settings import Settings, reload_settings

NOTES = {
    "fog.md": "# Fog\n\nRadiation fog forms in calm clear nights over moist valleys.\n",
    "gusts.md": "# Gusts\n\nConvective gusts under thunderstorms can exceed 30 m/s.\n",
    "föhn.md": "# Föhn\n\nDer Föhn wärmt die Täler nördlich der Alpen und trocknet die Luft.\n",
}


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = new_database()
    yield url
    drop_database(url)


def _client(home: Path, rag_url: str | None) -> TestClient:
    """An app on ``home``; uploads are indexed in the request (the task workers'
    indexing is tested in test_dataspaces_indexed_by_workers.py)."""
    settings = Settings(
        home=home, database_url=None, tracking_uri=None,
        rag_backend="postgres" if rag_url else "files", rag_database_url=rag_url,
        rag_ingest="request",
    )  # fmt: skip
    client = TestClient(create_app(settings, start_worker=False))
    client.__enter__()
    key = client.app.state.accounts.create_api_key("admin", "tests")  # type: ignore[attr-defined]
    client.headers["Authorization"] = f"Bearer {key.token}"
    return client


def _private(client: TestClient) -> str:
    spaces = client.get("/api/dataspaces").json()
    return next(s["id"] for s in spaces if s["kind"] == "private")


def _upload(client: TestClient, space: str, name: str, text: str) -> int:
    files = {"file": (name, text.encode())}
    return client.post(f"/api/dataspaces/{space}/files", files=files).status_code


def test_the_backend_is_chosen_by_configuration(pg_url):
    sqlite = "sqlite:////tmp/x.db"
    assert rag_database_url("files", pg_url) is None
    assert rag_database_url("auto", sqlite) is None
    assert rag_database_url("auto", pg_url) == pg_url  # pgserver has the extension
    assert rag_database_url("postgres", sqlite, pg_url) == pg_url
    with pytest.raises(ConfigError, match="needs a PostgreSQL database"):
        rag_database_url("postgres", sqlite)
    with pytest.raises(ConfigError, match="choose auto, files or postgres"):
        rag_database_url("opensearch", pg_url)


def test_two_workers_uploading_at_once_leave_one_consistent_index(tmp_path, pg_url):
    """Two cockpit processes (two apps, one database, one index) upload into one dataspace
    at the same time: different files, and the same file from both."""
    first = _client(tmp_path / "home", pg_url)
    second = _client(tmp_path / "home", pg_url)  # the same home and database: a 2nd worker
    try:
        space = _private(first)
        assert _private(second) == space
        jobs = [
            (first, "fog.md"), (second, "gusts.md"), (first, "föhn.md"), (second, "föhn.md"),
        ]  # fmt: skip
        codes: list[int] = []
        threads = [
            threading.Thread(target=lambda c=c, n=n: codes.append(_upload(c, space, n, NOTES[n])))
            for c, n in jobs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(codes) == [200, 201, 201, 201] or set(codes) <= {200, 201}
        names = sorted(f["name"] for f in first.get(f"/api/dataspaces/{space}/files").json())
        assert names == sorted(NOTES)
        index = PgRagStore(create_engine(pg_url), space, embedder=Embedder())
        stored = {d["source"]: d["n_chunks"] for d in index.documents()}
        assert stored == index.chunk_counts() and set(stored) == set(NOTES)  # no duplicates
        for client, query, expected in (
            (second, "radiation fog in valleys", "fog.md"),
            (first, "Föhn Täler Alpen", "föhn.md"),
        ):
            hits = client.get(f"/api/dataspaces/{space}/search", params={"q": query}).json()
            assert hits and hits[0]["source"] == expected, hits
    finally:
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)


def test_migrate_moves_the_dataspaces_without_embedding_again(tmp_path, pg_url, monkeypatch):
    home = tmp_path / "home"
    client = _client(home, None)  # files: one FAISS + SQLite index per dataspace
    try:
        space = _private(client)
        for name, text in NOTES.items():
            assert _upload(client, space, name, text) == 201
        before = client.get(f"/api/dataspaces/{space}/search", params={"q": "fog"}).json()
    finally:
        client.__exit__(None, None, None)

    monkeypatch.setenv("WXAI_HOME", str(home))
    reload_settings()

    def no_embedding(self, texts):
        raise AssertionError("migrate must copy the stored embeddings, not compute new ones")

    monkeypatch.setattr(Embedder, "encode", no_embedding)
    runner = CliRunner()
    moved = runner.invoke(cli, ["rag", "migrate", "--to", "postgres", "--url", pg_url])
    assert moved.exit_code == 0, moved.output
    assert "3 documents" in moved.output and "counts verified" in moved.output
    again = runner.invoke(cli, ["rag", "migrate", "--to", "postgres", "--url", pg_url])
    assert again.exit_code == 0 and re.search(r" 0 written", again.output)  # nothing twice
    wrong = runner.invoke(cli, ["rag", "migrate", "--to", "opensearch"])
    assert wrong.exit_code != 0 and "the only target is postgres" in wrong.output
    monkeypatch.undo()
    reload_settings()

    client = _client(home, pg_url)  # the same home, now retrieving from PostgreSQL
    try:
        after = client.get(f"/api/dataspaces/{space}/search", params={"q": "fog"}).json()
        assert after[0]["source"] == before[0]["source"] == "fog.md"
        assert after[0]["text"] == before[0]["text"]
    finally:
        client.__exit__(None, None, None)
