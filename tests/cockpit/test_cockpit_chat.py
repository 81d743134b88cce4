"""The chat that acts: the Frankfurt question runs the weather workflow, tools fail safely."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from wxai.assistant.llm.tools.tool import Tool, ToolRegistry
from wxai.cockpit.chat_tools import ChatToolbox, FigureStore, build_chat_tools

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def _parts(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    parts = []
    for block in response.text.strip().split("\n\n"):
        event, data = block.split("\n", 1)
        part = json.loads(data.removeprefix("data: "))
        assert event == f"event: {part['type']}"
        parts.append(part)
    return parts


def _with_weather(client: TestClient, function) -> None:
    """Replace get_weather_forecast in every toolbox of the app by ``function``."""

    def factory(request, user) -> ChatToolbox:
        box = build_chat_tools(request.app.state, user, request.app.state.settings.home)
        tools = [t for t in box.registry if t.name != "get_weather_forecast"]
        real = box.registry.get("get_weather_forecast")
        fake = Tool(real.spec, function, real.model)
        return ChatToolbox(ToolRegistry([fake, *tools]), box.figures, user)

    client.app.state.chat_toolbox = factory  # type: ignore[attr-defined]


def test_frankfurt_question_answers_with_numbers_and_a_map(client, monkeypatch) -> None:
    monkeypatch.setenv("WXAI_OFFLINE", "1")
    client.app.state.chat_now = lambda: NOW  # type: ignore[attr-defined]
    sid = client.post("/api/sessions", json={}).json()["id"]
    question = "What is the weather tomorrow at 3pm in Frankfurt?"
    parts = _parts(client.post(f"/api/sessions/{sid}/messages", json={"text": question}))
    kinds = [p["type"] for p in parts]
    assert kinds[0] == "session" and kinds[-1] == "done" and "error" not in kinds
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "get_weather_forecast" and call["arguments"] == {"question": question}
    result = next(p for p in parts if p["type"] == "tool_result")
    names = {v["name"]: v for v in result["summary"]["values"]}
    assert {"t2m", "wind_speed", "tp"} <= set(names)
    assert names["t2m"]["units"] == "degC" and names["wind_speed"]["units"] == "km/h"
    assert result["summary"]["run"]["model"] == "icon-eu"
    assert result["summary"]["time"]["utc"] == "2026-03-11T14:00:00+00:00"
    text = "".join(p["delta"] for p in parts if p["type"] == "text")
    assert f"{names['t2m']['bilinear']:.1f}°C" in text and "km/h" in text and "mm" in text
    assert "ICON-EU run 2026-03-10" in text and "SYNTHETIC" in text
    assert "/tmp" not in text and str(client.app.state.settings.home) not in text
    figure = result["figures"][0]
    assert figure.startswith("/api/figures/") and figure in text
    png = client.get(figure)
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user("eve", "correct-horse-battery")
    eve = {"Authorization": f"Bearer {accounts.create_api_key('eve', 't').token}"}
    assert client.get(figure, headers=eve).status_code == 404
    assert client.get("/api/figures/..%2F..%2Fcockpit.db").status_code == 404
    stored = client.get(f"/api/sessions/{sid}/messages").json()
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["id"] == parts[-1]["message_id"]
    assert f'<img src="{figure}"' in stored[1]["html"]
    assert [p["type"] for p in stored[1]["parts"]] == ["tool_call", "tool_result"]
    assert parts[-1]["context"] == {"dropped_turns": 0}


def test_a_failing_tool_becomes_an_error_part(client) -> None:
    def broken(question: str, model: str = "auto") -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    _with_weather(client, broken)
    sid = client.post("/api/sessions", json={}).json()["id"]
    parts = _parts(
        client.post(f"/api/sessions/{sid}/messages", json={"text": "Wind in Kiel tomorrow 6pm"})
    )
    assert [p["type"] for p in parts] == ["session", "tool_call", "error", "done"]
    assert "disk on fire" in parts[2]["message"]
    assert client.get("/api/health").status_code == 200
    stored = client.get(f"/api/sessions/{sid}/messages").json()
    assert stored[1]["parts"][-1]["type"] == "error"


def test_disabled_user_stream_is_cut(client) -> None:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user("bob", "correct-horse-battery")
    bob = {"Authorization": f"Bearer {accounts.create_api_key('bob', 't').token}"}

    def disabling(question: str, model: str = "auto") -> dict[str, Any]:
        worker = threading.Thread(target=accounts.set_disabled, args=("bob", True))
        worker.start()
        worker.join()
        return {"text": "should never be shown", "values": []}

    _with_weather(client, disabling)
    sid = client.post("/api/sessions", json={}, headers=bob).json()["id"]
    parts = _parts(
        client.post(
            f"/api/sessions/{sid}/messages", json={"text": "Rain in Hamburg tomorrow"}, headers=bob
        )
    )
    assert parts[-1] == {"type": "error", "message": "signed out"}
    assert "done" not in [p["type"] for p in parts]
    assert "should never be shown" not in json.dumps(parts)
    assert client.get("/api/sessions", headers=bob).status_code == 401


def test_unknown_tool_and_invalid_arguments_are_error_parts(client) -> None:
    from wxai.cockpit.chat import _run_tool, _Turn

    box = build_chat_tools(client.app.state, _principal(client), client.app.state.settings.home)
    turn = _Turn()
    parts = list(_run_tool(turn, box, "rm_rf", {}, "c0"))
    assert parts[-1]["type"] == "error" and "convert_units" in parts[-1]["message"]
    parts = list(_run_tool(turn, box, "relative_humidity", {"temperature_c": "warm"}, "c1"))
    assert parts[-1]["type"] == "error" and "dew_point_c" in parts[-1]["message"]
    parts = list(
        _run_tool(turn, box, "relative_humidity", {"temperature_c": 20, "dew_point_c": 10}, "c2")
    )
    assert parts[-1]["type"] == "tool_result"
    assert parts[-1]["summary"]["relative_humidity_percent"] == pytest.approx(52.6, abs=1.0)


def test_search_dataspaces_tool_uses_the_callers_dataspaces(client) -> None:
    seen = []

    class FakeSpaces:
        def search(self, principal, query, k=5):
            seen.append((principal.name, query, k))
            return [{"source": "sop.pdf", "dataspace_name": "team", "page": 3, "url": "/x",
                     "text": "Warn at 90 km/h gusts.", "score": 0.8}]  # fmt: skip

    class State:
        dataspaces = FakeSpaces()

    from wxai.cockpit.chat import _run_tool, _Turn

    box = build_chat_tools(State(), _principal(client), client.app.state.settings.home)
    parts = list(_run_tool(_Turn(), box, "search_dataspaces", {"query": "gust warning"}, "c0"))
    assert seen == [("admin", "gust warning", 5)]
    assert parts[-1]["type"] == "citations"
    assert parts[-1]["items"][0]["source"] == "sop.pdf" and parts[-1]["items"][0]["page"] == 3


def _principal(client):
    from wxai.cockpit.auth import resolve_principal

    headers = {"authorization": client.headers["Authorization"]}
    from starlette.datastructures import Headers

    return resolve_principal(client.app.state.accounts, Headers(headers))


def test_figure_ids_are_checked(tmp_path) -> None:
    store = FigureStore(tmp_path, "u1")
    assert store.find("../../etc/passwd") is None
    assert store.find("0" * 32) is None
