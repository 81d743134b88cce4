"""Potential and equivalent potential temperature against closed forms and Bolton (1980)."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.atmos.thermo import equivalent_potential_temperature, potential_temperature


def _bolton(t_k: float, rh: float, p_pa: float) -> float:
    """Bolton (1980), eqs. 10, 21-22 and 43 (an independent, more exact reference)."""
    t_c = t_k - 273.15
    e = rh / 100 * 6.112 * np.exp(17.67 * t_c / (t_c + 243.5))
    r = 0.622 * e / (p_pa / 100 - e)
    t_lcl = 2840.0 / (3.5 * np.log(t_k) - np.log(e) - 4.805) + 55.0
    theta = t_k * (1000.0 / (p_pa / 100)) ** (0.2854 * (1 - 0.28 * r))
    return theta * np.exp((3.376 / t_lcl - 0.00254) * r * 1000 * (1 + 0.81 * r))


def test_potential_temperature_at_1000_hpa_is_the_temperature():
    assert potential_temperature(288.0, 1e5) == pytest.approx(288.0)
    assert potential_temperature(273.15, 85000.0) == pytest.approx(
        273.15 * (1000 / 850) ** (287.04 / 1004.6)
    )


def test_dry_air_has_theta_e_equal_to_theta_and_moisture_raises_it():
    assert equivalent_potential_temperature(280.0, 0.0, 95000.0) == pytest.approx(
        potential_temperature(280.0, 95000.0)
    )
    values = equivalent_potential_temperature(290.0, np.array([20.0, 50.0, 90.0]), 1e5)
    assert np.all(np.diff(values) > 0)


@pytest.mark.parametrize(
    ("t_k", "rh", "p_pa", "tolerance_k"),
    [(273.15, 80.0, 100000.0, 1.0), (283.15, 70.0, 101000.0, 2.0), (298.15, 90.0, 100000.0, 5.0)],
)
def test_theta_e_is_close_to_bolton(t_k, rh, p_pa, tolerance_k):
    got = equivalent_potential_temperature(t_k, rh, p_pa)
    assert got == pytest.approx(_bolton(t_k, rh, p_pa), abs=tolerance_k)
    assert got <= _bolton(t_k, rh, p_pa) + 0.5
