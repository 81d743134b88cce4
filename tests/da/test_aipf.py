"""AI particle filter: equivariance of the DeepSets update and the loss terms against oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.core.device import torch_threads
from wxai.da.ai.aipf import (
    AIPFLoss,
    DeepSetsParticleUpdate,
    cycle_particles,
    gm_kl_loss,
    kalman_eval_points,
    kernel_variance,
    log_mixture,
    no_update,
    obs_log_likelihood,
    obs_loss,
    train_aipf,
)
from wxai.da.models import Lorenz63

H = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
_NET = None


def _net() -> DeepSetsParticleUpdate:
    global _NET  # noqa: PLW0603 - one network shared by the property test's examples
    if _NET is None:
        torch.manual_seed(0)
        _NET = DeepSetsParticleUpdate(H, [0.0, 0.0, 25.0], 10.0, hidden=(16, 16), context=8).eval()
    return _NET


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_particles=st.integers(2, 12),
    batch=st.integers(1, 3),
)
def test_deepsets_update_is_permutation_equivariant(seed, n_particles, batch):
    rng = np.random.default_rng(seed)
    Xb = torch.as_tensor(rng.normal([0, 0, 25], 8, (batch, n_particles, 3)), dtype=torch.float32)
    y = torch.as_tensor(rng.normal(0, 8, (batch, 2)), dtype=torch.float32)
    perm = torch.as_tensor(rng.permutation(n_particles))
    with torch_threads(1), torch.no_grad():
        Xa = _net()(Xb, y)
        Xa_perm = _net()(Xb[:, perm], y)
        # Unbatched inputs give the same particles as a batch of one.
        Xa_single = _net()(Xb[0], y[0])
    torch.testing.assert_close(Xa_perm, Xa[:, perm], rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(Xa_single, Xa[0], rtol=1e-5, atol=1e-4)


def test_update_is_not_trivially_invariant():
    """The pooled context makes each particle's move depend on the other particles."""
    rng = np.random.default_rng(1)
    Xb = torch.as_tensor(rng.normal([0, 0, 25], 8, (1, 6, 3)), dtype=torch.float32)
    y = torch.zeros(1, 2)
    other = Xb.clone()
    other[0, 1:] += 5.0
    with torch.no_grad():
        dx0 = _net()(Xb, y)[0, 0] - Xb[0, 0]
        dx1 = _net()(other, y)[0, 0] - other[0, 0]
    assert torch.abs(dx0 - dx1).max() > 1e-4


def test_log_mixture_matches_brute_force():
    rng = np.random.default_rng(2)
    Z, X, var = rng.normal(size=(1, 4, 3)), rng.normal(size=(1, 5, 3)), rng.uniform(0.5, 2, (1, 3))
    got = log_mixture(*(torch.as_tensor(a) for a in (Z, X, var))).numpy()[0]
    for k in range(4):
        dens = [
            np.prod(np.exp(-0.5 * (Z[0, k] - x) ** 2 / var[0]) / np.sqrt(2 * np.pi * var[0]))
            for x in X[0]
        ]
        assert got[k] == pytest.approx(math.log(np.mean(dens)), rel=1e-10)


def test_obs_terms_match_brute_force():
    rng = np.random.default_rng(3)
    Xa, y, r_var = rng.normal(size=(1, 6, 3)), rng.normal(size=(1, 2)), 1.7
    ll = obs_log_likelihood(torch.as_tensor(Xa), torch.as_tensor(y), torch.as_tensor(H), r_var)
    d = y[0] - Xa[0] @ H.T
    expected = -0.5 * (d**2).sum(1) / r_var - np.log(2 * np.pi * r_var)
    np.testing.assert_allclose(ll.numpy()[0], expected, rtol=1e-12)
    loss = obs_loss(torch.as_tensor(Xa), torch.as_tensor(y), torch.as_tensor(H), r_var)
    assert float(loss) == pytest.approx(-math.log(np.mean(np.exp(expected))), rel=1e-10)


def test_kalman_eval_points_without_noise_give_the_kalman_mean():
    rng = np.random.default_rng(4)
    Xb, y, r_var = rng.normal([0, 0, 25], 3, (1, 50, 3)), np.array([[2.0, -1.0]]), 0.5
    Z = kalman_eval_points(
        torch.as_tensor(Xb), torch.as_tensor(y), torch.as_tensor(H), r_var, torch.zeros(1, 100, 2)
    ).numpy()[0]
    assert Z.shape == (100, 3)
    P = np.cov(Xb[0].T)
    K = P @ H.T @ np.linalg.inv(H @ P @ H.T + r_var * np.eye(2))
    mean_b = Xb[0].mean(0)
    np.testing.assert_allclose(Z.mean(0), mean_b + K @ (y[0] - H @ mean_b), rtol=1e-10)


def test_gm_kl_is_nonnegative_and_prefers_the_kalman_analysis():
    rng = np.random.default_rng(5)
    t = torch.as_tensor
    Xb, y, r_var = t(rng.normal([0, 0, 25], 3, (1, 40, 3))), t(np.array([[4.0, 3.0]])), 0.25
    Ht = t(H)
    kvar = kernel_variance(Xb, 1.0)
    Z = kalman_eval_points(Xb, y, Ht, r_var, t(rng.standard_normal((1, 80, 2))), kernel_var=kvar)
    Z = torch.cat([Z, Xb], dim=1)  # Kalman points plus the prior particles, as AIPFLoss
    Xk = kalman_eval_points(Xb, y, Ht, r_var, t(rng.standard_normal((1, 40, 2))))
    kl_prior = float(gm_kl_loss(Xb, Xb, y, Z, H=Ht, r_var=r_var, kernel_var=kvar))
    kl_kalman = float(gm_kl_loss(Xk, Xb, y, Z, H=Ht, r_var=r_var, kernel_var=kvar))
    assert 0 <= kl_kalman < 0.5 * kl_prior


def test_free_run_matches_the_model_and_short_training_lowers_the_loss():
    rng = np.random.default_rng(6)
    model = Lorenz63(rho=25.0)
    X0 = rng.normal([1, 1, 25], 1, (5, 3))
    truth, y = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    run = cycle_particles(no_update, model, X0, truth, y, dt=0.01, steps_per_obs=4, rng=rng)
    X = X0
    for _ in range(12):
        X = model.step(X, 0.0, 0.01)
    np.testing.assert_allclose(run.forecasts[-1], X, rtol=1e-12)
    np.testing.assert_array_equal(run.fg_error, run.an_error)

    Xb = rng.normal([0, 0, 25], 3, (64, 10, 3))
    obs = Xb[:, 0, :2] + rng.normal(0, 1, (64, 2))
    torch.manual_seed(0)
    net = DeepSetsParticleUpdate(H, [0.0, 0.0, 25.0], 10.0, hidden=(16, 16), context=8)
    history = train_aipf(net, AIPFLoss(H, 1.0), Xb, obs, epochs=15, lr=3e-3, batch_size=16)
    assert history.loss[-1] < 0.8 * history.loss[0]
