"""The filter state shared by the methods, and ensemble post-processing (inflation, rotation)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from wxai.core.typing import PrognosticModel


@dataclass(frozen=True)
class FilterState:
    """A method's current estimate.

    Attributes
    ----------
    mean:
        State estimate, ``(n,)``.
    cov:
        Error covariance ``(n, n)`` (Kalman filter, 3D-Var's static analysis covariance).
    ensemble:
        Members ``(N, n)`` (EnKF, LETKF, particle filter).
    weights:
        Normalised particle weights ``(N,)`` (particle filter; ``None``: equal weights).
    """

    mean: np.ndarray
    cov: np.ndarray | None = None
    ensemble: np.ndarray | None = None
    weights: np.ndarray | None = None

    @classmethod
    def from_ensemble(cls, ensemble: np.ndarray, weights: np.ndarray | None = None) -> FilterState:
        """State whose mean is the (weighted) ensemble mean."""
        mean = ensemble.mean(axis=0) if weights is None else weights @ ensemble
        return cls(mean=mean, ensemble=ensemble, weights=weights)

    def with_(self, **changes: object) -> FilterState:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    @property
    def spread(self) -> float:
        """RMS over components of the ensemble (or covariance) standard deviation."""
        if self.ensemble is not None:
            anomalies = self.ensemble - self.mean
            if self.weights is None:
                n = self.ensemble.shape[0]
                var = (anomalies**2).sum(axis=0) / max(n - 1, 1)
            else:
                # Unbiased weighted variance (reliability weights), except for
                # collapsed weights where the factor would blow up.
                w2 = float(self.weights @ self.weights)
                unbias = 1.0 / (1.0 - w2) if w2 < 1.0 - 1e-10 else 1.0
                var = unbias * (self.weights @ anomalies**2)
            return float(np.sqrt(var.mean()))
        if self.cov is not None:
            return float(np.sqrt(np.clip(np.diag(self.cov), 0.0, None).mean()))
        return float("nan")


def mean_preserving_rotation(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal ``(n, n)`` matrix ``Q`` with ``Q 1 = 1``.

    Applied to ensemble anomalies it mixes the members without changing the
    mean or the covariance (DAPPER's ``rot=True``), which breaks the tendency of
    symmetric square-root filters to concentrate the spread in a few members.
    """
    if n < 2:
        return np.eye(n)
    ones = np.ones((n, 1)) / np.sqrt(n)
    # Orthonormal basis of the complement of the ones vector.
    q, _ = np.linalg.qr(np.hstack([ones, rng.standard_normal((n, n - 1))]))
    basis = q[:, 1:]
    g, r = np.linalg.qr(rng.standard_normal((n - 1, n - 1)))
    haar = g * np.sign(np.diag(r))  # Haar-distributed orthogonal matrix
    return ones @ ones.T + basis @ haar @ basis.T


def post_process(
    ensemble: np.ndarray, inflation: float, rotate: bool, rng: np.random.Generator
) -> np.ndarray:
    """Multiplicative inflation of the anomalies (and optional random rotation), mean kept.

    Parameters
    ----------
    ensemble:
        Members ``(N, n)``.
    inflation:
        Factor on the anomalies (1.02 inflates the spread by 2 %).
    rotate:
        Apply :func:`mean_preserving_rotation` to the anomalies.
    """
    if inflation == 1.0 and not rotate:
        return ensemble
    mu = ensemble.mean(axis=0)
    anomalies = ensemble - mu
    if rotate:
        anomalies = mean_preserving_rotation(ensemble.shape[0], rng) @ anomalies
    return mu + inflation * anomalies


def sample_gaussian(
    mean: np.ndarray, cov: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` draws from ``N(mean, cov)``, shape ``(size, n)`` (cov may be singular)."""
    lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
    root = vec * np.sqrt(np.clip(lam, 0.0, None))
    return mean + rng.standard_normal((size, mean.size)) @ root.T


class EnsembleMembers:
    """Mixin of ensemble methods: ``N`` members drawn from the prior, each advanced alone."""

    N: int

    def initialize(
        self, mean: np.ndarray, cov: np.ndarray, rng: np.random.Generator
    ) -> FilterState:
        """Draw ``N`` members from ``N(mean, cov)``."""
        return FilterState.from_ensemble(sample_gaussian(np.asarray(mean, float), cov, self.N, rng))

    def forecast(
        self, state: FilterState, model: PrognosticModel, t: float, dt: float, rng: Any
    ) -> FilterState:
        """Advance every member."""
        return FilterState.from_ensemble(model.step(state.ensemble, t, dt))
