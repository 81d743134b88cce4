"""Tolerant extraction of a JSON tool call from a model's text (the JSON-block fallback).

Models without native tools are asked to answer with a fenced ```json block. They
do not always comply: the block may lack its fence, be surrounded by prose, or be
broken JSON. :func:`extract_json` finds the document; :func:`to_tool_call` reads
the call out of the usual shapes (``{"tool": ..., "arguments": ...}``,
``{"tool_call": {"name": ..., "arguments": ...}}``, ``{"name": ..., "arguments": ...}``).
Errors say what was wrong, so the message can be fed back to the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from wxai.assistant.llm.types import ToolCall
from wxai.core.errors import ToolCallError

__all__ = ["extract_json", "to_tool_call"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)


def extract_json(text: str) -> Any:
    """The first JSON object in ``text``.

    Tried in order: the contents of fenced code blocks (an unterminated fence runs
    to the end of the text), the whole text, then the first decodable ``{...}``
    anywhere in the text (prose before or after it is ignored).

    Raises
    ------
    ToolCallError
        No JSON object could be decoded; the message carries the decoder's error
        (position and reason) for the first candidate.
    """
    first_error: str | None = None
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)] + [text.strip()]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        if not candidate:
            continue
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError as exc:
            if "{" in candidate and first_error is None:
                first_error = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
            value = None
        if isinstance(value, dict):
            return value
        for match in re.finditer(r"\{", candidate):
            try:
                value, _ = decoder.raw_decode(candidate, match.start())
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    if first_error is None:
        raise ToolCallError("the answer contains no JSON object; reply with one ```json block")
    raise ToolCallError(f"the JSON in the answer is invalid: {first_error}")


def to_tool_call(document: Mapping[str, Any]) -> ToolCall:
    """The tool call described by a decoded JSON document.

    Raises
    ------
    ToolCallError
        The document names no tool or its arguments are not an object.
    """
    body: Any = document
    if isinstance(document.get("tool_call"), Mapping):
        body = document["tool_call"]
    name = body.get("tool", body.get("name"))
    if not isinstance(name, str) or not name:
        raise ToolCallError(
            'the JSON names no tool; write {"tool": "<tool name>", "arguments": {...}}'
        )
    arguments = body.get("arguments", {})
    if isinstance(arguments, str):  # some models double-encode the arguments
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise ToolCallError(f"the arguments string is not JSON: {exc.msg}") from None
    if not isinstance(arguments, Mapping):
        raise ToolCallError(f'"arguments" must be a JSON object, got {type(arguments).__name__}')
    return ToolCall(name=name, arguments=dict(arguments))
