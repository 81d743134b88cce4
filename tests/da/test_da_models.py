"""Models: fixed points, tangent-linear models against finite differences, toy budgets."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.typing import PrognosticModel
from wxai.da.models import Lorenz63, Lorenz96, PeriodicAdvection1D, Toy2D, rk4_step


def _fd_jacobian(step, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite-difference Jacobian of ``step`` at ``x`` (brute force)."""
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = eps
        cols.append((step(x + e) - step(x - e)) / (2 * eps))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize(
    ("model", "dt"), [(Lorenz63(), 0.01), (Lorenz96(n=12), 0.05), (PeriodicAdvection1D(16), 0.05)]
)
def test_tangent_linear_model_matches_finite_differences(model, dt):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, model.state_size) + (
        np.array([0, 0, 20.0]) if model.state_size == 3 else 3
    )
    tlm = model.tlm(x, 0.0, dt)
    fd = _fd_jacobian(lambda v: model.step(v, 0.0, dt), x)
    assert np.max(np.abs(tlm - fd)) < 1e-7 * max(1.0, np.max(np.abs(fd)))
    # The TLM predicts the evolution of a perturbation with a second-order remainder.
    direction = rng.normal(size=model.state_size)

    def remainder(size: float) -> float:
        dx = size * direction
        linear = model.step(x, 0.0, dt) + tlm @ dx
        return float(np.linalg.norm(model.step(x + dx, 0.0, dt) - linear))

    assert remainder(1e-3) < 1e-3 * np.linalg.norm(tlm @ (1e-3 * direction))
    if remainder(1e-3) > 1e-12:  # nonlinear models: halving the size quarters the remainder
        assert 3.5 < remainder(1e-3) / remainder(5e-4) < 4.5


def test_rhs_jacobians_match_finite_differences():
    rng = np.random.default_rng(1)
    for model in (Lorenz63(), Lorenz96(n=9)):
        x = rng.normal(2, 3, model.state_size)
        fd = _fd_jacobian(model.rhs, x)
        np.testing.assert_allclose(model.jacobian(x), fd, atol=1e-6)


def test_lorenz_fixed_points_are_stationary():
    l63 = Lorenz63()
    c = np.sqrt(l63.beta * (l63.rho - 1))
    for x in ([c, c, l63.rho - 1], [-c, -c, l63.rho - 1], [0, 0, 0]):
        np.testing.assert_allclose(l63.rhs(np.array(x, float)), 0, atol=1e-12)
    l96 = Lorenz96(n=40, forcing=8.0)
    np.testing.assert_allclose(l96.step(np.full(40, 8.0), 0, 0.05), 8.0, atol=1e-12)


def test_models_satisfy_the_protocol_and_step_ensembles():
    for model in (Lorenz63(), Lorenz96(), PeriodicAdvection1D(), Toy2D(nx=8, nz=4)):
        assert isinstance(model, PrognosticModel)
    l96 = Lorenz96()
    ens = np.random.default_rng(2).normal(size=(5, 40))
    batch = l96.step(ens, 0, 0.05)
    np.testing.assert_allclose(batch[3], l96.step(ens[3], 0, 0.05))


def test_rk4_is_fourth_order():
    # dx/dt = x: error of one step ~ dt^5/120.
    errors = [
        abs(rk4_step(lambda x, t: x, np.array([1.0]), 0, h)[0] - np.exp(h)) for h in (0.1, 0.05)
    ]
    assert 28 < errors[0] / errors[1] < 36


def test_toy2d_budget_closes_and_reaches_equilibrium():
    model = Toy2D(nx=32, nz=12)
    states, budget = model.run(np.zeros(model.state_size), 1200, 0.1, every=100)
    scale = budget.injected[-1]
    assert np.max(np.abs(budget.residual)) < 1e-10 * scale
    # Injection and losses balance near equilibrium: the content levels off.
    growth = np.diff(budget.content)
    assert growth[0] > 0 and abs(growth[-1]) < 0.1 * growth[0]
    assert states.shape == (13, model.state_size) and np.all(np.isfinite(states))


def test_toy2d_transport_conserves_content_without_sources_and_sinks():
    model = Toy2D(nx=32, nz=12, source_amplitude=0.0, damping=0.0, sponge_rate=0.0)
    rng = np.random.default_rng(3)
    x0 = rng.random(model.state_size)
    states, budget = model.run(x0, 200, 0.05, every=200)
    assert budget.injected[-1] == 0 and budget.lost[-1] == 0
    assert abs(budget.content[-1] - budget.content[0]) < 1e-11 * budget.content[0]
    # The wind moves the field: it is not the initial state any more.
    assert np.abs(states[-1] - x0).max() > 0.1
