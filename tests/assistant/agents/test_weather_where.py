"""find_place: gazetteer matching, ambiguity, ordinary words, unknown places, model fallback."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from wxai.assistant.agents.weather import where
from wxai.assistant.agents.weather.where import Place, find_place, model_place_extractor
from wxai.assistant.llm.types import ChatResponse, Message
from wxai.core.errors import ProviderUnavailable, RequestNotUnderstood


def _name(text: str, **kwargs: Any) -> tuple[str, str] | None:
    place = find_place(text, **kwargs)
    return None if place is None else (place.name, place.country)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Weather in Frankfurt tomorrow", ("Frankfurt am Main", "DE")),
        ("Frankfurt am Main at 3pm", ("Frankfurt am Main", "DE")),
        ("Wind in Frankfurt (Oder)", ("Frankfurt (Oder)", "DE")),
        ("Frankfurt an der Oder", ("Frankfurt (Oder)", "DE")),
        ("Wie warm wird es in München?", ("Munich", "DE")),
        ("Munich tomorrow", ("Munich", "DE")),
        ("Muenchen morgen", ("Munich", "DE")),
        ("Regen in Köln", ("Köln", "DE")),
        ("Cologne rain", ("Köln", "DE")),
        ("Wetter in Wien", ("Vienna", "AT")),
        ("Vienna", ("Vienna", "AT")),
        ("Zürich", ("Zürich", "CH")),
        ("rain in Zurich", ("Zürich", "CH")),
        ("Zuerich", ("Zürich", "CH")),
        ("Paris", ("Paris", "FR")),
        ("Halle", ("Halle (Saale)", "DE")),
        ("Nürnberg", ("Nuremberg", "DE")),
        ("Schnee in Garmisch-Partenkirchen", ("Garmisch-Partenkirchen", "DE")),
        ("New York tomorrow", ("New York City", "US")),
        ("weather in berlin", ("Berlin", "DE")),
        ("berlin weather", ("Berlin", "DE")),
        ("Wolken über Berlin", ("Berlin", "DE")),
        ("Wetter für Hamburg am Montag", ("Hamburg", "DE")),
    ],
)
def test_places_in_either_language(text: str, expected: tuple[str, str]) -> None:
    assert _name(text) == expected


def test_place_fields() -> None:
    place = find_place("Temperatur in Frankfurt morgen")
    assert isinstance(place, Place)
    assert place.source == "gazetteer"
    assert place.phrase == "Frankfurt"
    assert place.timezone == "Europe/Berlin"
    assert 50.0 < place.latitude < 50.2
    assert 8.6 < place.longitude < 8.8
    assert place.population > 500_000


@pytest.mark.parametrize(
    "text",
    [
        "Nice weather today",
        "Is it raining? Check on my mobile",
        "Regen morgen",
        "Wind morgen",
        "Morgen Regen?",
        "Of course, what's the temperature?",
        "Bath time: will it be cold?",
        "Wie wird das Wetter?",
        "Wird das Essen draußen nass? essen um 18 Uhr",
        "Temperatur in Deutschland morgen",
        "Wind an der Nordsee",
        "rain in the north tomorrow",
        "in the next 6 hours",
        "What's the weather in time for the game",
        "Holiday tomorrow: sunny?",
        "Airport weather",
        "Kann man morgen grillen?",
        "Papa fragt, ob es regnet",
        "Hail tonight?",
        "",
    ],
)
def test_ordinary_words_and_regions_are_no_place(text: str) -> None:
    assert find_place(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Will it be sunny in Nice?", ("Nice", "FR")),
        ("Is it windy in Bath?", ("Bath", "GB")),
        ("Is it windy in Mobile today?", ("Mobile", "US")),
        ("Wie ist das Wetter in Wetter?", ("Wetter", "DE")),
        ("Regnet es in Essen?", ("Essen", "DE")),
        ("is it nice in nice", ("Nice", "FR")),
        ("Wetter in Wedding", ("Wedding", "DE")),
    ],
)
def test_town_names_that_are_words_after_a_preposition(
    text: str, expected: tuple[str, str]
) -> None:
    assert _name(text) == expected


def test_place_after_a_preposition_wins() -> None:
    # "Essen" without a preposition is the verb; the place is the one after "in".
    assert _name("Kann ich in Bonn draußen Essen?") == ("Bonn", "DE")


@pytest.mark.parametrize(
    ("text", "phrase", "suggestion"),
    [
        ("Weather in Frankfrut tomorrow", "Frankfrut", "Frankfurt am Main (DE)"),
        ("Temperatur in Entenhausen", "Entenhausen", ""),
        ("Temperature in Narnia", "Narnia", ""),
        ("weather in muenchn", "muenchn", "Munich (DE)"),
        ("Schnee in Garmisch?", "Garmisch", "Garmisch-Partenkirchen (DE)"),
        ("Wetter in Sankt Moritz", "Sankt Moritz", "name one nearby"),
    ],
)
def test_unknown_place_raises_with_suggestions(text: str, phrase: str, suggestion: str) -> None:
    with pytest.raises(RequestNotUnderstood, match=f"No place called '{phrase}'") as info:
        find_place(text)
    assert info.value.field == "place"
    assert suggestion in str(info.value)


def test_countries_restrict_the_search() -> None:
    assert _name("Paris", countries=["US"]) == ("Paris", "US")
    assert _name("Paris", countries=["de"]) is None
    assert _name("Frankfurt", countries={"DE"}) == ("Frankfurt am Main", "DE")


def test_extractor_only_when_the_gazetteer_finds_nothing() -> None:
    calls: list[str] = []

    def extractor(text: str) -> str | None:
        calls.append(text)
        return "Nice"

    assert _name("Wetter in Dresden", extractor=extractor) == ("Dresden", "DE")
    assert calls == []
    # "Nice" without "in" is no place for the gazetteer rules; the model may say it is.
    place = find_place("Nice: weather tomorrow?", extractor=extractor)
    assert place is not None
    assert (place.name, place.country, place.source) == ("Nice", "FR", "model")
    assert calls == ["Nice: weather tomorrow?"]


def test_extractor_answer_must_be_grounded_and_in_the_gazetteer() -> None:
    # Not in the gazetteer, or not in the request: no place.
    assert find_place("Wetter in xyzzyville?", extractor=lambda _: "Xyzzyville") is None
    assert find_place("Wetter?", extractor=lambda _: None) is None
    assert find_place("Wie wird das Wetter bei mir?", extractor=lambda _: "Leipzig") is None
    # An answer with extra words is matched by its first part.
    place = find_place("Nice - weather tomorrow?", extractor=lambda _: "Nice, France")
    assert place is not None
    assert (place.name, place.source) == ("Nice", "model")
    # The model may fix a typo the gazetteer cannot; otherwise the error stands.
    assert _name("Weather in Frankfrut", extractor=lambda _: "Frankfurt") == (
        "Frankfurt am Main",
        "DE",
    )
    with pytest.raises(RequestNotUnderstood):
        find_place("Weather in Frankfrut", extractor=lambda _: "Frankfrut")
    with pytest.raises(RequestNotUnderstood):
        find_place("Weather in Frankfrut", extractor=lambda _: "Berlin")


class _FakeProvider:
    """Answers every chat with a fixed content, or raises; records the arguments."""

    def __init__(self, content: str = "", error: Exception | None = None) -> None:
        self.content = content
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def chat(self, messages: Sequence[Message], **kwargs: Any) -> ChatResponse:
        self.calls.append({"messages": list(messages), **kwargs})
        if self.error is not None:
            raise self.error
        return ChatResponse(content=self.content)


def test_model_place_extractor_asks_with_a_schema() -> None:
    provider = _FakeProvider(json.dumps({"place": "Freiburg"}))
    extract = model_place_extractor(provider)  # type: ignore[arg-type]
    assert extract("Wie wird das Wetter an meinem Wohnort Freiburg?") == "Freiburg"
    call = provider.calls[0]
    assert call["json_schema"]["properties"]["place"]["type"] == ["string", "null"]
    assert call["max_tokens"] == 32
    assert call["temperature"] == 0.0
    assert [m.role for m in call["messages"]] == ["system", "user"]


@pytest.mark.parametrize(
    "provider",
    [
        _FakeProvider(json.dumps({"place": None})),
        _FakeProvider("not json"),
        _FakeProvider(json.dumps(["Berlin"])),
        _FakeProvider(json.dumps({"place": "x" * 61})),
        _FakeProvider(json.dumps({"place": "  "})),
        _FakeProvider(error=ProviderUnavailable("local", "down")),
    ],
)
def test_model_place_extractor_errors_give_none(provider: _FakeProvider) -> None:
    assert model_place_extractor(provider)("Wetter?") is None  # type: ignore[arg-type]


def test_gazetteer_index_is_cached() -> None:
    assert where._index() is where._index()
    assert "frankfurt am main" in where._index()
