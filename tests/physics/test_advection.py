"""Periodic advection truth, shapes, data, emulators and diagnostics (wxai.physics.advection)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wxai.core.device import torch_threads
from wxai.core.errors import ConfigError, DataFormatError
from wxai.core.typing import PrognosticModel
from wxai.physics.advection import (
    AdvectionEmulator,
    UpwindAdvection1D,
    build_emulators,
    compare_rollouts,
    emulator_rollout,
    gaussian_bumps,
    relative_mass_drift,
    rmse_by_step,
    several_bumps,
    sine_wave,
    top_hat,
    train_emulator,
    transition_pairs,
    unseen_shapes,
)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny networks run fastest on one thread (more only add synchronisation)."""
    with torch_threads(1):
        yield


@pytest.fixture
def solver() -> UpwindAdvection1D:
    return UpwindAdvection1D(n=64, length=2.0, speed=0.5, cfl=0.4)


# --- truth ------------------------------------------------------------------------------


@pytest.mark.parametrize("speed", [1.0, -2.0])
def test_cfl_one_is_the_exact_shift_by_one_cell(speed):
    solver = UpwindAdvection1D(n=32, speed=speed, cfl=1.0)
    u = np.random.default_rng(0).random((3, 32))
    np.testing.assert_allclose(solver.step(u), np.roll(u, int(np.sign(speed)), axis=-1))


@pytest.mark.parametrize("speed", [0.5, -0.5])
def test_upwind_matches_its_fourier_amplification_factor(speed):
    """Closed form: mode j is multiplied by 1 - nu + nu exp(-+ 2 pi i j / n) every step."""
    solver = UpwindAdvection1D(n=64, length=2.0, speed=speed, cfl=0.4)
    u0 = np.random.default_rng(1).standard_normal(64)
    steps = 37
    j = np.fft.fftfreq(64, d=1 / 64)
    g = 1 - 0.4 + 0.4 * np.exp(-np.sign(speed) * 2j * np.pi * j / 64)
    expected = np.fft.ifft(np.fft.fft(u0) * g**steps).real
    np.testing.assert_allclose(solver.run(u0, steps)[-1], expected, atol=1e-12)


def test_mass_is_conserved_to_rounding_and_the_scheme_is_monotone(solver):
    u0 = top_hat(solver.grid, 0.5, 0.4, length=solver.length)
    trajectory = solver.run(u0, 1000)
    assert relative_mass_drift(trajectory).max() < 1e-13
    # Upwind is monotone: no new extrema behind the discontinuities of a top hat.
    assert trajectory.min() >= -1e-15 and trajectory.max() <= 1 + 1e-15


def test_solver_is_a_prognostic_model_with_its_own_time_step(solver):
    assert isinstance(solver, PrognosticModel) and solver.state_size == 64
    assert solver.dt == pytest.approx(0.4 * (2.0 / 64) / 0.5)
    u = gaussian_bumps(solver.grid, 2, np.random.default_rng(2), length=2.0)
    np.testing.assert_array_equal(solver.step(u, 0.0, solver.dt), solver.step(u))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cfl": 1.5}, "CFL number must be in"),
        ({"cfl": 0.0}, "CFL number must be in"),
        ({"speed": 0.0}, "non-zero"),
        ({"n": 1}, "at least 2 cells"),
        ({"length": -1.0}, "positive"),
    ],
)
def test_bad_solver_settings_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        UpwindAdvection1D(**kwargs)


def test_bad_states_and_time_steps_are_clear_errors(solver):
    with pytest.raises(ConfigError, match=r"CFL number .* > 1"):
        solver.step(np.zeros(64), 0.0, 3 * solver.dt)
    with pytest.raises(DataFormatError, match="1D field"):
        solver.step(np.zeros((2, 3, 64)))
    with pytest.raises(DataFormatError, match="1D field"):
        solver.step(np.zeros(63))
    with pytest.raises(DataFormatError, match="empty"):
        solver.run(np.zeros((0, 64)), 5)
    with pytest.raises(ConfigError, match="steps"):
        solver.run(np.zeros(64), -1)


# --- shapes and data --------------------------------------------------------------------


def test_shapes_have_their_closed_form_masses(solver):
    grid, dx, length = solver.grid, solver.dx, solver.length
    assert sine_wave(grid, 3, length=length, amplitude=0.5).sum() * dx == pytest.approx(0.5 * 2)
    assert top_hat(grid, 1.0, 0.5, length=length).sum() * dx == pytest.approx(0.5)
    bumps = several_bumps(grid, [0.2, 1.0, 1.9], [1.0, 2.0, 0.5], 0.1, length=length)
    assert bumps.sum() * dx == pytest.approx(3.5 * 0.1 * np.sqrt(2 * np.pi), rel=1e-6)
    # A bump across the periodic boundary keeps its whole mass.
    wrapped = several_bumps(grid, [1.99], [1.0], 0.1, length=length)
    assert wrapped.sum() * dx == pytest.approx(0.1 * np.sqrt(2 * np.pi), rel=1e-6)
    assert set(unseen_shapes(grid, length=length)) == {"sine", "top hat", "three bumps"}


def test_gaussian_bumps_stay_in_their_ranges(solver):
    u = gaussian_bumps(solver.grid, 50, np.random.default_rng(3), length=2.0, width=(0.1, 0.2))
    peaks = u.max(1)
    assert u.shape == (50, 64) and peaks.max() <= 1.5 and peaks.min() >= 0.45
    with pytest.raises(ConfigError, match="count"):
        gaussian_bumps(solver.grid, 0, np.random.default_rng(0))


