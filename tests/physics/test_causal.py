"""Lagged causal discovery (wxai.physics.causal): scenarios, three methods, scoring, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from wxai.core.device import torch_threads
from wxai.core.errors import ConfigError, DataFormatError, MissingExtra, UnknownNameError
from wxai.physics.causal import (
    SCENARIOS,
    LinkScore,
    discover,
    get_scenario,
    innovation_links,
    lagged_correlation,
    min_time_steps,
    naive_lagged_regression,
    pcmci_links,
    score_links,
    simulate_scenario,
)

TAU_MAX, ALPHA = 4, 1e-4


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny networks train fastest on one thread (see wxai.core.device.torch_threads)."""
    with torch_threads(1):
        yield


def _series(scenario: str, seed: int, n_time: int = 1000):
    return simulate_scenario(scenario, n_time, np.random.default_rng((7, seed)))


def test_simulation_reproduces_its_coefficients_and_stationary_variance():
    data = simulate_scenario("p_drives_t", 20000, np.random.default_rng(0))
    assert data.sizes == {"time": 20000} and set(data.data_vars) == {"F", "P", "T"}
    assert data.attrs["scenario"] == "p_drives_t" and data["T"].attrs["units"] == "1"
    f, p, t = (data[v].values for v in "FPT")
    # F is AR(1) with coefficient 0.7 and unit noise: variance 1 / (1 - 0.49).
    assert f.var() == pytest.approx(1 / (1 - 0.7**2), rel=0.05)
    # Least squares of T(t) on its true parents T(t-1), P(t-2) gives back 0.6 and 0.25.
    design = np.column_stack([t[1:-1], p[:-2]])
    coef = np.linalg.lstsq(design, t[2:], rcond=None)[0]
    np.testing.assert_allclose(coef, [0.6, 0.25], atol=0.02)


def test_scenarios_have_similar_lagged_correlations_but_different_graphs():
    data = {s: _series(s, 0, 8000) for s in SCENARIOS}
    corr = {s: lagged_correlation(d["P"], d["T"], 4) for s, d in data.items()}
    # T trails P by two steps in both; the correlations at that lag agree within 0.05.
    assert corr["p_drives_t"][2] == pytest.approx(corr["common_driver"][2], abs=0.05)
    assert min(c[2] for c in corr.values()) > 0.5
    assert ("P", "T", 2) in get_scenario("p_drives_t").cross_links
    assert not any(link[:2] == ("P", "T") for link in get_scenario("common_driver").cross_links)


def test_lagged_correlation_finds_a_shifted_copy():
    x = np.random.default_rng(1).standard_normal(500)
    y = np.roll(x, 3)  # y(t) = x(t - 3)
    corr = lagged_correlation(x, y, 5)
    assert corr.shape == (6,) and corr[3] == pytest.approx(1.0, abs=1e-2)
    assert np.abs(np.delete(corr, 3)).max() < 0.15


def test_naive_regression_claims_p_drives_t_under_a_common_driver():
    graph = naive_lagged_regression(_series("common_driver", 0), TAU_MAX, ALPHA)
    assert ("P", "T", 2) in graph.links  # the pitfall
    assert graph.strength[("P", "T", 2)] > 0.5
    score = score_links(graph.links, SCENARIOS["common_driver"].cross_links)
    assert score.recall == 1.0 and score.precision < 0.2


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_pcmci_recovers_the_true_graph(scenario):
    for seed in range(2):
        graph = pcmci_links(_series(scenario, seed), TAU_MAX, ALPHA)
        assert graph.links == SCENARIOS[scenario].cross_links, (seed, sorted(graph.links))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_innovation_method_recovers_the_true_graph(scenario):
    for seed in range(2):
        graph = innovation_links(_series(scenario, seed), TAU_MAX, ALPHA, seed=seed)
        assert graph.links == SCENARIOS[scenario].cross_links, (seed, sorted(graph.links))
        # The L1 step already drops most of the 24 candidate cross-links before the test.
        assert len(graph.p_value) <= 6


def test_innovation_method_with_linear_autoregression_and_via_discover():
    data = _series("common_driver", 3)
    graph = discover("innovation", data, TAU_MAX, ALPHA, hidden=0)
    assert graph.method == "innovation"
    assert graph.links == SCENARIOS["common_driver"].cross_links


def test_scores_require_matching_lags():
    truth = {("F", "P", 1), ("P", "T", 2)}
    score = score_links({("F", "P", 1), ("P", "T", 3), ("T", "F", 1)}, truth)
    assert score == LinkScore(true_positives=1, false_positives=2, false_negatives=1)
    assert score.precision == pytest.approx(1 / 3) and score.recall == pytest.approx(1 / 2)
    assert not score.exact and score_links(truth, truth).exact
    assert score_links(set(), truth).precision == 1.0 and score_links(set(), truth).recall == 0
    pooled = score + score_links(truth, truth)
    assert pooled == LinkScore(3, 2, 1)


def test_self_links_are_not_scored():
    with pytest.raises(DataFormatError, match="self-links"):
        score_links({("T", "T", 1)}, {("P", "T", 2)})


def test_input_errors_are_clear():
    good = _series("p_drives_t", 0, 200)
    f, p, t = (good[v].values for v in "FPT")
    with pytest.raises(DataFormatError, match="different lengths"):
        naive_lagged_regression({"F": f, "P": p[:-1], "T": t}, TAU_MAX, ALPHA)
    needed = min_time_steps(3, TAU_MAX)
    with pytest.raises(DataFormatError, match=f"too short.*at least {needed}"):
        innovation_links({"F": f[:30], "P": p[:30], "T": t[:30]}, TAU_MAX, ALPHA)
    with pytest.raises(DataFormatError, match="'P' is constant"):
        naive_lagged_regression({"F": f, "P": np.full_like(p, 2.0), "T": t}, TAU_MAX, ALPHA)
    with pytest.raises(DataFormatError, match="NaN"):
        naive_lagged_regression({"F": f, "P": np.where(f > 0, np.nan, p), "T": t}, 2, ALPHA)
    with pytest.raises(DataFormatError, match="1-D"):
        naive_lagged_regression({"F": f, "P": np.stack([p, p])}, 2, ALPHA)
    with pytest.raises(DataFormatError, match="at least two series"):
        naive_lagged_regression({"F": f}, 2, ALPHA)
    with pytest.raises(ConfigError, match="tau_max"):
        naive_lagged_regression(good, 0, ALPHA)
    with pytest.raises(ConfigError, match="alpha"):
        naive_lagged_regression(good, 2, 1.5)
    with pytest.raises(ConfigError, match="sparsity"):
        innovation_links(good, 2, ALPHA, sparsity=-1.0)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UnknownNameError, match="did you mean 'common_driver'"):
        simulate_scenario("common_drivers", 100, np.random.default_rng(0))
    with pytest.raises(UnknownNameError, match="innovation, naive, pcmci"):
        discover("granger", _series("p_drives_t", 0, 200), 2, ALPHA)


def test_pcmci_without_tigramite_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tigramite", None)
    with pytest.raises(MissingExtra, match=r"wxai\[causal\]"):
        pcmci_links(_series("p_drives_t", 0, 200), 2, ALPHA)


def test_importing_the_module_does_not_import_tigramite():
    code = "import sys, wxai.physics.causal; print('tigramite' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
