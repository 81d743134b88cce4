"""Tool specs from typed functions, argument validation and the registry."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import Field

from wxai.assistant.llm.tools import Tool, ToolRegistry, grammar_gaps, tool
from wxai.assistant.llm.tools.schema import docstring_parts
from wxai.assistant.llm.types import ToolCall
from wxai.core.errors import ConfigError, ToolCallError, UnknownNameError


def forecast(
    city: str,
    hours: Annotated[int, Field(ge=0, le=120)] = 24,
    unit: Literal["C", "F"] = "C",
    detail: Annotated[bool, Field(description="From Field.")] = False,
    scale: float | None = None,
) -> dict:
    """Forecast for a city.

    Use for one named place.

    Parameters
    ----------
    city : str
        City name,
        e.g. "Berlin".
    hours:
        Lead time in hours.
    detail:
        From the docstring (Field wins).

    Returns
    -------
    dict
        Not a parameter.
    """
    return {"city": city, "hours": hours, "unit": unit, "detail": detail, "scale": scale}


def test_schema_from_signature() -> None:
    made = tool(forecast)
    assert isinstance(made, Tool)
    schema = made.spec.parameters
    props = schema["properties"]
    assert schema["type"] == "object"
    assert schema["required"] == ["city"]
    assert schema["additionalProperties"] is False
    assert props["city"] == {"type": "string", "description": 'City name, e.g. "Berlin".'}
    assert props["hours"]["type"] == "integer"
    assert (props["hours"]["minimum"], props["hours"]["maximum"], props["hours"]["default"]) == (
        0,
        120,
        24,
    )
    assert props["hours"]["description"] == "Lead time in hours."
    assert props["unit"]["enum"] == ["C", "F"] and props["unit"]["default"] == "C"
    assert props["detail"]["description"] == "From Field."
    assert {"type": "null"} in props["scale"]["anyOf"]
    assert "title" not in str(schema) and "Returns" not in str(schema)
    assert made.description == "Forecast for a city.\n\nUse for one named place."
    assert made.spec.to_openai()["function"]["name"] == "forecast"


def test_decorator_options_and_direct_call() -> None:
    @tool(name="fc", description="Custom.", examples=[("Berlin?", {"city": "Berlin"})])
    def f(city: str) -> str:
        return city.upper()

    assert (f.name, f.description, f("x")) == ("fc", "Custom.", "X")
    assert f.examples[0].arguments == {"city": "Berlin"}
    assert f.with_description("Other.").spec.description == "Other."


def test_validation_fills_defaults_and_lists_every_problem() -> None:
    made = tool(forecast)
    assert made.validate({"city": "Oslo"})["hours"] == 24
    assert made.invoke({"city": "Oslo", "unit": "F"})["unit"] == "F"
    with pytest.raises(ToolCallError) as info:
        made.validate({"hours": 500, "unit": "K", "colour": "red"})
    text = str(info.value)
    assert "missing required argument 'city'" in text
    assert "hours" in text and "500" in text
    assert "unit" in text and "'K'" in text
    assert "unexpected argument 'colour'" in text
    with pytest.raises(ToolCallError, match="JSON object"):
        made.validate(["Oslo"])  # type: ignore[arg-type]


def test_bad_functions_are_config_errors() -> None:
    def untyped(city):
        """Doc."""

    def variadic(*cities: str) -> None:
        """Doc."""

    def undocumented(city: str) -> None:
        pass

    with pytest.raises(ConfigError, match="no type hint"):
        tool(untyped)
    with pytest.raises(ConfigError, match="variadic"):
        tool(variadic)
    with pytest.raises(ConfigError, match="description"):
        tool(undocumented)
    with pytest.raises(ConfigError, match="example"):
        tool(examples=[("bad", {"hours": 1})])(forecast)


def test_registry_unknown_names_and_validation() -> None:
    registry = ToolRegistry([tool(forecast)])
    with pytest.raises(UnknownNameError, match="did you mean 'forecast'") as info:
        registry.get("forcast")
    assert "Valid tool names: forecast" in str(info.value)
    with pytest.raises(ToolCallError, match="unknown tool 'nowcast'"):
        registry.validate(ToolCall("nowcast", {}))
    assert registry.invoke(ToolCall("forecast", {"city": "Rome"}))["city"] == "Rome"
    with pytest.raises(ConfigError, match="already registered"):
        registry.add(tool(forecast))
    assert registry.names == ["forecast"] and "forecast" in registry and len(registry) == 1


def test_docstring_parts_without_sections() -> None:
    assert docstring_parts("One line.") == ("One line.", "", {})
    assert docstring_parts(None) == ("", "", {})


def test_grammar_gaps_flags_number_bounds_only() -> None:
    def f(x: Annotated[float, Field(ge=0)], n: Annotated[int, Field(ge=0)]) -> None:
        """Doc."""

    assert grammar_gaps(tool(f).spec.parameters) == ["$.x: minimum on number"]
    assert grammar_gaps(tool(forecast).spec.parameters) == []


def _made_for(user: str, default_hours: int = 24) -> Tool:
    """A tool made inside a function, as the cockpit makes its tools per user."""

    def forecast_for_user(city: str, hours: int = default_hours) -> str:
        """Forecast for a city of this user."""
        return f"{user}: {city} +{hours} h"

    return tool(forecast_for_user)


def test_tools_of_one_definition_share_their_model_but_not_their_spec() -> None:
    alice, bob = _made_for("alice"), _made_for("bob")
    assert alice.model is bob.model  # built once: this was most of a chat turn's CPU
    assert alice.spec == bob.spec and alice.spec.parameters is not bob.spec.parameters
    alice.spec.parameters["properties"]["city"]["description"] = "changed"
    assert "description" not in bob.spec.parameters["properties"]["city"]
    assert (alice.function(city="Kiel"), bob.function(city="Kiel")) == (
        "alice: Kiel +24 h",
        "bob: Kiel +24 h",
    )
    other_default = _made_for("carol", default_hours=6)
    assert other_default.model is not alice.model
    assert other_default.model.model_validate({"city": "Kiel"}).hours == 6
    assert alice.model.model_validate({"city": "Kiel"}).hours == 24
