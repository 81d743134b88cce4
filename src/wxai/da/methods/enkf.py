"""Ensemble Kalman filters: perturbed observations (stochastic) and square root (ETKF)."""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg

from wxai.core.errors import ConfigError
from wxai.da.methods.base import EnsembleMembers, FilterState, post_process
from wxai.da.operators import LinearObservation


def sym_sqrt_inv(R: np.ndarray) -> np.ndarray:
    """Symmetric ``R^{-1/2}``, ``(m, m)``."""
    lam, vec = scipy.linalg.eigh(R)
    return (vec / np.sqrt(lam)) @ vec.T


def etkf_transform(Y: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ETKF weights in ensemble space from normalised obs anomalies.

    Parameters
    ----------
    Y:
        Observation-space anomalies scaled by ``R^{-1/2}``, ``(N, m)``.
    dy:
        Normalised innovation ``R^{-1/2} (y - mean(H E))``, ``(m,)``.

    Returns
    -------
    tuple
        Mean weights ``w`` ``(N,)`` and the symmetric transform ``T`` ``(N, N)``:
        the analysis is ``mu + w @ A + T @ A`` for anomalies ``A`` ``(N, n)``.
    """
    n_ens = Y.shape[0]
    n1 = n_ens - 1
    d, V = scipy.linalg.eigh(Y @ Y.T + n1 * np.eye(n_ens))
    Pw = (V / d) @ V.T
    T = (V / np.sqrt(d)) @ V.T * np.sqrt(n1)
    w = dy @ Y.T @ Pw
    return w, T


@dataclass
class EnKF(EnsembleMembers):
    """Ensemble Kalman filter with ``N`` members.

    Parameters
    ----------
    N:
        Ensemble size.
    variant:
        ``"sqrt"``: deterministic symmetric square root (ETKF);
        ``"pertobs"``: stochastic update with perturbed observations (Burgers et al. 1998).
    inflation:
        Multiplicative anomaly inflation, applied after each analysis (as DAPPER does).
    rotate:
        Random mean-preserving rotation of the analysis anomalies after each analysis.
    label:
        Metric name (default ``enkf_<variant>``).
    """

    N: int
    variant: Literal["sqrt", "pertobs"] = "sqrt"
    inflation: float = 1.0
    rotate: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.N < 2:
            raise ConfigError(f"an ensemble needs N >= 2 members, got {self.N}")
        if self.variant not in ("sqrt", "pertobs"):
            raise ConfigError(f"variant must be 'sqrt' or 'pertobs', got {self.variant!r}")
        if self.inflation <= 0:
            raise ConfigError(f"inflation must be > 0, got {self.inflation}")

    @property
    def name(self) -> str:
        """Metric label."""
        return self.label or f"enkf_{self.variant}"

    def analyse(
        self, state: FilterState, y: np.ndarray, obs: LinearObservation, rng: np.random.Generator
    ) -> FilterState:
        """EnKF analysis followed by inflation and rotation."""
        E = state.ensemble
        n_ens = E.shape[0]
        n1 = n_ens - 1
        mu = E.mean(axis=0)
        A = E - mu
        Eo = obs(E)
        xo = Eo.mean(axis=0)
        Y = Eo - xo
        if self.variant == "pertobs":
            C = Y.T @ Y + n1 * obs.R
            D = rng.standard_normal((n_ens, obs.n_obs)) @ np.linalg.cholesky(obs.R).T
            # Centre the perturbations (the mean update is then the EnKF's Kalman update)
            # and rescale them by sqrt(N / (N - 1)) so that each member's perturbation
            # keeps the variance R that centring reduces (as DAPPER's ``mean0``).
            D = (D - D.mean(axis=0)) * np.sqrt(n_ens / n1)
            YC = np.linalg.solve(C, Y.T).T  # Y C^{-1}, (N, m)
            gain = A.T @ YC  # (n, m)
            E = E + (y - D - Eo) @ gain.T
        else:
            r12 = sym_sqrt_inv(obs.R)
            w, T = etkf_transform(Y @ r12.T, (y - xo) @ r12.T)
            E = mu + w @ A + T @ A
        E = post_process(E, self.inflation, self.rotate, rng)
        return FilterState.from_ensemble(E)

    def mean(self, state: FilterState) -> np.ndarray:
        """Ensemble mean."""
        return state.mean
