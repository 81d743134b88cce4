"""JSON Schema for a typed Python function, built with pydantic from its signature.

:func:`arguments_model` turns a function's parameters into a pydantic model (type
hints give the types, ``Literal`` gives an ``enum``, defaults make a parameter
optional, ``Annotated[..., Field(description=...)]`` or the numpy-style docstring's
``Parameters`` section gives the descriptions). :func:`arguments_schema` is that
model's JSON Schema cleaned for language models: no titles, references inlined,
``additionalProperties: false``. The same model validates the arguments a model
returns, so the schema a model sees and the check its call passes never disagree.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from wxai.core.errors import ConfigError

__all__ = [
    "arguments_model",
    "arguments_schema",
    "docstring_parts",
    "grammar_gaps",
    "ground_numbers",
    "numbers_in",
]

_SECTION = re.compile(r"^\s*-{3,}\s*$")
_ENTRY = re.compile(r"^(\*{0,2}\w+)\s*(?::.*)?$")


def docstring_parts(doc: str | None) -> tuple[str, str, dict[str, str]]:
    """Split a numpy-style docstring into summary, extended description and parameters.

    Parameters
    ----------
    doc:
        The docstring (``inspect.getdoc`` form or raw).

    Returns
    -------
    tuple[str, str, dict[str, str]]
        The summary line, the text between it and the first section, and the
        ``Parameters`` section as ``{name: description}`` (descriptions joined to
        one line; entries written ``name : type`` or ``name:``).
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    # sections: a title line followed by a dashed line
    starts = [i - 1 for i in range(1, len(lines)) if _SECTION.match(lines[i])]
    head = lines[: starts[0]] if starts else lines
    paragraphs = re.split(r"\n\s*\n", "\n".join(head).strip())
    summary = " ".join(paragraphs[0].split()) if paragraphs and paragraphs[0] else ""
    extended = "\n\n".join(" ".join(p.split()) for p in paragraphs[1:] if p.strip())
    params: dict[str, str] = {}
    for k, start in enumerate(starts):
        if lines[start].strip().lower() not in {"parameters", "arguments", "args"}:
            continue
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        current: str | None = None
        for line in lines[start + 2 : end]:
            match = _ENTRY.match(line) if line and not line[0].isspace() else None
            if match:
                current = match.group(1).lstrip("*")
                params[current] = ""
            elif current is not None and line.strip():
                params[current] = f"{params[current]} {line.strip()}".strip()
    return summary, extended, params


