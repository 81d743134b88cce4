"""Classical fourth-order Runge-Kutta step and its tangent-linear (Jacobian) propagation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RHS = Callable[[np.ndarray, float], np.ndarray]
Jacobian = Callable[[np.ndarray, float], np.ndarray]


def rk4_step(rhs: RHS, x: np.ndarray, t: float, dt: float) -> np.ndarray:
    """One RK4 step of ``dx/dt = rhs(x, t)``.

    Parameters
    ----------
    rhs:
        Tendency ``(x, t) -> dx/dt``, applied to arrays of shape ``(..., n)``.
    x:
        State(s), shape ``(..., n)``.
    t, dt:
        Start time and step length (model time units).

    Returns
    -------
    numpy.ndarray
        The state at ``t + dt``, shape ``(..., n)``.
    """
    k1 = rhs(x, t)
    k2 = rhs(x + 0.5 * dt * k1, t + 0.5 * dt)
    k3 = rhs(x + 0.5 * dt * k2, t + 0.5 * dt)
    k4 = rhs(x + dt * k3, t + dt)
    return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def rk4_tangent(rhs: RHS, jac: Jacobian, x: np.ndarray, t: float, dt: float) -> np.ndarray:
    """Jacobian ``d x(t+dt) / d x(t)`` of one RK4 step (the tangent-linear model).

    The derivative is propagated exactly through the four stages (chain rule), so
    it is the Jacobian of the discrete step :func:`rk4_step`, not of the ODE flow.

    Parameters
    ----------
    rhs, jac:
        Tendency ``(x, t) -> (n,)`` and its Jacobian ``(x, t) -> (n, n)``.
    x:
        One state, shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Matrix of shape ``(n, n)``.
    """
    eye = np.eye(x.shape[-1])
    k1 = rhs(x, t)
    d1 = jac(x, t)
    x2 = x + 0.5 * dt * k1
    k2 = rhs(x2, t + 0.5 * dt)
    d2 = jac(x2, t + 0.5 * dt) @ (eye + 0.5 * dt * d1)
    x3 = x + 0.5 * dt * k2
    k3 = rhs(x3, t + 0.5 * dt)
    d3 = jac(x3, t + 0.5 * dt) @ (eye + 0.5 * dt * d2)
    x4 = x + dt * k3
    d4 = jac(x4, t + dt) @ (eye + dt * d3)
    return eye + (dt / 6.0) * (d1 + 2.0 * d2 + 2.0 * d3 + d4)
