"""A real local HTTP server standing in for the open-data servers (loopback only).

The served tree mirrors the real layouts: recorded directory listings from
``recorded/`` become ``index.html`` files, and small GRIB2, NetCDF and HDF5 files
are generated here. The handler supports HEAD, single and multiple byte ranges
(``multipart/byteranges``, as the ECMWF servers do), counts requests and can be
told to fail paths with a given status.
"""

from __future__ import annotations

import bz2
import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from wxai.data.sources.http import HttpOptions

RECORDED = Path(__file__).parent / "recorded"
ICON_RUN_COMPLETE = "2026112221"  # 21 UTC run of 2026-11-22: steps 0..6 served
ICON_RUN_PARTIAL = "2026112300"  # 00 UTC run of 2026-11-23: steps 0..4 only
ICON_NOW = "2026-11-23T04:30"  # newest candidate run: 00 UTC (2 h availability delay)
IFS_DATE = "20261123"
IFS_PARAMS = ("2t", "msl")
IFS_STEPS = (0, 24)
CTH_TIMES = ("202611231130", "202611231145", "202611231200", "202611231215")
RADAR_TIMES = ("20261123_1155", "20261123_1200", "20261123_1205")
FAST_HTTP = HttpOptions(timeout=5.0, connect_timeout=2.0, retries=2, backoff=0.01)


def make_grib(short_name: str, step: int, date: int, hour: int = 0, value: float = 280.0) -> bytes:
    """One GRIB2 message from the eccodes ``regular_ll_sfc_grib2`` sample."""
    import eccodes

    gid = eccodes.codes_grib_new_from_samples("regular_ll_sfc_grib2")
    try:
        eccodes.codes_set(gid, "dataDate", date)
        eccodes.codes_set(gid, "dataTime", hour * 100)
        eccodes.codes_set(gid, "shortName", short_name)
        eccodes.codes_set(gid, "step", step)
        n = eccodes.codes_get(gid, "numberOfValues")
        eccodes.codes_set_values(gid, value + np.linspace(0.0, 10.0, n))
        return eccodes.codes_get_message(gid)
    finally:
        eccodes.codes_release(gid)


def _make_netcdf(path: Path, stamp: str) -> None:
    import netCDF4

    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", 1)
        ds.createDimension("lat", 4)
        ds.createDimension("lon", 5)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = f"minutes since {stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} 00:00:00"
        t[:] = [int(stamp[8:10]) * 60 + int(stamp[10:12])]
        lat = ds.createVariable("lat", "f4", ("lat",))
        lat[:] = [47.0, 48.0, 49.0, 50.0]
        lon = ds.createVariable("lon", "f4", ("lon",))
        lon[:] = [6.0, 7.0, 8.0, 9.0, 10.0]
        cth = ds.createVariable("CTH", "f4", ("time", "lat", "lon"), fill_value=-1.0)
        cth.units = "m"
        cth.long_name = "cloud top height (synthetic test file)"
        cth[:] = np.arange(20, dtype="f4").reshape(1, 4, 5) * 500.0


def _make_odim(path: Path, stamp: str) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["Conventions"] = np.bytes_("ODIM_H5/V2_2")
        what = f.create_group("what")
        what.attrs["object"] = np.bytes_("COMP")
        what.attrs["date"] = np.bytes_(stamp[:8])
        what.attrs["time"] = np.bytes_(stamp[9:] + "00")
        data = f.create_group("dataset1/data1")
        data.create_dataset("data", data=np.arange(12, dtype="u2").reshape(3, 4))
        dwhat = data.create_group("what")
        dwhat.attrs["quantity"] = np.bytes_("DBZH")
        dwhat.attrs["gain"] = 0.5
        dwhat.attrs["offset"] = -32.0


