"""The radar reading of the weather workflow, against a local server speaking DWD's layout.

The server lists ODIM composites (nginx autoindex, as opendata.dwd.de) at 14:40-15:00
UTC; the composites at 14:50-15:00 hold reflectivity with one convective block whose
size grows with time, the one at 14:45 holds a rain accumulation (ACRR) and the one at
14:40 no dataset at all.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from wxai.assistant.agents.weather.radar import radar_reading, radar_time, radar_time_phrase
from wxai.assistant.llm.types import Capabilities, ChatResponse
from wxai.core.errors import DataFormatError, RequestNotUnderstood
from wxai.core.paths import home_dir
from wxai.data.formats.odim import read_odim, write_odim
from wxai.data.sources.dwd_radar import DwdRadarSource
from wxai.data.sources.errors import RemoteNotFound
from wxai.data.sources.http import HttpOptions
from wxai.products.descriptors.remote_sensing import NO_ECHO_DBZ, radar_descriptors

pytestmark = pytest.mark.usefixtures("only_loopback")

NOW = datetime(2026, 12, 4, 15, 2, tzinfo=UTC)
GOOD = {"20261204_1450": 2, "20261204_1455": 3, "20261204_1500": 4}  # stamp -> block side [px]
CORNERS = {"LL": (3.0, 46.0), "UL": (3.0, 56.0), "UR": (17.0, 56.0), "LR": (17.0, 46.0)}
FAST = HttpOptions(timeout=5.0, connect_timeout=2.0, retries=0, backoff=0.01)


def write_composite(path: Path, stamp: str, side: int, quantity: str = "DBZH") -> Path:
    """A 60 x 60 ODIM composite over Germany: 20 dBZ rain in the north-west quarter, one
    ``side`` x ``side`` block of 45 dBZ in it, no echo elsewhere, no data in the corner."""
    values = np.full((60, 60), NO_ECHO_DBZ)
    values[5:30, 5:30] = 20.0
    values[10 : 10 + side, 10 : 10 + side] = 45.0
    values[50:, 50:] = np.nan
    return write_odim(
        path, values, quantity=quantity, time=datetime.strptime(stamp, "%Y%m%d_%H%M"),
        corners=CORNERS, projdef="+proj=longlat +ellps=WGS84", xscale=16_000.0, yscale=18_500.0,
        undetect_mask=values == NO_ECHO_DBZ,
    )  # fmt: skip


def _without_dataset(path: Path) -> None:
    with h5py.File(path, "w") as f:
        f.attrs["Conventions"] = np.bytes_("ODIM_H5/V2_4")
        f.create_group("what").attrs["date"] = np.bytes_("20261204")


@dataclass
class RadarServer:
    url: str
    root: Path
    requests: list[str] = field(default_factory=list)

    def downloads(self) -> int:
        return sum(p.endswith("-hd5") for p in self.requests)


def build_tree(root: Path) -> Path:
    """``<root>/hx/`` with the composites and an nginx-style listing of them."""
    hx = root / "hx"
    hx.mkdir(parents=True)
    for stamp, side in GOOD.items():
        write_composite(hx / f"composite_hx_{stamp}-hd5", stamp, side)
    write_composite(hx / "composite_hx_20261204_1445-hd5", "20261204_1445", 3, quantity="ACRR")
    _without_dataset(hx / "composite_hx_20261204_1440-hd5")
    lines = [
        f'<a href="{p.name}">{p.name}</a>  04-Dec-2026 15:01  {p.stat().st_size}'
        for p in sorted(hx.iterdir())
    ]
    page = '<html><body><h1>Index of /hx/</h1><pre><a href="../">../</a>\n{}\n</pre></body></html>'
    (hx / "index.html").write_text(page.format("\n".join(lines)))
    return hx


@pytest.fixture(scope="module")
def radar_server(tmp_path_factory) -> Iterator[RadarServer]:
    root = tmp_path_factory.mktemp("dwd")
    build_tree(root)
    seen: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield RadarServer(f"http://127.0.0.1:{httpd.server_address[1]}", root, seen)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(radar_server) -> RadarServer:
    radar_server.requests.clear()
    return radar_server


@pytest.fixture
def dead_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _source(url: str) -> DwdRadarSource:
    return DwdRadarSource("hx", url, http=FAST)


def _read(when, server_url: str, tmp_path: Path, **kwargs):
    return radar_reading(
        when, now=NOW, offline=False, figure_dir=tmp_path / "figs", source=_source(server_url),
        **kwargs,
    )  # fmt: skip


class FakeVision:
    """A provider stand-in that records what it was sent (the client code is tested in
    tests/assistant/llm/test_read_image.py against servers speaking the protocols)."""

    name, model = "fake", "eye-1"

    def __init__(self, vision: bool = True) -> None:
        self.capabilities = Capabilities(vision=vision)
        self.calls: list = []

    def chat(self, messages, **kwargs) -> ChatResponse:
        self.calls.append(messages)
        return ChatResponse("Rain over the north-west with one small convective cell.")


# ------------------------------------------------------------------------------ times


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("what does the radar show now?", None, None),
        ("describe the current precipitation radar", None, None),
        ("radar at 2026-12-04 15:00 UTC", "2026-12-04 15:00 UTC", datetime(2026, 12, 4, 15, 0)),
        ("2026-12-04T14:07Z", "2026-12-04T14:07Z", datetime(2026, 12, 4, 14, 5)),
        ("radar 2026-12-04 15:01+01:00", "2026-12-04 15:01+01:00", datetime(2026, 12, 4, 14, 0)),
        ("radar at 13 UTC", "13 UTC", datetime(2026, 12, 4, 13, 0)),
        ("how did the radar look at 14:59?", "14:59", datetime(2026, 12, 4, 14, 55)),
        ("radar 30 minutes ago", "30 minutes ago", datetime(2026, 12, 4, 14, 30)),
        ("the radar an hour ago", "an hour ago", datetime(2026, 12, 4, 14, 0)),
    ],
)
def test_radar_time_from_a_request(text, phrase, expected):
    assert radar_time_phrase(text) == phrase
    want = None if expected is None else expected.replace(tzinfo=UTC)
    assert radar_time(text, NOW) == want
    assert radar_time(text, NOW.replace(tzinfo=None)) == want  # naive now = UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("radar at 2026-12-04 15:03", "is in the future.*ask for the forecast"),
        ("radar tomorrow", "'tomorrow' is in the future"),
        ("radar at 23:00", "'23:00' is in the future"),
        ("radar on 2026-12-03", "has no time of day"),
        ("radar yesterday", "cannot tell which radar composite 'yesterday' means"),
    ],
)
def test_radar_time_refuses_the_future_and_vague_times(text, message):
    with pytest.raises(RequestNotUnderstood, match=message) as info:
        radar_time(text, NOW)
    assert info.value.field == "time"


# --------------------------------------------------------------------------- readings


def test_newest_composite_from_server_then_cache(server, tmp_path):
    first = _read(None, server.url, tmp_path)
    assert (first.origin, first.file) == ("server", "composite_hx_202612041500.h5")
    assert first.time == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert server.downloads() == 1
    cached = DwdRadarSource("hx", server.url).cache.path_for("2026/12/04/" + first.file)
    field = read_odim(cached, undetect_value=NO_ECHO_DBZ)
    assert first.descriptors == radar_descriptors(field)
    assert first.descriptors.cell_pixels == (16,)  # the 4 x 4 block of 15:00
    assert not first.reading.used_vision and first.descriptors.text() in first.reading.text
    with Image.open(first.figure) as png:
        assert png.size == (900, 640)
    text = first.markdown()
    assert "at 2026-12-04 15:00 UTC" in text and "downloaded from the DWD open-data server" in text
    assert "No vision model read the map." in text and "SYNTHETIC" not in text

    again = _read("now", server.url, tmp_path)
    assert again.origin == "cache" and again.file == first.file
    assert server.downloads() == 1  # listed, not downloaded again
    offline = radar_reading(
        "latest", now=NOW, offline=True, figure_dir=tmp_path, source=_source("http://127.0.0.1:9")
    )
    assert offline.origin == "cache" and offline.descriptors == first.descriptors
    assert "offline: only the local cache was searched" in offline.markdown()


def test_a_past_time_reads_that_composite(server, tmp_path):
    reading = _read("radar at 2026-12-04 14:57 UTC", server.url, tmp_path)
    assert reading.file == "composite_hx_202612041455.h5"
    assert reading.descriptors.cell_pixels == (9,)
    assert reading.figure.name == "radar_202612041455.png"
    with pytest.raises(RemoteNotFound, match="listing holds 2026-12-04 14:40 to 2026-12-04 15:00"):
        _read("2026-12-01 10:00", server.url, tmp_path)


def test_future_time_is_refused_before_any_request(server, tmp_path):
    with pytest.raises(RequestNotUnderstood, match="radar only observes the past"):
        _read("2026-12-04 16:00 UTC", server.url, tmp_path)
    assert server.requests == []


def test_composite_without_reflectivity_is_a_clear_error(server, tmp_path):
    with pytest.raises(DataFormatError, match="holds 'ACRR', not a reflectivity"):
        _read("2026-12-04 14:45", server.url, tmp_path)
    with pytest.raises(DataFormatError, match="without the expected reflectivity dataset"):
        _read("2026-12-04 14:40", server.url, tmp_path)


def test_no_server_no_cache_gives_the_labelled_synthetic_composite(tmp_path, dead_url):
    down = radar_reading(
        None, now=NOW, offline=False, figure_dir=tmp_path, source=_source(dead_url)
    )
    assert down.origin == "synthetic" and down.synthetic
    assert down.time == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # the time it stands in for
    text = down.markdown()
    assert text.startswith("**Weather radar over Germany** at 2026-12-04 15:00 UTC (SYNTHETIC)")
    assert "**SYNTHETIC radar: no real radar data could be had.**" in text
    assert "could not be reached" in text and "holds no DWD radar composite" in text
    made = home_dir() / "cache" / "synthetic" / "samples-s0" / "radar_synthetic_composite.h5"
    assert down.descriptors == radar_descriptors(read_odim(made, undetect_value=NO_ECHO_DBZ))
    offline = radar_reading("14:30", now=NOW, offline=True, figure_dir=tmp_path)
    assert offline.origin == "synthetic" and offline.file == "radar_synthetic_composite.h5"
    assert offline.descriptors == down.descriptors
    assert "SYNTHETIC" in offline.markdown() and offline.figure.name == "radar_202612041430.png"


def test_vision_model_reads_the_map_with_the_descriptors(server, tmp_path):
    eye = FakeVision()
    reading = _read("now", server.url, tmp_path, provider=eye)
    [messages] = eye.calls
    user = messages[-1]
    assert user.images == (reading.figure.read_bytes(),)
    assert reading.descriptors.text() in user.content
    assert "DWD radar composite of 2026-12-04 15:00 UTC" in user.content
    assert reading.reading.used_vision and reading.reading.source == "fake (eye-1)"
    answer = reading.markdown()
    assert "Read by the vision model fake (eye-1)" in answer
    assert "Rain over the north-west with one small convective cell." in answer
    blind = FakeVision(vision=False)
    plain = _read("now", server.url, tmp_path, provider=blind)
    assert blind.calls == [] and "does not accept images" in plain.reading.text
