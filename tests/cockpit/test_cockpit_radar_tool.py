"""The radar reading as a chat tool: routed by rule, answered with the map and provenance.

A local server lists two DWD-like ODIM composites (15:00 and 14:55 UTC) in nginx's
layout; ``WXAI_DWD_RADAR_URL`` points the tool at it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wxai.assistant.llm.types import Capabilities, ChatResponse
from wxai.cockpit.chat_tools import FigureStore
from wxai.cockpit.image_tools import VisionRoute
from wxai.cockpit.radar_tools import radar_call, radar_tools
from wxai.core.errors import RequestNotUnderstood
from wxai.data.formats.odim import read_odim, write_odim
from wxai.products.descriptors.remote_sensing import NO_ECHO_DBZ, radar_descriptors

NOW = datetime(2026, 12, 4, 15, 2, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"
CORNERS = {"LL": (3.0, 46.0), "UL": (3.0, 56.0), "UR": (17.0, 56.0), "LR": (17.0, 46.0)}


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("what does the radar show now?", "now"),
        ("radar at 2026-12-04 15:00 UTC", "2026-12-04 15:00 UTC"),
        ("describe the current precipitation radar", "now"),
        ("Was zeigt das Radarbild gerade?", "now"),
        ("Niederschlagsradar um 14:30 UTC", "14:30 UTC"),
        ("show me the rain radar 30 minutes ago", "30 minutes ago"),
        ("the radar yesterday", "yesterday"),  # passed on, so the tool refuses it clearly
        ("read the radar file composite_hx.h5", None),
        ("I uploaded a radar file, describe it", None),
        ("will it rain tomorrow in Berlin?", None),
        ("what will the radar show tomorrow", None),
        ("will the radar show rain in 2 hours?", None),
        ("will you show me the radar?", "now"),
        ("draw a radar chart of the skill scores", None),
        ("what is the weather in Berlin now", None),
    ],
)
def test_rule_routes_radar_requests_only(text, when):
    call = radar_call(text)
    assert call == (None if when is None else ("radar_reading", {"when": when}))


def _composite(path: Path, stamp: str, side: int) -> None:
    values = np.full((60, 60), NO_ECHO_DBZ)
    values[5:30, 5:30] = 25.0
    values[10 : 10 + side, 10 : 10 + side] = 50.0
    write_odim(
        path, values, quantity="DBZH", time=datetime.strptime(stamp, "%Y%m%d_%H%M"),
        corners=CORNERS, projdef="+proj=longlat +ellps=WGS84", xscale=16_000.0, yscale=18_500.0,
        undetect_mask=values == NO_ECHO_DBZ,
    )  # fmt: skip


@pytest.fixture(scope="module")
def dwd_url(tmp_path_factory) -> Iterator[str]:
    """Root URL of a local server with ``hx/`` holding two composites and their listing."""
    root = tmp_path_factory.mktemp("dwd")
    hx = root / "hx"
    hx.mkdir()
    links = []
    for stamp, side in (("20261204_1455", 2), ("20261204_1500", 3)):
        name = f"composite_hx_{stamp}-hd5"
        _composite(hx / name, stamp, side)
        links.append(
            f'<a href="{name}">{name}</a>  04-Dec-2026 15:01  {(hx / name).stat().st_size}'
        )
    (hx / "index.html").write_text(
        "<html><body><pre>\n" + "\n".join(links) + "\n</pre></body></html>"
    )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class FakeVision:
    """A vision provider stand-in that records the messages it got."""

    name, model = "fake", "eye-1"
    capabilities = Capabilities(vision=True)

    def __init__(self) -> None:
        self.calls: list = []

    def chat(self, messages, **kwargs) -> ChatResponse:
        self.calls.append(messages)
        return ChatResponse("A rain area in the north-west with one strong cell.")


def _tool(wxai_home, *, offline: bool, vision=None) -> Any:
    figures = FigureStore(wxai_home.home, "u1")
    [made] = radar_tools(figures, offline=offline, now=lambda: NOW, vision=vision)
    return made


def _figure_path(wxai_home, url: str) -> Path:
    return wxai_home.home / "figures" / "u1" / f"{url.rsplit('/', 1)[1]}.png"


def test_tool_schema_for_a_model_choosing_tools(wxai_home):
    made = _tool(wxai_home, offline=True)
    assert made.name == "radar_reading"
    assert "radar" in made.description and "forecast tool" in made.description
    when = made.spec.parameters["properties"]["when"]
    assert when["default"] == "now" and "past time in UTC" in when["description"]


def test_offline_tool_answers_with_the_synthetic_composite_labelled(wxai_home):
    result = _tool(wxai_home, offline=True).invoke({})
    json.dumps(result)  # the chat streams it as JSON
    assert (result["origin"], result["time"]) == ("synthetic", "2026-12-04T15:00")
    assert "**SYNTHETIC radar: no real radar data could be had.**" in result["text"]
    assert not result["used_vision"] and "No vision model read the map." in result["text"]
    assert "choose a model that reads images (`" in result["text"]
    (url,) = result["figures"]
    assert _figure_path(wxai_home, url).read_bytes()[:8] == PNG
    synthetic = wxai_home.home / "cache/synthetic/samples-s0" / result["file"]
    field = read_odim(synthetic, undetect_value=NO_ECHO_DBZ)
    assert result["descriptors"] == radar_descriptors(field).as_dict()
    assert not list((wxai_home.home / "figures" / "u1").glob("tmp-*"))  # scratch removed


def test_online_tool_reads_the_dwd_composite_with_a_vision_model(wxai_home, dwd_url, monkeypatch):
    monkeypatch.setenv("WXAI_DWD_RADAR_URL", dwd_url)
    eye = FakeVision()
    made = _tool(wxai_home, offline=False, vision=VisionRoute("openai-fast", lambda alias: eye))
    result = made.invoke({"when": "now"})
    assert (result["origin"], result["file"]) == ("server", "composite_hx_202612041500.h5")
    assert result["used_vision"] and result["descriptors"]["cell_pixels"] == [9]
    (url,) = result["figures"]
    [messages] = eye.calls
    assert messages[-1].images == (_figure_path(wxai_home, url).read_bytes(),)
    assert "Read by the vision model fake (eye-1)" in result["text"]
    assert "A rain area in the north-west with one strong cell." in result["text"]
    assert "downloaded from the DWD open-data server" in result["text"]
    cached = wxai_home.home / "cache/dwd-radar/2026/12/04" / result["file"]
    expected = radar_descriptors(read_odim(cached, undetect_value=NO_ECHO_DBZ)).as_dict()
    assert result["descriptors"] == expected

    older = made.invoke({"when": "2026-12-04 14:58 UTC"})
    assert older["file"] == "composite_hx_202612041455.h5" and older["origin"] == "server"
    again = made.invoke({"when": "now"})
    assert again["origin"] == "cache" and "from the local download cache" in again["text"]


def test_tool_refuses_a_future_time(wxai_home):
    made = _tool(wxai_home, offline=True)
    with pytest.raises(RequestNotUnderstood, match="radar only observes the past"):
        made.invoke({"when": "tomorrow"})
    with pytest.raises(RequestNotUnderstood, match="'yesterday'"):
        made.invoke({"when": "yesterday"})


def test_a_session_model_without_vision_is_named_and_not_asked(wxai_home):
    def refuse(alias):
        raise AssertionError("a model without vision must not be made")

    made = _tool(wxai_home, offline=True, vision=VisionRoute("local-fast", refuse))
    result = made.invoke({})
    assert not result["used_vision"] and "local-fast" in result["text"]