def _has_description(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not Annotated:
        return False
    return any(isinstance(m, FieldInfo) and m.description for m in annotation.__metadata__)


def arguments_model(
    function: Callable[..., Any], name: str | None = None, *, descriptions: Mapping[str, str] = {}
) -> type[BaseModel]:
    """A pydantic model of ``function``'s parameters (extra arguments forbidden).

    Parameters
    ----------
    function:
        A function whose parameters all have type hints; ``*args`` and ``**kwargs``
        are not allowed (a model cannot fill them reliably).
    name:
        Model name (default: the function's name).
    descriptions:
        Per-parameter descriptions; an ``Annotated`` ``Field(description=...)``
        takes precedence.

    Raises
    ------
    ConfigError
        A parameter has no type hint or is variadic.
    """
    label = name or getattr(function, "__name__", "tool")
    hints = typing.get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(function).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(
                f"tool {label!r}: variadic parameter {pname!r} cannot be described by a "
                "JSON Schema; give the tool explicit, typed parameters"
            )
        if pname not in hints:
            raise ConfigError(
                f"tool {label!r}: parameter {pname!r} has no type hint; annotate it "
                "(e.g. 'city: str') so its JSON Schema can be built"
            )
        annotation = hints[pname]
        if descriptions.get(pname) and not _has_description(annotation):
            annotation = Annotated[annotation, Field(description=descriptions[pname])]
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, default)
    return create_model(  # type: ignore[call-overload]
        f"{label}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    """Inline ``$ref``s to ``#/$defs/...`` and drop schema titles, recursively."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[str(node["$ref"]).rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in {"title", "$defs"}:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {prop: _resolve(sub, defs) for prop, sub in value.items()}
        else:
            out[key] = _resolve(value, defs)
    return out


def arguments_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of an arguments model, as a language model should see it.

    Titles are dropped (they repeat the names) and ``$ref`` references are inlined,
    so the schema can be nested inside another one (see :func:`grammar_gaps`).
    """
    raw = model.model_json_schema()
    schema = _resolve(raw, raw.get("$defs", {}))
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema


#: Keywords llama.cpp's JSON-Schema-to-grammar conversion does not enforce, by type.
_UNENFORCED = {
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "integer": ("exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "string": ("format",),
}


def grammar_gaps(schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Constraints of ``schema`` that grammar-constrained decoding does not enforce.

    llama.cpp turns a JSON Schema into a grammar: types, ``enum``, ``const``,
    ``anyOf``/``oneOf``, required and optional properties, string lengths and
    integer ``minimum``/``maximum`` are enforced, bounds on ``number`` are not
    (checked by decoding with them). A tool whose schema has gaps can still
    produce a call that fails validation; the caller then retries once.

    Returns
    -------
    list[str]
        ``"<path>: <keyword> on <type>"`` for each gap; empty when decoding
        guarantees a valid call.
    """
    gaps: list[str] = []
    kind = schema.get("type")
    for keyword in _UNENFORCED.get(kind, ()) if isinstance(kind, str) else ():
        if keyword in schema:
            gaps.append(f"{path}: {keyword} on {kind}")
    for key, value in schema.items():
        if key == "properties" and isinstance(value, Mapping):
            for prop, sub in value.items():
                gaps += grammar_gaps(sub, f"{path}.{prop}")
        elif key in {"anyOf", "oneOf", "allOf"} and isinstance(value, list):
            for i, sub in enumerate(value):
                gaps += grammar_gaps(sub, f"{path}.{key}[{i}]")
        elif key in {"items", "additionalProperties"} and isinstance(value, Mapping):
            gaps += grammar_gaps(value, f"{path}.{key}")
    return gaps


#: A number as written in text; a minus sign counts only after a space, bracket or start
#: ("-5 C" gives -5, "15-20 km/h" gives 15 and 20).
_NUMBER = re.compile(r"(?<![\w.])(?:(?<![\w)])-)?\d+(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    """The numbers written in ``text``, signs kept, in order, without repeats.

    >>> numbers_in("Wind chill at -5 C and 30 km/h, 15-20 km/h gusts?")
    [-5.0, 30.0, 15.0, 20.0]
    """
    out: list[float] = []
    for match in _NUMBER.finditer(text):
        value = float(match.group())
        if value not in out:
            out.append(value)
    return out


def ground_numbers(schema: Mapping[str, Any], text: str) -> dict[str, Any]:
    """``schema`` with each required number argument restricted to the numbers in ``text``.

    A small model filling ``{"temperature_c": <number>}`` often drops a minus sign
    or invents a value; as an ``enum`` of the numbers the request writes (within
    the argument's bounds, whole numbers for integers) the grammar leaves it only
    the choice of which number goes where. Arguments with a default, an ``enum``,
    or no fitting number in ``text`` are left as they are (``"tomorrow"`` must
    still become ``hours_ahead: 24``).
    """
    found = numbers_in(text)
    out = dict(schema)
    properties = dict(schema.get("properties", {}))
    for name in schema.get("required", ()):
        prop = properties.get(name)
        if not isinstance(prop, Mapping) or "enum" in prop or "const" in prop:
            continue
        kind = prop.get("type")
        if kind not in {"number", "integer"}:
            continue
        low = prop.get("minimum", float("-inf"))
        high = prop.get("maximum", float("inf"))
        values: list[float | int] = [
            int(v) if kind == "integer" else v
            for v in found
            if low <= v <= high and (kind == "number" or v.is_integer())
        ]
        if values:
            properties[name] = {**prop, "enum": values}
    out["properties"] = properties
    return out
