"""SINDy and neural SINDy (wxai.physics.sindy): recovery, scoring, smoothing and bad input."""

import numpy as np
import pysindy as ps
import pytest
import torch

from wxai.core.errors import ConfigError, DataFormatError
from wxai.da.models import Lorenz63
from wxai.physics.sindy import (
    coefficient_error,
    compare_support,
    finite_difference_derivatives,
    fit_sindy,
    lorenz63_coefficients,
    lorenz63_library,
    lorenz63_trajectory,
    max_relative_error,
    neural_sindy,
    valid_time,
)
from wxai.physics.smoothing import SmootherSettings, SmoothTrajectory, fit_smooth_trajectory

TERMS = ("1", "x", "y", "z", "x y", "x z", "y z")


@pytest.fixture(scope="module")
def clean():
    """Ten model time units of Lorenz-63 sampled every 0.0025."""
    return lorenz63_trajectory(4000, 0.0025)


def test_noise_free_sindy_recovers_lorenz63_within_5_percent(clean):
    t, states = clean
    discovery = fit_sindy(t, states)
    assert discovery.terms == TERMS
    true = lorenz63_coefficients(discovery.terms)
    support = compare_support(discovery.coefficients, true, discovery.terms)
    assert support.exact, support
    assert max_relative_error(discovery.coefficients, true) < 0.05
    # Finer than the acceptance bound: sigma, rho, beta to better than 1 %.
    assert coefficient_error(discovery.coefficients, true) < 0.01
    assert discovery.equations()[2] == "dz/dt = -2.666 z + 1.000 x y"


def test_true_coefficients_reproduce_the_lorenz63_tendency():
    states = np.random.default_rng(0).normal(0, 10, (50, 3))
    library = lorenz63_library().fit(states)
    assert tuple(library.get_feature_names(["x", "y", "z"])) == TERMS
    xi = lorenz63_coefficients(TERMS, Lorenz63(rho=20.0))
    np.testing.assert_allclose(library.transform(states) @ xi.T, Lorenz63(rho=20.0).rhs(states))
    assert (xi != 0).sum() == 7


def test_discovered_rhs_matches_pysindy_predict_and_simulates_the_truth(clean):
    t, states = clean
    discovery = fit_sindy(t, states)
    np.testing.assert_allclose(
        discovery.rhs(states[:100]), discovery.estimator.predict(states[:100])
    )
    one_unit = t <= 1.0
    simulated = discovery.simulate(states[0], t[one_unit])
    assert np.abs(simulated - states[one_unit]).max() < 0.1


def test_simulation_of_a_blowing_up_model_returns_nan_without_warnings():
    t = np.linspace(0.0, 0.5, 200)
    states = (1.0 / (1.0 - t))[:, None]  # dx/dt = x^2 blows up at t = 1
    library = ps.PolynomialLibrary(degree=2)
    discovery = fit_sindy(t, states, threshold=0.1, library=library, variables=("a",))
    np.testing.assert_allclose(discovery.coefficients, [[0.0, 0.0, 1.0]], atol=1e-3)
    simulated = discovery.simulate(states[0], np.linspace(0.0, 2.0, 41), substeps=4)
    assert np.isfinite(simulated[:15]).all() and np.isnan(simulated[-1]).all()


def test_scores_name_false_and_missing_terms():
    true = lorenz63_coefficients(TERMS)
    estimated = true.copy()
    estimated[1, 2] = 0.0  # drop -y from dy/dt
    estimated[0, 0] = 0.7  # a constant in dx/dt
    support = compare_support(estimated, true, TERMS)
    assert support.false_terms == ("dx/dt: 1",) and support.missing_terms == ("dy/dt: y",)
    assert not support.exact
    assert max_relative_error(estimated, true) == pytest.approx(1.0)
    expected = np.sqrt(0.7**2 + 1.0) / np.linalg.norm(true)
    assert coefficient_error(estimated, true) == pytest.approx(expected)


def test_valid_time_ends_at_the_first_large_error_or_blow_up():
    t = np.linspace(1.0, 3.0, 201)
    truth = np.zeros((201, 2))
    drift = np.stack([3 * (t - 1.0), 4 * (t - 1.0)], axis=1)  # |error| = 5 (t - 1)
    assert valid_time(t, truth, drift, 5.0) == pytest.approx(1.01)
    assert valid_time(t, truth, 0.1 * drift, 5.0) == pytest.approx(2.0)
    drift[50:] = np.nan
    assert valid_time(t, truth, drift, 5.0) == pytest.approx(0.5)


def test_smooth_trajectory_derivatives_agree_with_differences_of_the_network():
    torch.manual_seed(0)
    smoother = SmoothTrajectory(0.0, 2.0, np.zeros(2), np.ones(2), spacing=0.3, harmonics=2)
    t = torch.linspace(0.01, 1.99, 37, dtype=torch.float64)
    smoother = smoother.double()
    h = 1e-5
    central = (smoother(t + h) - smoother(t - h)) / (2 * h)
    np.testing.assert_allclose(
        smoother.derivative(t).detach(), central.detach(), rtol=1e-5, atol=1e-6
    )
    second = (smoother(t + h) - 2 * smoother(t) + smoother(t - h)) / h**2
    np.testing.assert_allclose(
        smoother.derivative(t, 2).detach(), second.detach(), rtol=1e-3, atol=1e-2
    )


