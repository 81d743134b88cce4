"""WHAT: the weather variable a request asks about, in English or German.

:func:`find_variable` looks for words of six families (temperature, wind,
precipitation, pressure, cloud cover, humidity) and returns the canonical
:mod:`wxai.vocab` names to fetch. Matching is by whole word, by stem with a German
inflection or compound tail ("regnet", "Regenschirm", "Windböen"), by the tail of
a German compound ("Lufttemperatur", "Starkregen") and, for longer words, by a
close spelling ("temprature", "Niederschlg"). Stems never match inside place names
such as "Regensburg" or "Windsor": what follows a stem must be an inflection or a
known compound tail.

When several families are named, the first one in the text wins ("cold and
windy" is temperature). With none, the answer is temperature, flagged
``defaulted=True``. For precipitation, ``accumulation_hours`` is the interval
asked ("in the next 6 hours", "24h", "den ganzen Tag" = 24), else 1 hour.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["FAMILIES", "VariableChoice", "find_variable"]


@dataclass(frozen=True)
class VariableChoice:
    """The variable a request asks about.

    Attributes
    ----------
    names:
        Canonical :mod:`wxai.vocab` names to fetch (wind: both components and gusts).
    label:
        "temperature", "wind", "precipitation", "pressure", "cloud cover" or "humidity".
    accumulation_hours:
        Precipitation only: the accumulation interval asked (default 1), else None.
    defaulted:
        True when the request named no variable and temperature was assumed.
    phrase:
        The word that decided ("" when defaulted).
    """

    names: tuple[str, ...]
    label: str
    accumulation_hours: int | None
    defaulted: bool = False
    phrase: str = ""


#: label -> canonical names.
FAMILIES: dict[str, tuple[str, ...]] = {
    "temperature": ("t2m",),
    "wind": ("u10", "v10", "gust"),
    "precipitation": ("tp",),
    "pressure": ("msl",),
    "cloud cover": ("tcc",),
    "humidity": ("rh2m",),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Whole words (after folding: lower case, ä -> ae, ß -> ss) of each family.
_WORDS: dict[str, frozenset[str]] = {
    "temperature": _words(
        """
        temperature temperatures temp temps warm warmer warmest hot hotter cold colder
        coldest cool cooler chilly freezing frost frosty mild heat degrees degree celsius
        fahrenheit temperatur temperaturen grad kalt kaelter warm waermer heiss heisser
        kuehl kuehler frostig frieren friert hitze waerme kaelte
        """
    ),
    "wind": _words(
        """
        wind winds windy breeze breezy gust gusts gusty storm stormy gale gales hurricane
        beaufort bft kmh boeen boe boeig boeiger sturm stuermisch orkan brise windig
        """
    ),
    "precipitation": _words(
        """
        rain rains raining rainy rainfall drizzle shower showers downpour precipitation
        snow snows snowing snowy snowfall sleet hail thunderstorm thunderstorms umbrella
        wet dry mm regen regnet regnen regnerisch niederschlag niederschlaege schnee
        schneit schneien schneefall graupel hagel gewitter schauer niesel nieselregen
        schirm regenschirm nass trocken
        """
    ),
    "pressure": _words(
        """
        pressure barometer barometric hpa mslp luftdruck druck bodendruck
        """
    ),
    "cloud cover": _words(
        """
        cloud clouds cloudy cloudiness overcast sunny sunshine sun clear bewoelkt
        bewoelkung wolken wolkig wolkenlos bedeckt sonnig sonne sonnenschein heiter
        """
    ),
    "humidity": _words(
        """
        humidity humid muggy damp moisture luftfeuchtigkeit luftfeuchte feuchtigkeit feucht
        schwuel
        """
    ),
}
# Stems with what may follow them: inflections and the tails of German compounds.
_STEMS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperatur", "kalt", "warm", "frost", "hitze"),
    "wind": ("wind", "sturm", "boe", "orkan"),
    "precipitation": ("regen", "regn", "schnee", "schnei", "niederschlag", "hagel", "gewitter"),
    "pressure": ("luftdruck",),
    "cloud cover": ("wolk", "bewoelk", "sonn"),
    "humidity": ("feucht",),
}
_TAILS = (
    "", "s", "e", "en", "n", "er", "es", "em", "ig", "ige", "igen", "iger", "t", "et",
    "isch", "ische", "schirm", "schauer", "menge", "mengen", "wahrscheinlichkeit",
    "risiko", "fall", "faelle", "radar", "front", "geschwindigkeit", "richtung",
    "staerke", "boeen", "warnung", "gefahr", "wetter", "los", "schein", "decke",
    "verlauf", "werte", "wert", "hoehe", "summe", "tag", "tage",
)  # fmt: skip
# Compound heads whose last part is the family word ("Lufttemperatur", "Starkregen").
_TAIL_WORDS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperatur", "temperaturen", "frost"),
    "wind": ("wind", "winde", "sturm", "boeen"),
    "precipitation": ("regen", "schnee", "niederschlag", "schauer", "gewitter"),
    "pressure": ("druck",),
    "cloud cover": ("wolken", "bewoelkung"),
    "humidity": ("feuchte", "feuchtigkeit"),
}
_NOT_VARIABLE = _words(
    """
    regensburg windsor sonneberg sonntag sonntags sunday sundays sonnabend
    druckerei sunderland windhoek warmington kaltenkirchen
    """
)
_HOURS_WORDS = {
    "one": 1, "two": 2, "three": 3, "six": 6, "twelve": 12, "ein": 1, "einer": 1,
    "zwei": 2, "drei": 3, "sechs": 6, "zwoelf": 12,
}  # fmt: skip
_NUM = r"(\d{1,2}|" + "|".join(_HOURS_WORDS) + r")"
_RE_NEXT_HOURS = re.compile(
    r"\b(?:next|coming|naechsten|kommenden|folgenden|within|over|during|innerhalb(?:\s+von)?)"
    r"\s+" + _NUM + r"\s*(?:hours?|h|hrs?|stunden?|std)\b"
)
# "24h rain", "6-hour total", "3-stündige Menge"; not a clock time ("um 15h", "at 6h").
_RE_N_HOUR = re.compile(
    r"(?<!um )(?<!at )(?<!in )\b" + _NUM + r"(?:\s*-\s*|\s+)?(?:hour|h|hr|stuendige[nr]?)\b"
)
_RE_WHOLE_DAY = re.compile(
    r"\b(?:all\s+day|the\s+whole\s+day|whole\s+day|den\s+ganzen\s+tag|ganzen\s+tag|"
    r"ganztags|tagsueber|daily\s+total|tagessumme)\b"
)
_FUZZY_MIN_LENGTH = 6
# Typo targets: word -> family, long words only (short ones are too easily confused).
_LONG_WORDS = {
    w: label for label, words in _WORDS.items() for w in words if len(w) >= _FUZZY_MIN_LENGTH
}
_RE_TOKEN = re.compile(r"°c?|km/h|[^\W\d_]+", re.IGNORECASE)
_SYMBOLS = {"°c": "celsius", "°": "degrees", "km/h": "kmh"}


def find_variable(text: str) -> VariableChoice:
    """The variable ``text`` asks about; temperature (flagged) when it names none.

    Parameters
    ----------
    text:
        The user's request, English or German.

    Returns
    -------
    VariableChoice
        Canonical names, label, the precipitation interval and whether defaulted.
    """
    hit = _first_family(text)
    if hit is None:
        return VariableChoice(FAMILIES["temperature"], "temperature", None, defaulted=True)
    label, word = hit
    hours = _accumulation_hours(_fold(text)) if label == "precipitation" else None
    return VariableChoice(FAMILIES[label], label, hours, defaulted=False, phrase=word)


def _fold(text: str) -> str:
    """Lower case, umlauts spelled out (ä -> ae), other accents dropped, ß as ss."""
    text = text.lower().replace("ß", "ss")
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(a, b)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _first_family(text: str) -> tuple[str, str] | None:
    """The family of the first variable word in ``text`` and that word as written."""
    for m in _RE_TOKEN.finditer(text):
        word = _SYMBOLS.get(m.group().lower()) or _fold(m.group())
        label = _family_of(word)
        if label is not None:
            return label, m.group()
    return None


def _family_of(word: str) -> str | None:
    if word in _NOT_VARIABLE:
        return None
    for label, words in _WORDS.items():
        if word in words:
            return label
    for label, stems in _STEMS.items():
        for stem in stems:
            if word.startswith(stem) and word[len(stem) :] in _TAILS:
                return label
    for label, tails in _TAIL_WORDS.items():
        for tail in tails:
            if word.endswith(tail) and len(word) - len(tail) >= 3:
                return label
    if len(word) >= _FUZZY_MIN_LENGTH:
        close = difflib.get_close_matches(word, list(_LONG_WORDS), n=1, cutoff=0.85)
        if close:
            return _LONG_WORDS[close[0]]
    return None


def _accumulation_hours(norm: str) -> int:
    """The precipitation interval in hours: "next 6 hours", "24h", "all day"; else 1."""
    for pattern in (_RE_NEXT_HOURS, _RE_N_HOUR):
        m = pattern.search(norm)
        if m:
            value = m.group(1)
            hours = int(value) if value.isdigit() else _HOURS_WORDS[value]
            if 1 <= hours <= 72:
                return hours
    if _RE_WHOLE_DAY.search(norm):
        return 24
    return 1
