"""ORIGEN building blocks: analyses against the matrix formulas, reconstruction, learned models."""

# ruff: noqa: N803 - matrix names (B, H, R, K, A) follow the DA literature

import numpy as np
import pytest
import torch

from wxai.core.device import torch_threads
from wxai.da import origen
from wxai.da.origen import PartialObservations


def _random_spd(rng, d):
    M = rng.standard_normal((d, d))
    return M @ M.T + d * np.eye(d)


def _brute_force(xb, B, values, mask, sigma_o):
    """``x^a = x^b + K (y - H x^b)``, ``A = (I - K H) B`` with explicit matrices, per time."""
    xa, A = np.empty_like(xb), np.empty((*xb.shape, xb.shape[1]))
    for k in range(xb.shape[0]):
        Bk = B if B.ndim == 2 else B[k]
        H = np.eye(xb.shape[1])[mask[k]]
        R = sigma_o**2 * np.eye(H.shape[0])
        K = Bk @ H.T @ np.linalg.inv(H @ Bk @ H.T + R)
        xa[k] = xb[k] + K @ (values[k][mask[k]] - H @ xb[k])
        A[k] = (np.eye(xb.shape[1]) - K @ H) @ Bk
    return xa, A


@pytest.mark.parametrize("per_time_b", [False, True])
def test_analysis_matches_the_matrix_formula_for_any_subset(per_time_b):
    rng = np.random.default_rng(0)
    n, d = 40, 3
    truth = rng.standard_normal((n, d))
    obs = origen.random_partial_observations(truth, origen.LORENZ63_SUBSETS, 0.7, rng)
    xb = truth + rng.standard_normal((n, d))
    B = np.array([_random_spd(rng, d) for _ in range(n)]) if per_time_b else _random_spd(rng, d)
    xa, A = origen.analysis(xb, B, obs)
    xa_ref, A_ref = _brute_force(xb, B, obs.values, obs.mask, obs.sigma_o)
    np.testing.assert_allclose(xa, xa_ref, atol=1e-10)
    np.testing.assert_allclose(A, A_ref, atol=1e-10)


def test_covariance_update_accumulates_information_like_one_batch_analysis():
    # Two analyses chained with B <- A equal one analysis of both observation sets together.
    rng = np.random.default_rng(1)
    d, sigma_o = 2, 0.3
    xb, B = rng.standard_normal((1, d)), _random_spd(rng, d)
    y1, y2 = rng.standard_normal(d), rng.standard_normal(d)
    full = np.ones((1, d), dtype=bool)
    xa1, A1 = origen.analysis(xb, B, PartialObservations(y1[None], full, sigma_o))
    xa2, A2 = origen.analysis(xa1, A1, PartialObservations(y2[None], full, sigma_o))
    H = np.vstack([np.eye(d), np.eye(d)])
    K = B @ H.T @ np.linalg.inv(H @ B @ H.T + sigma_o**2 * np.eye(2 * d))
    np.testing.assert_allclose(xa2[0], xb[0] + K @ (np.r_[y1, y2] - H @ xb[0]), atol=1e-10)
    np.testing.assert_allclose(A2[0], (np.eye(d) - K @ H) @ B, atol=1e-10)


def test_partial_observations_use_the_given_subsets_and_error():
    rng = np.random.default_rng(2)
    truth = np.zeros((4000, 3))
    obs = origen.random_partial_observations(truth, origen.LORENZ63_SUBSETS, 0.5, rng)
    patterns = {tuple(np.flatnonzero(row)) for row in obs.mask}
    assert patterns == set(origen.LORENZ63_SUBSETS)
    assert np.isnan(obs.values[~obs.mask]).all()
    assert abs(np.std(obs.values[obs.mask]) - 0.5) < 0.02


def test_oscillator_truth_is_the_unit_circle():
    x = origen.oscillator_truth(100)
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]), 1.0)
    np.testing.assert_allclose(x[25], [0.0, 1.0], atol=1e-12)


