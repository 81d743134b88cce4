"""Download cache, listing parser and HTTP helper against the local server."""

from __future__ import annotations

import bz2
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.sources.cache import DownloadCache
from wxai.data.sources.errors import IntegrityError, RemoteNotFound, SourceUnavailable
from wxai.data.sources.http import HttpFetcher, HttpOptions, decompress_bz2
from wxai.data.sources.listing import parse_listing

RECORDED = Path(__file__).parent / "recorded"
FAST = HttpOptions(timeout=5.0, connect_timeout=2.0, retries=2, backoff=0.01)
GRIB = b"GRIB" + b"\x00" * 12 + b"7777"


def test_cache_writes_sidecar_under_wxai_home(_isolated_wxai_home: Path) -> None:
    cache = DownloadCache("icon-eu")
    path = cache.put_bytes("2026112300/t_2m/x.grib2", GRIB)
    assert path == _isolated_wxai_home / "cache/icon-eu/2026112300/t_2m/x.grib2"
    sidecar = path.with_name("x.grib2.sha256").read_text()
    assert sidecar == f"{hashlib.sha256(GRIB).hexdigest()}  x.grib2\n"
    assert cache.lookup("2026112300/t_2m/x.grib2") == path
    assert cache.entries() == ["2026112300/t_2m/x.grib2"]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_cache_detects_corruption_and_removes_entry(caplog: pytest.LogCaptureFixture) -> None:
    cache = DownloadCache("test")
    path = cache.put_bytes("a.grib2", GRIB)
    path.write_bytes(b"GRIB" + b"\x01" * 12 + b"7777")  # same size, other content
    with pytest.raises(IntegrityError, match="sha256"):
        cache.verify("a.grib2")
    with caplog.at_level(logging.WARNING):
        assert cache.lookup("a.grib2") is None
    assert "corrupt" in caplog.text
    assert not path.exists()
    assert not cache.contains("a.grib2")


def test_cache_rejects_truncated_grib_and_leaves_nothing() -> None:
    cache = DownloadCache("test")
    with pytest.raises(IntegrityError, match="7777"):
        cache.put_bytes("t.grib2", GRIB[:-2])
    with pytest.raises(IntegrityError, match="expected 100"):
        cache.put_stream("u.grib2", [GRIB], expected_size=100)
    assert cache.entries() == []
    assert not list(cache.directory.rglob("*.part"))


def test_cache_rejects_bad_keys() -> None:
    with pytest.raises(ConfigError):
        DownloadCache("test").path_for("../escape.grib2")
    with pytest.raises(ConfigError):
        DownloadCache("a/b")


def test_parse_nginx_listing_uses_href_not_truncated_text() -> None:
    entries = parse_listing((RECORDED / "icon-eu_00_t_2m.html").read_text())
    assert len(entries) == 5
    first = entries[0]
    assert first.name == "icon-eu_europe_regular-lat-lon_single-level_2026112300_000_T_2M.grib2.bz2"
    assert first.modified == datetime(2026, 11, 23, 2, 41, tzinfo=UTC)
    assert first.size == 660311


def test_parse_apache_listing_skips_sort_and_parent_links() -> None:
    entries = parse_listing((RECORDED / "radar_hx.html").read_text())
    names = [e.name for e in entries]
    assert names[0] == "composite_hx_20261123_1155-hd5"
    assert "composite_hx_LATEST-hd5" in names
    assert len(names) == 4
    assert entries[0].modified == datetime(2026, 11, 23, 11, 57, tzinfo=UTC)
    assert entries[0].size == 721 * 1024
    assert entries[2].size == int(1.1 * 1024**2)


def test_parse_listing_rejects_pages_without_links() -> None:
    with pytest.raises(DataFormatError):
        parse_listing("<html><body>503 Service Unavailable</body></html>")


def test_decompress_bz2_streams_and_detects_truncation() -> None:
    data = b"GRIB" * 1000 + b"7777"
    packed = bz2.compress(data) + bz2.compress(b"second stream")
    chunks = [packed[i : i + 100] for i in range(0, len(packed), 100)]
    assert b"".join(decompress_bz2(chunks)) == data + b"second stream"
    with pytest.raises(IntegrityError, match="truncated"):
        b"".join(decompress_bz2([bz2.compress(data)[:-20]]))


def test_http_500_is_retried_then_reported(server, caplog: pytest.LogCaptureFixture) -> None:
    server.state.fail["/weather/radar/"] = 500
    url = f"{server.url}/weather/radar/composite/hx/"
    with caplog.at_level(logging.WARNING), pytest.raises(SourceUnavailable) as info:
        HttpFetcher("DWD radar hx", FAST).get_text(url, what="the listing")
    assert server.state.count("/weather/radar/") == 3  # first attempt + 2 retries
    message = str(info.value)
    assert message.startswith(f"DWD radar hx: could not reach {url} (HTTP 500")
    assert "3 attempts" in message and "--offline" in message
    assert caplog.text.count("retrying") == 2


def test_http_404_is_not_found_without_retry(server) -> None:
    url = f"{server.url}/weather/nope.grib2.bz2"
    with pytest.raises(RemoteNotFound, match="does not exist"):
        HttpFetcher("X", FAST).download(url, DownloadCache("x"), "nope.grib2", what="nope")
    assert server.state.count("/weather/nope") == 1


def test_connection_refused_names_source_url_and_request(dead_url: str) -> None:
    url = f"{dead_url}/weather/x.grib2.bz2"
    fetcher = HttpFetcher("ICON-EU", HttpOptions(retries=1, backoff=0.01, connect_timeout=1.0))
    with pytest.raises(SourceUnavailable) as info:
        fetcher.download(url, DownloadCache("x"), "x.grib2", what="T_2M 2026-11-23 00 UTC +6 h")
    message = str(info.value)
    assert message.startswith(f"ICON-EU: could not reach {url} (ConnectError")
    assert "the cache has no copy of T_2M 2026-11-23 00 UTC +6 h" in message
    assert "use --offline with cached data" in message
