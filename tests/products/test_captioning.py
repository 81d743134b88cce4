"""Caption grammar, generated pairs, scoring and the constant baseline."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.descriptors.captioning import (
    DIRECTION_NAMES,
    caption_tokenizer,
    direction_sector,
    evaluate_captions,
    make_caption_data,
    most_common_caption,
    parse_caption,
    rates_by_speed_bin,
    wind_caption,
)
from wxai.products.descriptors.fields import WindCase


@pytest.mark.parametrize(
    ("direction", "sector"),
    [(0, "north"), (22.4, "north"), (22.6, "north-east"), (225, "south-west"), (337.6, "north")],
)
def test_direction_sectors(direction, sector):
    assert direction_sector(direction) == sector


def test_every_caption_round_trips_through_parser_and_tokenizer():
    tokenizer = caption_tokenizer()
    for index, name in enumerate(DIRECTION_NAMES):
        for speed in (0.2, 7.6, 25.0, 40.0):
            text = wind_caption(WindCase(direction=45.0 * index + 10.0, speed=speed))
            parsed = parse_caption(text)
            assert parsed.sector == name and parsed.speed == round(speed)
            assert tokenizer.decode(tokenizer.encode(text)) == text
    assert wind_caption(WindCase(225.0, 12.3)) == "wind from south-west at 12 m/s"


@pytest.mark.parametrize(
    "text", ["wind from up at 5 m/s", "wind from west at fast m/s", "west 5", "wind from west at 5"]
)
def test_unparsable_captions_are_refused(text):
    with pytest.raises(DataFormatError, match="not a caption"):
        parse_caption(text)


def test_bad_cases_are_refused():
    with pytest.raises(ConfigError, match="caption range"):
        wind_caption(WindCase(0.0, 45.0))
    with pytest.raises(ConfigError, match="finite"):
        direction_sector(float("nan"))
    with pytest.raises(ConfigError, match="speed_range"):
        make_caption_data(2, np.random.default_rng(0), speed_range=(5.0, 3.0))


def test_scores_and_baseline():
    cases = [WindCase(270.0, 10.0), WindCase(90.0, 20.0), WindCase(180.0, 5.0)]
    said = ["wind from west at 12 m/s", "wind from west at 20 m/s", "gibberish"]
    scores = evaluate_captions(said, cases)
    assert scores.sector_right.tolist() == [True, False, False]
    assert scores.speed_hits.tolist() == [True, True, False]
    assert scores.grammatical == pytest.approx(2 / 3)
    assert scores.speed_mae == pytest.approx(1.0)
    assert scores.confusion().sum() == 2 and scores.confusion()[6, 6] == 1
    sector, speed, counts = rates_by_speed_bin(
        scores, np.array([10.0, 20.0, 5.0]), np.array([0, 15, 30])
    )
    assert (
        counts.tolist() == [2, 1] and sector.tolist() == [0.5, 0.0] and speed.tolist() == [0.5, 1.0]
    )
    assert most_common_caption(["a", "b", "b"]) == "b"
    with pytest.raises(ConfigError):
        evaluate_captions(said[:2], cases)


def test_generated_pairs_match_their_cases():
    data = make_caption_data(6, np.random.default_rng(2), image_size=16, field_shape=(16, 16))
    assert data.images.shape == (6, 16, 16, 3) and data.images.dtype == np.uint8
    for text, case in zip(data.captions, data.cases, strict=True):
        assert parse_caption(text).sector == direction_sector(case.direction)
        assert 2.0 <= case.speed <= 25.0
