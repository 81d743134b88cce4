"""The Lorenz (1963) three-variable convection model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wxai.da.models.integrators import rk4_step, rk4_tangent


@dataclass(frozen=True)
class Lorenz63:
    """``dx/dt = sigma (y - x)``, ``dy/dt = x (rho - z) - y``, ``dz/dt = x y - beta z``.

    Parameters
    ----------
    sigma, rho, beta:
        The classical chaotic values 10, 28 and 8/3 by default.

    Notes
    -----
    States have shape ``(..., 3)``; :meth:`step` is one RK4 step, so an ensemble of
    shape ``(N, 3)`` advances in one call. Time is dimensionless.
    """

    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0

    @property
    def state_size(self) -> int:
        """3."""
        return 3

    def rhs(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Tendency of ``x`` with shape ``(..., 3)``."""
        a, b, c = x[..., 0], x[..., 1], x[..., 2]
        out = np.empty(np.shape(x), dtype=np.result_type(x, float))
        out[..., 0] = self.sigma * (b - a)
        out[..., 1] = a * (self.rho - c) - b
        out[..., 2] = a * b - self.beta * c
        return out

    def jacobian(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Jacobian of :meth:`rhs` at one state ``x`` (shape ``(3,)``), shape ``(3, 3)``."""
        a, b, c = x
        return np.array(
            [
                [-self.sigma, self.sigma, 0.0],
                [self.rho - c, -1.0, -a],
                [b, a, -self.beta],
            ]
        )

    def step(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """One RK4 step of length ``dt`` for states of shape ``(..., 3)``."""
        return rk4_step(self.rhs, x, t, dt)

    def tlm(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """Tangent-linear model of :meth:`step` at ``x`` (shape ``(3,)``): a ``(3, 3)`` matrix."""
        return rk4_tangent(self.rhs, self.jacobian, x, t, dt)
