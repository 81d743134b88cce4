"""The (extended) Kalman filter."""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wxai.core.errors import ConfigError
from wxai.core.typing import PrognosticModel
from wxai.da.methods.base import FilterState
from wxai.da.operators import LinearObservation


def kalman_gain(P: np.ndarray, H: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``K = P H^T (H P H^T + R)^{-1}``, shape ``(n, m)``."""
    s = H @ P @ H.T + R
    return np.linalg.solve(s, H @ P).T


@dataclass
class KalmanFilter:
    """Kalman filter; extended (tangent-linear covariance propagation) for nonlinear models.

    Parameters
    ----------
    Q:
        Model-error covariance added per model step ``(n, n)`` (``None``: perfect model).
    inflation:
        Multiplicative factor on ``P`` after each analysis (1: none).
    label:
        Name used for metrics.

    Notes
    -----
    The model must provide ``tlm(x, t, dt)`` (the Jacobian of one step). The
    covariance update uses the Joseph form, which keeps ``P`` symmetric positive.
    """

    Q: np.ndarray | None = None
    inflation: float = 1.0
    label: str = "kf"

    @property
    def name(self) -> str:
        """Metric label."""
        return self.label

    def initialize(self, mean: np.ndarray, cov: np.ndarray, rng: Any) -> FilterState:
        """Start from the prior ``N(mean, cov)``."""
        return FilterState(mean=np.asarray(mean, float).copy(), cov=np.asarray(cov, float).copy())

    def forecast(
        self, state: FilterState, model: PrognosticModel, t: float, dt: float, rng: Any
    ) -> FilterState:
        """``x <- M(x)``, ``P <- M' P M'^T + Q``."""
        tlm = getattr(model, "tlm", None)
        if tlm is None:
            raise ConfigError(f"{type(model).__name__} has no tlm(); the Kalman filter needs one")
        M = tlm(state.mean, t, dt)
        P = M @ state.cov @ M.T
        if self.Q is not None:
            P = P + self.Q
        return FilterState(mean=model.step(state.mean, t, dt), cov=0.5 * (P + P.T))

    def analyse(
        self, state: FilterState, y: np.ndarray, obs: LinearObservation, rng: Any
    ) -> FilterState:
        """Kalman update of mean and covariance."""
        H = obs.jacobian(state.mean)
        K = kalman_gain(state.cov, H, obs.R)
        mean = state.mean + K @ (y - obs(state.mean))
        ikh = np.eye(mean.size) - K @ H
        P = ikh @ state.cov @ ikh.T + K @ obs.R @ K.T
        P = self.inflation * 0.5 * (P + P.T)
        return FilterState(mean=mean, cov=P)

    def mean(self, state: FilterState) -> np.ndarray:
        """The mean."""
        return state.mean
