"""Sequential importance resampling (bootstrap) particle filter with regularization."""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, E) follow the DA literature

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


def scott_bandwidth(n_particles: int, dim: int) -> float:
    """Scott's rule-of-thumb kernel bandwidth factor ``N^(-1 / (dim + 4))`` (as DAPPER)."""
    return n_particles ** (-1 / (dim + 4))


def effective_size(weights: np.ndarray) -> float:
    """Effective sample size ``1 / sum(w^2)`` of normalised weights."""
    return float(1.0 / (weights @ weights))


def weighted_cov_root(E: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """A root ``C12`` ``(N, n)`` of the unbiased weighted covariance: ``C12.T @ C12``.

    Degenerate weights (one particle carrying all the mass) fall back to equal weights,
    so that the regularization noise never collapses to zero.
    """
    if 1.0 - weights.max() < 1e-10:
        weights = np.full(weights.size, 1.0 / weights.size)
    mu = weights @ E
    unbias = 1.0 / (1.0 - weights @ weights)
    return np.sqrt(unbias * weights)[:, None] * (E - mu)


def compact_root(C12: np.ndarray) -> np.ndarray:
    """A root ``(r, n)``, ``r = min(N, n)``, of ``C12.T @ C12`` for ``C12`` of shape ``(N, n)``.

    From the thin SVD ``C12 = U S V^T``: ``S V^T``. Noise drawn with it needs ``r``
    normal numbers per sample instead of ``N``. Each row's sign is fixed (first entry
    non-negative) so that the noise does not depend on the LAPACK build.
    """
    _, sig, vt = np.linalg.svd(C12, full_matrices=False)
    signs = np.where(vt[:, :1] < 0, -1.0, 1.0)
    return sig[:, None] * (signs * vt)


def duplicated(idx: np.ndarray) -> np.ndarray:
    """Mask ``(N,)`` of the sorted resampling indices that occur more than once.

    Every copy of a duplicated particle is marked, the first one included.
    """
    same_as_prev = np.r_[False, idx[1:] == idx[:-1]]
    same_as_next = np.r_[idx[1:] == idx[:-1], False]
    return same_as_prev | same_as_next


@dataclass
class ParticleFilter:
    """Bootstrap SIR particle filter: reweight by the likelihood, resample, propagate.

    The analysis is the weighted particle set (its mean and spread are what is scored,
    as in DAPPER). When the weights have degenerated, the particles are resampled
    (systematic resampling) and regularized just before they are next propagated.

    Parameters
    ----------
    N:
        Number of particles.
    resample_threshold:
        Resample when the effective sample size ``1 / sum(w^2)`` is at most this
        fraction of ``N`` (DAPPER's ``NER``).
    jitter:
        Regularization: after resampling, every particle that was drawn more than once
        (all of its copies) gets Gaussian noise with covariance ``(jitter * h)^2``
        times the unbiased weighted covariance of the particles before resampling, with
        Scott's bandwidth ``h = N^(-1 / (n + 4))``; 0 gives the plain bootstrap filter
        (DAPPER's ``reg``).
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
        return FilterState.from_ensemble(sample_gaussian(np.asarray(mean, float), cov, self.N, rng))

    def needs_resampling(self, state: FilterState) -> bool:
        """Whether the weights of ``state`` have degenerated (``None``: equal weights)."""
        w = state.weights
        return w is not None and effective_size(w) <= self.resample_threshold * self.N

    def resample(self, state: FilterState, rng: np.random.Generator) -> FilterState:
        """Systematic resampling and regularization: an equally weighted state."""
        E, w = state.ensemble, state.weights
        root = compact_root(weighted_cov_root(E, w))
        root *= self.jitter * scott_bandwidth(self.N, E.shape[1])
        idx = systematic_resample(w, rng)
        E = E[idx]
        if self.jitter > 0:
            dup = duplicated(idx)
            E[dup] += rng.standard_normal((int(dup.sum()), root.shape[0])) @ root
        return FilterState.from_ensemble(E)

    def forecast(
        self, state: FilterState, model: PrognosticModel, t: float, dt: float, rng: Any
    ) -> FilterState:
        """Resample if the last analysis left degenerate weights; advance every particle."""
        if self.needs_resampling(state):
            state = self.resample(state, rng)
        return FilterState.from_ensemble(model.step(state.ensemble, t, dt), state.weights)

    def analyse(
        self, state: FilterState, y: np.ndarray, obs: LinearObservation, rng: np.random.Generator
    ) -> FilterState:
        """Reweight by the Gaussian likelihood (Bayes' rule in log space)."""
        E = state.ensemble
        w = state.weights if state.weights is not None else np.full(self.N, 1.0 / self.N)
        innov = (y - obs(E)) @ sym_sqrt_inv(obs.R).T
        with np.errstate(divide="ignore"):
            logw = np.log(w) - 0.5 * np.sum(innov**2, axis=1)
        logw -= logw.max()
        w = np.exp(logw)
        w /= w.sum()
        return FilterState.from_ensemble(E, w)

    def mean(self, state: FilterState) -> np.ndarray:
        """Weighted particle mean."""
        return state.mean
