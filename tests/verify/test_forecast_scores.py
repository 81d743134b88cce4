"""Area-weighted deterministic scores, anomaly correlation and climatologies."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.verify.baselines import persistence_forecast
from wxai.verify.fields import (
    anomaly_correlation,
    climatology,
    weighted_bias,
    weighted_mae,
    weighted_mse,
    weighted_rmse,
)
from wxai.verify.spatial import cell_area_weights, weighted_cell_mean


def _loop_mean(values, weights):
    """Weighted mean of a 1D array by an explicit loop, NaNs skipped."""
    total = norm = 0.0
    for value, weight in zip(values, weights, strict=True):
        if np.isfinite(value):
            total += weight * value
            norm += weight
    return total / norm if norm else np.nan


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    n = 40
    forecast = rng.normal(280.0, 5.0, (3, 2, n))
    truth = rng.normal(280.0, 5.0, (3, 2, n))
    forecast[0, 1, :5] = np.nan
    truth[2, 0, 7] = np.nan
    weights = rng.uniform(0.1, 3.0, n)
    clim = rng.normal(280.0, 2.0, (3, 2, n))
    return forecast, truth, weights, clim


def test_cell_area_weights_are_cos_latitude_normalised_to_mean_one():
    weights = cell_area_weights([0.0, 60.0, -60.0], n_lon=4)
    assert weights.shape == (12,)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[0] == pytest.approx(2.0 * weights[4])
    np.testing.assert_allclose(weights[4:8], weights[8:12])
    per_cell = cell_area_weights(np.repeat([0.0, 60.0, -60.0], 4))
    np.testing.assert_allclose(per_cell, weights)
    with pytest.raises(ConfigError, match=r"\[-90, 90\]"):
        cell_area_weights([0.0, 100.0])


def test_scores_match_loops_over_leading_axes(case):
    forecast, truth, weights, _ = case
    rmse = weighted_rmse(forecast, truth, weights)
    bias = weighted_bias(forecast, truth, weights)
    mae = weighted_mae(forecast, truth, weights)
    assert rmse.shape == bias.shape == mae.shape == (3, 2)
    for i, j in itertools.product(range(3), range(2)):
        diff = forecast[i, j] - truth[i, j]
        assert rmse[i, j] == pytest.approx(np.sqrt(_loop_mean(diff**2, weights)))
        assert bias[i, j] == pytest.approx(_loop_mean(diff, weights))
        assert mae[i, j] == pytest.approx(_loop_mean(np.abs(diff), weights))


def test_constant_offset_gives_rmse_offset_and_signed_bias():
    truth = np.random.default_rng(1).normal(size=(4, 30))
    weights = cell_area_weights(np.linspace(-80, 80, 30))
    np.testing.assert_allclose(weighted_rmse(truth + 2.5, truth, weights), 2.5)
    np.testing.assert_allclose(weighted_mae(truth - 2.5, truth, weights), 2.5)
    np.testing.assert_allclose(weighted_bias(truth + 2.5, truth, weights), 2.5)
    np.testing.assert_allclose(weighted_bias(truth - 2.5, truth, weights), -2.5)


def test_weights_matter_and_their_scale_does_not():
    lat = np.array([0.0, 60.0])
    truth = np.zeros(2)
    forecast = np.array([0.0, 3.0])  # error only at 60 degrees, half the area
    weights = cell_area_weights(lat)
    assert weighted_mse(forecast, truth, weights) == pytest.approx(9.0 * 0.5 / 1.5)
    assert weighted_mse(forecast, truth, 7.0 * weights) == pytest.approx(9.0 / 3.0)


def test_truth_broadcasts_against_leading_axes():
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(2, 10))
    forecast = rng.normal(size=(5, 2, 10))
    weights = np.ones(10)
    np.testing.assert_allclose(
        weighted_rmse(forecast, truth, weights),
        weighted_rmse(forecast, np.broadcast_to(truth, forecast.shape), weights),
    )


def test_mean_axis_averages_squared_errors_before_the_root(case):
    forecast, truth, weights, _ = case
    mse = weighted_mse(forecast, truth, weights)
    np.testing.assert_allclose(
        weighted_rmse(forecast, truth, weights, mean_axis=0), np.sqrt(mse.mean(axis=0))
    )
    with pytest.raises(ConfigError, match="mean_axis 5"):
        weighted_rmse(forecast, truth, weights, mean_axis=5)


def test_nan_cells_are_skipped_and_all_nan_gives_nan():
    truth = np.zeros((2, 4))
    forecast = np.array([[1.0, np.nan, 1.0, 1.0], [np.nan] * 4])
    with np.errstate(all="raise"):
        rmse = weighted_rmse(forecast, truth, np.ones(4))
    assert rmse[0] == pytest.approx(1.0)
    assert np.isnan(rmse[1])


def test_bad_shapes_name_the_shapes():
    with pytest.raises(ConfigError, match=r"\(3, 10\).*\(3, 11\)"):
        weighted_rmse(np.zeros((3, 10)), np.zeros((3, 11)), np.ones(10))
    with pytest.raises(ConfigError, match=r"\(4, 10\).*\(3, 10\)"):
        weighted_bias(np.zeros((4, 10)), np.zeros((3, 10)), np.ones(10))
    with pytest.raises(ConfigError, match=r"shape \(10,\).*got \(9,\)"):
        weighted_mae(np.zeros(10), np.zeros(10), np.ones(9))
    with pytest.raises(ConfigError, match="non-negative"):
        weighted_mae(np.zeros(3), np.zeros(3), [1.0, -1.0, 1.0])
    with pytest.raises(ConfigError, match=r"climatology \(5,\)"):
        anomaly_correlation(np.zeros(4), np.zeros(4), np.zeros(5), np.ones(4))


def test_anomaly_correlation_matches_a_loop(case):
    forecast, truth, weights, clim = case
    acc = anomaly_correlation(forecast, truth, clim, weights)
    assert acc.shape == (3, 2)
    for i, j in itertools.product(range(3), range(2)):
        fa, ta = forecast[i, j] - clim[i, j], truth[i, j] - clim[i, j]
        valid = np.isfinite(fa) & np.isfinite(ta)
        fa, ta, w = fa[valid], ta[valid], weights[valid]
        expected = np.sum(w * fa * ta) / np.sqrt(np.sum(w * fa**2) * np.sum(w * ta**2))
        assert acc[i, j] == pytest.approx(expected)


def test_anomaly_correlation_limits():
    rng = np.random.default_rng(3)
    n = 20_000
    clim = rng.normal(5.0, 1.0, n)
    truth = clim + rng.normal(size=n)
    weights = cell_area_weights(rng.uniform(-89, 89, n))
    assert anomaly_correlation(truth, truth, clim, weights) == pytest.approx(1.0)
    scaled = clim + 3.0 * (truth - clim)
    assert anomaly_correlation(scaled, truth, clim, weights) == pytest.approx(1.0)
    flipped = clim - (truth - clim)
    assert anomaly_correlation(flipped, truth, clim, weights) == pytest.approx(-1.0)
    noise = clim + rng.normal(size=n)
    assert abs(float(anomaly_correlation(noise, truth, clim, weights))) < 0.04
    assert np.isnan(anomaly_correlation(clim, truth, clim, weights))  # no forecast anomaly


def test_climatology_by_hour_means_each_hour_and_serves_any_date():
    days = np.arange("2020-01-01", "2020-01-11", dtype="datetime64[D]")
    dates = (days[:, None] + np.array([0, 6, 12, 18], dtype="timedelta64[h]")).ravel()
    hours = np.tile([0.0, 6.0, 12.0, 18.0], len(days))
    day_index = np.repeat(np.arange(len(days), dtype=float), 4)
    fields = np.stack([hours + day_index, -hours], axis=1)[:, :, None] * np.ones(3)  # (T, 2, 3)
    fields[0, 0, 0] = np.nan  # left out of the 00 UTC mean
    clim = climatology(fields, dates, by="hour")
    assert clim.keys == [0, 6, 12, 18]
    at = clim.at(np.array(["2031-07-04T18:00", "2031-07-05T00:00"], dtype="datetime64[s]"))
    assert at.shape == (2, 2, 3)
    np.testing.assert_allclose(at[0, :, 1], [18.0 + 4.5, -18.0])
    np.testing.assert_allclose(at[1, 0], [5.0, 4.5, 4.5])  # day 0 missing in cell 0
    overall = climatology(fields[:, 1], dates, by=None).at(dates[:1])
    np.testing.assert_allclose(overall, -9.0)
    with pytest.raises(ConfigError, match="hour 3"):
        clim.at(["2020-01-01T03:00"])


def test_climatology_by_day_of_year_pools_a_window():
    dates = np.array(["2019-03-01T12", "2019-03-02T12", "2019-03-05T12"], dtype="datetime64[s]")
    fields = np.array([[1.0], [2.0], [6.0]])
    exact = climatology(fields, dates, by="dayofyear_hour")
    np.testing.assert_allclose(exact.at(dates[1:2]), [[2.0]])
    with pytest.raises(ConfigError, match="day of year 62, hour 0"):
        exact.at(["2019-03-03T00"])
    pooled = climatology(fields, dates, by="dayofyear_hour", window_days=1)
    np.testing.assert_allclose(pooled.at(["2019-03-02T12"]), [[1.5]])
    np.testing.assert_allclose(pooled.at(["2023-03-04T12"]), [[6.0]])
    dec = climatology(np.array([[4.0]]), ["2019-12-31T12"], by="dayofyear_hour", window_days=2)
    np.testing.assert_allclose(dec.at(["2020-01-01T12"]), [[4.0]])  # wraps over the year


def test_climatology_rejects_bad_arguments():
    dates = np.array(["2020-01-01T00", "2020-01-01T06"], dtype="datetime64[s]")
    with pytest.raises(ConfigError, match="by="):
        climatology(np.zeros((2, 3)), dates, by="month")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"fields \(3, 3\).*dates \(2,\)"):
        climatology(np.zeros((3, 3)), dates)
    with pytest.raises(ConfigError, match="window_days"):
        climatology(np.zeros((2, 3)), dates, window_days=3)


def test_persistence_forecast_repeats_the_initial_state():
    initial = np.arange(6.0).reshape(2, 3)
    forecast = persistence_forecast(initial, 4)
    assert forecast.shape == (4, 2, 3)
    np.testing.assert_array_equal(forecast[3], initial)
    forecast[0, 0, 0] = 99.0
    assert initial[0, 0] == 0.0
    with pytest.raises(ConfigError):
        persistence_forecast(initial, 0)


def test_weighted_cell_mean_keeps_leading_axes():
    values = np.arange(24.0).reshape(2, 3, 4)
    weights = np.array([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(
        weighted_cell_mean(values, weights), (values[..., 0] + values[..., 3]) / 2
    )