def test_smooth_fit_beats_finite_differences_on_a_noisy_signal():
    t = np.linspace(0.0, 2.0, 400)
    truth = np.stack([np.sin(2 * np.pi * t), np.cos(3 * t)], axis=1)
    rate = np.stack([2 * np.pi * np.cos(2 * np.pi * t), -3 * np.sin(3 * t)], axis=1)
    noisy = truth + 0.05 * np.random.default_rng(1).standard_normal(truth.shape)
    settings = SmootherSettings(spacing=0.5, epochs=300, smoothness_weight=1e-6)
    fit = fit_smooth_trajectory(t, noisy, settings, seed=1)
    inner = slice(20, -20)
    fd_error = np.sqrt(np.mean((finite_difference_derivatives(t, noisy) - rate)[inner] ** 2))
    nn_error = np.sqrt(np.mean((fit.derivatives - rate)[inner] ** 2))
    assert nn_error < 0.25 * fd_error
    assert np.sqrt(np.mean((fit.states - truth)[inner] ** 2)) < 0.05  # below the noise
    assert fit.loss[-1] < fit.loss[0]


def test_penalty_weight_smooths_the_fit():
    t = np.linspace(0.0, 1.0, 200)
    noisy = np.random.default_rng(2).standard_normal((200, 1))
    rough = fit_smooth_trajectory(
        t, noisy, SmootherSettings(spacing=0.5, epochs=150, smoothness_weight=0.0)
    )
    smooth = fit_smooth_trajectory(
        t, noisy, SmootherSettings(spacing=0.5, epochs=150, smoothness_weight=1e-2)
    )
    assert np.abs(smooth.derivatives).mean() < 0.5 * np.abs(rough.derivatives).mean()


@pytest.mark.parametrize(
    ("t", "states", "match"),
    [
        (np.zeros(0), np.zeros((0, 3)), "non-empty"),
        (np.arange(2.0), np.ones((2, 3)), "at least 3"),
        (np.arange(5.0), np.ones((6, 3)), "times must have shape"),
        (np.arange(6.0), np.ones(6), "non-empty \\(time, variable\\)"),
        (np.arange(6.0), np.where(np.eye(6, 3) > 0, np.nan, 1.0), "NaN"),
        (np.array([0, 1, 2, 2, 3, 4.0]), np.ones((6, 3)), "strictly increasing"),
        (np.arange(6.0), np.ones((6, 3)), "more samples than terms"),
    ],
)
def test_bad_trajectories_raise_clear_errors(t, states, match):
    with pytest.raises(DataFormatError, match=match):
        fit_sindy(t, states)


def test_bad_derivatives_library_and_settings_raise_clear_errors(clean):
    t, states = clean[0][:100], clean[1][:100]
    with pytest.raises(DataFormatError, match="derivatives have shape"):
        fit_sindy(t, states, derivatives=states[:, :2])
    with pytest.raises(DataFormatError, match="derivatives contain NaN"):
        fit_sindy(t, states, derivatives=np.full_like(states, np.nan))
    with pytest.raises(ConfigError, match="no terms"):
        fit_sindy(t, states, library=ps.CustomLibrary(library_functions=[]))
    with pytest.raises(ConfigError, match="no terms"):
        fit_sindy(t, states, library=ps.PolynomialLibrary(degree=0, include_bias=False))
    with pytest.raises(ConfigError, match="2 variable names"):
        fit_sindy(t, states, variables=("x", "y"))
    with pytest.raises(ConfigError, match="threshold"):
        fit_sindy(t, states, threshold=-1.0)
    with pytest.raises(ConfigError, match="lacks the term 'x z'"):
        lorenz63_coefficients(("1", "x", "y", "z", "x y"))
    with pytest.raises(ConfigError, match="not a monomial"):
        lorenz63_coefficients((*TERMS, "sin(x)"))
    with pytest.raises(DataFormatError, match="differ in shape"):
        coefficient_error(np.zeros((3, 6)), lorenz63_coefficients(TERMS))
    with pytest.raises(ConfigError, match="smoothness_order"):
        SmootherSettings(smoothness_order=4)
    with pytest.raises(ConfigError, match="trim"):
        neural_sindy(t, states, trim=50)
    with pytest.raises(DataFormatError, match="observations contain NaN"):
        neural_sindy(t, np.where(states > 10, np.nan, states))
    with pytest.raises(DataFormatError, match="x0 of shape"):
        fit_sindy(t, states).simulate(np.zeros(2), t)
    with pytest.raises(ConfigError, match="dt > 0"):
        lorenz63_trajectory(10, 0.0)
