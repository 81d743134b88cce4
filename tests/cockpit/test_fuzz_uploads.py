"""Hypothesis fuzzes the upload checks and the dataspace upload route.

The pure checks (``safe_name``, ``sniff``, ``atomic_write``) get arbitrary names and
bytes; the route gets truncated or corrupt PDF, NetCDF, HDF5 and GRIB content, zip
and gzip archives, binary noise and hostile names (``..``, NUL, slashes, right-to-left
marks, 5000 characters). Every answer is a success or a clear 4xx, never a 5xx, and
the file stored before stays listed and downloadable, byte for byte.
"""

from __future__ import annotations

import gzip
import io
import unicodedata
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wxai.cockpit.app import create_app
from wxai.cockpit.uploads import (
    MAX_NAME_CHARS,
    Sniffed,
    UploadError,
    atomic_write,
    safe_name,
    sniff,
)
from wxai.core.settings import Settings

KEPT = b"# Station notes\n\nThe barometer was calibrated on Monday.\n"
MAGICS = [b"%PDF-1.7\n", b"CDF\x01", b"CDF\x02", b"\x89HDF\r\n\x1a\n", b"GRIB", b"PK\x03\x04", b""]
SUFFIXES = [".pdf", ".nc", ".nc4", ".grib", ".grib2", ".grb", ".txt", ".md", ".html", ".zip", ""]

names = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda stem, suffix: stem + suffix,
        st.text(
            alphabet=st.sampled_from(list("ab.-_ /\\\x00\u202e\u00e9\u6c14\n\r\t\"';%")),
            max_size=40,
        ),
        st.sampled_from(SUFFIXES),
    ),
    st.sampled_from(["../../etc/passwd.txt", "..", ".", "\x00.pdf", "a" * 5000 + ".nc", "CON.txt"]),
)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\x00" * 4_000_000)
    return buffer.getvalue()


contents = st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGICS), st.binary(max_size=4096)),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8")),
    st.just(_zip_bomb()),
    st.just(gzip.compress(b"0" * 4_000_000)),
    st.just(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"),
    st.just(b"\xef\xbb\xbf" + "Föhn über den Alpen.\n".encode()),
)


# -- the pure checks ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(names)
@example(". .")  # once came out as "." (found by this test in CI)
@example(". \u00a0.")
@example(" .hidden")
def test_safe_name_is_a_plain_printable_name_or_refused(name: str) -> None:
    try:
        safe = safe_name(name)
    except UploadError as exc:
        assert "invalid file name" in str(exc)
        return
    assert safe
    assert "/" not in safe
    assert "\\" not in safe
    assert not safe.startswith(".")
    assert len(safe) <= MAX_NAME_CHARS
    assert all(unicodedata.category(ch)[0] != "C" for ch in safe)


@settings(max_examples=300, deadline=None)
@given(names, contents)
def test_sniff_answers_a_type_or_a_clear_refusal(name: str, head: bytes) -> None:
    try:
        found = sniff(name, head)
    except UploadError as exc:
        assert str(exc)  # every refusal says what was found or what to do
        return
    assert isinstance(found, Sniffed)
    assert found.kind in {"document", "data"}
    assert b"\x00" not in head or found.format in {"pdf", "netcdf", "grib"}


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=10_000))
def test_atomic_write_leaves_exactly_the_data(tmp_path, data: bytes) -> None:
    folder = tmp_path / "aw"
    target = folder / "file.bin"
    atomic_write(target, data)
    assert target.read_bytes() == data
    assert [p.name for p in folder.iterdir()] == ["file.bin"]


# -- the upload route --------------------------------------------------------------------


@pytest.fixture(scope="module")
def upload_client(tmp_path_factory) -> Iterator[tuple[TestClient, str, str]]:
    """An admin's client, the id of their private dataspace, and one file already in it."""
    home = tmp_path_factory.mktemp("fuzz-uploads") / "home"
    app_settings = Settings(home=home, database_url=None, tracking_uri=None, upload_max_mb=1.0)
    with TestClient(create_app(app_settings, start_worker=False)) as client:
        key = client.app.state.accounts.create_api_key("admin", "fuzz")  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {key.token}"
        spaces = client.get("/api/dataspaces").json()
        space = next(s["id"] for s in spaces if s["kind"] == "private")
        stored = client.post(
            f"/api/dataspaces/{space}/files", files={"file": ("notes.md", KEPT)}
        ).json()
        yield client, space, stored["file"]["url"]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(name=names, content=contents)
def test_upload_never_fails_on_server_and_keeps_stored_files(
    upload_client, name: str, content: bytes
) -> None:
    client, space, kept_url = upload_client
    answer = client.post(f"/api/dataspaces/{space}/files", files={"file": (name, content)})
    assert answer.status_code in {200, 201, 400, 413}, (answer.status_code, answer.text)
    if answer.status_code >= 400:
        assert answer.json()["detail"]
    listed = client.get(f"/api/dataspaces/{space}/files").json()
    assert "notes.md" in [f["name"] for f in listed]
    download = client.get(kept_url)
    assert download.status_code == 200
    assert download.content == KEPT


def test_refused_replacement_keeps_the_good_version(upload_client) -> None:
    client, space, _ = upload_client
    good = b"# Good\n\nfirst version\n"
    first = client.post(f"/api/dataspaces/{space}/files", files={"file": ("keep.md", good)})
    assert first.status_code in {200, 201}
    bad = client.post(
        f"/api/dataspaces/{space}/files",
        files={"file": ("keep.md", b"not UTF-8: \xff\xfe\xfd")},
    )
    assert bad.status_code == 400
    assert "keep.md" in bad.json()["detail"]
    kept = client.get(first.json()["file"]["url"])
    assert kept.content == good
