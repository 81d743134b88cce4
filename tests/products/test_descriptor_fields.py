"""Synthetic wind fields carry the answers they were made from."""

import numpy as np
import pytest

from wxai.atmos.wind import wind_speed_direction
from wxai.core.errors import ConfigError
from wxai.products.descriptors.fields import WindCase, synthetic_wind_field


@pytest.mark.parametrize("sector", ["north", "east", "south", "west"])
def test_field_has_its_speed_direction_and_stronger_half(sector):
    case = WindCase(direction=225.0, speed=10.0, sector=sector, sector_boost=1.6)
    ds = synthetic_wind_field(case, np.random.default_rng(1))
    speed, _ = wind_speed_direction(ds.u10.values, ds.v10.values)
    assert speed.mean() == pytest.approx(10.0)
    mean_u, mean_v = ds.u10.values.mean(), ds.v10.values.mean()
    assert wind_speed_direction(mean_u, mean_v)[1] == pytest.approx(225.0, abs=5.0)
    half = {"north": speed[16:], "south": speed[:16], "east": speed[:, 16:], "west": speed[:, :16]}
    opposite = {"north": "south", "south": "north", "east": "west", "west": "east"}[sector]
    assert half[sector].mean() > 1.3 * half[opposite].mean()
    assert ds.latitude.values[0] < ds.latitude.values[-1]


def test_bad_cases_are_refused():
    rng = np.random.default_rng(0)
    for case in (WindCase(0, -1), WindCase(0, 5, sector="up"), WindCase(0, 5, sector_boost=0.5)):
        with pytest.raises(ConfigError):
            synthetic_wind_field(case, rng)
