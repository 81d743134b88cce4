"""Requests about an uploaded NetCDF file: the rule picks the tool, the tool reads the file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wxai.cockpit.chat_rules import data_file_call, pick_file, pick_point, pick_variable

SUMMARY = {"variables": {"t2m": {"units": "K", "long_name": "2 metre temperature"},
                         "tp": {"units": "m", "long_name": "total precipitation"}}}  # fmt: skip
FILES = [SimpleNamespace(name="era5_small.nc", summary=SUMMARY)]


def write_netcdf(path: Path) -> Path:
    """t2m [K] on a 6 x 8 grid over Germany, two times; value = 270 + latitude / 10."""
    lat = np.linspace(47.0, 55.0, 6)
    lon = np.linspace(5.0, 15.0, 8)
    times = pd.date_range("2026-12-04T12:00", periods=2, freq="6h")
    t2m = 270.0 + np.broadcast_to(lat[None, :, None] / 10.0, (2, 6, 8))
    ds = xr.Dataset(
        {"t2m": (("time", "latitude", "longitude"), t2m, {"units": "K", "long_name": "2m temp"})},
        coords={"time": times, "latitude": lat, "longitude": lon},
    )
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Show a map of t2m from era5_small.nc", ("field_map", {"variable": "t2m"})),
        ("t2m in era5_small.nc at Frankfurt", ("field_value", {"variable": "t2m"})),
        ("total precipitation of era5_small at 50.1N 8.7E", ("field_value", {"variable": "tp"})),
        ("What is the weather in Berlin?", None),
        ("Plot something from other.nc", None),
    ],
)
def test_the_rule_names_tool_file_and_variable(text, expected):
    call = data_file_call(text, FILES)
    if expected is None:
        assert call is None
        return
    name, arguments = call
    assert name == expected[0]
    assert arguments["file"] == "era5_small.nc"
    assert arguments["variable"] == expected[1]["variable"]
    if name == "field_value":
        assert 47 < arguments["latitude"] < 55 and 5 < arguments["longitude"] < 15


def test_pickers_refuse_to_guess():
    two = [*FILES, SimpleNamespace(name="icon.grib2", summary={"variables": {"t2m": {}}})]
    assert pick_file("map of the uploaded file", two) is None  # two files: which one?
    assert pick_file("map of the uploaded file", FILES) is FILES[0]
    assert pick_variable("map of era5_small.nc", SUMMARY) is None  # two variables
    assert pick_variable("precipitation map", SUMMARY) == "tp"
    lat, lon, _ = pick_point("at 12.5S 20W")
    assert (lat, lon) == (-12.5, -20.0)


def _parts(response) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]


def test_a_chat_turn_reads_the_uploaded_file(client, tmp_path):
    """Upload a NetCDF file, ask for a value at Frankfurt and a map: numbers and a figure."""
    path = write_netcdf(tmp_path / "era5_small.nc")
    spaces = client.get("/api/dataspaces").json()
    private = next(space for space in spaces if space["kind"] == "private")
    with path.open("rb") as handle:
        stored = client.post(
            f"/api/dataspaces/{private['id']}/files",
            files={"file": ("era5_small.nc", handle, "application/octet-stream")},
        )
    assert stored.status_code in (200, 201), stored.text
    session = client.post("/api/sessions", json={"title": "file"}).json()

    value = client.post(
        f"/api/sessions/{session['id']}/messages",
        json={"text": "t2m in era5_small.nc at Frankfurt"},
    )
    parts = _parts(value)
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "field_value"
    result = next(p for p in parts if p["type"] == "tool_result")
    expected = 270.0 + 50.1 / 10.0  # the field is linear in latitude
    assert abs(result["summary"]["value"]["bilinear"] - expected) < 0.05
    assert "K" in result["html"] and "era5_small.nc" in result["html"]

    drawn = client.post(
        f"/api/sessions/{session['id']}/messages",
        json={"text": "Show a map of t2m from era5_small.nc"},
    )
    parts = _parts(drawn)
    result = next(p for p in parts if p["type"] == "tool_result")
    assert result["name"] == "field_map" and result["figures"]
    figure = client.get(result["figures"][0])
    assert figure.status_code == 200 and figure.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert parts[-1]["type"] == "done"


def test_a_question_about_my_documents_is_answered_from_them_with_citations(client):
    """The document rule searches the caller's dataspaces; the answer cites the file."""
    spaces = client.get("/api/dataspaces").json()
    private = next(space for space in spaces if space["kind"] == "private")
    text = b"# Gust warnings\n\nIssue a zorblat warning when gusts exceed 90 km/h inland.\n"
    stored = client.post(
        f"/api/dataspaces/{private['id']}/files",
        files={"file": ("warning-rules.md", text, "text/markdown")},
    )
    assert stored.status_code in (200, 201), stored.text
    session = client.post("/api/sessions", json={}).json()
    ask = {"text": "What do my documents say about a zorblat warning?"}
    parts = _parts(client.post(f"/api/sessions/{session['id']}/messages", json=ask))
    assert next(p for p in parts if p["type"] == "tool_call")["name"] == "search_dataspaces"
    citations = next(p for p in parts if p["type"] == "citations")["items"]
    assert citations[0]["source"] == "warning-rules.md"
    assert "90 km/h" in citations[0]["text"]
    assert citations[0]["url"].startswith(f"/api/dataspaces/{private['id']}/files/")
    answer = "".join(p.get("delta", "") for p in parts if p["type"] == "text")
    assert "warning-rules.md" in answer
