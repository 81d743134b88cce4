"""Wind descriptors into forecast words by a language model, and a checker of such words.

The model never sees the field: :func:`wind_prompt` turns a
:class:`~wxai.products.descriptors.wind.WindDescriptors` into a short prompt and
:func:`generate_wind_text` sends it to any provider or model alias. :func:`check_wind_text`
reads a text back for the direction and the speed it states and compares them with the
descriptors:

- direction: 8- and 16-point abbreviations (``SW``, ``WNW``), adjectives (``westerly``,
  ``south-westerly``), ``from the north-east``, ``north-west winds`` and degrees (``250°``,
  ``250 degrees``; a value after ``±`` or "spread" is a spread, not a direction). Words
  such as ``northern`` name a part of the domain and are ignored. Agrees when every stated
  direction is within one 8-point sector (45°) of the descriptor direction.
- speed: numbers or ranges in m/s (``m/s``, ``m s-1``, ``metres per second``), knots,
  km/h, mph, and Beaufort forces (``force 6``, ``Beaufort 5-6``, ``Bft 4``). A speed agrees
  when the mean speed lies within ``max(abs_tolerance, rel_tolerance * mean)`` of the stated
  value or range (defaults 2 m/s and 20 %); a force when it is within one Beaufort number.
  Agrees when at least one speed is stated and every stated one agrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wxai.assistant.llm.types import LLMProvider, Message
from wxai.core.errors import ConfigError
from wxai.products.descriptors.wind import WindDescriptors

__all__ = [
    "SYSTEM_PROMPT",
    "WindTextCheck",
    "check_wind_text",
    "generate_wind_text",
    "stated_directions",
    "stated_speeds",
    "wind_prompt",
]

SYSTEM_PROMPT = (
    "You are a marine weather forecaster. From the wind summary you are given, write one or "
    "two short sentences of forecast text. State the wind direction the wind comes from and "
    "the mean speed in m/s, exactly as given. Do not invent other numbers."
)

#: Direction [degrees] of each 16-point abbreviation.
_COMPASS_16 = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
               "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")  # fmt: skip
_POINTS = {name: 22.5 * i for i, name in enumerate(_COMPASS_16)}
_BASE = {"north": 0.0, "east": 90.0, "south": 180.0, "west": 270.0}

_ABBREVIATION = re.compile(r"(?<![\w/])(" + "|".join(sorted(_POINTS, key=len)[::-1]) + r")(?!\w)")
_WORD = re.compile(
    r"\b(?:(?P<ns>north|south)(?:[-\s]?(?P<ew>east|west))?|(?P<ew2>east|west))"
    r"(?P<suffix>erly|erlies|ern|wards?)?\b",
    re.IGNORECASE,
)
_FROM = re.compile(r"\bfrom\s+(?:the\s+)?$", re.IGNORECASE)
_WIND_NOUN = re.compile(r"^\s+(?:winds?|breezes?|flow|gales?|airflow)\b", re.IGNORECASE)
_DEGREES = re.compile(
    r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(?:°(?![CF])|degrees?\b|deg\b)", re.IGNORECASE
)
_SPREAD_BEFORE = re.compile(r"(±|\+/-|\+-|spread\D{0,20})\s*$", re.IGNORECASE)

_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = _NUMBER + r"(?:\s*(?:-|–|to)\s*" + _NUMBER + r")?"
#: Unit pattern -> factor to m/s.
_UNITS = {
    r"m\s*/\s*s|m\s*s\s*(?:-1|⁻¹|\^-1)|ms-1|met(?:re|er)s?\s+per\s+second|mps": 1.0,
    r"knots?|kts?|kn": 0.514444,
    r"km\s*/\s*h|km\s*h\s*(?:-1|⁻¹)|kph|kmh": 1.0 / 3.6,
    r"mph|miles\s+per\s+hour": 0.44704,
}
_SPEED = re.compile(
    r"(?<![\d.])" + _RANGE + r"\s*(" + "|".join(f"(?:{u})" for u in _UNITS) + r")(?!\w)",
    re.IGNORECASE,
)
_BEAUFORT = re.compile(
    r"\b(?:force|beaufort|bft)\s*(\d{1,2})(?:\s*(?:-|–|to)\s*(\d{1,2}))?\b", re.IGNORECASE
)


@dataclass(frozen=True)
class WindTextCheck:
    """What a text states about the wind and whether it agrees with the descriptors.

    ``directions`` [degrees]; ``speeds`` as (low, high) [m s-1]; ``forces`` as (low, high)
    Beaufort numbers. ``direction_ok`` and ``speed_ok`` are False when nothing is stated.
    """

    text: str
    directions: tuple[float, ...] = ()
    speeds: tuple[tuple[float, float], ...] = ()
    forces: tuple[tuple[int, int], ...] = ()
    direction_ok: bool = False
    speed_ok: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Direction and speed both stated and both agreeing."""
        return self.direction_ok and self.speed_ok


