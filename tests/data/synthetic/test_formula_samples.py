"""Wind-chill training pairs and the pressure bins of the observation labs."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.atmos.comfort import wind_chill
from wxai.core.errors import ConfigError
from wxai.data.obs.levels import pressure_bin_edges
from wxai.data.synthetic.formula_samples import check_wind_chill_box, wind_chill_pairs


def test_wind_chill_pairs_inside_the_box_and_on_the_formula() -> None:
    x, y = wind_chill_pairs(np.random.default_rng(0), (-30.0, 5.0), (5.0, 60.0), 500)
    assert x.shape == (500, 2) and y.shape == (500, 1) and x.dtype == y.dtype == np.float32
    assert x[:, 0].min() >= -30 and x[:, 0].max() <= 5 and x[:, 1].min() >= 5
    np.testing.assert_allclose(y[:, 0], wind_chill(x[:, 0], x[:, 1]), atol=1e-4)
    again, _ = wind_chill_pairs(np.random.default_rng(0), (-30.0, 5.0), (5.0, 60.0), 500)
    np.testing.assert_array_equal(x, again)


@pytest.mark.parametrize(
    ("t", "v"), [((-10.0, 15.0), (5.0, 40.0)), ((-10.0, 5.0), (2.0, 40.0)), ((5.0, -5.0), (5, 9))]
)
def test_wind_chill_box_outside_validity(t, v) -> None:
    with pytest.raises(ConfigError, match="range"):
        check_wind_chill_box(t, v)


def test_pressure_bin_edges() -> None:
    np.testing.assert_allclose(pressure_bin_edges(100, 1000, 300), [1e4, 4e4, 7e4, 1e5])
    assert pressure_bin_edges(100, 1050, 100)[-1] == 1e5  # last whole step below 1050 hPa
    with pytest.raises(ConfigError):
        pressure_bin_edges(1000, 100, 50)
