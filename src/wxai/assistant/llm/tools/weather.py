"""Five weather tools a language model can call, all computed offline by wxai.

* :func:`point_forecast`: weather at a city from the synthetic atmosphere
  (:class:`~wxai.data.synthetic.SyntheticAtmosphere`, cities from the gazetteer);
* :func:`active_warnings`: wind, rain and frost warnings for the larger cities of
  a region, from the same atmosphere and fixed thresholds;
* :func:`wind_chill`: the wind-chill temperature (JAG/TI formula of Environment
  Canada and the US National Weather Service);
* :func:`dew_point`: dew point from temperature and relative humidity (Magnus);
* :func:`convert_units`: temperature, wind speed, pressure and precipitation units.

The "now" of forecasts and warnings is the atmosphere's start time; the data are
synthetic and every answer says so. :func:`weather_tools` returns them as a
registry, with plain (one-line) or detailed descriptions, the latter saying when
to use each tool.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from wxai.assistant.llm.tools.schema import docstring_parts
from wxai.assistant.llm.tools.tool import Tool, ToolRegistry, tool
from wxai.atmos.comfort import wind_chill as wind_chill_c
from wxai.atmos.comfort import wind_chill_applies
from wxai.atmos.humidity import dew_point as dew_point_c
from wxai.core.errors import ConfigError

__all__ = [
    "REGIONS",
    "active_warnings",
    "convert_units",
    "dew_point",
    "point_forecast",
    "weather_tools",
    "wind_chill",
]

Region = Literal["british_isles", "france", "germany", "benelux", "alps", "iberia", "scandinavia"]

#: Region -> (lon0, lon1, lat0, lat1) [degrees].
REGIONS: dict[str, tuple[float, float, float, float]] = {
    "british_isles": (-11.0, 2.0, 49.5, 61.0),
    "france": (-5.0, 8.5, 42.0, 51.2),
    "germany": (5.8, 15.1, 47.2, 55.1),
    "benelux": (2.5, 7.3, 49.4, 53.6),
    "alps": (5.5, 16.5, 45.0, 48.0),
    "iberia": (-9.6, 3.4, 36.0, 43.8),
    "scandinavia": (4.5, 31.0, 55.0, 71.5),
}

#: (variable, threshold, level) in the units of the returned values; highest level first.
_THRESHOLDS = {
    "wind": [(120.0, "red"), (90.0, "orange"), (65.0, "yellow")],  # gusts [km/h]
    "rain": [(10.0, "red"), (5.0, "orange"), (2.0, "yellow")],  # rate [mm/h]
    "frost": [(-20.0, "red"), (-15.0, "orange"), (-10.0, "yellow")],  # t2m [degC], below
}

Unit = Literal["C", "F", "K", "m/s", "km/h", "kt", "mph", "hPa", "Pa", "inHg", "mm", "in"]

# unit -> (quantity, scale, offset): value_in_base = value * scale + offset
_UNITS: dict[str, tuple[str, float, float]] = {
    "C": ("temperature", 1.0, 0.0),
    "K": ("temperature", 1.0, -273.15),
    "F": ("temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "m/s": ("speed", 1.0, 0.0),
    "km/h": ("speed", 1.0 / 3.6, 0.0),
    "kt": ("speed", 1852.0 / 3600.0, 0.0),
    "mph": ("speed", 1609.344 / 3600.0, 0.0),
    "Pa": ("pressure", 1.0, 0.0),
    "hPa": ("pressure", 100.0, 0.0),
    "inHg": ("pressure", 3386.389, 0.0),
    "mm": ("length", 1.0, 0.0),
    "in": ("length", 25.4, 0.0),
}

_NOTE = "synthetic weather from wxai's synthetic atmosphere, not a real forecast"


@lru_cache(maxsize=1)
def _atmosphere() -> Any:
    from wxai.data.synthetic import SyntheticAtmosphere

    return SyntheticAtmosphere(seed=0, n_cyclones=3)


def _weather(lat: np.ndarray, lon: np.ndarray, hours: int, with_tp: bool) -> Any:
    atmos = _atmosphere()
    time = atmos.start + np.timedelta64(int(hours), "h")
    return atmos.fields_at_points(lat, lon, [time], with_tp=with_tp).isel(time=0), time


def point_forecast(
    city: str, hours_ahead: Annotated[int, Field(ge=0, le=120)] = 24
) -> dict[str, Any]:
    """Point forecast for a city.

    Use for the expected weather at one named place: temperature, wind, gusts,
    rain, cloud or pressure, now or up to five days ahead. Not for warnings.

    Parameters
    ----------
    city:
        City name as written in the request, e.g. "Berlin".
    hours_ahead:
        Forecast lead time in hours from now: 0 = now, 6 = in six hours,
        24 = tomorrow, 48 = in two days, 72 = in three days.
    """
    from wxai.viz.gazetteer import find_place

    place = find_place(city)
    ds, time = _weather(np.array([place.lat]), np.array([place.lon]), hours_ahead, True)
    u, v = float(ds["u10"][0]), float(ds["v10"][0])
    earlier = _weather(np.array([place.lat]), np.array([place.lon]), max(hours_ahead - 6, 0), True)
    return {
        "city": place.name,
        "country": place.country,
        "valid_time": str(np.datetime64(time, "m")),
        "temperature_c": round(float(ds["t2m"][0]) - 273.15, 1),
        "dew_point_c": round(float(ds["td2m"][0]) - 273.15, 1),
        "wind_speed_kmh": round(3.6 * float(np.hypot(u, v)), 1),
        "wind_from_deg": round(float(np.degrees(np.arctan2(-u, -v))) % 360.0),
        "gust_kmh": round(3.6 * float(ds["gust"][0]), 1),
        "precipitation_last_6h_mm": round(float(ds["tp"][0] - earlier[0]["tp"][0]), 1),
        "cloud_cover_percent": round(float(ds["tcc"][0])),
        "pressure_msl_hpa": round(float(ds["msl"][0]) / 100.0, 1),
        "note": _NOTE,
    }


def active_warnings(region: Region, hours_ahead: Annotated[int, Field(ge=0, le=120)] = 0) -> dict:
    """Weather warnings for a region.

    Use for warnings or alerts of storm, strong wind gusts, heavy rain or severe
    frost anywhere in a region or country. Not for the forecast at one city.

    Parameters
    ----------
    region:
        Region: british_isles = UK and Ireland, benelux = Belgium, Netherlands and
        Luxembourg, alps = Switzerland and Austria, iberia = Spain and Portugal,
        scandinavia = Norway, Sweden, Denmark and Finland.
    hours_ahead:
        Hours from now at which to check: 0 = warnings in force now, 24 = tomorrow.
    """
    from wxai.viz.gazetteer import places_in

    places = places_in(REGIONS[region], min_population=150_000)[:60]
    lat = np.array([p.lat for p in places])
    lon = np.array([p.lon for p in places])
    ds, time = _weather(lat, lon, hours_ahead, False)
    values = {
        "wind": 3.6 * ds["gust"].values,
        "rain": 3600.0 * ds["rr"].values,
        "frost": ds["t2m"].values - 273.15,
    }
    warnings = []
    for kind, levels in _THRESHOLDS.items():
        for i, place in enumerate(places):
            value = float(values[kind][i])
            for threshold, level in levels:
                hit = value <= threshold if kind == "frost" else value >= threshold
                if hit:
                    warnings.append(
                        {"city": place.name, "type": kind, "level": level, "value": round(value, 1)}
                    )
                    break
    return {
        "region": region,
        "valid_time": str(np.datetime64(time, "m")),
        "cities_checked": len(places),
        "warnings": warnings,
        "units": {"wind": "gust km/h", "rain": "mm/h", "frost": "degC"},
        "note": _NOTE,
    }


def wind_chill(temperature_c: float, wind_speed_kmh: float) -> dict[str, Any]:
    """Wind chill temperature.

    Use for how cold it feels in the wind (felt or apparent temperature) given an
    air temperature and a wind speed. Not for forecasts or dew point.

    Parameters
    ----------
    temperature_c:
        Air temperature in degrees Celsius, with its minus sign below freezing.
    wind_speed_kmh:
        Wind speed in km/h.
    """
    felt = float(wind_chill_c(temperature_c, wind_speed_kmh))  # ConfigError if wind < 0
    applies = bool(wind_chill_applies(temperature_c, wind_speed_kmh))
    return {
        "wind_chill_c": round(felt, 1),
        "formula": "JAG/TI (Environment Canada, NWS 2001)",
        "note": "" if applies else "defined for T <= 10 degC and wind >= 4.8 km/h; air T returned",
    }


def dew_point(
    temperature_c: float, relative_humidity: Annotated[int, Field(ge=1, le=100)]
) -> dict[str, Any]:
    """Dew point temperature.

    Use for the dew point (the temperature at which air saturates, fog or dew
    risk) from air temperature and relative humidity. Not for wind chill.

    Parameters
    ----------
    temperature_c:
        Air temperature in degrees Celsius, with its minus sign below freezing.
    relative_humidity:
        Relative humidity in percent, 1 to 100.
    """
    value = float(dew_point_c(temperature_c, relative_humidity))
    return {"dew_point_c": round(value, 1), "formula": "Magnus (Sonntag 1990, WMO-No. 8)"}


def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> dict[str, Any]:
    """Convert a value between units.

    Use to convert a temperature, wind speed, pressure or precipitation amount
    from one unit to another, e.g. Fahrenheit to Celsius or knots to km/h.

    Parameters
    ----------
    value:
        The number to convert, with its sign.
    from_unit:
        Unit of the value: C = Celsius, F = Fahrenheit, K = Kelvin, kt = knots,
        mph = miles per hour, inHg = inches of mercury, in = inches.
    to_unit:
        Unit wanted, same codes as from_unit.
    """
    q_from, scale_from, offset_from = _UNITS[from_unit]
    q_to, scale_to, offset_to = _UNITS[to_unit]
    if q_from != q_to:
        raise ConfigError(
            f"cannot convert {from_unit} ({q_from}) to {to_unit} ({q_to}); "
            f"{q_from} units: {', '.join(u for u, q in _UNITS.items() if q[0] == q_from)}"
        )
    base = value * scale_from + offset_from
    return {"value": round((base - offset_to) / scale_to, 3), "unit": to_unit}


_EXAMPLES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "point_forecast": [
        ("Will it be windy in Lyon the day after tomorrow?", {"city": "Lyon", "hours_ahead": 48}),
        ("Temperature in Oslo right now?", {"city": "Oslo", "hours_ahead": 0}),
    ],
    "active_warnings": [
        ("Any storm alerts for Scandinavia?", {"region": "scandinavia", "hours_ahead": 0}),
        ("Will there be heavy-rain warnings in Iberia in 12 hours?", {"region": "iberia"}),
    ],
    "wind_chill": [
        (
            "It is 2 degrees with a 40 km/h wind. How cold does that feel?",
            {"temperature_c": 2, "wind_speed_kmh": 40},
        ),
        (
            "Felt temperature at -12 C and wind 15 km/h?",
            {"temperature_c": -12, "wind_speed_kmh": 15},
        ),
    ],
    "dew_point": [
        ("Dew point for 25 C at 60% humidity?", {"temperature_c": 25, "relative_humidity": 60}),
        (
            "Air is 8 degrees and 95 percent humid, when does fog form?",
            {"temperature_c": 8, "relative_humidity": 95},
        ),
    ],
    "convert_units": [
        ("How much is 20 knots in km/h?", {"value": 20, "from_unit": "kt", "to_unit": "km/h"}),
        ("1013 hPa in inches of mercury", {"value": 1013, "from_unit": "hPa", "to_unit": "inHg"}),
    ],
}

#: Short example requests per tool for semantic routing (none is in the evaluation set).
_REQUESTS: dict[str, list[str]] = {
    "point_forecast": [
        "What's the weather in Rome today?",
        "Will it snow in Munich next week?",
        "Temperature in Lisbon tomorrow morning",
        "How windy will it be in Copenhagen tonight?",
        "Weather forecast for Zurich",
        "Is it sunny in Prague at the moment?",
    ],
    "active_warnings": [
        "Are there storm warnings in the Netherlands?",
        "Any alerts for Norway and Sweden?",
        "Is there a red warning for heavy rain in the Alps?",
        "Weather warnings in force for Ireland and the UK",
        "Are gale or frost alerts issued for the region?",
        "Any severe weather alerts in Spain?",
    ],
    "wind_chill": [
        "Wind chill for -8 C and 35 km/h wind",
        "How cold does -2 degrees feel with a strong wind?",
        "Feels-like temperature at 3 C in 45 km/h wind",
        "What is the chill factor on a windy -12 C day?",
        "Windchill index for 1 degree and wind 15 km/h",
    ],
    "dew_point": [
        "Dew point at 18 C and 75% humidity",
        "At what temperature does dew form at 25 degrees and 40% RH?",
        "Compute the dew point from temperature and relative humidity",
        "Will fog form? 7 C, humidity 96 percent",
        "Saturation temperature of air at 28 C, 55 percent humidity",
    ],
    "convert_units": [
        "Convert 100 km/h to knots",
        "What is 1000 hPa in inHg?",
        "How many Fahrenheit is 30 Celsius?",
        "2 inches of rain in millimetres",
        "Change 10 m/s to mph",
        "What is 273 K in C?",
    ],
}

_FUNCTIONS = (point_forecast, active_warnings, wind_chill, dew_point, convert_units)


def weather_tools(
    *, detailed: bool = True, examples: bool = True, requests: bool = True
) -> ToolRegistry:
    """The five weather tools as a :class:`ToolRegistry`.

    Parameters
    ----------
    detailed:
        Describe each tool with its docstring's summary and the paragraph saying
        when to use it; when false only the one-line summary (the baseline).
    examples:
        Attach two example requests with arguments per tool (for few-shot prompts).
    requests:
        Attach five or six short example requests per tool (for semantic routing).
    """
    tools: list[Tool] = []
    for function in _FUNCTIONS:
        name = function.__name__
        made = tool(
            examples=_EXAMPLES[name] if examples else (),
            requests=_REQUESTS[name] if requests else (),
        )(function)
        if not detailed:
            made = made.with_description(docstring_parts(function.__doc__)[0])
        tools.append(made)
    return ToolRegistry(tools)
