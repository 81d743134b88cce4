"""find_variable: six families in English and German, inflections, typos, accumulation."""

from __future__ import annotations

import pytest

from wxai.assistant.agents.weather.what import FAMILIES, VariableChoice, find_variable
from wxai.vocab import get_variable

WIND = ("u10", "v10", "gust")


@pytest.mark.parametrize(
    ("text", "names", "label"),
    [
        ("What's the temperature in Berlin?", ("t2m",), "temperature"),
        ("Wie warm wird es morgen?", ("t2m",), "temperature"),
        ("Is it going to be cold?", ("t2m",), "temperature"),
        ("Wird es kälter?", ("t2m",), "temperature"),
        ("Höchsttemperatur morgen", ("t2m",), "temperature"),
        ("20 Grad?", ("t2m",), "temperature"),
        ("Frost heute Nacht?", ("t2m",), "temperature"),
        ("how windy is it", WIND, "wind"),
        ("Windböen in Kiel", WIND, "wind"),
        ("Gegenwind beim Radeln?", WIND, "wind"),
        ("Sturm morgen?", WIND, "wind"),
        ("gusts at noon", WIND, "wind"),
        ("Will it rain?", ("tp",), "precipitation"),
        ("Regnet es morgen?", ("tp",), "precipitation"),
        ("Brauche ich einen Regenschirm?", ("tp",), "precipitation"),
        ("do I need an umbrella", ("tp",), "precipitation"),
        ("Schneit es?", ("tp",), "precipitation"),
        ("snow in the Alps", ("tp",), "precipitation"),
        ("Starkregen", ("tp",), "precipitation"),
        ("Niederschlagsmenge", ("tp",), "precipitation"),
        ("Gewitter am Abend", ("tp",), "precipitation"),
        ("air pressure", ("msl",), "pressure"),
        ("Luftdruck in Hamburg", ("msl",), "pressure"),
        ("Will it be sunny?", ("tcc",), "cloud cover"),
        ("sonnig am Wochenende?", ("tcc",), "cloud cover"),
        ("bewölkt?", ("tcc",), "cloud cover"),
        ("Wolken über Berlin", ("tcc",), "cloud cover"),
        ("cloud cover", ("tcc",), "cloud cover"),
        ("how humid is it", ("rh2m",), "humidity"),
        ("Luftfeuchtigkeit", ("rh2m",), "humidity"),
        ("Ist es feucht?", ("rh2m",), "humidity"),
    ],
)
def test_families(text: str, names: tuple[str, ...], label: str) -> None:
    choice = find_variable(text)
    assert (choice.names, choice.label, choice.defaulted) == (names, label, False)
    assert choice.phrase


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("temprature tomorrow", "temperature"),
        ("Temperatuur", "temperature"),
        ("precipitaion", "precipitation"),
        ("Niederschlg", "precipitation"),
        ("humidty", "humidity"),
        ("Luftfeuchtigkiet", "humidity"),
    ],
)
def test_typos(text: str, label: str) -> None:
    assert find_variable(text).label == label


@pytest.mark.parametrize(
    "text",
    [
        "Wetter in Regensburg",
        "Windsor weather",
        "Wetter am Sonntag",
        "Sunday in Sunderland",
        "weather in Sonneberg",
        "Wie wird das Wetter?",
        "",
    ],
)
def test_no_variable_defaults_to_temperature(text: str) -> None:
    choice = find_variable(text)
    assert choice == VariableChoice(("t2m",), "temperature", None, defaulted=True, phrase="")


def test_first_family_named_wins() -> None:
    assert find_variable("cold and windy?").label == "temperature"
    assert find_variable("windy and cold?").label == "wind"
    assert find_variable("thunderstorm tonight").label == "precipitation"


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("Will it rain?", 1),
        ("Will it rain in 6 hours?", 1),
        ("Will it rain in the next 6 hours?", 6),
        ("rain over the next 12 hours", 12),
        ("Regen in den nächsten 24 Stunden", 24),
        ("Niederschlag der kommenden drei Stunden", 3),
        ("24h rainfall", 24),
        ("6-hour precipitation", 6),
        ("3-stündige Niederschlagsmenge", 3),
        ("Regen den ganzen Tag", 24),
        ("Regen morgen um 15h", 1),
    ],
)
def test_accumulation_hours(text: str, hours: int) -> None:
    assert find_variable(text).accumulation_hours == hours


def test_accumulation_only_for_precipitation() -> None:
    assert find_variable("temperature in the next 6 hours").accumulation_hours is None


def test_canonical_names_exist_in_vocab() -> None:
    for names in FAMILIES.values():
        for name in names:
            assert get_variable(name).name == name


def test_phrase_is_the_word_as_written() -> None:
    assert find_variable("Kommen morgen Windböen?").phrase == "Windböen"
    assert find_variable("Über 20 °C?").phrase == "°C"
    assert find_variable("Wind in km/h").phrase == "Wind"
