"""Magnus saturation vapour pressure and dew point against published tables."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.atmos.humidity import dew_point, saturation_vapour_pressure
from wxai.core.errors import ConfigError


@pytest.mark.parametrize(
    ("t", "e_s"),
    # saturation vapour pressure over water [hPa] (WMO-No. 8 / Smithsonian tables)
    [(-10.0, 2.865), (0.0, 6.112), (10.0, 12.28), (20.0, 23.39), (30.0, 42.47), (40.0, 73.85)],
)
def test_saturation_vapour_pressure_matches_tables(t: float, e_s: float) -> None:
    assert float(saturation_vapour_pressure(t)) == pytest.approx(e_s, rel=5e-3)


@pytest.mark.parametrize(
    ("t", "rh", "td"),
    # psychrometric tables, rounded to 0.1 degC
    [(20.0, 50.0, 9.3), (30.0, 70.0, 23.9), (10.0, 80.0, 6.7), (25.0, 60.0, 16.7)],
)
def test_dew_point_matches_tables(t: float, rh: float, td: float) -> None:
    assert float(dew_point(t, rh)) == pytest.approx(td, abs=0.06)


def test_dew_point_inverts_saturation_pressure_and_broadcasts() -> None:
    t = np.linspace(-30.0, 40.0, 8)[:, None]
    rh = np.array([5.0, 40.0, 100.0])
    td = dew_point(t, rh)
    assert td.shape == (8, 3)
    # e_s(Td) = RH * e_s(T) is the definition of the dew point
    np.testing.assert_allclose(
        saturation_vapour_pressure(td), rh / 100 * saturation_vapour_pressure(t)
    )
    np.testing.assert_allclose(td[:, 2], t[:, 0], atol=1e-9)
    assert np.all(td <= t)


@pytest.mark.parametrize("rh", [0.0, -5.0, 101.0, np.nan])
def test_dew_point_rejects_impossible_humidity(rh: float) -> None:
    with pytest.raises(ConfigError, match="relative humidity"):
        dew_point(10.0, rh)
