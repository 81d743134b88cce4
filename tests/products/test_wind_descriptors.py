"""Wind-field descriptors: closed forms, circular statistics, Beaufort bounds, known answers."""

import numpy as np
import pytest
import xarray as xr

from wxai.atmos.wind import wind_components
from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.descriptors.fields import SECTORS, WindCase, synthetic_wind_field
from wxai.products.descriptors.wind import (
    BEAUFORT_LOWER_BOUNDS,
    beaufort_number,
    compass_name,
    describe_wind,
    intensity_class,
    known_answer_errors,
    sample_wind_cases,
    variability_class,
)


def _uniform(speed: float, direction: float, shape=(8, 10)):
    u, v = wind_components(np.full(shape, speed), np.full(shape, direction))
    return u, v


def test_uniform_field_is_described_exactly():
    d = describe_wind(*_uniform(9.0, 315.0))
    assert d.mean_speed == pytest.approx(9.0)
    assert d.direction == pytest.approx(315.0)
    assert d.compass == "NW" and d.spread == pytest.approx(0.0, abs=1e-4)
    assert d.speed_cv == pytest.approx(0.0, abs=1e-12) and d.variability == "low"
    assert d.sector == "none" and d.beaufort == 5 and d.intensity == "fresh"
    assert d.resultant_length == pytest.approx(1.0)
    assert d.template_text().startswith("North-westerly winds (NW, 315°)")
    assert set(d.as_dict()) >= {"mean_speed", "direction", "compass", "spread", "sector"}


def test_directions_around_north_average_to_north_not_south():
    # Half the cells from 350°, half from 10°: the arithmetic mean would say 180°.
    speed = np.full((4, 4), 6.0)
    direction = np.where(np.arange(16).reshape(4, 4) % 2 == 0, 350.0, 10.0)
    d = describe_wind(*wind_components(speed, direction))
    assert min(d.direction, 360.0 - d.direction) == pytest.approx(0.0, abs=1e-6)
    assert d.compass == "N"
    # Circular std of two directions +-10° apart: sqrt(-2 ln cos 10°), in degrees.
    assert d.spread == pytest.approx(np.degrees(np.sqrt(-2 * np.log(np.cos(np.radians(10))))))


def test_opposing_winds_have_no_direction_and_calm_is_calm():
    u = np.array([[5.0, -5.0], [5.0, -5.0]])
    d = describe_wind(u, np.zeros_like(u))
    assert d.direction is None and d.compass == "variable"
    assert d.template_text().startswith("Variable winds")
    calm = describe_wind(np.zeros((3, 3)), np.zeros((3, 3)))
    assert calm.intensity == "calm" and calm.direction is None and calm.speed_cv == 0.0


@pytest.mark.parametrize("number", range(1, 13))
def test_beaufort_numbers_change_exactly_at_their_lower_bounds(number):
    bound = BEAUFORT_LOWER_BOUNDS[number]
    assert beaufort_number(bound) == number
    assert beaufort_number(bound - 1e-6) == number - 1


def test_classes_and_compass_names():
    assert [intensity_class(b) for b in (0, 3, 4, 5, 7, 8, 11, 12)] == [
        "calm", "light", "moderate", "fresh", "strong", "gale", "storm", "hurricane force"
    ]  # fmt: skip
    assert [variability_class(c) for c in (0.0, 0.1499, 0.15, 0.2999, 0.3)] == [
        "low", "low", "moderate", "moderate", "high"
    ]  # fmt: skip
    assert [compass_name(a) for a in (0, 22.4, 22.6, 90, 202.4, 202.6, 337.6, 359.9)] == [
        "N", "N", "NE", "E", "S", "SW", "N", "N"
    ]  # fmt: skip


@pytest.mark.parametrize("sector", SECTORS)
def test_known_answer_field_recovers_direction_speed_and_sector(sector):
    case = WindCase(direction=200.0, speed=14.0, direction_spread=20.0, gustiness=0.1,
                    sector=sector, sector_boost=1.6)  # fmt: skip
    d = describe_wind(synthetic_wind_field(case, np.random.default_rng(3)))
    errors = known_answer_errors(case, d)
    assert errors["direction_error"] < 2.0 and errors["speed_error"] < 1e-9
    assert d.sector == sector and d.compass == "S"
    # Spread of the smoothed direction noise (std 20°) is close to 20°.
    assert 15.0 < d.spread < 25.0


def test_known_answer_rate_over_random_cases():
    rng = np.random.default_rng(7)
    cases = sample_wind_cases(60, rng)
    errors = [known_answer_errors(c, describe_wind(synthetic_wind_field(c, rng))) for c in cases]
    assert max(e["direction_error"] for e in errors) < 10.0
    assert np.mean([e["sector_ok"] for e in errors]) >= 0.95
    assert any(c.sector is None for c in cases) and any(c.sector for c in cases)


def test_dataset_input_with_decreasing_latitude_keeps_north_north():
    case = WindCase(direction=90.0, speed=8.0, sector="north", sector_boost=1.8)
    ds = synthetic_wind_field(case, np.random.default_rng(0))
    flipped = ds.isel(latitude=slice(None, None, -1))
    assert describe_wind(flipped).sector == "north"
    assert describe_wind(ds.u10.values, ds.v10.values).sector == "north"


def test_nan_cells_are_left_out():
    u, v = _uniform(12.0, 270.0)
    u[0, :] = np.nan
    d = describe_wind(u, v)
    assert d.mean_speed == pytest.approx(12.0) and d.compass == "W"


def test_bad_input_is_refused_with_clear_errors():
    u, v = _uniform(5.0, 0.0)
    with pytest.raises(DataFormatError, match="differ in shape"):
        describe_wind(u, v[:, :3])
    with pytest.raises(DataFormatError, match="empty"):
        describe_wind(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(DataFormatError, match="no finite"):
        describe_wind(np.full((2, 2), np.nan), np.full((2, 2), np.nan))
    with pytest.raises(DataFormatError, match="2D"):
        describe_wind(np.zeros(5), np.zeros(5))
    with pytest.raises(DataFormatError, match="infinite"):
        describe_wind(np.array([[np.inf, 1.0]]), np.zeros((1, 2)))
    with pytest.raises(DataFormatError, match="lacks"):
        describe_wind(xr.Dataset({"u10": (("y", "x"), u)}))
    with pytest.raises(ConfigError, match="v is missing"):
        describe_wind(u)
    with pytest.raises(ConfigError, match="min_contrast"):
        describe_wind(u, v, min_contrast=-0.1)
    with pytest.raises(ConfigError, match="speed"):
        beaufort_number(-1.0)
    with pytest.raises(ConfigError, match="Beaufort"):
        intensity_class(13)
    with pytest.raises(ConfigError, match="n >= 1"):
        sample_wind_cases(0, np.random.default_rng(0))
