"""Uploads indexed by task workers (``WXAI_RAG_INGEST=worker``, retrieval on PostgreSQL).

Two cockpit apps share one home and database, as two servers would; two task workers
(real child processes per task) index what they queue. The index must end up with the
newest version of every file, once, whichever worker ran which task.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from pg_vector_server import drop_database, new_database
from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.pg_store import PgRagStore
from wxai.cockpit.app import create_app
from wxai.cockpit.dataspace_tasks import INDEX_TASK
from wxai.cockpit.dataspaces import open_dataspaces
from wxai.cockpit.jobs import TaskLimits, Worker
from wxai.cockpit.storage import TaskStore
from wxai.core.settings import Settings, reload_settings

FOG = "# Fog\n\nRadiation fog forms in calm clear nights over moist valleys.\n"
GUSTS = "# Gusts\n\nConvective gusts under thunderstorms can exceed 30 m/s.\n"
FOEHN_OLD = "# Föhn\n\nDer Föhn wärmt die Täler nördlich der Alpen.\n"
FOEHN_NEW = "# Föhn\n\nDer Föhn trocknet die Luft in den Tälern und lässt Schnee schmelzen.\n"


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch) -> Iterator[Settings]:
    """Settings of a deployment whose workers index uploads; the task processes read the
    same settings from the environment."""
    url = new_database()
    env = {
        "WXAI_HOME": str(tmp_path / "home"),
        "WXAI_DATABASE_URL": f"sqlite:///{tmp_path / 'home' / 'cockpit.db'}",
        "WXAI_RAG_BACKEND": "postgres",
        "WXAI_RAG_DATABASE_URL": url,
        "WXAI_RAG_INGEST": "auto",  # workers, since retrieval is in PostgreSQL
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = reload_settings()
    yield settings
    monkeypatch.undo()
    reload_settings()
    drop_database(url)


def _client(settings: Settings) -> TestClient:
    client = TestClient(create_app(settings, start_worker=False))
    client.__enter__()
    key = client.app.state.accounts.create_api_key("admin", "tests")  # type: ignore[attr-defined]
    client.headers["Authorization"] = f"Bearer {key.token}"
    return client


def _upload(client: TestClient, space: str, name: str, text: str) -> dict:
    answer = client.post(f"/api/dataspaces/{space}/files", files={"file": (name, text.encode())})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def _drain(settings: Settings, workers: int = 2) -> None:
    """Let ``workers`` workers (each its own store, as on two machines) run every task."""

    def work() -> None:
        store = TaskStore(settings.resolved_database_url)
        worker = Worker(store, limits=TaskLimits(wall_seconds=300), cancel_poll_interval=0.5)
        try:
            while worker.run_once():
                pass
        finally:
            store.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)


def test_workers_index_uploads_and_the_newest_version_wins(deployment: Settings):
    first, second = _client(deployment), _client(deployment)
    try:
        space = next(s["id"] for s in first.get("/api/dataspaces").json() if s["kind"] == "private")
        jobs = [(first, "fog.md", FOG), (second, "gusts.md", GUSTS), (first, "föhn.md", FOEHN_OLD)]
        threads = [
            threading.Thread(target=_upload, args=(client, space, name, text))
            for client, name, text in jobs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        newest = _upload(second, space, "föhn.md", FOEHN_NEW)  # before any worker ran
        assert newest["status"] == "updated" and newest["file"]["index_status"] == "queued"
        files = first.get(f"/api/dataspaces/{space}/files").json()
        assert {f["name"]: f["index_status"] for f in files} == dict.fromkeys(
            ["fog.md", "föhn.md", "gusts.md"], "queued"
        )
        assert first.get(f"/api/dataspaces/{space}/search", params={"q": "fog"}).json() == []
        tasks = first.get("/api/tasks").json()
        assert sorted(t["type"] for t in tasks) == [INDEX_TASK] * 4

        _drain(deployment)

        tasks = {t["id"]: t for t in first.get("/api/tasks").json()}
        assert {t["state"] for t in tasks.values()} == {"completed"}, tasks
        outcomes = sorted((t["result"]["file"], t["result"]["status"]) for t in tasks.values())
        assert outcomes == [
            ("fog.md", "indexed"), ("föhn.md", "indexed"), ("föhn.md", "superseded"),
            ("gusts.md", "indexed"),
        ]  # fmt: skip
        files = {f["name"]: f for f in second.get(f"/api/dataspaces/{space}/files").json()}
        assert {f["index_status"] for f in files.values()} == {"indexed"}
        index = PgRagStore(create_engine(deployment.rag_database_url), space, embedder=Embedder())
        documents = {d["source"]: d for d in index.documents()}
        assert {s: d["n_chunks"] for s, d in documents.items()} == index.chunk_counts()
        assert documents["föhn.md"]["sha256"] == files["föhn.md"]["sha256"]  # the newest
        hits = second.get(f"/api/dataspaces/{space}/search", params={"q": "Föhn Schnee"}).json()
        assert hits[0]["source"] == "föhn.md" and "Schnee" in hits[0]["text"]
        assert all("wärmt" not in hit["text"] for hit in hits)  # the old version is gone

        again = _upload(first, space, "fog.md", FOG)  # the same bytes: nothing to do
        assert again["status"] == "unchanged" and again["file"]["index_status"] == "indexed"
        assert len(first.get("/api/tasks").json()) == 4
    finally:
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)


def test_a_version_replaced_during_embedding_is_not_written(deployment: Settings, monkeypatch):
    """The race two workers can run into: version 1 is being embedded when version 2
    arrives; version 1's task must not overwrite what version 2's task writes."""
    client = _client(deployment)
    spaces = open_dataspaces(deployment)  # what a task process opens
    try:
        space = next(
            s["id"] for s in client.get("/api/dataspaces").json() if s["kind"] == "private"
        )
        old = _upload(client, space, "föhn.md", FOEHN_OLD)["file"]
        encode = Embedder.encode

        def upload_meanwhile(self, texts):
            if any("wärmt" in t for t in texts):
                _upload(client, space, "föhn.md", FOEHN_NEW)
            return encode(self, texts)

        monkeypatch.setattr(Embedder, "encode", upload_meanwhile)
        outcome = spaces.index_file(space, old["id"], old["sha256"])
        assert outcome == {"file": "föhn.md", "status": "superseded", "chunks": 0}
        monkeypatch.setattr(Embedder, "encode", encode)
        new = client.get(f"/api/dataspaces/{space}/files").json()[0]
        assert new["sha256"] != old["sha256"] and new["index_status"] == "queued"
        assert spaces.index_file(space, new["id"], new["sha256"])["status"] == "indexed"
        assert spaces.index_file(space, new["id"], new["sha256"])["status"] == "unchanged"
        assert spaces.index_file(space, "no-such-file", new["sha256"])["status"] == "deleted"
        hits = client.get(f"/api/dataspaces/{space}/search", params={"q": "Föhn"}).json()
        assert [h["source"] for h in hits] == ["föhn.md"] and "Schnee" in hits[0]["text"]
    finally:
        spaces.close()
        client.__exit__(None, None, None)


def test_clients_cannot_queue_index_tasks_and_bad_files_are_refused_at_upload(
    deployment: Settings,
):
    client = _client(deployment)
    try:
        space = next(
            s["id"] for s in client.get("/api/dataspaces").json() if s["kind"] == "private"
        )
        params = {"dataspace_id": space, "file_id": "x", "sha256": "0" * 64}
        answer = client.post("/api/tasks", json={"type": INDEX_TASK, "params": params})
        assert answer.status_code == 400 and "unknown task type" in answer.json()["detail"]
        assert INDEX_TASK not in answer.json()["detail"].split("names:")[1]
        corrupt = client.post(
            f"/api/dataspaces/{space}/files",
            files={"file": ("broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50)},
        )
        assert corrupt.status_code == 400, corrupt.text
        assert client.get(f"/api/dataspaces/{space}/files").json() == []
        assert client.get("/api/tasks").json() == []  # nothing queued for it
    finally:
        client.__exit__(None, None, None)


def test_worker_ingestion_needs_the_postgres_backend(tmp_path: Path):
    from wxai.core.errors import ConfigError

    settings = Settings(home=tmp_path, rag_backend="files", rag_ingest="worker")
    with pytest.raises(ConfigError, match="needs the postgres retrieval backend"):
        open_dataspaces(settings)
