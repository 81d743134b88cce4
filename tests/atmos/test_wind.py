"""Meteorological wind direction: the compass points, and components round-trip."""

import numpy as np
import pytest

from wxai.atmos.wind import wind_components, wind_direction, wind_speed_direction


@pytest.mark.parametrize(
    ("u", "v", "direction"),
    [(0.0, -5.0, 0.0), (-5.0, 0.0, 90.0), (0.0, 5.0, 180.0), (5.0, 0.0, 270.0), (3, 3, 225.0)],
)
def test_direction_is_where_the_wind_comes_from(u, v, direction):
    assert wind_direction(u, v) == pytest.approx(direction)


def test_components_round_trip():
    rng = np.random.default_rng(0)
    speed, direction = rng.uniform(0.1, 30, 100), rng.uniform(0, 360, 100)
    back_speed, back_direction = wind_speed_direction(*wind_components(speed, direction))
    np.testing.assert_allclose(back_speed, speed)
    np.testing.assert_allclose(np.cos(np.radians(back_direction - direction)), 1.0, atol=1e-12)
