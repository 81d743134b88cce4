"""Wind fields rendered as images: the documented encoding, orientation and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.atmos.wind import wind_components
from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.descriptors.fields import WindCase, synthetic_wind_field
from wxai.products.descriptors.images import decode_wind_image, render_wind_image


def _uniform(speed: float, direction: float, shape=(8, 8)) -> tuple[np.ndarray, np.ndarray]:
    u, v = wind_components(speed, direction)
    return np.full(shape, float(u)), np.full(shape, float(v))


def test_image_shape_and_type():
    ds = synthetic_wind_field(WindCase(200.0, 9.0), np.random.default_rng(0))
    image = render_wind_image(ds, size=24)
    assert image.shape == (24, 24, 3) and image.dtype == np.uint8


def test_brightness_grows_with_speed_and_saturates_at_30():
    brightness = [render_wind_image(_uniform(s, 90.0)).max() for s in (0, 5, 10, 20, 30, 40)]
    assert np.all(np.diff(brightness[:5]) > 0)
    assert brightness[0] == round(0.2 * 255) and brightness[4] == brightness[5] == 255


def test_hue_names_the_direction():
    # documented anchors: north red, south cyan (hue 0.5)
    north, south = (
        render_wind_image(_uniform(30, 0))[0, 0],
        render_wind_image(_uniform(30, 180))[0, 0],
    )
    assert north.tolist() == [255, 0, 0] and south.tolist() == [0, 255, 255]
    for direction in np.arange(5.0, 360.0, 30.0):
        _, decoded = decode_wind_image(render_wind_image(_uniform(12.0, direction)))
        error = (decoded - direction + 180.0) % 360.0 - 180.0
        assert np.abs(error).max() < 2.0


def test_decoding_recovers_speed_and_north_is_up():
    case = WindCase(direction=300.0, speed=14.0, sector="north", sector_boost=1.5)
    ds = synthetic_wind_field(case, np.random.default_rng(3))
    speed, _ = decode_wind_image(render_wind_image(ds, size=32))
    assert speed.mean() == pytest.approx(14.0, abs=0.3)
    assert speed[:16].mean() > 1.3 * speed[16:].mean()  # the stronger north half is on top
    flipped = render_wind_image((ds.u10.values, ds.v10.values), size=32)
    np.testing.assert_array_equal(flipped, render_wind_image(ds, size=32))


def test_bad_input_is_refused():
    u, v = _uniform(5.0, 0.0)
    ds = synthetic_wind_field(WindCase(0.0, 5.0), np.random.default_rng(0))
    with pytest.raises(DataFormatError, match="lacks"):
        render_wind_image(ds.drop_vars("v10"))
    with pytest.raises(DataFormatError, match="one shape"):
        render_wind_image((u, v[:4]))
    with pytest.raises(DataFormatError, match="NaN"):
        render_wind_image((np.full_like(u, np.nan), v))
    with pytest.raises(DataFormatError, match="Dataset"):
        render_wind_image([u, v])
    with pytest.raises(ConfigError, match="size"):
        render_wind_image((u, v), size=2)
    with pytest.raises(DataFormatError, match="uint8"):
        decode_wind_image(np.zeros((4, 4, 3)))
