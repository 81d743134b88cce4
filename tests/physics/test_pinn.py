"""wxai.physics.pinn: autograd derivatives, loss assembly, samplers, features, solutions
against closed forms and DeepXDE, and the errors on bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from wxai.core.device import torch_threads
from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError
from wxai.nn.fourier import FourierFeatures
from wxai.physics.pinn import (
    Condition,
    Derivatives,
    Domain,
    PinnNetwork,
    PinnProblem,
    RandomResampling,
    UniformGrid,
    collocation_sampler,
    oscillator_problem,
    oscillator_solution,
    pinn_loss,
    predict,
    residual_at,
    solution_error,
    train_pinn,
)

TWO_PI = 2 * math.pi


class _Closed(nn.Module):
    """A 'network' that is a closed-form function of x (one dummy parameter for the device)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return self.fn(x) + 0 * self.dummy


def _points(*columns: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.stack(columns, axis=-1), dtype=torch.float64, requires_grad=True)


# -- derivatives and loss -----------------------------------------------------------------------


def test_autograd_derivatives_match_closed_forms_in_1d_and_2d():
    x = _points(np.linspace(-2, 2, 41))
    d = Derivatives(x, torch.sin(2 * x))
    torch.testing.assert_close(d(1), 2 * torch.cos(2 * x))
    torch.testing.assert_close(d(2), -4 * torch.sin(2 * x))
    torch.testing.assert_close(d(3), -8 * torch.cos(2 * x))
    assert d(0) is d.partial()  # cached
    # A PDE's mixed and pure partials: u(x, t) = x^2 t^3.
    rng = np.random.default_rng(0)
    xt = _points(rng.uniform(-1, 1, 30), rng.uniform(-1, 1, 30))
    x0, t = xt[:, :1], xt[:, 1:]
    d = Derivatives(xt, x0**2 * t**3)
    torch.testing.assert_close(d.partial(0, 1), 6 * x0 * t**2)
    torch.testing.assert_close(d(2, axis=0), 2 * t**3)
    torch.testing.assert_close(d(1, axis=1), 3 * x0**2 * t**2)
    # A derivative that no longer depends on x is zero, not an autograd error.
    torch.testing.assert_close(Derivatives(x, 3 * x)(2), torch.zeros_like(x))


def test_loss_is_zero_for_the_exact_solution_and_counts_each_condition():
    problem = oscillator_problem(TWO_PI)
    x = problem.domain.grid(50).double()
    exact = pinn_loss(_Closed(torch.sin).double(), problem, x, weight=5.0)
    assert float(exact.total.detach()) < 1e-20
    # cos solves the ODE but misses both conditions by 1: conditions = 1 + 1, total = 5 * 2.
    wrong = pinn_loss(_Closed(torch.cos).double(), problem, x, weight=5.0)
    assert float(wrong.residual.detach()) < 1e-20
    assert float(wrong.conditions.detach()) == pytest.approx(2.0)
    assert float(wrong.total.detach()) == pytest.approx(10.0)


def _sin_x(points: np.ndarray) -> np.ndarray:
    return np.sin(points[:, 0])


def test_a_pde_residual_plugs_in():
    """Advection u_t + c u_x = 0 on (x, t): zero for u = sin(x - c t), not for sin(x + c t)."""
    c = 0.7
    problem = PinnProblem(
        residual=lambda x, u, d: d(1, axis=1) + c * d(1, axis=0),
        domain=Domain((0.0, 0.0), (TWO_PI, 1.0)),
        conditions=(Condition(np.c_[np.linspace(0, TWO_PI, 9), np.zeros(9)], _sin_x, name="u0"),),
    )
    xt = problem.domain.grid(12).double()
    right = _Closed(lambda p: torch.sin(p[:, :1] - c * p[:, 1:])).double()
    wrong = _Closed(lambda p: torch.sin(p[:, :1] + c * p[:, 1:])).double()
    assert residual_at(right, problem, xt).abs().max() < 1e-12
    assert residual_at(wrong, problem, xt).abs().max() > 1.0
    assert float(pinn_loss(right, problem, xt).conditions.detach()) < 1e-20


# -- sampling and features ----------------------------------------------------------------------


