"""Periodic 1D advection as truth for learned emulators that conserve mass by construction.

The truth is ``du/dt + c du/dx = 0`` on a ring of length ``L``, solved by the first-order
upwind finite-volume scheme in flux form: every face flux leaves one cell and enters its
neighbour, so the total ``sum(u) dx`` is conserved to float rounding. Emulators learn the
one-step map ``u_t -> u_{t+1}`` with a local CNN (circular padding) that predicts the
increment; the conservative variant passes the increment through
:class:`wxai.nn.conservative.ZeroSum`, so its rollouts keep the mass exactly, while the free
variant lets small per-step mass errors accumulate.

Why not :class:`wxai.da.models.PeriodicAdvection1D`? That toy uses centred differences, a
diffusion term and RK4: it is a linear test model for Kalman filtering, oscillates behind a
discontinuity (top hats) and has no CFL limit of its own. The emulator needs a monotone
upwind scheme whose one-step map is local and whose mass balance is a flux difference.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError, DataFormatError
from wxai.nn.conservative import ZeroSum
from wxai.nn.conv import ConvNet1d
from wxai.train.loop import minimize_over_batches


def _as_states(u: np.ndarray, n: int, what: str = "state") -> np.ndarray:
    """``u`` as a float array ``(n,)`` or ``(batch, n)``, with a clear error otherwise."""
    u = np.asarray(u, dtype=float)
    if u.ndim not in (1, 2) or u.shape[-1] != n:
        raise DataFormatError(
            f"{what} must be a 1D field (n,) or a batch of them (batch, n) with n = {n}, "
            f"got shape {u.shape}"
        )
    if u.size == 0:
        raise DataFormatError(f"{what} is empty (shape {u.shape}); give at least one field")
    return u


@dataclass(frozen=True)
class UpwindAdvection1D:
    """First-order upwind finite volumes for ``du/dt + c du/dx = 0`` on a periodic domain.

    One step with Courant number ``nu = c dt / dx`` is ``u_i <- u_i - (F_{i+1/2} - F_{i-1/2})``
    with the face flux (times ``dt / dx``) ``F_{i+1/2} = nu u_i`` for ``c > 0`` and
    ``nu u_{i+1}`` for ``c < 0``; the sum of the flux differences telescopes to zero, so the
    mass is conserved to rounding. Stable and monotone for ``|nu| <= 1``; ``|nu| = 1`` is
    the exact shift by one cell. Implements :class:`wxai.core.typing.PrognosticModel`.

    Parameters
    ----------
    n:
        Grid cells.
    length:
        Domain length ``L`` (length units); cells have width ``dx = L / n``.
    speed:
        Advection speed ``c`` (length / time), either sign, not zero.
    cfl:
        Courant number ``|c| dt / dx`` of the default step :attr:`dt`, in ``(0, 1]``.
    """

    n: int = 128
    length: float = 1.0
    speed: float = 1.0
    cfl: float = 0.5

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ConfigError(f"UpwindAdvection1D needs at least 2 cells, got n = {self.n}")
        if not self.length > 0:
            raise ConfigError(f"domain length must be positive, got {self.length}")
        if self.speed == 0 or not np.isfinite(self.speed):
            raise ConfigError(f"advection speed must be finite and non-zero, got {self.speed}")
        if not 0 < self.cfl <= 1:
            raise ConfigError(
                f"CFL number must be in (0, 1] for the upwind scheme to be stable, got "
                f"{self.cfl}; lower cfl (a shorter time step)"
            )

    @property
    def state_size(self) -> int:
        """Cells ``n``."""
        return self.n

    @property
    def dx(self) -> float:
        """Cell width (length units)."""
        return self.length / self.n

    @property
    def dt(self) -> float:
        """Time step of Courant number :attr:`cfl` (time units)."""
        return self.cfl * self.dx / abs(self.speed)

    @property
    def grid(self) -> np.ndarray:
        """Cell centres, shape ``(n,)``, in ``[0, L)``."""
        return (np.arange(self.n) + 0.5) * self.dx

    def step(self, x: np.ndarray, t: float = 0.0, dt: float | None = None) -> np.ndarray:
        """Advance states ``(n,)`` or ``(batch, n)`` by ``dt`` (default :attr:`dt`); no ``t``."""
        u = _as_states(x, self.n)
        dt = self.dt if dt is None else dt
        nu = self.speed * dt / self.dx
        if abs(nu) > 1 + 1e-12:
            raise ConfigError(
                f"dt = {dt} gives the CFL number {abs(nu):.4g} > 1: the upwind scheme is "
                f"unstable; use dt <= {self.dx / abs(self.speed):.4g}"
            )
        upwind = u if self.speed > 0 else np.roll(u, -1, axis=-1)
        flux = nu * upwind  # F_{i+1/2} dt / dx
        return u - (flux - np.roll(flux, 1, axis=-1))

    def run(self, initial: np.ndarray, steps: int) -> np.ndarray:
        """Trajectory ``(steps + 1, *initial.shape)`` from ``(n,)`` or ``(batch, n)`` fields."""
        u = _as_states(initial, self.n, "initial state")
        if steps < 0:
            raise ConfigError(f"steps must be >= 0, got {steps}")
        trajectory = np.empty((steps + 1, *u.shape))
        trajectory[0] = u
        for k in range(steps):
            trajectory[k + 1] = self.step(trajectory[k])
        return trajectory


# --- initial shapes ---------------------------------------------------------------------


def _periodic_offset(grid: np.ndarray, centre: np.ndarray, length: float) -> np.ndarray:
    """Signed shortest distance ``x - centre`` on a ring of length ``length``."""
    return (grid - centre + 0.5 * length) % length - 0.5 * length


def gaussian_bumps(
    grid: np.ndarray,
    count: int,
    rng: np.random.Generator,
    *,
    length: float = 1.0,
    amplitude: tuple[float, float] = (0.5, 1.5),
    width: tuple[float, float] = (0.03, 0.08),
) -> np.ndarray:
    """Periodic Gaussian bumps at random centres, the training shapes, ``(count, n)``.

    ``a exp(-d^2 / (2 s^2))`` with ``d`` the periodic distance to a uniform random centre,
    ``a`` uniform in ``amplitude`` and ``s`` uniform in ``width`` (length units).
    """
    if count < 1:
        raise ConfigError(f"count must be >= 1, got {count}")
    centre = rng.uniform(0, length, (count, 1))
    a = rng.uniform(*amplitude, (count, 1))
    s = rng.uniform(*width, (count, 1))
    return a * np.exp(-0.5 * (_periodic_offset(grid, centre, length) / s) ** 2)


def sine_wave(
    grid: np.ndarray, wavenumber: int, *, length: float = 1.0, amplitude: float = 0.5
) -> np.ndarray:
    """A non-negative sine ``a (1 + sin(2 pi k x / L))``, shape ``(n,)``."""
    return amplitude * (1 + np.sin(2 * np.pi * wavenumber * grid / length))


def top_hat(
    grid: np.ndarray, centre: float, width: float, *, length: float = 1.0, height: float = 1.0
) -> np.ndarray:
    """A discontinuous box of ``height`` and ``width`` (length units) at ``centre``, ``(n,)``."""
    return np.where(np.abs(_periodic_offset(grid, centre, length)) < 0.5 * width, height, 0.0)


def several_bumps(
    grid: np.ndarray,
    centres: Sequence[float],
    amplitudes: Sequence[float],
    width: float,
    *,
    length: float = 1.0,
) -> np.ndarray:
    """A sum of periodic Gaussian bumps of one ``width``, shape ``(n,)``."""
    offsets = _periodic_offset(grid, np.asarray(centres)[:, None], length)
    return (np.asarray(amplitudes)[:, None] * np.exp(-0.5 * (offsets / width) ** 2)).sum(0)


def unseen_shapes(grid: np.ndarray, *, length: float = 1.0) -> dict[str, np.ndarray]:
    """The test shapes never seen in training: a sine, a top hat and three bumps, each ``(n,)``."""
    return {
        "sine": sine_wave(grid, 2, length=length),
        "top hat": top_hat(grid, 0.3 * length, 0.2 * length, length=length),
        "three bumps": several_bumps(
            grid, [0.2 * length, 0.5 * length, 0.75 * length], [1.0, 0.6, 1.2], 0.03 * length
        ),
    }


# --- data and emulators -----------------------------------------------------------------


def transition_pairs(
    solver: UpwindAdvection1D,
    initial: np.ndarray,
    steps: int,
    *,
    input_noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One-step training pairs ``(u_t, u_{t+1})`` along truth trajectories.

    Parameters
    ----------
    initial:
        Initial fields ``(cases, n)``.
    steps:
        Steps run from each; every step gives one pair.
    input_noise:
        Standard deviation (state units) of white noise added to every ``u_t`` before the
        truth steps it; the target is the truth's step of the perturbed field. Smooth
        trajectories alone never show a model how the scheme damps grid-scale noise, and
        autoregressive rollouts then amplify their own errors; ``0`` keeps pure pairs.
    rng:
        Source of the noise (needed when ``input_noise > 0``).

    Returns
    -------
    inputs, targets:
        Each ``(cases * steps, n)``.
    """
    if steps < 1:
        raise ConfigError(f"steps must be >= 1 to form (u_t, u_t+1) pairs, got {steps}")
    if input_noise < 0:
        raise ConfigError(f"input_noise must be >= 0, got {input_noise}")
    trajectory = solver.run(np.atleast_2d(initial), steps)
    inputs = trajectory[:-1].reshape(-1, solver.n)
    if input_noise == 0:
        return inputs, trajectory[1:].reshape(-1, solver.n)
    if rng is None:
        raise ConfigError("input_noise > 0 needs an rng (np.random.default_rng(seed))")
    inputs = inputs + input_noise * rng.standard_normal(inputs.shape)
    return inputs, solver.step(inputs)


