"""Sequential importance resampling (bootstrap) particle filter with regularization."""

# ruff: noqa: N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wxai.core.errors import ConfigError
from wxai.core.typing import PrognosticModel
from wxai.da.methods.base import FilterState, sample_gaussian
from wxai.da.methods.enkf import sym_sqrt_inv
from wxai.da.operators import LinearObservation


def systematic_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices ``(N,)`` drawn by systematic resampling (one uniform offset), sorted."""
    n = weights.size
    positions = (np.arange(n) + rng.random()) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions)


def silverman_bandwidth(n_particles: int, dim: int) -> float:
    """Silverman's rule-of-thumb kernel bandwidth factor for ``dim`` dimensions."""
    return (4 / (dim + 2)) ** (1 / (dim + 4)) * n_particles ** (-1 / (dim + 4))


@dataclass
class ParticleFilter:
    """Bootstrap SIR particle filter: propagate, reweight by the likelihood, resample.

    Parameters
    ----------
    N:
        Number of particles.
    resample_threshold:
        Resample when the effective sample size ``1 / sum(w^2)`` drops below this
        fraction of ``N`` (DAPPER's ``NER``).
    jitter:
        Regularization: after resampling, duplicated particles get Gaussian noise with
        covariance ``(jitter * h)^2`` times the weighted ensemble covariance (``h`` is
        Silverman's bandwidth); 0 gives the plain bootstrap filter (DAPPER's ``reg``).
    label:
        Metric name.
    """

    N: int
    resample_threshold: float = 0.3
    jitter: float = 2.4
    label: str = "pf"

    def __post_init__(self) -> None:
        if self.N < 2 or not 0 < self.resample_threshold <= 1 or self.jitter < 0:
            raise ConfigError("particle filter needs N >= 2, 0 < threshold <= 1 and jitter >= 0")

    @property
    def name(self) -> str:
        """Metric label."""
        return self.label

    def initialize(
        self, mean: np.ndarray, cov: np.ndarray, rng: np.random.Generator
    ) -> FilterState:
        """Draw ``N`` equally weighted particles from ``N(mean, cov)``."""
        E = sample_gaussian(np.asarray(mean, float), cov, self.N, rng)
        return FilterState.from_ensemble(E, np.full(self.N, 1.0 / self.N))

    def forecast(
        self, state: FilterState, model: PrognosticModel, t: float, dt: float, rng: Any
    ) -> FilterState:
        """Advance every particle; weights unchanged."""
        return FilterState.from_ensemble(model.step(state.ensemble, t, dt), state.weights)

    def analyse(
        self, state: FilterState, y: np.ndarray, obs: LinearObservation, rng: np.random.Generator
    ) -> FilterState:
        """Reweight by the Gaussian likelihood; resample and jitter when degenerate."""
        E, w = state.ensemble, state.weights
        innov = (y - obs(E)) @ sym_sqrt_inv(obs.R).T
        logw = np.log(np.clip(w, 1e-300, None)) - 0.5 * np.sum(innov**2, axis=1)
        logw -= logw.max()
        w = np.exp(logw)
        w /= w.sum()
        if 1.0 / np.sum(w**2) < self.resample_threshold * self.N:
            mu = w @ E
            unbias = 1.0 / max(1.0 - np.sum(w**2), 1e-12)
            root = np.sqrt(unbias * w)[:, None] * (E - mu)  # root.T @ root: weighted covariance
            root *= self.jitter * silverman_bandwidth(self.N, E.shape[1])
            idx = systematic_resample(w, rng)
            E = E[idx]
            duplicate = np.r_[False, idx[1:] == idx[:-1]]
            E[duplicate] += rng.standard_normal((int(duplicate.sum()), self.N)) @ root
            w = np.full(self.N, 1.0 / self.N)
        return FilterState.from_ensemble(E, w)

    def mean(self, state: FilterState) -> np.ndarray:
        """Weighted particle mean."""
        return state.mean
