"""Case generators of the single-analysis and twin experiments of the assimilation labs.

Each function draws a complete experiment (truth, background or initial ensemble,
observations, error statistics) from its settings and a random generator, so that a
lab and a test build exactly the same cases from the same seed:

- :func:`toy1d_statistics` and :func:`toy1d_batch`: cases on the periodic 1D toy;
- :func:`toy2d_radiosonde_case`: one analysis of the 2D (x, z) toy atmosphere from
  radiosonde columns;
- :func:`lorenz63_particle_twin`: a Lorenz-63 truth observed in ``x1, x2`` and an
  initial ensemble around it.
"""

# ruff: noqa: N803, N806 - matrix names (B, H, X) follow the DA literature

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from wxai.core.errors import ConfigError
from wxai.da.covariance import (
    gaussian_covariance_1d,
    gaussian_covariance_2d,
    spectral_regularization,
)
from wxai.da.cycling import TwinSetup, simulate_truth
from wxai.da.models import Lorenz63, Toy1DCase, Toy2D, make_toy1d_case
from wxai.da.operators import LinearObservation, partial_components, radiosonde_columns

#: DAPPER's Lorenz-63 prior mean (a point near the attractor).
LORENZ63_PRIOR_MEAN = (1.509, -1.531, 25.46)