class AdvectionEmulator(nn.Module):
    """A local CNN one-step model ``u_{t+1} = u_t + du(u_t)``, free or mass-conserving.

    The increment comes from a stack of 'same'-size 1D convolutions with circular padding
    (:class:`wxai.nn.conv.ConvNet1d`), so every output cell sees only ``receptive_field``
    neighbours on the ring. With ``conservative=True`` the increment passes through
    :class:`~wxai.nn.conservative.ZeroSum`, so ``sum(u_{t+1}) = sum(u_t)`` by construction;
    removing the grid mean is then the model's only non-local operation.

    Parameters
    ----------
    hidden:
        Channels of the hidden layers, e.g. ``(16, 16)``.
    kernel_size:
        Odd kernel width (cells) of every layer.
    conservative:
        Make the increment sum to zero over the grid.
    act:
        Activation between layers; GELU gave stable 1000-step rollouts where ReLU
        sometimes did not (lab ``conservative-advection``).

    Shapes
    ------
    input ``(batch, n)`` -> output ``(batch, n)``.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (16, 16),
        kernel_size: int = 3,
        *,
        conservative: bool = False,
        act: str = "gelu",
    ) -> None:
        super().__init__()
        self.conservative = conservative
        self.net = ConvNet1d([1, *hidden, 1], kernel_size, padding_mode="circular", act=act)
        self.constraint = ZeroSum(-1) if conservative else nn.Identity()

    def increment(self, u: torch.Tensor) -> torch.Tensor:
        """The predicted ``u_{t+1} - u_t``, ``(batch, n)``."""
        if u.ndim != 2 or u.shape[-1] == 0 or u.shape[0] == 0:
            raise DataFormatError(
                f"AdvectionEmulator takes a batch of 1D fields (batch, n), got {tuple(u.shape)}"
            )
        return self.constraint(self.net(u.unsqueeze(1)).squeeze(1))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """The next state ``(batch, n)`` from ``u`` ``(batch, n)``."""
        return u + self.increment(u)


def build_emulators(
    hidden: Sequence[int], kernel_size: int, *, seed: int, act: str = "gelu"
) -> dict[str, AdvectionEmulator]:
    """The free and the conservative emulator with identical initial weights.

    Returns ``{"free": ..., "conservative": ...}``: same architecture, same start, so any
    difference after training comes from the zero-sum constraint alone.
    """
    torch.manual_seed(seed)
    free = AdvectionEmulator(hidden, kernel_size, conservative=False, act=act)
    conservative = AdvectionEmulator(hidden, kernel_size, conservative=True, act=act)
    conservative.net.load_state_dict(free.net.state_dict())
    return {"free": free, "conservative": conservative}


def train_emulator(
    model: AdvectionEmulator,
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    progress: Callable[[float, str], None] | None = None,
) -> list[float]:
    """Fit the one-step map by mean squared error of the next state (float32, Adam, cosine).

    Parameters
    ----------
    inputs, targets:
        ``u_t`` and ``u_{t+1}``, each ``(pairs, n)`` (see :func:`transition_pairs`).

    Returns
    -------
    list[float]
        Mean loss per epoch (state units squared).
    """
    x = torch.as_tensor(_as_states(inputs, np.shape(inputs)[-1], "inputs"), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    if x.ndim != 2 or y.shape != x.shape:
        raise DataFormatError(
            f"inputs and targets must both be (pairs, n), got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    model.float()

    def batch_loss(batch: tuple[torch.Tensor, ...], _: torch.Generator) -> torch.Tensor:
        u, u_next = batch
        return nn.functional.mse_loss(model(u), u_next)

    return minimize_over_batches(
        model,
        (x, y),
        batch_loss,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
    )


@torch.no_grad()
def emulator_rollout(
    model: nn.Module, initial: np.ndarray, steps: int, *, dtype: torch.dtype = torch.float64
) -> np.ndarray:
    """Apply the emulator autoregressively on a copy of it cast to ``dtype``.

    Parameters
    ----------
    model:
        Maps ``(batch, n)`` to the next state ``(batch, n)``; not modified.
    initial:
        ``(n,)`` or ``(batch, n)``.
    steps:
        Steps to take.
    dtype:
        Precision of the rollout; float64 makes rounding (~1e-16) negligible, so the
        mass budget shows what the model itself does.

    Returns
    -------
    np.ndarray
        Trajectory ``(steps + 1, *initial.shape)``.
    """
    u0 = np.asarray(initial, dtype=float)
    if u0.ndim not in (1, 2) or u0.size == 0:
        raise DataFormatError(f"initial must be (n,) or (batch, n), non-empty; got {u0.shape}")
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps}")
    stepper = copy.deepcopy(model).to(dtype).eval()
    u = torch.as_tensor(np.atleast_2d(u0), dtype=dtype)
    trajectory = torch.empty((steps + 1, *u.shape), dtype=dtype)
    trajectory[0] = u
    for k in range(steps):
        u = stepper(u)
        trajectory[k + 1] = u
    return trajectory.numpy().reshape(steps + 1, *u0.shape)


# --- diagnostics ------------------------------------------------------------------------


def total_mass(u: np.ndarray, dx: float) -> np.ndarray:
    """``sum(u) dx`` over the last axis (state units times length); shape ``u.shape[:-1]``."""
    return np.asarray(u).sum(-1) * dx


def relative_mass_drift(trajectory: np.ndarray) -> np.ndarray:
    """``|M_t - M_0| / sum|u_0|`` for a trajectory ``(steps + 1, ..., n)``; ``(steps + 1, ...)``.

    Normalising by the total of ``|u_0|`` (the mass itself for a non-negative field) keeps
    the figure meaningful for fields of zero mean. Cell width cancels. Steps of a rollout
    that has blown up (non-finite values) get an infinite drift.
    """
    trajectory = np.asarray(trajectory, dtype=float)
    if trajectory.ndim < 2 or trajectory.shape[0] == 0 or trajectory.shape[-1] == 0:
        raise DataFormatError(
            f"trajectory must be (steps + 1, ..., n) and non-empty, got {trajectory.shape}"
        )
    scale = np.abs(trajectory[0]).sum(-1)
    if np.any(scale == 0):
        raise DataFormatError(
            "an initial field is zero everywhere: its relative drift is undefined"
        )
    mass = trajectory.sum(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        drift = np.abs(mass - mass[0]) / scale
    # A rollout that has blown up (inf, nan) has lost all control of its mass.
    return np.where(np.isfinite(drift), drift, np.inf)


def rmse_by_step(trajectory: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Root-mean-square difference over the grid at every step, ``(steps + 1, ...)``."""
    trajectory, truth = np.asarray(trajectory), np.asarray(truth)
    if trajectory.shape != truth.shape or trajectory.size == 0:
        raise DataFormatError(
            f"trajectory {trajectory.shape} and truth {truth.shape} must have one non-empty shape"
        )
    return np.sqrt(((trajectory - truth) ** 2).mean(-1))


