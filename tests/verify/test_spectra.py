"""Zonal power spectra on flattened lat/lon grids: pure waves, Parseval, NaN rows."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.verify.spatial import cell_area_weights, weighted_cell_mean
from wxai.verify.spectra import zonal_power_spectrum


def _grid(n_lat, n_lon):
    lat = np.linspace(-80.0, 80.0, n_lat)
    lon = np.arange(n_lon) * 2 * np.pi / n_lon
    return lat, lon


@pytest.mark.parametrize("n_lon", [32, 33])
def test_a_zonal_cosine_puts_all_power_at_its_wavenumber(n_lon):
    n_lat, k = 6, 5
    lat, lon = _grid(n_lat, n_lon)
    field = np.tile(3.0 + 2.0 * np.cos(k * lon + 0.3), n_lat)
    wavenumbers, power = zonal_power_spectrum(field, n_lat, n_lon, lat)
    np.testing.assert_array_equal(wavenumbers, np.arange(n_lon // 2 + 1))
    expected = np.zeros(n_lon // 2 + 1)
    expected[0], expected[k] = 9.0, 2.0  # mean^2 and A^2 / 2
    np.testing.assert_allclose(power, expected, atol=1e-12)


@pytest.mark.parametrize("n_lon", [16, 17])
def test_parseval_power_sums_to_the_area_mean_square(n_lon):
    n_lat = 9
    lat, _ = _grid(n_lat, n_lon)
    field = np.random.default_rng(n_lon).normal(size=(2, 3, n_lat * n_lon))
    _, power = zonal_power_spectrum(field, n_lat, n_lon, lat)
    assert power.shape == (2, 3, n_lon // 2 + 1)
    mean_square = weighted_cell_mean(field**2, cell_area_weights(lat, n_lon))
    np.testing.assert_allclose(power.sum(axis=-1), mean_square, rtol=1e-12)


def test_power_matches_an_explicit_fourier_sum_per_row():
    n_lat, n_lon = 3, 8
    lat = np.array([0.0, 60.0, 30.0])
    field = np.random.default_rng(0).normal(size=n_lat * n_lon)
    _, power = zonal_power_spectrum(field, n_lat, n_lon, lat)
    rows = field.reshape(n_lat, n_lon)
    j = np.arange(n_lon)
    expected = np.zeros(n_lon // 2 + 1)
    weights = np.cos(np.deg2rad(lat))
    for k in range(n_lon // 2 + 1):
        fold = 1.0 if k in (0, n_lon // 2) else 2.0
        for row, weight in zip(rows, weights, strict=True):
            re = np.sum(row * np.cos(2 * np.pi * j * k / n_lon))
            im = np.sum(row * np.sin(2 * np.pi * j * k / n_lon))
            expected[k] += weight * fold * (re**2 + im**2) / n_lon**2
    np.testing.assert_allclose(power, expected / weights.sum())


def test_rows_are_weighted_by_cos_latitude_and_nan_rows_skipped():
    n_lon = 16
    lat = np.array([0.0, 60.0, 30.0])
    _, lon = _grid(3, n_lon)
    wave = np.cos(3 * lon)
    field = np.concatenate([wave, 2.0 * wave, 5.0 * wave])
    field[-1] = np.nan  # one NaN is enough to drop the 30 degree row
    _, power = zonal_power_spectrum(field, 3, n_lon, lat)
    assert power[3] == pytest.approx((1.0 * 0.5 + 0.5 * 2.0) / 1.5)


def test_unstructured_grids_and_bad_latitudes_are_refused():
    with pytest.raises(ConfigError, match=r"\(4, 100\).*8 \* 16 = 128.*unstructured"):
        zonal_power_spectrum(np.zeros((4, 100)), 8, 16, np.zeros(8))
    with pytest.raises(ConfigError, match=r"\(8,\), got \(7,\)"):
        zonal_power_spectrum(np.zeros(128), 8, 16, np.zeros(7))
