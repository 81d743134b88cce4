"""Unit conversions and other number tools in the chat: decided by rule, answered in words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wxai.cockpit.chat import result_text
from wxai.cockpit.chat_rules import unit_conversion_call


@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ("Convert 25 knots to m/s", (25.0, "kt", "m/s")),
        ("what is 1013 hPa in inHg?", (1013.0, "hPa", "inHg")),
        ("-5 °C to F", (-5.0, "C", "F")),
        ("12,5 mm into inches", (12.5, "mm", "in")),
        ("Is 20 C in Frankfurt warm?", None),
        ("Rain of 5 mm in 1 hour", None),
    ],
)
def test_conversion_requests_are_read_by_rule(text, arguments):
    call = unit_conversion_call(text)
    if arguments is None:
        assert call is None
        return
    names = ("value", "from_unit", "to_unit")
    assert call == ("convert_units", dict(zip(names, arguments, strict=True)))


def test_results_without_text_get_one(tmp_path):
    converted = result_text("convert_units", {"value": 25, "from_unit": "kt"},
                            {"value": 12.861, "unit": "m/s"})  # fmt: skip
    assert converted == "25 kt = **12.861 m/s**"
    dew = result_text("dew_point", {}, {"dew_point_c": 12.0, "formula": "Magnus", "note": ""})
    assert dew == "dew point: dew point **12.0 °C**, formula **Magnus**"


def _parts(response) -> list[dict[str, Any]]:
    lines = response.text.splitlines()
    return [json.loads(line[5:]) for line in lines if line.startswith("data:")]


def test_a_conversion_turn_answers_with_the_number(client):
    session = client.post("/api/sessions", json={}).json()
    ask = {"text": "Convert 25 knots to m/s"}
    parts = _parts(client.post(f"/api/sessions/{session['id']}/messages", json=ask))
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["arguments"] == {"value": 25.0, "from_unit": "kt", "to_unit": "m/s"}
    answer = "".join(p.get("delta", "") for p in parts if p["type"] == "text")
    assert "12.861 m/s" in answer  # 25 * 1852 / 3600
    assert not [p for p in parts if p["type"] == "error"]