@dataclass(frozen=True)
class Rollout:
    """One model's rollout from a set of initial fields, with its diagnostics.

    Attributes
    ----------
    trajectory:
        ``(steps + 1, batch, n)``.
    mass_drift:
        Relative mass drift :func:`relative_mass_drift`, ``(steps + 1, batch)``.
    rmse:
        RMSE against the truth at every step, ``(steps + 1, batch)``.
    """

    trajectory: np.ndarray
    mass_drift: np.ndarray
    rmse: np.ndarray

    @property
    def max_mass_drift(self) -> float:
        """Largest relative drift over steps and fields."""
        return float(self.mass_drift.max())


def compare_rollouts(
    solver: UpwindAdvection1D,
    models: Mapping[str, nn.Module],
    initial: np.ndarray,
    steps: int,
    *,
    dtype: torch.dtype = torch.float64,
) -> dict[str, Rollout]:
    """Roll the truth and every model out from ``initial`` ``(batch, n)`` for ``steps`` steps.

    Returns ``{"truth": ..., **{name: ...}}``; every RMSE is against the truth.
    """
    initial = _as_states(initial, solver.n, "initial state")
    truth = solver.run(np.atleast_2d(initial), steps)
    trajectories = {"truth": truth}
    for name, model in models.items():
        trajectories[name] = emulator_rollout(model, np.atleast_2d(initial), steps, dtype=dtype)
    return {
        name: Rollout(traj, relative_mass_drift(traj), rmse_by_step(traj, truth))
        for name, traj in trajectories.items()
    }
