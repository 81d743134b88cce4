"""IFS open data: the real ecmwf-opendata client against a local server (index + ranges)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from wxai.data.sources.errors import CacheMiss, RemoteNotFound, SourceUnavailable
from wxai.data.sources.ifs import IfsSource

FAST_RETRY = (0.01, 0.05, 2.0)


def _source(url: str, **kw) -> IfsSource:
    return IfsSource(f"{url}/forecasts", retries=2, retry_after=FAST_RETRY, **kw)


def _messages(path: Path) -> list[tuple[str, int]]:
    # eccodes is imported late: imported first, its bundled libsqlite3 shadows Python's
    import eccodes

    found = []
    with path.open("rb") as fh:
        while (gid := eccodes.codes_grib_new_from_file(fh)) is not None:
            found.append((eccodes.codes_get(gid, "shortName"), eccodes.codes_get(gid, "step")))
            eccodes.codes_release(gid)
    return found


def test_ifs_retrieve_with_index_and_byte_ranges_then_cache(server) -> None:
    source = _source(server.url)
    [path] = source.fetch(param="2t,msl", step=24, date="20261123", time=0)
    assert _messages(path) == [("2t", 24), ("msl", 24)]
    assert path.with_name(path.name + ".sha256").is_file()
    assert path.is_relative_to(source.cache.directory / "ifs/0p25/20261123/00z")
    assert server.state.count("-24h-oper-fc.index", "GET") == 1
    assert server.state.count("-24h-oper-fc.grib2", "GET") >= 1
    # same request again: from the cache, no request at all
    before = len(server.state.requests)
    assert source.fetch(param=["2t", "msl"], step="24", date="2026-11-23") == [path]
    assert len(server.state.requests) == before


def test_ifs_single_field_and_offline(server) -> None:
    source = _source(server.url, accept_multiple_ranges=False)
    [path] = source.fetch(param="msl", step=0, date="20261123")
    assert _messages(path) == [("msl", 0)]
    server.state.requests.clear()
    assert source.fetch(param="msl", step=0, date="20261123", offline=True) == [path]
    # no date offline: the newest cached run of the request
    assert source.fetch(param="msl", step=0, offline=True) == [path]
    assert server.state.requests == []
    with pytest.raises(
        CacheMiss, match=r"IFS: offline mode.*2t \(fc, sfc\) 2026-11-23 00 UTC \+6 h"
    ):
        source.fetch(param="2t", step=6, date="20261123", offline=True)


def test_ifs_missing_field_is_not_found(server) -> None:
    with pytest.raises(RemoteNotFound, match=r"IFS: .*10u"):
        _source(server.url).fetch(param="10u", step=24, date="20261123")
    with pytest.raises(RemoteNotFound, match=r"IFS: .*-48h-oper-fc"):
        _source(server.url).fetch(param="2t", step=48, date="20261123")


def test_ifs_server_down_is_a_clear_error(dead_url: str) -> None:
    with pytest.raises(SourceUnavailable) as info:
        _source(dead_url).fetch(param="2t", step=24, date="20261123")
    message = str(info.value)
    assert message.startswith(f"IFS: could not reach {dead_url}/forecasts/20261123/00z/")
    assert "the cache has no copy of 2t (fc, sfc) 2026-11-23 00 UTC +24 h" in message


def test_ifs_http_500_is_retried(server) -> None:
    server.state.fail["/forecasts/"] = 500
    with pytest.raises(SourceUnavailable, match="HTTP 500"):
        _source(server.url).fetch(param="2t", step=24, date="20261123")
    assert server.state.count("/forecasts/") == 2  # retries=2 attempts in total


def test_ifs_server_down_falls_back_to_cache_for_latest(
    server, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    [cached] = _source(server.url).fetch(param="2t", step=0, date="20261123")
    with caplog.at_level(logging.WARNING, logger="wxai.data.sources.ifs"):
        assert _source(dead_url).fetch(param="2t", step=0) == [cached]
    assert "from the cache" in caplog.text
