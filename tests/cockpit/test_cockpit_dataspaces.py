"""Dataspace uploads over REST: indexing, cited search, downloads, bad and oversized files,
corrupt files that keep the previous version, and concurrent uploads of one name."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fpdf import FPDF

NOTES = """# Station notes

## Foehn at Innsbruck

Foehn is a warm, dry downslope wind on the lee side of the Alps. At the Innsbruck
station it raises the temperature by several kelvin within an hour.

## Radar maintenance

The Feldberg radar is switched off for maintenance every first Monday of the month
between 06 and 08 UTC; composites then have a gap over the Black Forest.
"""


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _netcdf(path: Path) -> bytes:
    """t2m in K on a 5 x 6 lat/lon grid at 2 times."""
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), np.full((2, 5, 6), 280.0), {"units": "K"})},
        coords={
            "time": pd.date_range("2024-03-01", periods=2, freq="6h"),
            "lat": np.linspace(45.0, 49.0, 5),
            "lon": np.linspace(5.0, 15.0, 6),
        },
    )
    ds["t2m"].attrs["long_name"] = "2 metre temperature"
    ds.to_netcdf(path)
    return path.read_bytes()


@pytest.fixture
def space(client) -> str:
    (private,) = client.get("/api/dataspaces").json()
    assert private["kind"] == "private" and private["name"] == "admin (private)"
    return private["id"]


def _upload(client, space: str, name: str, data: bytes):
    return client.post(f"/api/dataspaces/{space}/files", files={"file": (name, data)})


def test_upload_search_cite_download(client, space):
    added = _upload(client, space, "notes.md", NOTES.encode())
    assert added.status_code == 201, added.text
    assert added.json()["status"] == "added"
    record = added.json()["file"]
    assert record["kind"] == "document" and record["media_type"] == "text/markdown"
    assert record["sha256"] == hashlib.sha256(NOTES.encode()).hexdigest()
    again = _upload(client, space, "notes.md", NOTES.encode())
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert [f["name"] for f in client.get(f"/api/dataspaces/{space}/files").json()] == ["notes.md"]

    hits = client.get(f"/api/dataspaces/{space}/search", params={"q": "when is the radar off?"})
    best = hits.json()[0]
    assert "Feldberg" in best["text"] and best["source"] == "notes.md"
    assert best["url"] == f"/api/dataspaces/{space}/files/{record['id']}"
    assert (
        client.get("/api/search", params={"q": "Feldberg radar"}).json()[0]["file_id"]
        == (record["id"])
    )

    download = client.get(best["url"])
    assert download.status_code == 200 and download.content == NOTES.encode()
    assert download.headers["content-type"].startswith("text/markdown")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    stored = client.app.state.settings.home / "dataspaces" / space / "files" / record["id"]
    assert stored.read_bytes() == NOTES.encode()

    assert client.delete(best["url"]).status_code == 204
    assert client.get(f"/api/dataspaces/{space}/files").json() == []
    assert client.get("/api/search", params={"q": "Feldberg radar"}).json() == []
    assert client.get(best["url"]).status_code == 404


def test_a_netcdf_file_is_summarised_indexed_and_registered(client, space, tmp_path):
    data = _netcdf(tmp_path / "t2m.nc")
    response = _upload(client, space, "t2m_alps.nc", data)
    assert response.status_code == 201, response.text
    record = response.json()["file"]
    assert record["kind"] == "data" and record["media_type"] == "application/x-netcdf"
    assert record["summary"]["variables"]["t2m"]["units"] == "K"
    assert record["summary"]["grid"]["dims"] == {"time": 2, "lat": 5, "lon": 6}
    assert record["summary"]["times"]["count"] == 2
    hits = client.get("/api/search", params={"q": "2 metre temperature t2m"}).json()
    assert hits[0]["source"] == "t2m_alps.nc" and "t2m" in hits[0]["text"]
    assert "staged" not in hits[0]["text"]

    spaces = client.app.state.dataspaces
    admin = spaces_principal(client)
    found, path = spaces.data_file(admin, "t2m_alps.nc")
    assert found.id == record["id"] and path.read_bytes() == data
    assert [f.name for f in spaces.list_data_files(admin)] == ["t2m_alps.nc"]
    with xr.open_dataset(path, engine="netcdf4") as ds:
        assert ds["t2m"].attrs["units"] == "K"


def spaces_principal(client):
    accounts = client.app.state.accounts
    key = accounts.create_api_key("admin", "principal")
    return accounts.resolve(key.token, "api_key")


def test_a_corrupt_upload_is_refused_and_the_old_version_kept(client, space):
    good = _pdf("Hail forms in strong updrafts of deep convective storms.")
    assert _upload(client, space, "hail.pdf", good).status_code == 201
    broken = _upload(client, space, "hail.pdf", b"%PDF-1.7 garbage")
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("hail.pdf:")
    (doc,) = client.get(f"/api/dataspaces/{space}/files").json()
    assert doc["size"] == len(good)
    assert client.get(doc["url"]).content == good
    hits = client.get(f"/api/dataspaces/{space}/search", params={"q": "how does hail form"})
    assert hits.json()[0]["page"] == 1 and hits.json()[0]["source"] == "hail.pdf"

    corrupt_nc = _upload(client, space, "broken.nc", b"CDF\x01" + b"\xff" * 200)
    assert corrupt_nc.status_code == 400
    assert "broken.nc" in corrupt_nc.json()["detail"]
    assert [f["name"] for f in client.get(f"/api/dataspaces/{space}/files").json()] == ["hail.pdf"]
    leftovers = list((client.app.state.settings.home / "dataspaces" / space / "files").iterdir())
    assert len(leftovers) == 1  # no staged or partial files


@pytest.mark.parametrize(
    ("name", "body", "phrase"),
    [
        ("tool.exe", b"MZ\x90\x00\x03", "binary content"),
        ("report.md", b"%PDF-1.4 ...", "found a PDF file"),
        ("data.pdf", b"GRIB\x00\x00", "found a GRIB file"),
        ("latin1.txt", "Föhn".encode("latin-1"), "UTF-8"),
        ("noext", b"plain words", "end the name in one of"),
        ("...", b"text", "invalid file name"),
        ("empty.md", b"", "empty"),
    ],
)
def test_bad_uploads_get_clear_errors(client, space, name, body, phrase):
    response = _upload(client, space, name, body)
    assert response.status_code == 400, response.text
    assert phrase in response.json()["detail"]
    assert client.get(f"/api/dataspaces/{space}/files").json() == []


def test_names_are_metadata_never_paths(client, space, tmp_path):
    home = client.app.state.settings.home
    response = _upload(client, space, "../../../..\\evil\x07/..hidden.md", b"# hello\n")
    assert response.status_code == 201, response.text
    record = response.json()["file"]
    assert record["name"] == "hidden.md"
    assert not (home / "hidden.md").exists() and not (home.parent / "hidden.md").exists()
    files = home / "dataspaces" / space / "files"
    assert [p.name for p in files.iterdir()] == [record["id"]]


def test_oversized_uploads_are_413(client, space):
    settings = client.app.state.settings
    client.app.state.settings = settings.model_copy(update={"upload_max_mb": 0.01})
    big = b"a" * 20_000
    declared = _upload(client, space, "big.txt", big)
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]

    boundary = "wxaiboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks():
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    streamed = client.post(
        f"/api/dataspaces/{space}/files",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413
    assert client.get(f"/api/dataspaces/{space}/files").json() == []
    small = _upload(client, space, "small.txt", b"a" * 5000)
    assert small.status_code == 201


def test_concurrent_uploads_of_one_name_do_not_corrupt_each_other(client, space):
    versions = [f"# Version {i}\n\n{f'word{i} ' * 50}\n".encode() for i in range(4)]
    statuses: list[int] = []

    def put(data: bytes) -> None:
        statuses.append(_upload(client, space, "shared.md", data).status_code)

    threads = [threading.Thread(target=put, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    (record,) = client.get(f"/api/dataspaces/{space}/files").json()
    content = client.get(record["url"]).content
    assert content in versions
    assert hashlib.sha256(content).hexdigest() == record["sha256"]
    index = client.app.state.dataspaces._index(space, create=False)
    (doc,) = index.documents()
    assert doc["sha256"] == record["sha256"]


def test_group_dataspaces_and_members(client):
    accounts = client.app.state.accounts
    accounts.add_user("carol")
    accounts.add_group("radar")
    created = client.post("/api/dataspaces", json={"name": "Radar ops", "group": "radar"})
    assert created.status_code == 201, created.text
    space = created.json()
    assert space["kind"] == "group" and space["role"] == "owner"
    assert {"kind": "group", "name": "radar", "role": "reader"} in space["members"]
    url = f"/api/dataspaces/{space['id']}"
    put = client.put(f"{url}/members", json={"user": "carol", "role": "editor"})
    assert {"kind": "user", "name": "carol", "role": "editor"} in put.json()["members"]
    assert client.put(f"{url}/members", json={"role": "reader"}).status_code == 400
    assert client.put(f"{url}/members", json={"user": "nobody"}).status_code == 404
    last_owner = client.delete(f"{url}/members/user/admin")
    assert last_owner.status_code == 400 and "owner" in last_owner.json()["detail"]
    assert client.delete(f"{url}/members/user/carol").status_code == 204
    private = client.get("/api/dataspaces").json()[0]
    shared = client.put(f"/api/dataspaces/{private['id']}/members", json={"user": "carol"})
    assert shared.status_code == 400 and "private" in shared.json()["detail"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