def toy1d_statistics(
    n: int, length_scale: float, sigma_b: float, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``B``, ``B^-1`` and ``B^{1/2}`` (each ``(n, n)``) of the periodic 1D toy.

    A Gaussian correlation of ``length_scale`` grid points and standard deviation
    ``sigma_b``, its eigenvalues floored at ``alpha`` times the largest (see
    :func:`wxai.da.covariance.spectral_regularization`).
    """
    B = gaussian_covariance_1d(n, length_scale, sigma_b)
    return spectral_regularization(B, alpha)


@dataclass(frozen=True)
class Toy1DBatch:
    """Cases of the 1D toy and their stacked network inputs.

    Attributes
    ----------
    cases:
        The cases (each with its own observation set).
    background, y_grid, mask:
        Background, observations scattered to the grid and 0/1 mask, ``(cases, n)``.
    """

    cases: list[Toy1DCase]
    background: np.ndarray
    y_grid: np.ndarray
    mask: np.ndarray

    @property
    def truth(self) -> np.ndarray:
        """True fields, ``(cases, n)``."""
        return np.array([c.truth for c in self.cases])

    @property
    def obs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per case, the observed grid indices and values ``((m_k,), (m_k,))``."""
        return [(c.obs_index, c.y) for c in self.cases]


def toy1d_batch(
    count: int,
    n: int,
    n_obs: int,
    sigma_o: float,
    rng: np.random.Generator,
    *,
    B_sqrt: np.ndarray,
    background: Literal["lecture", "sampled"],
) -> Toy1DBatch:
    """``count`` cases of the 1D toy (see :func:`wxai.da.models.make_toy1d_case`).

    With ``background="lecture"`` every case has ``n_obs`` observations; with
    ``"sampled"`` each draws its count uniformly from ``n_obs // 2 .. n_obs``.
    """
    if count < 1:
        raise ConfigError(f"toy1d_batch needs count >= 1, got {count}")
    cases = []
    for _ in range(count):
        m = n_obs if background == "lecture" else int(rng.integers(n_obs // 2, n_obs + 1))
        cases.append(make_toy1d_case(n, m, sigma_o, rng, background=background, b_sqrt=B_sqrt))
    grids = [c.y_on_grid() for c in cases]
    return Toy1DBatch(
        cases,
        np.array([c.background for c in cases]),
        np.array([g[0] for g in grids]),
        np.array([g[1] for g in grids]),
    )


@dataclass(frozen=True)
class RadiosondeCase2D:
    """One analysis case on the 2D toy atmosphere observed by radiosonde columns.

    Attributes
    ----------
    model:
        The :class:`~wxai.da.models.Toy2D` (grid, coordinates, ``field`` reshaping).
    truth, background:
        Flattened states ``(nz * nx,)``.
    B, B_inv, B_sqrt:
        Regularized background-error covariance and its inverse and root.
    columns, levels:
        Observed column and level indices.
    obs:
        The observation operator; ``y`` its observations ``(m,)``.
    y_grid, mask:
        Observations scattered to the grid and the 0/1 mask, ``(nz * nx,)``.
    budget_residual:
        Largest residual of the model's budget over the spin-up (a conservation check).
    """

    model: Toy2D
    truth: np.ndarray
    background: np.ndarray
    B: np.ndarray
    B_inv: np.ndarray
    B_sqrt: np.ndarray
    columns: np.ndarray
    levels: np.ndarray
    obs: LinearObservation
    y: np.ndarray
    y_grid: np.ndarray
    mask: np.ndarray
    budget_residual: float

    @property
    def obs_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions ``(x, z)`` of the observations in domain units, each ``(m,)``."""
        x, z = self.model.x, self.model.z
        return x[self.columns].repeat(self.levels.size), np.tile(z[self.levels], self.columns.size)


def toy2d_radiosonde_case(
    *,
    nx: int,
    nz: int,
    spinup_steps: int,
    dt: float,
    sigma_b: float,
    length_x: float,
    length_z: float,
    alpha: float,
    sigma_o: float,
    station_every: int,
    level_every: int,
    rng: np.random.Generator,
) -> RadiosondeCase2D:
    """Spin up the 2D toy from rest, perturb it with ``B`` and observe radiosonde columns.

    Parameters
    ----------
    spinup_steps, dt:
        Model steps from rest to the analysis time, and the step.
    sigma_b, length_x, length_z, alpha:
        Background-error standard deviation, correlation lengths (domain units, periodic
        in x) and eigenvalue floor of ``B``.
    sigma_o:
        Observation-error standard deviation.
    station_every, level_every:
        A radiosonde in every k-th column (the first at ``k // 2``), observing every
        k-th level.
    """
    model = Toy2D(nx=nx, nz=nz)
    states, budget = model.run(
        np.zeros(model.state_size), spinup_steps, dt, every=max(spinup_steps, 1)
    )
    truth = states[-1]
    B_full = gaussian_covariance_2d(
        model.x, model.z, length_x, length_z, sigma_b, period_x=model.length_x
    )
    B, B_inv, B_sqrt = spectral_regularization(B_full, alpha)
    background = truth + B_sqrt @ rng.standard_normal(truth.size)
    columns = np.arange(station_every // 2, nx, station_every)
    levels = np.arange(0, nz, level_every)
    obs = radiosonde_columns(nx, nz, columns, levels, sigma_o)
    y = obs.sample(truth, rng)
    return RadiosondeCase2D(
        model=model,
        truth=truth,
        background=background,
        B=B,
        B_inv=B_inv,
        B_sqrt=B_sqrt,
        columns=columns,
        levels=levels,
        obs=obs,
        y=y,
        y_grid=obs.H.T @ y,
        mask=obs.H.sum(axis=0),
        budget_residual=float(np.abs(budget.residual).max()),
    )


@dataclass(frozen=True)
class ParticleTwin:
    """A Lorenz-63 truth, its observations and an initial ensemble.

    Attributes
    ----------
    truth:
        True states at the observation times, ``(K, 3)``.
    y:
        Observations of ``x1, x2``, ``(K, 2)``.
    X0:
        Initial ensemble around the initial truth, ``(N, 3)``.
    H:
        Observation operator ``(2, 3)``.
    """

    truth: np.ndarray
    y: np.ndarray
    X0: np.ndarray
    H: np.ndarray


def lorenz63_particle_twin(
    n_cycles: int,
    *,
    dt: float,
    steps_per_obs: int,
    obs_variance: float,
    n_particles: int,
    init_spread: float,
    rng: np.random.Generator,
) -> ParticleTwin:
    """Simulate Lorenz-63 (standard parameters) observed in ``x1, x2`` every ``steps_per_obs``.

    The truth starts from a draw of ``N(LORENZ63_PRIOR_MEAN, 2 I)``; the initial ensemble
    is the initial truth plus ``N(0, init_spread^2 I)`` noise.
    """
    op = partial_components(3, [0, 1], obs_variance)
    setup = TwinSetup(
        Lorenz63(),
        dt,
        steps_per_obs,
        n_cycles,
        op,
        np.array(LORENZ63_PRIOR_MEAN),
        2 * np.eye(3),
    )
    truth = simulate_truth(setup, rng)
    X0 = truth.states[0] + init_spread * rng.standard_normal((n_particles, 3))
    return ParticleTwin(truth.at_obs(steps_per_obs), np.array(truth.y), X0, op.H)
