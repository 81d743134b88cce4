"""3D-Var: the closed-form (BLUE) analysis, and the iterative solve in control-variable space."""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from wxai.core.errors import ConfigError
from wxai.core.typing import PrognosticModel
from wxai.da.covariance import sqrtm_psd
from wxai.da.methods.base import FilterState
from wxai.da.operators import LinearObservation


def var3d_analysis(
    xb: np.ndarray, B: np.ndarray, H: np.ndarray, R: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Closed-form minimizer ``x_a = x_b + B H^T (H B H^T + R)^{-1} (y - H x_b)``.

    Parameters
    ----------
    xb:
        Background(s), ``(n,)`` or ``(batch, n)``.
    B, H, R:
        ``(n, n)``, ``(m, n)``, ``(m, m)``.
    y:
        Observations, ``(m,)`` or ``(batch, m)``.
    """
    d = y - xb @ H.T
    s = H @ B @ H.T + R
    return xb + np.linalg.solve(s, d.T).T @ (B @ H.T).T


def var3d_cost(  # noqa: PLR0917 - the arguments of J in their usual order
    x: np.ndarray,
    xb: np.ndarray,
    B_inv: np.ndarray,
    H: np.ndarray,
    R_inv: np.ndarray,
    y: np.ndarray,
) -> float:
    """``J(x) = 1/2 (x - x_b)^T B^-1 (x - x_b) + 1/2 (y - H x)^T R^-1 (y - H x)``."""
    dx = x - xb
    d = y - H @ x
    return float(0.5 * dx @ B_inv @ dx + 0.5 * d @ R_inv @ d)


def var3d_control_cg(
    xb: np.ndarray,
    B_sqrt: np.ndarray,
    H: np.ndarray,
    R: np.ndarray,
    y: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 500,
) -> tuple[np.ndarray, int]:
    """Minimize 3D-Var iteratively in the control variable ``v`` (``x = x_b + B^{1/2} v``).

    ``J(v) = 1/2 v^T v + 1/2 (d - L v)^T R^-1 (d - L v)`` with ``L = H B^{1/2}`` is
    solved by conjugate gradients on the well-conditioned Hessian ``I + L^T R^-1 L``
    (no ``B^-1`` needed).

    Returns
    -------
    tuple
        The analysis ``(n,)`` and the number of CG iterations.
    """
    L = H @ B_sqrt
    r_inv_l = np.linalg.solve(R, L)
    d = y - H @ xb

    def hess(v: np.ndarray) -> np.ndarray:
        return v + L.T @ (r_inv_l @ v)

    rhs = r_inv_l.T @ d
    v = np.zeros_like(rhs)
    res = rhs - hess(v)
    p = res.copy()
    rs = res @ res
    norm0 = np.sqrt(rs) or 1.0
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        hp = hess(p)
        alpha = rs / (p @ hp)
        v = v + alpha * p
        res = res - alpha * hp
        rs_new = res @ res
        if np.sqrt(rs_new) < tol * norm0:
            break
        p = res + (rs_new / rs) * p
        rs = rs_new
    return xb + B_sqrt @ v, it


@dataclass
class Var3D:
    """Cycled 3D-Var with a static background-error covariance.

    Parameters
    ----------
    B:
        Background-error covariance ``(n, n)`` (e.g. ``0.1 * cov(truth)``).
    solver:
        ``"closed"`` (BLUE formula) or ``"cg"`` (conjugate gradients in control space).
    label:
        Name used for metrics.

    Notes
    -----
    The forecast advances the mean only; the analysis covariance
    ``(I - K H) B`` is kept for the spread diagnostic.
    """

    B: np.ndarray
    solver: Literal["closed", "cg"] = "closed"
    label: str = "3dvar"
    _sqrt: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.solver not in ("closed", "cg"):
            raise ConfigError(f"solver must be 'closed' or 'cg', got {self.solver!r}")

    @property
    def name(self) -> str:
        """Metric label."""
        return self.label

    def initialize(
        self, mean: np.ndarray, cov: np.ndarray, rng: np.random.Generator
    ) -> FilterState:
        """Start from the prior mean (as DAPPER's ``Var3D``)."""
        return FilterState(mean=np.asarray(mean, dtype=float).copy(), cov=self.B)

    def forecast(
        self, state: FilterState, model: PrognosticModel, t: float, dt: float, rng: Any
    ) -> FilterState:
        """Advance the mean."""
        return state.with_(mean=model.step(state.mean, t, dt))

    def analyse(
        self, state: FilterState, y: np.ndarray, obs: LinearObservation, rng: Any
    ) -> FilterState:
        """3D-Var analysis of ``state.mean`` with ``B``."""
        H = obs.jacobian(state.mean)
        if self.solver == "closed":
            xa = var3d_analysis(state.mean, self.B, H, obs.R, y)
        else:
            if self._sqrt is None:
                self._sqrt = sqrtm_psd(self.B)
            xa, _ = var3d_control_cg(state.mean, self._sqrt, H, obs.R, y)
        return state.with_(mean=xa)

    def mean(self, state: FilterState) -> np.ndarray:
        """The analysis/forecast mean."""
        return state.mean
