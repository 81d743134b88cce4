"""ICON-EU open data against a local server with recorded DWD listings."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wxai.core.errors import ConfigError
from wxai.data.sources.errors import CacheMiss, SourceUnavailable
from wxai.data.sources.http import HttpOptions
from wxai.data.sources.icon_eu import IconEuSource, candidate_runs, parse_file_name, run_steps

FAST = HttpOptions(timeout=5.0, connect_timeout=2.0, retries=2, backoff=0.01)
NOW = "2026-11-23T04:30"  # newest candidate run: 00 UTC (2 h availability delay)


def _source(url: str) -> IconEuSource:
    return IconEuSource(f"{url}/weather/nwp/icon-eu/grib", http=FAST)


def _decode(path: Path) -> tuple[str, int, int]:
    # eccodes is imported late: imported first, its bundled libsqlite3 shadows Python's
    import eccodes

    with path.open("rb") as fh:
        gid = eccodes.codes_grib_new_from_file(fh)
        try:
            return (
                eccodes.codes_get(gid, "shortName"),
                eccodes.codes_get(gid, "step"),
                eccodes.codes_get(gid, "dataDate"),
            )
        finally:
            eccodes.codes_release(gid)


def test_schedule_and_names() -> None:
    assert run_steps(0)[-1] == 120 and 79 not in run_steps(0) and 81 in run_steps(0)
    assert run_steps(3) == list(range(31))
    now = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    runs = candidate_runs(now, lookback=timedelta(hours=9))
    assert [f"{r:%d%H}" for r in runs] == ["2300", "2221", "2218", "2215"]
    long_only = candidate_runs(now, max_step=48)
    assert all(r.hour % 6 == 0 for r in long_only)
    info = parse_file_name(
        "icon-eu_europe_regular-lat-lon_pressure-level_2026112300_006_500_T.grib2.bz2"
    )
    assert info is not None and info["level"] == 500 and info["variable"] == "T"


def test_latest_complete_run_skips_incomplete_newest_run(server) -> None:
    source = _source(server.url)
    # the 00 UTC run has steps 0..4 only: for 0..6 the 21 UTC run of the day before is used
    assert source.latest_complete_run("t_2m", range(7), now=NOW) == datetime(
        2026, 11, 22, 21, tzinfo=UTC
    )
    assert source.latest_complete_run("T_2M", [0, 3], now=NOW) == datetime(
        2026, 11, 23, 0, tzinfo=UTC
    )


def test_download_decompress_verify_then_cache_hit(server) -> None:
    source = _source(server.url)
    paths = source.fetch(variable="t_2m", steps="0-6", now=NOW)
    assert len(paths) == 7
    assert paths[6].name == "icon-eu_europe_regular-lat-lon_single-level_2026112221_006_T_2M.grib2"
    assert paths[6].with_name(paths[6].name + ".sha256").is_file()
    assert _decode(paths[6]) == ("2t", 6, 20261122)
    assert server.state.count(".grib2.bz2") == 7

    # second call, explicit run: everything from the cache, the server is not contacted
    before = len(server.state.requests)
    again = source.fetch(variable="t_2m", steps="0-6", run="2026112221")
    assert again == paths
    assert len(server.state.requests) == before
    # latest-run search again: only listings are read, no file is downloaded again
    source.fetch(variable="t_2m", steps="0-6", now=NOW)
    assert server.state.count(".grib2.bz2") == 7


def test_corrupt_cached_file_is_downloaded_again(server) -> None:
    source = _source(server.url)
    [path] = source.fetch(variable="t_2m", steps=2, run="2026112300")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    [again] = source.fetch(variable="t_2m", steps=2, run="2026112300")
    assert again == path
    assert server.state.count("_002_T_2M.grib2.bz2") == 2
    assert _decode(again) == ("2t", 2, 20261123)


def test_offline_uses_cache_and_misses_clearly(server) -> None:
    source = _source(server.url)
    online = source.fetch(variable="t_2m", steps="0-1", now=NOW, run="2026112300")
    server.state.requests.clear()
    assert source.fetch(variable="t_2m", steps="0-1", run="2026112300", offline=True) == online
    # latest run offline: the newest complete run in the cache
    assert source.fetch(variable="t_2m", steps="0-1", offline=True) == online
    assert server.state.requests == []
    with pytest.raises(CacheMiss) as info:
        source.fetch(variable="t_2m", steps=3, run="2026112300", offline=True)
    assert "ICON-EU: offline mode" in str(info.value)
    assert "T_2M 2026-11-23 00 UTC +3 h" in str(info.value)
    with pytest.raises(CacheMiss, match="latest run"):
        source.fetch(variable="pmsl", steps=0, offline=True)


def test_server_down_without_cache_is_a_clear_error(dead_url: str) -> None:
    source = IconEuSource(f"{dead_url}/icon-eu/grib", http=HttpOptions(retries=0))
    with pytest.raises(SourceUnavailable) as info:
        source.fetch(variable="t_2m", steps=6, run="2026112300")
    message = str(info.value)
    assert message.startswith(f"ICON-EU: could not reach {dead_url}/icon-eu/grib/00/t_2m/")
    assert "(ConnectError" in message
    assert "the cache has no copy of T_2M 2026-11-23 00 UTC +6 h" in message
    with pytest.raises(SourceUnavailable, match="T_2M the latest run"):
        source.fetch(variable="t_2m", steps=6, now=NOW)


def test_server_down_falls_back_to_cached_run(
    server, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    cached = _source(server.url).fetch(variable="t_2m", steps="0-3", now=NOW)
    down = IconEuSource(f"{dead_url}/grib", http=HttpOptions(retries=0))
    with caplog.at_level(logging.WARNING, logger="wxai.data.sources.icon_eu"):
        assert down.fetch(variable="t_2m", steps="0-3", now=NOW) == cached
    assert "using run 2026112300 from the cache" in caplog.text


def test_invalid_requests_are_config_errors() -> None:
    source = IconEuSource("http://127.0.0.1:9/grib")
    with pytest.raises(ConfigError, match="reaches \\+30 h"):
        source.fetch(steps=48, run="2026112303", offline=True)
    with pytest.raises(ConfigError, match="not a run time"):
        source.fetch(steps=1, run="2026112301", offline=True)
    with pytest.raises(ConfigError, match="need a level"):
        source.fetch(variable="t", level_type="pressure-level", offline=True)
