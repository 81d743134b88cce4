"""Assimilation methods against analytic linear-Gaussian oracles, and divergence handling."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.typing import AssimilationMethod
from wxai.da.covariance import gaussian_covariance_1d, sqrtm_psd
from wxai.da.cycling import FilterDivergence, TwinSetup, run_cycles, simulate_truth
from wxai.da.methods import (
    LETKF,
    EnKF,
    FilterState,
    KalmanFilter,
    ParticleFilter,
    Var3D,
    mean_preserving_rotation,
    var3d_analysis,
    var3d_control_cg,
    var3d_cost,
)
from wxai.da.methods.particle import compact_root, duplicated, weighted_cov_root
from wxai.da.models import Lorenz96, PeriodicAdvection1D
from wxai.da.operators import partial_components, point_sampling


@pytest.fixture
def linear_case():
    n = 24
    rng = np.random.default_rng(0)
    B = gaussian_covariance_1d(n, 3.0, 1.0) + 1e-3 * np.eye(n)
    obs = point_sampling(n, np.array([1, 5, 6, 13, 20]), sigma=0.4)
    xb = rng.normal(size=n)
    y = rng.normal(size=obs.n_obs)
    return n, B, obs, xb, y


def _exact_ensemble(mean: np.ndarray, cov: np.ndarray, n_ens: int, rng) -> np.ndarray:
    """An ensemble whose sample mean and covariance equal ``mean`` and ``cov`` exactly."""
    raw = rng.normal(size=(n_ens, mean.size))
    raw -= raw.mean(axis=0)
    u = np.linalg.svd(raw, full_matrices=False)[0]
    white = u * np.sqrt(n_ens - 1)  # orthonormal, zero-mean columns scaled to unit variance
    return mean + white[:, : mean.size] @ sqrtm_psd(cov)


def test_kalman_update_equals_3dvar_closed_form_and_cg(linear_case):
    n, B, obs, xb, y = linear_case
    kf = KalmanFilter().analyse(FilterState(mean=xb, cov=B), y, obs, None)
    closed = var3d_analysis(xb, B, obs.H, obs.R, y)
    cg, iterations = var3d_control_cg(xb, sqrtm_psd(B), obs.H, obs.R, y)
    np.testing.assert_allclose(kf.mean, closed, atol=1e-10)
    np.testing.assert_allclose(cg, closed, atol=1e-8)
    assert iterations <= obs.n_obs + 1  # CG in control space: at most rank(H) + 1 steps
    # The analysis minimizes J: zero gradient, any perturbation raises the cost.
    B_inv, R_inv = np.linalg.inv(B), np.linalg.inv(obs.R)
    grad = B_inv @ (closed - xb) - obs.H.T @ R_inv @ (y - obs.H @ closed)
    assert np.abs(grad).max() < 1e-8 * np.abs(B_inv).max()
    j0 = var3d_cost(closed, xb, B_inv, obs.H, R_inv, y)
    rng = np.random.default_rng(1)
    assert all(
        var3d_cost(closed + 1e-3 * rng.normal(size=n), xb, B_inv, obs.H, R_inv, y) > j0
        for _ in range(5)
    )
    # Posterior covariance (I - KH) B, from the Joseph form.
    K = B @ obs.H.T @ np.linalg.inv(obs.H @ B @ obs.H.T + obs.R)
    np.testing.assert_allclose(kf.cov, (np.eye(n) - K @ obs.H) @ B, atol=1e-10)


def test_var3d_method_solvers_agree(linear_case):
    _, B, obs, xb, y = linear_case
    state = FilterState(mean=xb)
    a = Var3D(B).analyse(state, y, obs, None).mean
    b = Var3D(B, solver="cg").analyse(state, y, obs, None).mean
    np.testing.assert_allclose(a, b, atol=1e-8)


def test_etkf_and_global_letkf_are_exact_for_linear_gaussian(linear_case):
    _, B, obs, xb, y = linear_case
    rng = np.random.default_rng(2)
    E = _exact_ensemble(xb, B, 40, rng)
    kf = KalmanFilter().analyse(FilterState(mean=xb, cov=B), y, obs, None)
    for method in (EnKF(40, "sqrt"), LETKF(40, radius=1e7)):
        post = method.analyse(FilterState.from_ensemble(E), y, obs, rng)
        np.testing.assert_allclose(post.mean, kf.mean, atol=1e-8)
        np.testing.assert_allclose(np.cov(post.ensemble.T), kf.cov, atol=1e-8)


def test_letkf_localization_limits_the_update_to_nearby_variables():
    n = 30
    obs = point_sampling(n, np.array([0]), sigma=0.5)
    rng = np.random.default_rng(3)
    E = _exact_ensemble(np.zeros(n), np.eye(n) + 0.9, 40, rng)  # long-range correlations
    post = LETKF(40, radius=2.0).analyse(FilterState.from_ensemble(E), np.array([1.0]), obs, rng)
    far = np.abs(((np.arange(n) + n / 2) % n) - n / 2) > 2 * 1.82 * 2.0
    np.testing.assert_allclose(post.mean[far], 0, atol=1e-12)
    assert post.mean[0] > 0.5


def test_perturbed_obs_and_particle_filter_approach_the_kalman_mean():
    n = 2
    B = np.array([[1.0, 0.5], [0.5, 1.0]])
    obs = partial_components(n, [0], variance=0.5)
    xb, y = np.array([0.0, 1.0]), np.array([1.5])
    kf = KalmanFilter().analyse(FilterState(mean=xb, cov=B), y, obs, None)
    rng = np.random.default_rng(4)
    E = _exact_ensemble(xb, B, 4000, rng)
    pert = EnKF(4000, "pertobs").analyse(FilterState.from_ensemble(E), y, obs, rng)
    np.testing.assert_allclose(pert.mean, kf.mean, atol=0.05)
    pf = ParticleFilter(4000, resample_threshold=1.0, jitter=0.0)
    prior = FilterState.from_ensemble(E, np.full(4000, 1 / 4000))
    np.testing.assert_allclose(pf.analyse(prior, y, obs, rng).mean, kf.mean, atol=0.05)


def test_perturbed_obs_perturbations_keep_the_member_variance_of_r():
    # The perturbations are centred and rescaled by sqrt(N / (N - 1)) (DAPPER's
    # ``mean0``), so each member's perturbation keeps the variance R. For a fixed prior
    # ensemble the expected analysis covariance is then
    # (I - K H) Pf (I - K H)^T + N / (N - 1) K R K^T (centring alone would give 1
    # instead of N / (N - 1): 0.07 less in the first variance here, with N = 4).
    n_ens = 4
    obs = partial_components(2, [0], variance=0.5)
    E = _exact_ensemble(
        np.zeros(2), np.array([[1.0, 0.6], [0.6, 1.0]]), n_ens, np.random.default_rng(8)
    )
    Pf = np.cov(E.T)
    K = Pf @ obs.H.T @ np.linalg.inv(obs.H @ Pf @ obs.H.T + obs.R)
    IKH = np.eye(2) - K @ obs.H
    expected = IKH @ Pf @ IKH.T + n_ens / (n_ens - 1) * K @ obs.R @ K.T
    rng = np.random.default_rng(9)
    method, prior, y = EnKF(n_ens, "pertobs"), FilterState.from_ensemble(E), np.array([0.3])
    posts = [method.analyse(prior, y, obs, rng) for _ in range(4000)]
    np.testing.assert_allclose(
        np.mean([np.cov(p.ensemble.T) for p in posts], axis=0), expected, atol=0.02
    )
    # The mean update is the Kalman update of the ensemble mean (perturbations are centred).
    np.testing.assert_allclose(posts[0].mean, K @ (y - obs(prior.mean)), atol=1e-12)


def test_particle_filter_scores_the_weighted_posterior_and_resamples_before_propagating():
    pf = ParticleFilter(50, resample_threshold=0.5, jitter=1.0)
    rng = np.random.default_rng(10)
    prior = pf.initialize(np.zeros(2), np.eye(2), rng)
    obs = partial_components(2, [0, 1], variance=0.05)
    post = pf.analyse(prior, np.array([1.0, -0.5]), obs, rng)
    # The analysis keeps the particles and carries the weights (its mean is weighted).
    np.testing.assert_array_equal(post.ensemble, prior.ensemble)
    np.testing.assert_allclose(post.mean, post.weights @ post.ensemble)
    assert pf.needs_resampling(post)

    class Identity:
        def step(self, x, t, dt):
            return x

    moved = pf.forecast(post, Identity(), 0.0, 1.0, rng)
    assert moved.weights is None and not pf.needs_resampling(moved)
    # Resampled particles sit near the heavy ones; duplicates (all copies) were jittered.
    assert len(np.unique(moved.ensemble[:, 0])) == 50
    assert np.abs(moved.mean - post.mean).max() < 0.3


def test_particle_filter_helpers():
    idx = np.array([0, 0, 2, 3, 3, 3, 7])
    np.testing.assert_array_equal(duplicated(idx), [1, 1, 0, 1, 1, 1, 0])
    rng = np.random.default_rng(11)
    c12 = rng.normal(size=(30, 3))
    root = compact_root(c12)
    assert root.shape == (3, 3) and np.all(root[:, 0] >= 0)
    np.testing.assert_allclose(root.T @ root, c12.T @ c12, atol=1e-10)
    E = rng.normal(size=(10, 2))
    collapsed = weighted_cov_root(E, np.r_[1.0, np.zeros(9)])  # falls back to equal weights
    np.testing.assert_allclose(collapsed.T @ collapsed, np.cov(E.T), atol=1e-12)
    w = rng.random(10)
    w /= w.sum()
    root = weighted_cov_root(E, w)
    anomalies = E - w @ E
    unbiased = (w[:, None] * anomalies).T @ anomalies / (1 - w @ w)
    np.testing.assert_allclose(root.T @ root, unbiased, atol=1e-12)


def test_rotation_is_orthogonal_and_keeps_the_mean():
    q = mean_preserving_rotation(7, np.random.default_rng(5))
    np.testing.assert_allclose(q @ q.T, np.eye(7), atol=1e-12)
    np.testing.assert_allclose(q @ np.ones(7), np.ones(7), atol=1e-12)


def test_kalman_filter_beats_3dvar_on_a_linear_model():
    model = PeriodicAdvection1D(n=32, u=1.0, kappa=0.02)
    B = gaussian_covariance_1d(32, 2.0, 1.0) + 1e-6 * np.eye(32)
    setup = TwinSetup(
        model=model,
        dt=0.05,
        steps_per_obs=4,
        n_obs_times=60,
        obs=point_sampling(32, np.arange(0, 32, 4), sigma=0.3),
        prior_mean=np.zeros(32),
        prior_cov=B,
        burn_in=2.0,
    )
    truth = simulate_truth(setup, np.random.default_rng(6))
    methods: list[AssimilationMethod] = [KalmanFilter(), Var3D(B)]
    kf, var = (run_cycles(m, setup, truth, np.random.default_rng(7)) for m in methods)
    assert isinstance(methods[0], AssimilationMethod)
    assert kf.score < var.score and kf.score < 0.3
    # The KF's spread is consistent with its error.
    assert 0.5 < kf.mean_spread / kf.score < 2.0


def test_divergence_is_detected_and_reported():
    setup = TwinSetup(
        model=Lorenz96(),
        dt=0.05,
        steps_per_obs=1,
        n_obs_times=250,
        obs=partial_components(40, list(range(40)), variance=1.0),
        prior_mean=np.eye(40)[0],
        prior_cov=0.001 * np.eye(40),
        burn_in=5.0,
    )
    truth = simulate_truth(setup, np.random.default_rng(0))
    small = EnKF(8, "sqrt", inflation=1.0)  # fewer members than unstable directions
    result = run_cycles(small, setup, truth, np.random.default_rng(1))
    assert result.diverged and np.isnan(result.score) and result.diverged_at is not None
    assert "climatological" in result.message
    with pytest.raises(FilterDivergence):
        run_cycles(small, setup, truth, np.random.default_rng(1), strict=True)
    healthy = run_cycles(EnKF(30, "sqrt", inflation=1.02), setup, truth, np.random.default_rng(1))
    assert not healthy.diverged and healthy.score < 0.3
