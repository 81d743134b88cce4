"""Extraction of a JSON tool call from model text (the JSON-block fallback)."""

from __future__ import annotations

import pytest

from wxai.assistant.llm.tools import extract_json, to_tool_call
from wxai.core.errors import ToolCallError

CALL = '{"tool": "wind_chill", "arguments": {"temperature_c": -5, "wind_speed_kmh": 30}}'


@pytest.mark.parametrize(
    "text",
    [
        f"```json\n{CALL}\n```",
        f"```\n{CALL}\n```",
        f"```JSON {CALL}```",
        CALL,
        f"  {CALL}\n",
        f"Sure! Here is the call:\n```json\n{CALL}\n```\nI hope this helps.",
        f"I will call the tool {CALL} and then answer.",
        f"```json\n{CALL}",  # fence never closed
        f"```python\nprint(1)\n```\n```json\n{CALL}\n```",  # first block is not JSON
    ],
)
def test_extract_json_finds_the_call(text: str) -> None:
    call = to_tool_call(extract_json(text))
    assert call.name == "wind_chill"
    assert call.arguments == {"temperature_c": -5, "wind_speed_kmh": 30}


def test_invalid_json_reports_position() -> None:
    with pytest.raises(ToolCallError, match=r"invalid: .* line 1 column"):
        extract_json('```json\n{"tool": "wind_chill", "arguments": {"temperature_c": -5,}}\n```')


def test_no_json_at_all() -> None:
    with pytest.raises(ToolCallError, match="no JSON object"):
        extract_json("The wind chill is about -13 degrees.")
    with pytest.raises(ToolCallError, match="no JSON object"):
        extract_json("[1, 2, 3]")


@pytest.mark.parametrize(
    "document",
    [
        {"tool_call": {"name": "dew_point", "arguments": {"temperature_c": 20}}},
        {"name": "dew_point", "arguments": {"temperature_c": 20}},
        {"tool": "dew_point", "arguments": '{"temperature_c": 20}'},
    ],
)
def test_call_shapes(document: dict) -> None:
    call = to_tool_call(document)
    assert (call.name, call.arguments) == ("dew_point", {"temperature_c": 20})


def test_bad_call_shapes() -> None:
    with pytest.raises(ToolCallError, match="names no tool"):
        to_tool_call({"arguments": {}})
    with pytest.raises(ToolCallError, match="must be a JSON object"):
        to_tool_call({"tool": "x", "arguments": [1]})
    with pytest.raises(ToolCallError, match="not JSON"):
        to_tool_call({"tool": "x", "arguments": "{oops"})
    assert to_tool_call({"tool": "x"}).arguments == {}
