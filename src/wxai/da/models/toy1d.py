"""The periodic 1D toy of lecture 18: cases (truth, background, obs) and a linear dynamics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from wxai.core.errors import ConfigError


@dataclass(frozen=True)
class Toy1DCase:
    """One assimilation case on a periodic grid of ``n`` points.

    Attributes
    ----------
    grid:
        Positions, shape ``(n,)``, in ``[0, 2 pi)`` (dimensionless).
    truth, background:
        Fields, shape ``(n,)`` (arbitrary state units).
    obs_index:
        Observed grid points, shape ``(m,)``, sorted.
    y:
        Observed values, shape ``(m,)``: truth plus noise of standard deviation ``sigma_o``.
    sigma_o:
        Observation-error standard deviation.
    """

    grid: np.ndarray
    truth: np.ndarray
    background: np.ndarray
    obs_index: np.ndarray
    y: np.ndarray
    sigma_o: float

    @property
    def n(self) -> int:
        """Number of grid points."""
        return self.grid.size

    def y_on_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Observations scattered to the grid and the 0/1 mask, each ``(n,)``."""
        y_grid = np.zeros(self.n)
        mask = np.zeros(self.n)
        y_grid[self.obs_index] = self.y
        mask[self.obs_index] = 1.0
        return y_grid, mask


def modulated_sine(grid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random smooth periodic field: a wave whose amplitude varies along the grid.

    ``(1 + a sin(x + p1)) sin(k x + p2) + c sin(2 x + p3)`` with random ``a, k, c, p``.
    """
    k = rng.integers(2, 5)
    a = rng.uniform(0.2, 0.6)
    c = rng.uniform(-0.4, 0.4)
    p1, p2, p3 = rng.uniform(0, 2 * np.pi, 3)
    return (1 + a * np.sin(grid + p1)) * np.sin(k * grid + p2) + c * np.sin(2 * grid + p3)


def make_toy1d_case(
    n: int,
    n_obs: int,
    sigma_o: float,
    rng: np.random.Generator,
    *,
    background: Literal["lecture", "sampled"] = "sampled",
    b_sqrt: np.ndarray | None = None,
) -> Toy1DCase:
    """Draw a truth, a background and sparse noisy point observations.

    Parameters
    ----------
    n, n_obs:
        Grid points and observed points (distinct, drawn at random).
    sigma_o:
        Observation-error standard deviation.
    background:
        ``"lecture"``: the truth shifted, smoothed and biased (a structured error);
        ``"sampled"``: truth plus a draw from ``N(0, B)`` with ``B = b_sqrt @ b_sqrt``,
        so that the 3D-Var statistics are exactly right.
    b_sqrt:
        Square root of ``B``, shape ``(n, n)``; needed for ``"sampled"``.
    """
    if not 0 < n_obs <= n:
        raise ConfigError(f"n_obs must be in 1..{n}, got {n_obs}")
    grid = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    truth = modulated_sine(grid, rng)
    if background == "lecture":
        shift = int(rng.integers(2, max(3, n // 16)))
        kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.5) ** 2)
        kernel /= kernel.sum()
        shifted = np.roll(truth, shift)
        padded = np.concatenate([shifted[-6:], shifted, shifted[:6]])
        xb = np.convolve(padded, kernel, mode="valid") + rng.uniform(0.1, 0.3)
    elif background == "sampled":
        if b_sqrt is None:
            raise ConfigError("background='sampled' needs b_sqrt (square root of B)")
        xb = truth + b_sqrt @ rng.standard_normal(n)
    else:
        raise ConfigError(f"background must be 'lecture' or 'sampled', got {background!r}")
    obs_index = np.sort(rng.choice(n, size=n_obs, replace=False))
    y = truth[obs_index] + sigma_o * rng.standard_normal(n_obs)
    return Toy1DCase(grid, truth, xb, obs_index, y, sigma_o)


@dataclass(frozen=True)
class PeriodicAdvection1D:
    """Linear advection-diffusion ``dq/dt = -u dq/dx + kappa d2q/dx2`` on a periodic grid.

    Centred second-order differences on ``n`` points of a circle of length ``2 pi``;
    RK4 in time. Being linear, its tangent-linear model is the (state-independent)
    step matrix, so the Kalman filter is exact for it.

    Parameters
    ----------
    n:
        Grid points.
    u, kappa:
        Advection speed (length / time) and diffusivity (length^2 / time).
    """

    n: int = 64
    u: float = 1.0
    kappa: float = 0.01

    @property
    def state_size(self) -> int:
        """``n``."""
        return self.n

    @property
    def operator(self) -> np.ndarray:
        """The tendency matrix ``A`` (``dq/dt = A q``), shape ``(n, n)``."""
        dx = 2 * np.pi / self.n
        eye = np.eye(self.n)
        right, left = np.roll(eye, 1, axis=1), np.roll(eye, -1, axis=1)
        return -self.u * (right - left) / (2 * dx) + self.kappa * (right - 2 * eye + left) / dx**2

    def step(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """One RK4 step for states ``(..., n)``."""
        return x @ self.tlm(x, t, dt).T

    def tlm(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """The RK4 step matrix ``I + hA + (hA)^2/2 + (hA)^3/6 + (hA)^4/24``, ``(n, n)``."""
        ha = dt * self.operator
        term = np.eye(self.n)
        total = term.copy()
        for k in range(1, 5):
            term = term @ ha / k
            total = total + term
        return total
