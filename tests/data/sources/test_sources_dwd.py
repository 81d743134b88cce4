"""DWD cloud-top height and radar composites, and the fetch dispatcher."""

from __future__ import annotations

import logging

import h5py
import pytest

from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError
from wxai.core.typing import DataSource
from wxai.data.sources import fetch, get_source, list_sources, open_cth
from wxai.data.sources.dwd_cth import DwdCthSource
from wxai.data.sources.dwd_radar import DwdRadarSource
from wxai.data.sources.errors import CacheMiss, RemoteNotFound, SourceUnavailable
from wxai.data.sources.http import HttpOptions

FAST = HttpOptions(timeout=5.0, connect_timeout=2.0, retries=1, backoff=0.01)


def _cth(url: str) -> DwdCthSource:
    return DwdCthSource(f"{url}/weather/satellite/clouds/CTH/", http=FAST)


def _radar(url: str) -> DwdRadarSource:
    return DwdRadarSource("hx", f"{url}/weather/radar/composite", http=FAST)


def test_cth_latest_download_decompress_and_read(server) -> None:
    source = _cth(server.url)
    [path] = source.fetch()
    assert path.name == "cth_202611231215.nc"
    assert path.with_name(path.name + ".sha256").is_file()
    ds = open_cth(path)
    assert ds["CTH"].dims == ("time", "latitude", "longitude")
    assert ds["CTH"].attrs["units"] == "m"
    assert float(ds["CTH"].max()) == 9500.0
    assert server.state.count("CTHin202611231215nEU.nc.bz2") == 1
    # by time, from the cache: no request
    server.state.requests.clear()
    assert source.fetch(time="202611231215") == [path]
    assert server.state.requests == []


def test_cth_by_time_offline_and_missing(server) -> None:
    source = _cth(server.url)
    [path] = source.fetch(time="2026-11-23T11:45")
    assert path.name == "cth_202611231145.nc"
    assert source.fetch(offline=True) == [path]
    with pytest.raises(CacheMiss, match="DWD CTH 2026-11-23 12:00 UTC"):
        source.fetch(time="202611231200", offline=True)
    with pytest.raises(RemoteNotFound, match="listing holds 2026-11-23 11:30 to 2026-11-23 12:15"):
        source.fetch(time="202611230900")


def test_open_cth_clear_errors(tmp_path) -> None:
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)  # truncated HDF5
    with pytest.raises(DataFormatError, match="corrupt or truncated"):
        open_cth(bad)
    with pytest.raises(DataFormatError, match="not NetCDF"):
        (tmp_path / "x.nc").write_bytes(b"hello")
        open_cth(tmp_path / "x.nc")
    with pytest.raises(FileNotFoundError):
        open_cth(tmp_path / "missing.nc")


def test_radar_latest_hdf5_and_cache(server) -> None:
    source = _radar(server.url)
    [path] = source.fetch()
    assert path.name == "composite_hx_202611231205.h5"
    with h5py.File(path) as f:
        assert f["dataset1/data1/what"].attrs["quantity"] == b"DBZH"
    assert server.state.count("composite_hx_20261123_1205-hd5") == 1
    assert server.state.count("LATEST") == 0
    [older] = source.fetch(time="202611231155")
    assert older.name == "composite_hx_202611231155.h5"
    before = len(server.state.requests)
    assert source.fetch(time="202611231205") == [path]
    assert len(server.state.requests) == before


def test_radar_corrupt_cache_is_replaced(server) -> None:
    source = _radar(server.url)
    [path] = source.fetch(time="202611231200")
    path.write_bytes(b"not hdf5 at all")
    assert source.fetch(time="202611231200") == [path]
    assert server.state.count("composite_hx_20261123_1200-hd5") == 2
    assert h5py.is_hdf5(path)


def test_radar_and_cth_server_down(server, dead_url: str, caplog) -> None:
    cached = _radar(server.url).fetch()
    down = DwdRadarSource("hx", f"{dead_url}/composite", http=HttpOptions(retries=0))
    with caplog.at_level(logging.WARNING, logger="wxai.data.sources.listed"):
        assert down.fetch() == cached
    assert "unreachable" in caplog.text
    with pytest.raises(SourceUnavailable) as info:
        DwdCthSource(f"{dead_url}/CTH/", http=HttpOptions(retries=0)).fetch()
    assert str(info.value).startswith(f"DWD CTH: could not reach {dead_url}/CTH/ (ConnectError")
    assert "no copy of the latest DWD CTH" in str(info.value)


def test_dispatcher(server) -> None:
    assert list_sources() == ["dwd-cth", "dwd-radar", "icon-eu", "ifs"]
    for name in list_sources():
        assert isinstance(get_source(name), DataSource)
    with pytest.raises(UnknownNameError, match=r"did you mean 'icon-eu'.*dwd-cth, dwd-radar"):
        fetch("icon_eu")
    paths = fetch(
        "dwd-radar",
        time="202611231205",
        options={"base_url": f"{server.url}/weather/radar/composite", "http": FAST},
    )
    assert paths[0].name == "composite_hx_202611231205.h5"
    assert fetch("dwd-radar", offline=True, options={"base_url": "http://127.0.0.1:9"}) == paths
    with pytest.raises(ConfigError, match="unexpected keyword"):
        fetch("ifs", parameter="2t", offline=True)
