"""Ensemble scores: CRPS (fair and plain, sorted and pairwise), spread, spread-skill."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from wxai.core.errors import ConfigError
from wxai.verify.ensemble import crps_ensemble, ensemble_spread, spread_skill_ratio
from wxai.verify.fields import weighted_mae
from wxai.verify.spatial import cell_area_weights


def _crps_loop(members, y, *, fair):
    """CRPS of one cell by the definition, with explicit loops over members."""
    m = len(members)
    skill = sum(abs(x - y) for x in members) / m
    pairs = sum(abs(a - b) for a in members for b in members)
    return skill - pairs / (2 * (m * (m - 1) if fair else m * m))


def _gaussian_crps(mu, sigma, y):
    z = (y - mu) / sigma
    return sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))


@pytest.mark.parametrize("fair", [True, False])
def test_crps_matches_the_definition_cell_by_cell(fair):
    rng = np.random.default_rng(0)
    ensemble = rng.normal(size=(3, 6, 5))  # (lead, member, cell)
    truth = rng.normal(size=(3, 5))
    crps = crps_ensemble(ensemble, truth, fair=fair, member_axis=1)
    assert crps.shape == (3, 5)
    for lead in range(3):
        for cell in range(5):
            expected = _crps_loop(ensemble[lead, :, cell], truth[lead, cell], fair=fair)
            assert crps[lead, cell] == pytest.approx(expected)


@pytest.mark.parametrize("fair", [True, False])
@pytest.mark.parametrize("m", [2, 7, 50])
def test_sorted_and_pairwise_crps_agree(m, fair):
    rng = np.random.default_rng(m)
    ensemble = rng.gamma(2.0, size=(m, 4, 30))
    truth = rng.gamma(2.0, size=(4, 30))
    ensemble[0, 0, 0] = truth[0, 0]  # ties
    ensemble[1, 0, 0] = truth[0, 0]
    np.testing.assert_allclose(
        crps_ensemble(ensemble, truth, fair=fair, method="sort"),
        crps_ensemble(ensemble, truth, fair=fair, method="pairwise"),
        rtol=1e-12,
        atol=1e-12,
    )


def test_one_member_crps_is_the_absolute_error():
    rng = np.random.default_rng(1)
    forecast = rng.normal(size=(2, 40))
    truth = rng.normal(size=(2, 40))
    weights = cell_area_weights(np.linspace(-85, 85, 40))
    for fair in (True, False):
        np.testing.assert_allclose(
            crps_ensemble(forecast[None], truth, fair=fair), np.abs(forecast - truth)
        )
        np.testing.assert_allclose(
            crps_ensemble(forecast[None], truth, weights, fair=fair),
            weighted_mae(forecast, truth, weights),
        )


def test_large_gaussian_ensemble_matches_the_closed_form():
    rng = np.random.default_rng(2)
    y = np.linspace(-3.0, 3.0, 25)
    sigma = 2.0
    ensemble = rng.normal(0.5, sigma, size=(4000, 25))
    expected = _gaussian_crps(0.5, sigma, y)
    np.testing.assert_allclose(crps_ensemble(ensemble, y), expected, rtol=0.03, atol=0.02)


def test_fair_crps_is_unbiased_for_small_ensembles_and_the_plain_one_is_not():
    rng = np.random.default_rng(3)
    n, m, sigma = 40_000, 3, 1.5
    ensemble = rng.normal(0.0, sigma, size=(m, n))
    truth = rng.normal(0.0, sigma, size=n)
    expected = np.mean(_gaussian_crps(0.0, sigma, truth))
    weights = np.ones(n)
    fair = float(crps_ensemble(ensemble, truth, weights))
    plain = float(crps_ensemble(ensemble, truth, weights, fair=False))
    assert fair == pytest.approx(expected, rel=0.02)
    # the plain estimator misses the diagonal pairs: too high by E|X - X'| / (2 M)
    assert plain - fair == pytest.approx(sigma / (np.sqrt(np.pi) * m), rel=0.05)


def test_weighted_crps_is_the_weighted_mean_and_skips_nan_cells():
    rng = np.random.default_rng(4)
    ensemble = rng.normal(size=(5, 2, 8))
    truth = rng.normal(size=(2, 8))
    ensemble[3, 1, 2] = np.nan
    weights = rng.uniform(0.5, 2.0, 8)
    per_cell = crps_ensemble(ensemble, truth)
    assert np.isnan(per_cell[1, 2])
    assert np.isfinite(per_cell).sum() == 15
    weighted = crps_ensemble(ensemble, truth, weights)
    valid = np.isfinite(per_cell[1])
    expected = np.sum(per_cell[1, valid] * weights[valid]) / weights[valid].sum()
    assert weighted[1] == pytest.approx(expected)
    assert weighted[0] == pytest.approx(np.average(per_cell[0], weights=weights))


def test_spread_is_the_root_of_the_weighted_mean_variance():
    rng = np.random.default_rng(5)
    ensemble = rng.normal(size=(4, 3, 12))
    weights = rng.uniform(0.5, 2.0, 12)
    spread = ensemble_spread(ensemble, weights)
    for lead in range(3):
        variance = [np.var(ensemble[:, lead, c], ddof=1) for c in range(12)]
        assert spread[lead] == pytest.approx(np.sqrt(np.average(variance, weights=weights)))
    same = np.repeat(ensemble[:1], 3, axis=0)
    np.testing.assert_allclose(ensemble_spread(same, weights), 0.0, atol=1e-12)
    with pytest.raises(ConfigError, match="at least 2 members"):
        ensemble_spread(ensemble[:1], weights)


def test_calibrated_ensemble_has_spread_skill_one_after_correction():
    rng = np.random.default_rng(6)
    n, m = 30_000, 5
    sigma = rng.uniform(0.5, 3.0, n)  # the uncertainty varies from cell to cell
    centre = rng.normal(size=n)
    ensemble = centre + sigma * rng.normal(size=(m, n))
    truth = centre + sigma * rng.normal(size=n)
    weights = cell_area_weights(rng.uniform(-80, 80, n))
    plain = float(spread_skill_ratio(ensemble, truth, weights))
    corrected = float(spread_skill_ratio(ensemble, truth, weights, finite_ensemble_correction=True))
    assert corrected == pytest.approx(1.0, abs=0.03)
    assert plain == pytest.approx(np.sqrt(m / (m + 1)), abs=0.03)
    narrow = centre + 0.5 * sigma * rng.normal(size=(m, n))
    assert float(spread_skill_ratio(narrow, truth, weights)) < 0.6


def test_spread_skill_averages_over_mean_axis_before_the_roots():
    rng = np.random.default_rng(7)
    ensemble = rng.normal(size=(4, 6, 20))  # (member, init, cell)
    truth = rng.normal(size=(6, 20))
    weights = np.ones(20)
    ratio = spread_skill_ratio(ensemble, truth, weights, mean_axis=0)
    spread2 = ensemble_spread(ensemble, weights) ** 2
    skill2 = np.mean((ensemble.mean(axis=0) - truth) ** 2, axis=-1)
    assert ratio == pytest.approx(np.sqrt(spread2.mean() / skill2.mean()))
    assert ensemble_spread(ensemble, weights, mean_axis=0) == pytest.approx(np.sqrt(spread2.mean()))


def test_bad_shapes_and_axes_raise_config_errors():
    ensemble = np.zeros((5, 3, 10))
    with pytest.raises(ConfigError, match=r"truth \(3, 11\).*\(5, 3, 10\)"):
        crps_ensemble(ensemble, np.zeros((3, 11)))
    with pytest.raises(ConfigError, match=r"truth \(4, 10\)"):
        spread_skill_ratio(ensemble, np.zeros((4, 10)), np.ones(10))
    with pytest.raises(ConfigError, match="other than the last"):
        crps_ensemble(ensemble, np.zeros((5, 3)), member_axis=-1)
    with pytest.raises(ConfigError, match=r"\(10,\)"):
        crps_ensemble(ensemble, np.zeros((3, 10)), np.ones(9))
    with pytest.raises(ConfigError, match="method"):
        crps_ensemble(ensemble, np.zeros((3, 10)), method="fast")  # type: ignore[arg-type]