def test_samplers_grid_is_fixed_random_resamples_reproducibly_inside_the_domain():
    domain = Domain.interval(0.0, TWO_PI)
    grid = UniformGrid(domain, 11)
    assert grid.points(0) is grid.points(5)
    assert float(grid.points(0)[0, 0]) == 0.0
    assert float(grid.points(0)[-1, 0]) == pytest.approx(TWO_PI)
    wide = domain.stretched(3.0)
    assert wide.upper == pytest.approx((3 * TWO_PI,)) and wide.lower == (0.0,)
    draws = RandomResampling(wide, 500, seed=3)
    first, second = draws.points(0), draws.points(1)
    assert not torch.equal(first, second)
    assert torch.equal(first, RandomResampling(wide, 500, seed=3).points(0))
    assert first.min() >= 0 and first.max() <= 3 * TWO_PI
    assert first.max() > 2 * TWO_PI  # the wider domain is really sampled
    assert isinstance(collocation_sampler("grid", domain, 7), UniformGrid)
    assert isinstance(collocation_sampler("random", domain, 7), RandomResampling)
    assert Domain((0, 0), (1, 2)).grid(5).shape == (25, 2)


def test_harmonic_features_make_the_network_exactly_periodic_random_ones_do_not():
    torch.manual_seed(0)
    x = np.linspace(0.0, TWO_PI, 50)
    harmonic = PinnNetwork(1, 1, [16], embedding=FourierFeatures.harmonic(TWO_PI, 4))
    np.testing.assert_allclose(predict(harmonic, x + 2 * TWO_PI), predict(harmonic, x), atol=1e-5)
    rff = FourierFeatures.random(1, 2000, scale=3.0, seed=1)
    assert float(rff.frequencies.std()) == pytest.approx(3.0, rel=0.05)
    random_net = PinnNetwork(1, 1, [16], embedding=FourierFeatures.random(1, 8, 1.0, seed=1))
    assert np.abs(predict(random_net, x + TWO_PI) - predict(random_net, x)).max() > 1e-2
    # Frequencies are fixed: not among the trained parameters.
    assert all(p.data_ptr() != rff.frequencies.data_ptr() for p in random_net.parameters())
    assert FourierFeatures.harmonic((1.0, 2.0), 3).frequencies.shape == (6, 2)


# -- solutions ------------------------------------------------------------------------------------


def _solve(problem, epochs=300, lbfgs=500, n=100, seed=0):
    torch.manual_seed(seed)
    with torch_threads(1):
        return _train(problem, epochs, lbfgs, n, seed)


def _train(problem, epochs, lbfgs, n, seed):
    length = problem.domain.upper[0]
    net = PinnNetwork(1, 1, [32, 32], "tanh", input_scale=length)
    sampler = RandomResampling(problem.domain, n, seed=seed)
    history = train_pinn(net, problem, sampler, epochs=epochs, lr=3e-3, lbfgs_iterations=lbfgs)
    return net, history


def test_pinn_matches_the_closed_form_oscillator_solution():
    """y'' + 1.5^2 y = 0, y(0) = 0.5, y'(0) = -1 on [0, 4]: exact 0.5 cos 1.5x - sin(1.5x) / 1.5."""
    omega, y0, dy0 = 1.5, 0.5, -1.0
    problem = oscillator_problem(4.0, omega=omega, y0=y0, dy0=dy0)
    with torch.random.fork_rng():
        net, history = _solve(problem)
    err = solution_error(net, lambda x: oscillator_solution(x, omega, y0, dy0), 0.0, 4.0)
    assert err.max < 2e-3 and err.rms < err.max
    assert history.total[-1] < 1e-3 * history.total[0]
    assert len(history.total) > history.adam_epochs == 300  # L-BFGS evaluations appended
    # Outside the residual interval the same network is no solution (extrapolation fails).
    outside = solution_error(net, lambda x: oscillator_solution(x, omega, y0, dy0), 8.0, 12.0)
    assert outside.max > 50 * err.max


def test_pinn_agrees_with_deepxde_on_the_same_problem(tmp_path, monkeypatch):
    """Same ODE, architecture (1-32-32-1 tanh, x / 2 pi), points and optimisers in DeepXDE."""
    monkeypatch.setenv("DDE_BACKEND", "pytorch")
    monkeypatch.setenv("HOME", str(tmp_path))  # DeepXDE/matplotlib write nothing in the home
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    device, dtype = torch.get_default_device(), torch.get_default_dtype()
    try:
        dde = pytest.importorskip("deepxde")
        with torch_threads(1), torch.random.fork_rng():
            y_dde = _deepxde_oscillator(dde)
    finally:  # DeepXDE moves torch's defaults to a GPU when there is one
        torch.set_default_device(device)
        torch.set_default_dtype(dtype)
    with torch.random.fork_rng():
        net, _ = _solve(oscillator_problem(TWO_PI), epochs=1000, lbfgs=500, n=100)
    x = np.linspace(0.0, TWO_PI, 1001)
    y_wxai = predict(net, x)[:, 0]
    # Measured: both 1.4e-4 from sin x, 4e-5 apart (1 CPU thread).
    assert np.abs(y_dde - np.sin(x)).max() < 1e-3
    assert np.abs(y_wxai - np.sin(x)).max() < 1e-3
    assert np.abs(y_wxai - y_dde).max() < 1e-3


