"""AI-Var building blocks against the numpy 3D-Var oracle."""

from __future__ import annotations

import numpy as np
import torch

from wxai.da.ai.aivar import (
    IncrementCNN1d,
    VarStatistics,
    aivar_analysis,
    closed_form_batch,
    train_aivar,
    variational_cost,
)
from wxai.da.covariance import gaussian_covariance_1d, spectral_regularization
from wxai.da.methods import var3d_analysis, var3d_cost
from wxai.da.operators import point_sampling


def test_cost_and_batched_closed_form_match_numpy():
    n, sigma_o = 32, 0.2
    B, B_inv, _ = spectral_regularization(gaussian_covariance_1d(n, 2.0, 0.5), 1e-4)
    rng = np.random.default_rng(0)
    idx = np.array([2, 9, 10, 25])
    obs = point_sampling(n, idx, sigma_o)
    xb, y = rng.normal(size=n), rng.normal(size=idx.size)
    y_grid, mask = obs.H.T @ y, obs.H.sum(axis=0)
    xa = var3d_analysis(xb, B, obs.H, obs.R, y)
    np.testing.assert_allclose(closed_form_batch(B, xb, y_grid, mask, sigma_o)[0], xa, atol=1e-10)
    dx = rng.normal(size=n)
    t = [torch.tensor(a[None]) for a in (dx, xb, y_grid, mask)]
    j = variational_cost(*t, B_inv=torch.tensor(B_inv), sigma_o=sigma_o)
    ref = var3d_cost(xb + dx, xb, B_inv, obs.H, np.linalg.inv(obs.R), y)
    assert float(j[0]) == np.float64(ref).round(8) or abs(float(j[0]) - ref) < 1e-8 * ref


def test_cnn_trained_on_the_cost_lowers_it_on_unseen_cases():
    n, sigma_o = 32, 0.1
    B, B_inv, B_sqrt = spectral_regularization(gaussian_covariance_1d(n, 2.0, 0.5), 1e-4)
    stats = VarStatistics(B_inv, B_sqrt, sigma_o)
    rng = np.random.default_rng(1)

    def cases(k):
        xb = rng.normal(size=(k, n)) @ B_sqrt
        mask = (rng.random((k, n)) < 0.2).astype(float)
        return xb, mask * (rng.normal(size=(k, n)) * 0.6), mask

    torch.manual_seed(0)
    model = IncrementCNN1d(16, (1, 2, 4), B_sqrt=stats.tensors()[1])
    history = train_aivar(model, stats, *cases(256), epochs=8, lr=3e-3, batch_size=32)
    assert history.loss[-1] < 0.5 * history.loss[0]
    xb, y_grid, mask = cases(64)
    ai = aivar_analysis(model, xb, y_grid, mask)
    var = closed_form_batch(B, xb, y_grid, mask, sigma_o)
    t = [torch.tensor(a, dtype=torch.float32) for a in (xb, y_grid, mask)]

    def cost(xa):
        dx = torch.tensor(xa - xb, dtype=torch.float32)
        return float(variational_cost(dx, *t, B_inv=stats.tensors()[0], sigma_o=sigma_o).mean())

    assert cost(var) <= cost(ai) < 0.5 * cost(xb)
