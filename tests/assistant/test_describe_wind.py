"""Wind text from descriptors: the prompt, an LLM call through a fake provider, the checker."""

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from wxai.assistant.describe_wind import (
    check_wind_text,
    generate_wind_text,
    stated_directions,
    stated_speeds,
    wind_prompt,
)
from wxai.assistant.llm.types import ChatResponse, Message
from wxai.atmos.wind import wind_components
from wxai.core.errors import ConfigError
from wxai.products.descriptors.fields import WindCase, synthetic_wind_field
from wxai.products.descriptors.wind import WindDescriptors, describe_wind


def _descriptors(direction=250.0, speed=12.0, sector="north"):
    case = WindCase(direction=direction, speed=speed, sector=sector, sector_boost=1.6)
    return describe_wind(synthetic_wind_field(case, np.random.default_rng(0)))


class _FakeProvider:
    """Answers every chat with a fixed text; records what it was asked."""

    def __init__(self, content: str) -> None:
        self.content = content
        self.calls: list[dict[str, Any]] = []

    def chat(self, messages: Sequence[Message], **kwargs: Any) -> ChatResponse:
        self.calls.append({"messages": list(messages), **kwargs})
        return ChatResponse(content=self.content)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("South-westerly winds", [225.0]),
        ("a westerly, later WSW", [270.0, 247.5]),
        ("Winds from the north-east", [45.0]),
        ("north west winds", [315.0]),
        ("wind from 250 degrees", [250.0]),
        ("SW 250°, spread ±15°, 12°C", [225.0, 250.0]),
        ("stronger in the northern half, in the north", []),
        ("blowing towards the east at 10 m/s", []),
    ],
)
def test_directions_are_read_and_places_are_not(text, expected):
    assert stated_directions(text) == expected


def test_speeds_in_all_units_and_beaufort_forces():
    speeds, forces = stated_speeds("10-12 m/s, 20 knots, 36 km/h, 5 m s-1, force 5 to 6, Bft 4")
    expected = [(10, 12), (20 * 0.514444,) * 2, (10, 10), (5, 5)]
    assert np.ravel(speeds) == pytest.approx(np.ravel(expected))
    assert forces == [(5, 6), (4, 4)]


def test_checker_on_hand_written_texts():
    d = _descriptors()  # 250°, WSW -> compass W, 12 m/s, Beaufort 6
    assert d.compass == "W" and d.beaufort == 6
    good = [
        "Westerly winds of around 12 m/s over the German Bight.",
        "South-westerly force 6, strongest in the north.",
        "Winds from the west-south-west, 22 to 25 knots.",
        "Wind from 260°, 13 m/s.",
    ]
    for text in good:
        assert check_wind_text(text, d).ok, text
    bad_direction = check_wind_text("Easterly winds of 12 m/s.", d)
    assert bad_direction.speed_ok and not bad_direction.direction_ok
    # 12 m/s: tolerance max(2, 0.2 * 12) = 2.4 m/s.
    assert check_wind_text("Westerly, 14.3 m/s.", d).ok
    assert not check_wind_text("Westerly, 14.5 m/s.", d).speed_ok
    assert not check_wind_text("Westerly, force 8.", d).ok
    # One wrong statement spoils the text; stating nothing is not agreeing.
    assert not check_wind_text("Westerly 12 m/s, later northerly.", d).ok
    silent = check_wind_text("Windy weather ahead.", d)
    assert not silent.direction_ok and not silent.speed_ok
    with pytest.raises(ConfigError, match="tolerances"):
        check_wind_text("x", d, abs_tolerance=-1)


def test_variable_direction_is_right_when_no_direction_is_stated():
    u = np.array([[5.0, -5.0], [5.0, -5.0]])
    d = describe_wind(u, np.zeros_like(u))
    assert check_wind_text("Variable winds around 5 m/s.", d).ok
    assert not check_wind_text("Westerly winds around 5 m/s.", d).ok


def test_template_texts_always_pass_the_checker():
    rng = np.random.default_rng(11)
    for direction in np.arange(0.0, 360.0, 11.25):
        for speed in (0.8, 4.0, 9.5, 18.0, 30.0):
            u, v = wind_components(np.full((6, 6), speed), np.full((6, 6), direction))
            u = u + rng.normal(0, 0.05 * speed, u.shape)
            d = describe_wind(u, v)
            assert check_wind_text(d.template_text(), d).ok, d.template_text()


def test_prompt_holds_the_descriptors_and_nothing_else():
    d = _descriptors()
    messages = wind_prompt(d, region="the German Bight")
    assert [m.role for m in messages] == ["system", "user"]
    user = messages[1].content
    for value in (f"{d.mean_speed:.1f}", f"{d.direction:.0f}", f"{d.spread:.0f}", d.compass,
                  d.intensity, d.variability, "northern half"):  # fmt: skip
        assert value in user
    numbers = set(re.findall(r"\d+(?:\.\d+)?", user))
    allowed = {f"{d.mean_speed:.1f}", str(d.beaufort), f"{d.direction:.0f}", f"{d.spread:.0f}"}
    assert numbers <= allowed
    # The prompt is a function of the descriptors alone: rebuilt from their values, identical.
    assert wind_prompt(WindDescriptors(**d.as_dict())) == messages
    with pytest.raises(ConfigError, match="WindDescriptors"):
        wind_prompt(synthetic_wind_field(WindCase(0, 5), np.random.default_rng(0)))


def test_generate_through_a_fake_provider_and_check_its_answer():
    d = _descriptors()
    provider = _FakeProvider("  Fresh to strong westerly winds near 12 m/s.  ")
    text = generate_wind_text(d, provider, max_tokens=40)  # type: ignore[arg-type]
    assert text == "Fresh to strong westerly winds near 12 m/s."
    call = provider.calls[0]
    assert call["messages"] == wind_prompt(d)
    assert call["max_tokens"] == 40 and call["temperature"] == 0.0
    assert check_wind_text(text, d).ok