def _deepxde_oscillator(dde) -> np.ndarray:
    """DeepXDE's PINN for y'' + y = 0, y(0) = 0, y'(0) = 1 on [0, 2 pi], at 1001 points."""
    dde.config.set_random_seed(0)  # seeds Python, NumPy and torch: callers fork the torch RNG
    geom = dde.geometry.TimeDomain(0.0, TWO_PI)
    value = dde.icbc.IC(geom, lambda x: np.zeros((len(x), 1)), lambda _, on_initial: on_initial)
    slope = dde.icbc.OperatorBC(
        geom,
        lambda x, y, _: dde.grad.jacobian(y, x) - 1.0,
        lambda x, on_boundary: on_boundary and dde.utils.isclose(x[0], 0.0),
    )
    data = dde.data.TimePDE(
        geom,
        lambda x, y: dde.grad.hessian(y, x) + y,
        [value, slope],
        num_domain=100,
        num_boundary=2,
        train_distribution="uniform",
    )
    net = dde.nn.FNN([1, 32, 32, 1], "tanh", "Glorot normal")
    net.apply_feature_transform(lambda x: x / TWO_PI)
    model = dde.Model(data, net)
    model.compile("adam", lr=3e-3)
    model.train(iterations=1000, display_every=1000, verbose=0)
    dde.optimizers.set_LBFGS_options(maxiter=500)
    model.compile("L-BFGS")
    model.train(display_every=1000, verbose=0)
    return model.predict(np.linspace(0.0, TWO_PI, 1001)[:, None])[:, 0]


# -- bad input ----------------------------------------------------------------------------------


def test_residual_of_the_wrong_shape_or_type_is_a_clear_error():
    domain, conditions = Domain.interval(0, 1), (Condition([[0.0]], 0.0),)
    net, x = PinnNetwork(1, 1, [4]), torch.rand(10, 1)
    reduced = PinnProblem(lambda x, y, d: (d(2) + y).mean(), domain, conditions)
    with pytest.raises(DataFormatError, match=r"shape \(10,\) or \(10, k\).*got \(\)"):
        pinn_loss(net, reduced, x)
    too_many = PinnProblem(lambda x, y, d: (d(2) + y)[:, :, None], domain, conditions)
    with pytest.raises(DataFormatError, match="got \\(10, 1, 1\\)"):
        pinn_loss(net, too_many, x)
    not_tensor = PinnProblem(lambda x, y, d: 0.0, domain, conditions)
    with pytest.raises(DataFormatError, match=r"must return a torch\.Tensor, got float"):
        pinn_loss(net, not_tensor, x)
    with pytest.raises(DataFormatError, match=r"map \(n, 1\) to \(n, 1\)"):
        pinn_loss(PinnNetwork(1, 2, [4]), oscillator_problem(), x)


def test_invalid_problem_settings_are_config_errors():
    with pytest.raises(ConfigError, match="empty domain"):
        Domain.interval(1.0, 1.0)
    with pytest.raises(ConfigError, match=r"empty domain.*axis \[1\]"):
        Domain((0, 2), (1, 1))
    with pytest.raises(ConfigError, match="finite"):
        Domain.interval(0.0, math.inf)
    with pytest.raises(ConfigError, match="at least one initial or boundary condition"):
        PinnProblem(lambda x, y, d: d(2) + y, Domain.interval(0, 1), ())
    with pytest.raises(ConfigError, match="points have 2 coordinates, the domain has 1"):
        PinnProblem(lambda x, y, d: y, Domain.interval(0, 1), (Condition([[0.0, 1.0]], 0.0),))
    with pytest.raises(ConfigError, match=r"one number per point \(3\), got shape \(3, 2\)"):
        Condition(np.zeros((3, 2)), np.sin)
    with pytest.raises(ConfigError, match="order must be >= 0"):
        Condition([[0.0]], 0.0, order=-1)
    net, problem = PinnNetwork(1, 1, [4]), oscillator_problem()
    with pytest.raises(ConfigError, match="condition weight must be a finite number >= 0"):
        pinn_loss(net, problem, torch.rand(5, 1), weight=-1.0)
    with pytest.raises(ConfigError, match="condition weight"):
        train_pinn(net, problem, UniformGrid(problem.domain, 5), epochs=1, weight=-0.5)
    with pytest.raises(ConfigError, match="not both 0"):
        train_pinn(net, problem, UniformGrid(problem.domain, 5), epochs=0)
    with pytest.raises(UnknownNameError, match="random"):
        collocation_sampler("randm", problem.domain, 5)
    with pytest.raises(ConfigError, match="only used without Fourier features"):
        PinnNetwork(1, 1, [4], embedding=FourierFeatures.harmonic(1.0, 2), input_scale=2.0)