def test_exact_observations_of_everything_reconstruct_the_truth():
    # Limiting case: all components observed with tiny error -> analysis equals truth.
    rng = np.random.default_rng(3)
    truth = origen.oscillator_truth(50)
    rec = origen.reconstruct(truth, [(0, 1)], 1e-6, np.eye(2), 2, rng=rng)
    assert rec.rmse.max() < 1e-5


def test_b_update_converges_where_fixed_b_stalls():
    rng = np.random.default_rng(4)
    truth, sigma_o = origen.oscillator_truth(200), 0.1
    B0 = 0.04 * np.eye(2)
    subsets = origen.OSCILLATOR_SUBSETS
    fixed = origen.reconstruct(truth, subsets, sigma_o, B0, 40, rng=rng)
    updated = origen.reconstruct(truth, subsets, sigma_o, B0, 40, rng=rng, update_covariance=True)
    assert updated.rmse[-1] <= 0.3 * sigma_o < fixed.rmse[-1]
    assert np.all(updated.rmse[1:] <= 1.05 * updated.rmse[:-1])
    assert np.all(np.diff(updated.spread) < 0)  # assumed uncertainty shrinks every cycle
    assert updated.analyses.shape == (40, 200, 2)


def test_two_rounds_align_one_component_after_the_other():
    rng = np.random.default_rng(5)
    truth = origen.oscillator_truth(200)
    round1, round2 = origen.two_round_reconstruction(truth, 0.05, np.eye(2), rng)
    err1, err2 = (
        np.sqrt(np.mean((round1 - truth) ** 2, 0)),
        np.sqrt(np.mean((round2 - truth) ** 2, 0)),
    )
    assert err1[0] < 0.1 < err1[1]
    assert err2.max() < 0.1


@torch_threads(1)
def test_untrained_zero_residual_model_is_persistence_and_training_beats_it():
    torch.manual_seed(0)
    rng = np.random.default_rng(6)
    truth = origen.oscillator_truth(200, periods=4.0)
    model = origen.OneStepModel.for_sequence(truth, hidden=(16,))
    torch.nn.init.zeros_(model.net.net[-1].weight)
    torch.nn.init.zeros_(model.net.net[-1].bias)
    persist = origen.forecast_errors(origen.persistence, truth, truth, 5)
    np.testing.assert_allclose(origen.forecast_errors(model, truth, truth, 5), persist, rtol=1e-5)
    assert origen.rollout(model, truth[:7], 3).shape == (7, 4, 2)
    losses = origen.train_one_step(model, truth, epochs=200, lr=1e-2)
    rolled = origen.train_one_step(model, truth, epochs=20, lr=1e-3, horizon=4)
    assert losses[-1] < 0.05 * losses[0] and np.isfinite(rolled).all()
    assert np.all(origen.forecast_errors(model, truth, truth, 5) < 0.3 * persist)
    # A cycle with the learned model keeps the unobserved component better than persistence.
    obs = origen.random_partial_observations(truth, origen.OSCILLATOR_SUBSETS, 0.05, rng)
    _, with_model = origen.persistence_cycle(truth[0], 0.01 * np.eye(2), obs, model=model)
    _, with_persistence = origen.persistence_cycle(truth[0], 0.01 * np.eye(2), obs)
    assert np.mean((with_model - truth) ** 2) < np.mean((with_persistence - truth) ** 2)


def test_invalid_arguments_raise():
    truth = origen.oscillator_truth(20)
    with pytest.raises(ValueError, match="cycles"):
        origen.reconstruct(truth, [(0,)], 0.1, np.eye(2), 0, rng=np.random.default_rng(0))
    model = origen.OneStepModel.for_sequence(truth, hidden=(4,))
    with pytest.raises(ValueError, match="horizon"):
        origen.train_one_step(model, truth, epochs=1, horizon=20)
