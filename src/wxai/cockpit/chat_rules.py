"""Rules that decide a chat tool call without the model, where the request says enough.

The offline model (SmolLM2-135M) fills tool arguments poorly when a call needs a
file name, a variable and coordinates at once, or two units. A request such as
"show a map of t2m from era5_small.nc", "t2m in era5_small.nc at Frankfurt" or
"convert 25 knots to m/s" names all of them, so a rule builds the call
(``field_map``, ``field_value``, ``convert_units``) and the model is not asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from wxai.assistant.agents.weather.where import find_place
from wxai.core.errors import WxaiError

_MAP_WORDS = re.compile(r"\b(map|plot|draw|chart|karte|zeichne)\b", re.IGNORECASE)
_THIS_FILE = re.compile(
    r"\b(uploaded|my (data|file)|the (data )?file|this file|netcdf|grib)\b", re.IGNORECASE
)
_COORDINATES = re.compile(
    r"(-?\d{1,2}(?:\.\d+)?)\s*°?\s*([NS])[\s,/]+(-?\d{1,3}(?:\.\d+)?)\s*°?\s*([EW])", re.IGNORECASE
)


def field_of(item: Any, name: str, default: Any = None) -> Any:
    """``item[name]`` of a mapping or ``item.name`` of a record (fakes in tests are dicts)."""
    return item.get(name, default) if isinstance(item, Mapping) else getattr(item, name, default)


def _mentions(text: str, word: str) -> bool:
    return bool(word) and re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text, re.I) is not None


def pick_file(text: str, files: Iterable[Any]) -> Any | None:
    """The data file ``text`` names (by name or stem), or the only one when it says "the file"."""
    files = list(files)
    named = [f for f in files if _mentions(text, str(field_of(f, "name", "")))]
    if not named:
        named = [f for f in files if _mentions(text, Path(str(field_of(f, "name", ""))).stem)]
    if len(named) == 1:
        return named[0]
    if not named and len(files) == 1 and _THIS_FILE.search(text):
        return files[0]
    return None


def pick_variable(text: str, summary: Mapping[str, Any] | None) -> str | None:
    """The variable ``text`` names (short name, or a word of its long name), else the only one."""
    variables: Mapping[str, Any] = (summary or {}).get("variables") or {}
    names = list(variables)
    exact = [name for name in names if _mentions(text, name)]
    if len(exact) == 1:
        return exact[0]
    by_words = [
        name
        for name, info in variables.items()
        if any(
            len(word) > 3 and _mentions(text, word)
            for word in str(field_of(info, "long_name", "") or "").lower().split()
        )
    ]
    if len(by_words) == 1:
        return by_words[0]
    return names[0] if len(names) == 1 else None


def pick_point(text: str) -> tuple[float, float, str] | None:
    """Latitude, longitude [degrees] and a label from coordinates or a place name in ``text``."""
    match = _COORDINATES.search(text)
    if match:
        lat = float(match.group(1)) * (-1 if match.group(2).upper() == "S" else 1)
        lon = float(match.group(3)) * (-1 if match.group(4).upper() == "W" else 1)
        return lat, lon, match.group(0)
    try:
        place = find_place(text)
    except WxaiError:  # a name the gazetteer does not know: leave it to the model
        return None
    if place is None:
        return None
    return place.latitude, place.longitude, place.name


def data_file_call(text: str, files: Iterable[Any]) -> tuple[str, dict[str, Any]] | None:
    """``(tool name, arguments)`` for a request about an uploaded data file, or None.

    A map is drawn when the request asks for one or names no point; otherwise the
    value at the named place or coordinates is read.
    """
    data = [f for f in files if field_of(f, "kind", "data") == "data"]
    record = pick_file(
        text, [f for f in data if (field_of(f, "summary") or {}).get("format") != "odim"]
    )
    if record is None:
        return None
    variable = pick_variable(text, field_of(record, "summary"))
    if variable is None:
        return None
    name = str(field_of(record, "name", ""))
    point = None if _MAP_WORDS.search(text) else pick_point(text)
    if point is None:
        return "field_map", {"file": name, "variable": variable}
    latitude, longitude, _label = point
    return "field_value", {
        "file": name,
        "variable": variable,
        "latitude": latitude,
        "longitude": longitude,
    }


#: Spellings of the units ``convert_units`` knows, to its unit codes.
UNIT_NAMES: dict[str, str] = {
    **dict.fromkeys(["c", "°c", "degc", "celsius", "deg c"], "C"),
    **dict.fromkeys(["f", "°f", "degf", "fahrenheit"], "F"),
    **dict.fromkeys(["k", "kelvin"], "K"),
    **dict.fromkeys(["m/s", "mps", "m s-1", "metres per second", "meters per second"], "m/s"),
    **dict.fromkeys(["km/h", "kmh", "kph", "km h-1"], "km/h"),
    **dict.fromkeys(["kt", "kts", "knot", "knots"], "kt"),
    **dict.fromkeys(["mph"], "mph"),
    **dict.fromkeys(["hpa", "mb", "mbar", "millibar"], "hPa"),
    **dict.fromkeys(["pa", "pascal"], "Pa"),
    **dict.fromkeys(["inhg"], "inHg"),
    **dict.fromkeys(["mm", "millimetres", "millimeters"], "mm"),
    **dict.fromkeys(["in", "inch", "inches"], "in"),
}
_UNIT = "|".join(sorted((re.escape(name) for name in UNIT_NAMES), key=len, reverse=True))
_CONVERSION = re.compile(
    rf"(-?\d+(?:[.,]\d+)?)\s*({_UNIT})\s+(?:to|in|into|in ?to|as)\s+({_UNIT})(?![\w/])",
    re.IGNORECASE,
)


def unit_conversion_call(text: str) -> tuple[str, dict[str, Any]] | None:
    """``("convert_units", arguments)`` for "25 knots to m/s"-like requests, or None."""
    match = _CONVERSION.search(text)
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    source, target = (UNIT_NAMES[match.group(i).lower()] for i in (2, 3))
    return "convert_units", {"value": value, "from_unit": source, "to_unit": target}


_EMULATOR = re.compile(r"\bemulators?\b", re.IGNORECASE)
_SKILL = re.compile(
    r"\b(how good|skill\w*|scorecards?|scores?|verif\w*|rmse|errors?|accura\w*|perform\w*)\b",
    re.IGNORECASE,
)
_ENSEMBLE = re.compile(
    r"\b(ensembles?|spread|uncertain\w*|how (?:sure|certain)|confiden\w*|probabilit\w*|"
    r"chances?|likel\w*|members?)\b",
    re.IGNORECASE,
)
_THRESHOLD = re.compile(
    r"\b(above|over|exceeds?|exceeding|more than|greater than|below|under|less than)\s+"
    r"(-?\d+(?:\.\d+)?)(?!\s*(?:hpa|mb|mbar)\b)",
    re.IGNORECASE,
)
_MEMBERS = re.compile(r"\b(\d{1,2})[ -]members?\b", re.IGNORECASE)
_DAY = re.compile(r"\bday\s*(\d{1,2})\b|\b(\d{1,2})\s*(?:days?|d)\b", re.IGNORECASE)
_HOURS = re.compile(r"\+?\b(\d{1,3})\s*(?:h|hrs?|hours?)\b", re.IGNORECASE)
_HPA = re.compile(r"\b(\d{2,4}(?:\.\d+)?)\s*(?:hpa|mb|mbar)\b", re.IGNORECASE)
_SIGMA = re.compile(r"\bsigma\s*=?\s*(0?\.\d+|1(?:\.0*)?)(?![\d.])", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2})?)?)\s*(?:z|utc)?\b", re.IGNORECASE)
_MODEL_VARIABLE = re.compile(r"\b([a-z]{1,3}_\d{1,3})\b", re.IGNORECASE)
_EMULATOR_VARIABLES = (
    (re.compile(r"\bsurface (air )?pressure\b|\bsp\b", re.IGNORECASE), "sp"),
    (re.compile(r"\btemperature\b", re.IGNORECASE), "t"),
    (re.compile(r"\b(zonal|eastward|u)[ -]wind\b", re.IGNORECASE), "u"),
    (re.compile(r"\b(meridional|northward|v)[ -]wind\b", re.IGNORECASE), "v"),
)


def _lead_hours(text: str) -> int | None:
    """A lead in ``text``: "day 3", "3 days", "5d" [24 h each], "36 h", "+72h"; else None."""
    day = _DAY.search(text)
    if day:
        return 24 * int(day.group(1) or day.group(2))
    hours = _HOURS.search(text)
    return int(hours.group(1)) if hours else None


def emulator_call(text: str) -> tuple[str, dict[str, Any]] | None:
    """``emulator_scorecard``, ``emulator_ensemble`` or ``emulator_forecast`` for a request
    naming the emulator.

    "How good is the emulator at day 5" asks for the scorecard (lead 120 h; default
    120 h); "run the emulator and show me 850 hPa temperature at day 3" for a
    forecast (variable, level in hPa or sigma, lead, default 24 h, and an ISO
    initial date if given); "how certain is the emulator ...", a spread, members or a
    probability ("chance that sp is below 99000") for an ensemble with the same
    arguments, a member count and a threshold. None when the emulator is not named or
    no variable is.
    """
    if not _EMULATOR.search(text):
        return None
    lead = _lead_hours(text)
    if _SKILL.search(text):
        return "emulator_scorecard", {"lead_hours": lead or 120}
    named = _MODEL_VARIABLE.search(text)
    variable = named.group(1) if named else None
    for pattern, param in _EMULATOR_VARIABLES:
        if variable is None and pattern.search(text):
            variable = param
    if variable is None:
        return None
    arguments: dict[str, Any] = {"variable": variable, "lead_hours": lead or 24}
    pressure, sigma, date = _HPA.search(text), _SIGMA.search(text), _DATE.search(text)
    if pressure or sigma:
        arguments["level"] = float((pressure or sigma).group(1))  # type: ignore[union-attr]
    if date:
        arguments["init"] = date.group(1)
    if not _ENSEMBLE.search(text):
        return "emulator_forecast", arguments
    members, threshold = _MEMBERS.search(text), _THRESHOLD.search(text)
    if members:
        arguments["members"] = int(members.group(1))
    if threshold:
        arguments["threshold"] = float(threshold.group(2))
        arguments["below"] = threshold.group(1).lower() in {"below", "under", "less than"}
    return "emulator_ensemble", arguments


_FRONTS = re.compile(r"\b(warm|cold|occlu\w*)?\s*fronts?\b", re.IGNORECASE)
_WARNINGS = re.compile(
    r"\bwarnings?\b.*\b(wind|gusts?|storms?|issue|polygons?|cap|region)|"
    r"\b(wind|gust|storm)\w*\s+warnings?\b",
    re.IGNORECASE,
)


def product_call(text: str) -> tuple[str, dict[str, Any]] | None:
    """``weather_fronts`` or ``weather_warnings`` for a request about fronts or wind
    warnings; the whole request goes on as ``when`` (its time words decide)."""
    if _FRONTS.search(text):
        return "weather_fronts", {"when": text}
    if _WARNINGS.search(text):
        return "weather_warnings", {"when": text}
    return None