def test_transition_pairs_follow_the_truth(solver):
    u0 = gaussian_bumps(solver.grid, 3, np.random.default_rng(4), length=2.0)
    x, y = transition_pairs(solver, u0, 5)
    assert x.shape == y.shape == (15, 64)
    np.testing.assert_array_equal(y, solver.step(x))
    np.testing.assert_allclose(x[:3], u0)  # step 0 of every case comes first
    noisy, target = transition_pairs(solver, u0, 5, input_noise=0.1, rng=np.random.default_rng(0))
    assert np.std(noisy - x) == pytest.approx(0.1, rel=0.1)
    np.testing.assert_array_equal(target, solver.step(noisy))
    with pytest.raises(ConfigError, match="rng"):
        transition_pairs(solver, u0, 5, input_noise=0.1)
    with pytest.raises(ConfigError, match="steps must be >= 1"):
        transition_pairs(solver, u0, 0)
    with pytest.raises(DataFormatError, match="empty"):
        transition_pairs(solver, np.zeros((0, 64)), 3)


# --- emulators --------------------------------------------------------------------------


def test_emulators_are_translation_equivariant_and_the_conservative_one_keeps_mass():
    models = build_emulators((8, 8), 3, seed=0)
    for p, q in zip(models["free"].parameters(), models["conservative"].parameters(), strict=True):
        torch.testing.assert_close(p, q)  # same start: only the constraint differs
    u = torch.rand(4, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    for model in models.values():
        model.double()
        torch.testing.assert_close(model(torch.roll(u, 7, -1)), torch.roll(model(u), 7, -1))
    free_gap = (models["free"](u).sum(-1) - u.sum(-1)).abs()
    conservative_gap = (models["conservative"](u).sum(-1) - u.sum(-1)).abs()
    assert conservative_gap.max() < 1e-12 < free_gap.min()
    with pytest.raises(DataFormatError, match=r"\(batch, n\)"):
        models["free"](u[0])


def test_trained_emulators_beat_persistence_and_only_the_conservative_one_keeps_mass():
    """A short training: one-step skill over persistence, then the mass budget of rollouts."""
    solver = UpwindAdvection1D(n=64, cfl=0.5)
    rng = np.random.default_rng(6)
    width = (0.06, 0.12)
    x, y = transition_pairs(
        solver, gaussian_bumps(solver.grid, 8, rng, width=width), 20, input_noise=0.02, rng=rng
    )
    held_out = gaussian_bumps(solver.grid, 4, np.random.default_rng(9), width=width)
    x_test, y_test = transition_pairs(solver, held_out, 20)
    models = build_emulators((8, 8), 3, seed=0)
    for model in models.values():
        train_emulator(model, x, y, epochs=120, lr=1e-2, batch_size=64, seed=0)
    test = gaussian_bumps(solver.grid, 3, np.random.default_rng(7), width=width)
    rollouts = compare_rollouts(solver, models, test, 300)
    persistence_mse = float(((x_test - y_test) ** 2).mean())
    for model in models.values():
        with torch.no_grad():
            predicted = model(torch.as_tensor(x_test, dtype=torch.float32)).numpy()
        assert ((predicted - y_test) ** 2).mean() < 0.05 * persistence_mse
    assert rollouts["conservative"].max_mass_drift < 1e-12
    assert rollouts["free"].max_mass_drift > 1e-4
    assert rollouts["truth"].rmse.max() == 0
    assert next(models["free"].parameters()).dtype == torch.float32  # rollouts use a copy


TRAINING = {"epochs": 1, "lr": 1e-3, "batch_size": 4, "seed": 0}


def test_rollout_shapes_and_errors():
    model = AdvectionEmulator((4,), 3, conservative=True)
    u0 = np.random.default_rng(8).random(16)
    trajectory = emulator_rollout(model, u0, 5)
    assert trajectory.shape == (6, 16) and trajectory.dtype == np.float64
    np.testing.assert_array_equal(trajectory[0], u0)
    with pytest.raises(DataFormatError, match="non-empty"):
        emulator_rollout(model, np.zeros((0, 16)), 5)
    with pytest.raises(ConfigError, match="steps"):
        emulator_rollout(model, u0, -2)
    with pytest.raises(DataFormatError, match=r"\(pairs, n\)"):
        train_emulator(model, np.zeros((4, 16)), np.zeros((4, 15)), **TRAINING)
    with pytest.raises(DataFormatError, match="empty"):
        train_emulator(model, np.zeros((0, 16)), np.zeros((0, 16)), **TRAINING)


# --- diagnostics ------------------------------------------------------------------------


def test_relative_mass_drift_and_rmse_have_closed_forms():
    u = np.array([1.0, 2.0, 3.0])
    trajectory = np.stack([u, 1.1 * u, u + 0.6, np.full(3, np.inf)])
    np.testing.assert_allclose(relative_mass_drift(trajectory), [0, 0.1, 0.3, np.inf])
    np.testing.assert_allclose(rmse_by_step(trajectory[:3], np.stack([u] * 3)), [0, 0.2160247, 0.6])
    with pytest.raises(DataFormatError, match="zero everywhere"):
        relative_mass_drift(np.zeros((3, 4)))
    with pytest.raises(DataFormatError, match="non-empty"):
        relative_mass_drift(np.zeros(4))
    with pytest.raises(DataFormatError, match="one non-empty shape"):
        rmse_by_step(np.zeros((3, 4)), np.zeros((3, 5)))
