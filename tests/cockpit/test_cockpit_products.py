"""Weather products in the chat: fronts and wind warnings on the (offline: synthetic)
ICON-EU forecast, routed by rule, answered with a figure and provenance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from products_fixture import save_tiny_detector
from wxai.assistant.agents.weather.when import resolve_time
from wxai.cockpit.chat_rules import product_call
from wxai.cockpit.chat_tools import FigureStore
from wxai.cockpit.product_tools import DEFAULT_DETECTOR, product_tools
from wxai.products.fronts.model import MODEL_ENV

PNG = b"\x89PNG\r\n\x1a\n"
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("show me the fronts over Europe tomorrow morning", "weather_fronts"),
        ("where is the cold front on Saturday?", "weather_fronts"),
        ("which warnings would the model issue for the storm on Friday", "weather_warnings"),
        ("gust warnings for tomorrow evening", "weather_warnings"),
        ("what is the weather in Berlin tomorrow", None),
        ("summarise the warnings in my documents", None),
    ],
)
def test_rules_route_fronts_and_warnings(text, name):
    call = product_call(text)
    assert (call[0] if call else None) == name
    if call:
        assert call[1] == {"when": text}


@pytest.fixture
def tools(wxai_home, monkeypatch) -> dict[str, Any]:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    made = product_tools(
        wxai_home.home, FigureStore(wxai_home.home, "u1"), offline=True, now=lambda: NOW
    )
    return {t.name: t for t in made}


def test_fronts_tool_trains_a_detector_on_first_use_and_maps_three_times(tools, wxai_home):
    result = tools["weather_fronts"].invoke({"when": "tomorrow morning"})
    assert result["times"] == ["2026-12-04T02:00", "2026-12-04T08:00", "2026-12-04T14:00"]
    assert "SYNTHETIC" in result["origin"]
    assert sum(result["lines"].values()) > 0
    kept = wxai_home.home / "products" / "fronts" / DEFAULT_DETECTOR / "front-detector.pt"
    assert result["detector"] == str(kept) and kept.is_file()
    text = result["text"]
    assert "was trained now and kept" in text and "synthetic atmosphere" in text
    assert "red warm, blue cold, violet occluded" in text
    (figure,) = result["figures"]
    path = wxai_home.home / "figures" / "u1" / f"{figure.rsplit('/', 1)[1]}.png"
    assert path.read_bytes()[:8] == PNG
    again = tools["weather_fronts"].invoke({"when": "tomorrow morning"})
    assert "trained now" not in again["text"]  # the kept detector is used


def test_warnings_tool_answers_with_cap_alerts_and_the_baseline_note(tools):
    result = tools["weather_warnings"].invoke({"when": "tomorrow evening"})
    asked = resolve_time("tomorrow evening", NOW, tz="Europe/Berlin").utc
    assert result["time"] == f"{asked:%Y-%m-%dT%H:%M}"
    assert result["method"] == "baseline"
    assert "wxai lab run warning-polygons" in result["text"]
    assert len(result["cap_alerts"]) == sum(v > 0 for v in result["warned_km2"].values())
    assert len(result["figures"]) == 1


def test_a_chat_about_fronts_runs_the_tool_over_http(client, monkeypatch, tmp_path):
    monkeypatch.setenv("WXAI_OFFLINE", "1")
    monkeypatch.setenv(MODEL_ENV, str(save_tiny_detector(tmp_path / "d.pt")))
    session = client.post("/api/sessions", json={}).json()
    response = client.post(
        f"/api/sessions/{session['id']}/messages",
        json={"text": "show me the fronts over Europe tomorrow morning"},
    )
    assert response.status_code == 200, response.text
    parts = [json.loads(x[5:]) for x in response.text.splitlines() if x.startswith("data:")]
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "weather_fronts"
    assert "error" not in [p["type"] for p in parts]
    result = next(p for p in parts if p["type"] == "tool_result")
    (figure,) = result["figures"]
    assert client.get(figure).content[:8] == PNG
    answer = "".join(p.get("delta", "") for p in parts if p["type"] == "text")
    assert "Fronts over Europe" in answer and "d.pt" in answer
