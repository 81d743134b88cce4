"""The weather workflow end to end: a local ICON-EU server, the cache, synthetic data, bad input.

The server is a real HTTP server on loopback serving the DWD ICON-EU layout
(recorded directory listing, ``.grib2.bz2`` files). Its GRIB files are drawn
from wxai's synthetic atmosphere and carry the synthetic mark, so the oracle
for the point value is the atmosphere itself, evaluated at the place.
"""

from __future__ import annotations

import bz2
import json
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from wxai.assistant.agents.events import AgentEvent
from wxai.assistant.agents.weather.graph import (
    MAX_REQUEST_CHARS,
    build_weather_graph,
    run_weather_workflow,
)
from wxai.assistant.agents.weather.tool import weather_forecast_tool
from wxai.data.sources.http import HttpOptions
from wxai.data.sources.icon_eu import IconEuSource, file_name
from wxai.data.synthetic.atmosphere import SyntheticAtmosphere
from wxai.data.synthetic.samples import write_synthetic_forecast

RECORDED = Path(__file__).parents[2] / "data" / "sources" / "recorded" / "icon-eu_00_t_2m.html"
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # newest published ICON-EU run: 06 UTC
OLDER_RUN = datetime(2026, 11, 23, 0, tzinfo=UTC)  # the run the server has
QUESTION = "What is the temperature in Frankfurt tomorrow at 3pm?"  # 24 Nov 15:00 CET = 14 UTC
LEAD = 38  # 14 UTC on the 24th from the 00 UTC run of the 23rd
# 15:00 in the user's zone (Berlin) = 14 UTC on the 24th: +38 h; nearest 3-hourly IFS step +39 h
IFS_LEAD = 39
FAST = HttpOptions(timeout=5.0, connect_timeout=2.0, retries=0, backoff=0.01)


