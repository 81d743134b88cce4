"""The demo weather tools: values against formulas, tables and the synthetic atmosphere."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.assistant.llm.tools import choice_schema, grammar_gaps
from wxai.assistant.llm.tools.weather import (
    REGIONS,
    _atmosphere,
    convert_units,
    dew_point,
    point_forecast,
    weather_tools,
    wind_chill,
)
from wxai.core.errors import ConfigError, ToolCallError, UnknownNameError
from wxai.viz.gazetteer import find_place


@pytest.mark.parametrize(
    ("t", "v", "expected"),
    # Environment Canada wind-chill table (rounded to whole degrees)
    [(-5, 30, -13), (0, 50, -8), (-20, 25, -32), (-10, 60, -23), (5, 20, 1)],
)
def test_wind_chill_table(t: float, v: float, expected: float) -> None:
    assert wind_chill(t, v)["wind_chill_c"] == pytest.approx(expected, abs=0.5)


def test_wind_chill_outside_its_range_returns_air_temperature() -> None:
    out = wind_chill(15.0, 30.0)
    assert out["wind_chill_c"] == 15.0 and "defined for" in out["note"]
    with pytest.raises(ConfigError, match=">= 0"):
        wind_chill(0.0, -3.0)


def test_dew_point_limits() -> None:
    assert dew_point(12.3, 100)["dew_point_c"] == pytest.approx(12.3, abs=0.05)
    assert dew_point(20.0, 50)["dew_point_c"] == pytest.approx(9.3, abs=0.1)  # Magnus tables


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (68, "F", "C", 20.0),
        (300, "K", "C", 26.85),
        (0, "C", "F", 32.0),
        (15, "m/s", "km/h", 54.0),
        (1, "kt", "km/h", 1.852),
        (29.92, "inHg", "hPa", 1013.2),
        (25.4, "mm", "in", 1.0),
    ],
)
def test_convert_units(value: float, src: str, dst: str, expected: float) -> None:
    out = convert_units(value, src, dst)  # type: ignore[arg-type]
    assert out["value"] == pytest.approx(expected, abs=0.05) and out["unit"] == dst
    back = convert_units(out["value"], dst, src)  # type: ignore[arg-type]
    assert back["value"] == pytest.approx(value, abs=0.01)


def test_convert_incompatible_units() -> None:
    with pytest.raises(ConfigError, match=r"cannot convert hPa .* pressure units: Pa, hPa, inHg"):
        convert_units(1000, "hPa", "km/h")


def test_point_forecast_matches_the_atmosphere() -> None:
    out = point_forecast("Hamburg", hours_ahead=12)
    place = find_place("Hamburg")
    atmos = _atmosphere()
    ds = atmos.fields_at_points(
        [place.lat], [place.lon], [atmos.start + np.timedelta64(12, "h")], with_tp=False
    )
    assert out["temperature_c"] == pytest.approx(float(ds["t2m"][0, 0]) - 273.15, abs=0.05)
    assert out["pressure_msl_hpa"] == pytest.approx(float(ds["msl"][0, 0]) / 100, abs=0.05)
    assert out["gust_kmh"] >= out["wind_speed_kmh"] >= 0
    assert out["precipitation_last_6h_mm"] >= 0 and "synthetic" in out["note"]
    with pytest.raises(UnknownNameError, match="place"):
        point_forecast("Atlantisville")


def test_active_warnings_levels_follow_thresholds() -> None:
    tools = weather_tools()
    out = tools["active_warnings"].invoke({"region": "germany"})
    assert out["cities_checked"] > 10
    for w in out["warnings"]:
        if w["type"] == "wind":
            assert w["value"] >= 65.0
        if w["type"] == "frost":
            assert w["value"] <= -10.0
    with pytest.raises(ToolCallError, match="region"):
        tools["active_warnings"].invoke({"region": "mars"})
    assert set(REGIONS) == set(
        tools["active_warnings"].spec.parameters["properties"]["region"]["enum"]
    )


def test_registry_descriptions_and_grammar() -> None:
    plain, detailed = weather_tools(detailed=False, examples=False), weather_tools()
    assert (
        plain.names
        == detailed.names
        == [
            "point_forecast",
            "active_warnings",
            "wind_chill",
            "dew_point",
            "convert_units",
        ]
    )
    for p, d in zip(plain, detailed, strict=True):
        assert "\n" not in p.description and d.description.startswith(p.description)
        assert "Use " in d.description and len(d.examples) == 2 and not p.examples
    # constrained decoding enforces everything in these schemas
    assert grammar_gaps(choice_schema(detailed)) == []
