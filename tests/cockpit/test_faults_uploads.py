"""Uploads when room runs out: the dataspace quota (413) and a full disk (507).

Either way the user gets a message that says what happened, no partial file stays
behind, and the files already stored are still listed and downloadable unchanged.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wxai.cockpit import uploads
from wxai.cockpit.uploads import QuotaExceeded, StorageFull, atomic_write, check_quota, is_disk_full

KEPT = b"Fog over the valley until noon.\n" * 10  # 320 bytes


def _private_space(client: TestClient) -> str:
    spaces = client.get("/api/dataspaces").json()
    return next(s["id"] for s in spaces if s["kind"] == "private")


def _upload(client: TestClient, space: str, name: str, data: bytes):
    return client.post(f"/api/dataspaces/{space}/files", files={"file": (name, data)})


def _with_quota(client: TestClient, monkeypatch, mib: float) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    changed = settings.model_copy(update={"dataspace_quota_mb": mib})
    monkeypatch.setattr(client.app.state, "settings", changed)  # type: ignore[attr-defined]


def _assert_kept(client: TestClient, space: str, name: str, data: bytes) -> None:
    listed = {f["name"]: f for f in client.get(f"/api/dataspaces/{space}/files").json()}
    assert name in listed
    download = client.get(listed[name]["url"])
    assert download.status_code == 200
    assert download.content == data


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".partial" in p.name or p.name.startswith(".staging-")]


def test_quota_refuses_an_upload_past_it_with_the_numbers(client, monkeypatch) -> None:
    space = _private_space(client)
    _with_quota(client, monkeypatch, 1000 / 2**20)  # 1000 bytes
    assert _upload(client, space, "kept.txt", KEPT).status_code == 201
    refused = _upload(client, space, "more.txt", b"x" * 700 + b"\n")
    assert refused.status_code == 413
    detail = refused.json()["detail"]
    assert "quota" in detail
    assert "WXAI_DATASPACE_QUOTA_MB" in detail
    assert "0.95 MiB" not in detail  # sizes, not garbage: 320 B used, 701 B more
    assert "over its quota of 0.000953674 MiB" in detail
    names = [f["name"] for f in client.get(f"/api/dataspaces/{space}/files").json()]
    assert names == ["kept.txt"]
    _assert_kept(client, space, "kept.txt", KEPT)


def test_quota_counts_a_replaced_file_once(client, monkeypatch) -> None:
    space = _private_space(client)
    _with_quota(client, monkeypatch, 1000 / 2**20)
    assert _upload(client, space, "kept.txt", KEPT).status_code == 201
    bigger = b"Rain later.\n" * 70  # 840 bytes: fits only because it replaces kept.txt
    replaced = _upload(client, space, "kept.txt", bigger)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["status"] == "updated"


def test_quota_zero_is_unlimited(client, monkeypatch) -> None:
    space = _private_space(client)
    _with_quota(client, monkeypatch, 0)
    for i in range(3):
        assert _upload(client, space, f"f{i}.txt", KEPT + bytes([65 + i])).status_code == 201


def test_check_quota_message_names_sizes() -> None:
    check_quota("a.txt", used=10, adding=10, quota=20)  # exactly full is allowed
    with pytest.raises(QuotaExceeded, match=r"over its quota of 2 MiB \(1\.50 MiB used"):
        check_quota("a.txt", used=3 * 2**19, adding=2**20, quota=2 * 2**20)


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_answers_507_and_keeps_stored_files(client, wxai_home, monkeypatch) -> None:
    space = _private_space(client)
    assert _upload(client, space, "kept.txt", KEPT).status_code == 201
    monkeypatch.setattr(uploads.os, "fsync", _disk_full)
    for name in ("new.txt", "kept.txt"):  # a new file, and a replacement of a stored one
        answer = _upload(client, space, name, b"Snow on the passes.\n")
        assert answer.status_code == 507, answer.text
        assert "disk is full" in answer.json()["detail"]
    monkeypatch.undo()
    names = [f["name"] for f in client.get(f"/api/dataspaces/{space}/files").json()]
    assert names == ["kept.txt"]
    _assert_kept(client, space, "kept.txt", KEPT)
    assert _leftovers(wxai_home.home / "dataspaces") == []
    # once there is room again, uploads work
    assert _upload(client, space, "new.txt", b"Snow on the passes.\n").status_code == 201


def test_index_database_full_answers_507(client, monkeypatch) -> None:
    space = _private_space(client)
    assert _upload(client, space, "kept.txt", KEPT).status_code == 201
    from wxai.assistant.rag.store import RagStore

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(RagStore, "add_document", full)
    answer = _upload(client, space, "new.txt", b"Hail at dusk.\n")
    assert answer.status_code == 507, answer.text
    monkeypatch.undo()
    _assert_kept(client, space, "kept.txt", KEPT)


def test_atomic_write_removes_partial_and_keeps_target(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "up"
    folder.mkdir()
    target = folder / "report.txt"
    target.write_bytes(b"old")
    monkeypatch.setattr(uploads.os, "fsync", _disk_full)
    with pytest.raises(StorageFull, match="disk is full"):
        atomic_write(target, b"new content")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in folder.iterdir()) == ["report.txt"]


def test_atomic_write_other_errors_pass_through(tmp_path, monkeypatch) -> None:
    def denied(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(uploads.os, "fsync", denied)
    with pytest.raises(PermissionError):
        atomic_write(tmp_path / "up" / "x.txt", b"data")
    assert list((tmp_path / "up").iterdir()) == []


def test_is_disk_full_recognises_the_usual_shapes() -> None:
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(ValueError("bad"))