class _Quiet(SimpleHTTPRequestHandler):
    """Static files, and one byte range (``Range: bytes=a-b``) as ECMWF's servers serve it."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        spec = self.headers.get("Range", "")
        path = Path(self.translate_path(self.path))
        if not spec.startswith("bytes=") or not path.is_file() or "," in spec:
            super().do_GET()
            return
        data = path.read_bytes()
        first, _, last = spec.removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last or len(data) - 1), len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self.wfile.write(data[start : end + 1])


@pytest.fixture(scope="module")
def icon_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """ICON-EU tree with only the 00 UTC run (the 06 UTC run answers 404)."""
    root = tmp_path_factory.mktemp("dwd")
    folder = root / "weather/nwp/icon-eu/grib/00/t_2m"
    folder.mkdir(parents=True)
    shutil.copy(RECORDED, folder / "index.html")
    grib = write_synthetic_forecast(
        root / "field.grib2", grid="icon-eu", run=np.datetime64("2026-11-23T00:00"),
        steps=[LEAD], names=["t2m"],
    )  # fmt: skip
    (folder / file_name("t_2m", OLDER_RUN, LEAD)).write_bytes(bz2.compress(grib.read_bytes()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/weather/nwp/icon-eu/grib"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def ifs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """ECMWF open-data layout: one IFS step of the 00 UTC run, GRIB plus its JSON index."""
    root = tmp_path_factory.mktemp("ecmwf")
    folder = root / "forecasts/20261123/00z/ifs/0p25/oper"
    folder.mkdir(parents=True)
    grib = write_synthetic_forecast(
        root / "field.grib2", grid="ifs", run=np.datetime64("2026-11-23T00:00"),
        steps=[IFS_LEAD], names=["t2m"],
    ).read_bytes()  # fmt: skip
    base = folder / f"20261123000000-{IFS_LEAD}h-oper-fc"
    base.with_suffix(".grib2").write_bytes(grib)
    entry = {"date": "20261123", "time": "0000", "step": str(IFS_LEAD), "param": "2t",
             "type": "fc", "stream": "oper", "levtype": "sfc", "domain": "g",
             "_offset": 0, "_length": len(grib)}  # fmt: skip
    base.with_suffix(".index").write_text(json.dumps(entry) + "\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/forecasts"
    finally:
        server.shutdown()
        server.server_close()


def test_online_ifs_answer_through_the_ecmwf_client(ifs_server: str, tmp_path: Path) -> None:
    from wxai.data.sources.ifs import IfsSource

    sources = {"ifs": IfsSource(ifs_server, retries=1, retry_after=(0.01, 0.05, 2.0))}
    result = run_weather_workflow(
        "IFS temperature in Cape Town tomorrow at 3pm", now=NOW, sources=sources,
        figure_dir=tmp_path,
    )  # fmt: skip
    assert result.ok, result.answer
    data = result.state["data"]
    assert (data.model, data.run, data.lead_hours) == ("ifs", OLDER_RUN, IFS_LEAD)
    assert data.origin == "server" and data.synthetic
    assert "IFS run 2026-11-23 00 UTC, lead time +39 h" in result.answer


def _sources(url: str) -> dict[str, IconEuSource]:
    return {"icon-eu": IconEuSource(url, http=FAST)}


def test_online_answer_from_the_server_with_provenance(icon_server: str, tmp_path: Path) -> None:
    result = run_weather_workflow(
        QUESTION, now=NOW, sources=_sources(icon_server), figure_dir=tmp_path
    )
    assert result.ok, result.answer
    s = result.state
    assert s["place"].name == "Frankfurt am Main" and s["place"].country == "DE"
    assert s["time"].utc == datetime(2026, 11, 24, 14, tzinfo=UTC)
    assert s["variable"].names == ("t2m",)
    data = s["data"]
    assert (data.run, data.lead_hours, data.origin) == (OLDER_RUN, LEAD, "server")
    assert data.synthetic  # the served files carry the synthetic mark: said so
    assert "SYNTHETIC" in result.answer
    assert "older run 2026-11-23 00 UTC" in result.answer
    assert "ICON-EU run 2026-11-23 00 UTC, lead time +38 h" in result.answer
    # oracle: the synthetic atmosphere at Frankfurt, valid time, in degC
    atmos = SyntheticAtmosphere(seed=0, start=np.datetime64("2026-11-23T00:00", "ns"))
    truth = atmos.fields_at_points(
        np.array([s["place"].latitude]), np.array([s["place"].longitude]),
        np.array([np.datetime64("2026-11-24T14:00", "ns")]),
    )["t2m"].item() - 273.15  # fmt: skip
    value = s["values"][0]
    assert value.units == "degC"
    assert value.bilinear == pytest.approx(truth, abs=0.5)  # 0.25 deg grid, 16-bit packing
    assert value.distance_km < 20.0
    assert f"{value.bilinear:.1f}°C" in result.answer
    figure = Path(result.figure)
    assert figure.parent == tmp_path and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_events_show_every_step(icon_server: str, tmp_path: Path) -> None:
    result = run_weather_workflow(
        QUESTION, now=NOW, sources=_sources(icon_server), figure_dir=tmp_path
    )
    started = [e.node for e in result.events if e.kind == "node_started"]
    assert set(started[:3]) == {"time", "place", "variable"}
    assert started[3:] == ["understood", "run", "fetch", "extract", "draw", "answer"]
    call = next(e for e in result.events if e.kind == "tool_called")
    assert call.node == "fetch" and call.data["arguments"]["lead_hours"] == 32  # 06 UTC first
    assert all(isinstance(e, AgentEvent) for e in result.events)


def test_server_down_falls_back_to_synthetic_and_says_why(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/weather/nwp/icon-eu/grib"  # discard port: connection refused
    result = run_weather_workflow(QUESTION, now=NOW, sources=_sources(dead), figure_dir=tmp_path)
    assert result.ok
    assert result.state["data"].origin == "synthetic"
    assert "server unreachable" in result.answer
    assert result.answer.startswith("**SYNTHETIC DATA, not a real forecast.**")


def test_offline_uses_the_cache_first(icon_server: str, tmp_path: Path) -> None:
    run_weather_workflow(QUESTION, now=NOW, sources=_sources(icon_server), figure_dir=tmp_path)
    again = run_weather_workflow(
        QUESTION, now=NOW, offline=True, sources=_sources(icon_server), figure_dir=tmp_path
    )
    assert again.state["data"].origin == "cache"
    assert again.state["data"].run == OLDER_RUN


@pytest.mark.parametrize(
    ("question", "step", "words"),
    [
        ("Temperature in Gondor tomorrow at 3pm", "place", "Gondor"),
        ("ICON-EU temperature in Cape Town tomorrow at 3pm", "run", "outside the ICON-EU domain"),
        ("Temperature in Frankfurt in three weeks", "run", "+240 h"),
        ("ICON-EU temperature in Frankfurt in 7 days", "run", "+120 h"),
        ("Temperature in Frankfurt yesterday at 3pm", "time", "past"),
    ],
)
def test_failures_become_an_honest_answer(question: str, step: str, words: str) -> None:
    result = run_weather_workflow(question, now=NOW, offline=True)
    assert not result.ok
    assert result.answer.startswith("I could not answer")
    assert [e.step for e in result.errors if e.fatal] == [step]
    assert words in result.answer
    assert "fetch" not in {e.node for e in result.events}  # nothing fetched after a failure


@pytest.mark.parametrize("question", ["", "   ", "x" * 10_000])
def test_empty_and_huge_requests_are_refused_clearly(question: str) -> None:
    result = run_weather_workflow(question, now=NOW, offline=True)
    assert not result.ok
    assert ("empty" in result.answer) or (f"{MAX_REQUEST_CHARS:,}" in result.answer)


def test_auto_model_takes_ifs_beyond_icon_eu(tmp_path: Path) -> None:
    far = run_weather_workflow(
        "Temperature in Cape Town tomorrow at 3pm", now=NOW, offline=True, figure_dir=tmp_path
    )
    assert far.ok and far.state["data"].model == "ifs"
    late = run_weather_workflow(
        "Temperature in Berlin in 7 days", now=NOW, offline=True, figure_dir=tmp_path
    )
    assert late.ok and late.state["run"].model == "ifs" and late.state["run"].lead_hours > 120


@pytest.mark.parametrize(
    ("model", "request_text", "order"),
    [
        ("auto", "Wind in Kiel", ["icon-eu", "ifs"]),
        ("auto", "Wind in Kiel laut IFS", ["ifs"]),
        ("auto", "ICON-EU wind in Kiel", ["icon-eu"]),
        ("ifs", "ICON-EU wind in Kiel", ["ifs"]),  # the caller's choice wins
    ],
)
def test_which_models_are_tried(model: str, request_text: str, order: list[str]) -> None:
    from wxai.assistant.agents.weather.nodes import _models_to_try

    assert _models_to_try({"model": model, "request": request_text}) == order


def test_no_place_draws_the_region(tmp_path: Path) -> None:
    result = run_weather_workflow(
        "Wie wird der Wind morgen um 15 Uhr?", now=NOW, offline=True, figure_dir=tmp_path
    )
    assert result.ok
    assert result.state["place"] is None and result.state["values"] == []
    assert "No place named" in result.answer
    assert Path(result.figure).is_file()


def test_rain_is_de_accumulated_over_the_interval(tmp_path: Path) -> None:
    result = run_weather_workflow(
        "Rain in Hamburg tomorrow 3pm, 6 h total", now=NOW, offline=True,
        figure_dir=tmp_path,
    )  # fmt: skip
    assert result.ok, result.answer
    data = result.state["data"]
    assert data.steps[-1] - data.steps[0] == result.state["variable"].accumulation_hours == 6
    assert result.state["values"][0].units == "mm"
    assert result.state["values"][0].bilinear >= 0.0
    assert "in the 6 h before the valid time" in result.answer


def test_the_tool_returns_json_ready_results(tmp_path: Path) -> None:
    forecast = weather_forecast_tool(offline=True, figure_dir=tmp_path, now=lambda: NOW)
    assert forecast.name == "get_weather_forecast"
    out = forecast.invoke({"question": "Wind in Kiel morgen 18 Uhr"})
    assert out["ok"] and out["place"]["name"] == "Kiel"
    assert {v["name"] for v in out["values"]} >= {"wind_speed", "wind_direction"}
    assert out["run"]["synthetic"] is True


def test_graph_draws_as_mermaid() -> None:
    text = build_weather_graph().get_graph().draw_mermaid()
    for node in ("time", "place", "variable", "run", "fetch", "extract", "draw", "answer"):
        assert node in text