def wind_prompt(descriptors: WindDescriptors, region: str = "the German Bight") -> list[Message]:
    """The chat messages asking for forecast text; built from ``descriptors`` alone.

    ``region`` only names the area in the task; no field values enter the prompt.
    """
    if not isinstance(descriptors, WindDescriptors):
        raise ConfigError(
            f"wind_prompt takes WindDescriptors (see wxai.products.descriptors.wind."
            f"describe_wind), got {type(descriptors).__name__}"
        )
    d = descriptors
    direction = "variable" if d.direction is None else f"{d.compass} ({d.direction:.0f} degrees)"
    sector = "none" if d.sector == "none" else f"{d.sector}ern half"
    summary = "\n".join(
        [
            f"Region: {region}",
            f"Mean wind speed: {d.mean_speed:.1f} m/s (Beaufort {d.beaufort}, {d.intensity})",
            f"Wind direction (coming from): {direction}",
            f"Speed variability: {d.variability}",
            f"Directional spread: {d.spread:.0f} degrees",
            f"Stronger winds in: {sector}",
        ]
    )
    return [
        Message.system(SYSTEM_PROMPT),
        Message.user(f"Wind summary:\n{summary}\n\nForecast text:"),
    ]


def generate_wind_text(
    descriptors: WindDescriptors,
    provider: LLMProvider | str | None = None,
    *,
    region: str = "the German Bight",
    max_tokens: int = 80,
) -> str:
    """Forecast text for ``descriptors`` from a provider or a model alias (None: default alias).

    Greedy decoding (temperature 0). Provider errors
    (:class:`~wxai.core.errors.ProviderError`) propagate.
    """
    if provider is None or isinstance(provider, str):
        from wxai.assistant.llm.registry import get_provider

        provider = get_provider(provider)
    response = provider.chat(
        wind_prompt(descriptors, region), max_tokens=max_tokens, temperature=0.0
    )
    return response.content.strip()


def _word_direction(match: re.Match[str]) -> float | None:
    ns, ew, suffix = match["ns"], match["ew"] or match["ew2"], (match["suffix"] or "").lower()
    if suffix in ("ern", "ward", "wards"):
        return None  # a part of the domain or a heading, not where the wind comes from
    text = match.string
    said_as_direction = (
        suffix in ("erly", "erlies")
        or _FROM.search(text[: match.start()])
        or _WIND_NOUN.match(text[match.end() :])
    )
    if not said_as_direction:
        return None
    if ns and ew:
        a, b = _BASE[ns.lower()], _BASE[ew.lower()]
        if ns.lower() == "north" and ew.lower() == "west":
            return 315.0
        return (a + b) / 2.0
    return _BASE[(ns or ew).lower()]


def stated_directions(text: str) -> list[float]:
    """Directions [degrees, where the wind comes from] a text states, in order of appearance."""
    found: list[tuple[int, float]] = []
    for m in _ABBREVIATION.finditer(text):
        found.append((m.start(), _POINTS[m[1]]))
    for m in _WORD.finditer(text):
        value = _word_direction(m)
        if value is not None:
            found.append((m.start(), value))
    for m in _DEGREES.finditer(text):
        value = float(m[1])
        if value <= 360 and not _SPREAD_BEFORE.search(text[max(0, m.start() - 30) : m.start()]):
            found.append((m.start(), value % 360.0))
    return [value for _, value in sorted(found)]


def stated_speeds(text: str) -> tuple[list[tuple[float, float]], list[tuple[int, int]]]:
    """Speeds as (low, high) [m s-1] and Beaufort forces as (low, high) a text states."""
    speeds = []
    for m in _SPEED.finditer(text):
        unit = m[3]
        factor = next(f for u, f in _UNITS.items() if re.fullmatch(u, unit, re.IGNORECASE))
        low = float(m[1]) * factor
        high = float(m[2]) * factor if m[2] else low
        speeds.append((min(low, high), max(low, high)))
    forces = []
    for m in _BEAUFORT.finditer(text):
        low = int(m[1])
        high = int(m[2]) if m[2] else low
        forces.append((min(low, high), max(low, high)))
    return speeds, forces


def _angle_difference(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def check_wind_text(
    text: str,
    descriptors: WindDescriptors,
    *,
    abs_tolerance: float = 2.0,
    rel_tolerance: float = 0.2,
    max_direction_error: float = 45.0,
) -> WindTextCheck:
    """Whether ``text`` states a direction and a speed agreeing with ``descriptors``.

    Parameters
    ----------
    abs_tolerance, rel_tolerance:
        A stated speed agrees within ``max(abs_tolerance, rel_tolerance * mean_speed)``
        [m s-1] of its value or range.
    max_direction_error:
        Largest accepted difference of a stated direction [degrees] (45: one sector).
        For a variable-direction field, stating no direction agrees.
    """
    if abs_tolerance < 0 or rel_tolerance < 0 or not 0 <= max_direction_error <= 180:
        raise ConfigError(
            "tolerances must be >= 0 and max_direction_error in [0, 180] degrees, got "
            f"{abs_tolerance}, {rel_tolerance}, {max_direction_error}"
        )
    directions = stated_directions(text)
    speeds, forces = stated_speeds(text)
    notes = []
    if descriptors.direction is None:
        direction_ok = not directions
    else:
        errors = [_angle_difference(d, descriptors.direction) for d in directions]
        direction_ok = bool(errors) and max(errors) <= max_direction_error
        notes.append("no direction stated" if not errors else f"direction errors {errors}")
    mean = descriptors.mean_speed
    tolerance = max(abs_tolerance, rel_tolerance * mean)
    agree = [low - tolerance <= mean <= high + tolerance for low, high in speeds]
    agree += [low - 1 <= descriptors.beaufort <= high + 1 for low, high in forces]
    speed_ok = bool(agree) and all(agree)
    if not agree:
        notes.append("no speed stated")
    return WindTextCheck(
        text=text,
        directions=tuple(directions),
        speeds=tuple(speeds),
        forces=tuple(forces),
        direction_ok=direction_ok,
        speed_ok=speed_ok,
        notes=tuple(notes),
    )