def _build_tree(root: Path) -> None:
    # ICON-EU: /weather/nwp/icon-eu/grib/{HH}/t_2m/
    icon = root / "weather/nwp/icon-eu/grib"
    for run, hour, steps in ((ICON_RUN_PARTIAL, 0, range(5)), (ICON_RUN_COMPLETE, 21, range(7))):
        d = icon / f"{hour:02d}/t_2m"
        d.mkdir(parents=True)
        shutil.copy(RECORDED / f"icon-eu_{hour:02d}_t_2m.html", d / "index.html")
        for step in steps:
            name = f"icon-eu_europe_regular-lat-lon_single-level_{run}_{step:03d}_T_2M.grib2.bz2"
            grib = make_grib("2t", step, int(run[:8]), int(run[8:]), value=270.0 + step)
            (d / name).write_bytes(bz2.compress(grib))
    # IFS: /forecasts/{YYYYMMDD}/00z/ifs/0p25/oper/{YYYYMMDDHHMMSS}-{step}h-oper-fc.grib2 + .index
    ifs = root / f"forecasts/{IFS_DATE}/00z/ifs/0p25/oper"
    ifs.mkdir(parents=True)
    for step in IFS_STEPS:
        blob, lines = b"", []
        for param in IFS_PARAMS:
            msg = make_grib(param, step, int(IFS_DATE), value=100.0 if param == "msl" else 280.0)
            entry = {"date": IFS_DATE, "time": "0000", "step": str(step), "param": param}
            entry |= {"type": "fc", "stream": "oper", "levtype": "sfc", "domain": "g"}
            lines.append(json.dumps(entry | {"_offset": len(blob), "_length": len(msg)}))
            blob += msg
        base = ifs / f"{IFS_DATE}000000-{step}h-oper-fc"
        base.with_suffix(".grib2").write_bytes(blob)
        base.with_suffix(".index").write_text("\n".join(lines) + "\n")
    # DWD CTH: /weather/satellite/clouds/CTH/
    cth = root / "weather/satellite/clouds/CTH"
    cth.mkdir(parents=True)
    shutil.copy(RECORDED / "dwd_cth.html", cth / "index.html")
    for stamp in CTH_TIMES:
        nc = cth / f"{stamp}.nc"
        _make_netcdf(nc, stamp)
        (cth / f"CTHin{stamp}nEU.nc.bz2").write_bytes(bz2.compress(nc.read_bytes()))
        nc.unlink()
    # DWD radar: /weather/radar/composite/hx/
    hx = root / "weather/radar/composite/hx"
    hx.mkdir(parents=True)
    shutil.copy(RECORDED / "radar_hx.html", hx / "index.html")
    for stamp in RADAR_TIMES:
        _make_odim(hx / f"composite_hx_{stamp}-hd5", stamp)
    shutil.copy(hx / f"composite_hx_{RADAR_TIMES[-1]}-hd5", hx / "composite_hx_LATEST-hd5")


@dataclass
class ServerState:
    """What the handler saw and how it should misbehave."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)  # path prefix -> HTTP status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, contains: str = "", method: str | None = None) -> int:
        with self.lock:
            return sum(
                1 for m, p in self.requests if contains in p and (method is None or m == method)
            )


_RANGE = re.compile(r"(\d+)-(\d+)?")


def _handler(root: Path, state: ServerState) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _record_and_fail(self) -> bool:
            with state.lock:
                state.requests.append((self.command, self.path))
                status = next((s for p, s in state.fail.items() if self.path.startswith(p)), None)
            if status is not None:
                self.send_error(status)
                return True
            return False

        def end_headers(self) -> None:
            self.send_header("Accept-Ranges", "bytes")
            super().end_headers()

        def do_HEAD(self) -> None:
            if not self._record_and_fail():
                super().do_HEAD()

        def do_GET(self) -> None:
            if self._record_and_fail():
                return
            spec = self.headers.get("Range")
            path = Path(self.translate_path(self.path))
            if not spec or not path.is_file():
                super().do_GET()
                return
            data = path.read_bytes()
            total = len(data)
            ranges = []
            for m in _RANGE.finditer(spec.removeprefix("bytes=")):
                start = int(m.group(1))
                end = min(int(m.group(2)) if m.group(2) else total - 1, total - 1)
                ranges.append((start, end))
            self.send_response(206)
            if len(ranges) == 1:
                start, end = ranges[0]
                body = data[start : end + 1]
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
            else:
                boundary = "WXAITESTBOUNDARY"
                parts = []
                for start, end in ranges:
                    head = (
                        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                        f"Content-Range: bytes {start}-{end}/{total}\r\n\r\n"
                    ).encode()
                    parts.append(head + data[start : end + 1] + b"\r\n")
                body = b"".join(parts) + f"--{boundary}--\r\n".encode()
                self.send_header("Content-Type", f"multipart/byteranges; boundary={boundary}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@dataclass
class LocalServer:
    """The running server: its root URL, its file tree and its request log."""

    url: str
    root: Path
    state: ServerState


@pytest.fixture(scope="session")
def _local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    root = tmp_path_factory.mktemp("opendata")
    _build_tree(root)
    state = ServerState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield LocalServer(url=f"http://{host}:{port}", root=root, state=state)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(_local_server: LocalServer) -> LocalServer:
    """The session's local server with an empty request log and no failures."""
    with _local_server.state.lock:
        _local_server.state.requests.clear()
        _local_server.state.fail.clear()
    return _local_server


@pytest.fixture
def dead_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
