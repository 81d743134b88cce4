"""The Lorenz (1996) ring of ``n`` variables with constant forcing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wxai.da.models.integrators import rk4_step, rk4_tangent


@dataclass(frozen=True)
class Lorenz96:
    """``dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F`` on a periodic ring.

    Parameters
    ----------
    n:
        Number of variables (40 in the standard setting).
    forcing:
        ``F``; 8 gives chaotic behaviour with about 13 positive Lyapunov exponents for n = 40.

    Notes
    -----
    States have shape ``(..., n)``; the variable index is a periodic 1D coordinate
    (used for localization: neighbouring indices are one grid unit apart).
    """

    n: int = 40
    forcing: float = 8.0

    @property
    def state_size(self) -> int:
        """``n``."""
        return self.n

    def rhs(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Tendency of ``x`` with shape ``(..., n)``."""
        return (
            (np.roll(x, -1, axis=-1) - np.roll(x, 2, axis=-1)) * np.roll(x, 1, axis=-1)
            - x
            + self.forcing
        )

    def jacobian(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Jacobian of :meth:`rhs` at one state ``x`` (shape ``(n,)``), shape ``(n, n)``."""
        n = self.n
        idx = np.arange(n)
        jac = -np.eye(n)
        jac[idx, (idx + 1) % n] += x[(idx - 1) % n]
        jac[idx, (idx - 2) % n] -= x[(idx - 1) % n]
        jac[idx, (idx - 1) % n] += x[(idx + 1) % n] - x[(idx - 2) % n]
        return jac

    def step(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """One RK4 step of length ``dt`` for states of shape ``(..., n)``."""
        return rk4_step(self.rhs, x, t, dt)

    def tlm(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """Tangent-linear model of :meth:`step` at ``x`` (shape ``(n,)``): ``(n, n)``."""
        return rk4_tangent(self.rhs, self.jacobian, x, t, dt)
