"""Linear observation operators ``y = H x + eps``, ``eps ~ N(0, R)``.

Every operator here is a :class:`LinearObservation`: a matrix ``H`` (``(m, n)``), an
error covariance ``R`` (``(m, m)``) and, for localization, the positions of the
observations and of the state variables in a shared coordinate. Constructors build
the operators of the course: point sampling, partial components (fixed or a random
subset per cycle), radiosonde columns, satellite channels with Gaussian vertical
weights and sparse observations on a graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wxai.core.errors import ConfigError


@dataclass(frozen=True)
class LinearObservation:
    """A linear observation operator with Gaussian errors.

    Attributes
    ----------
    H:
        Observation matrix, shape ``(m, n)``.
    R:
        Observation-error covariance, shape ``(m, m)``.
    obs_positions, state_positions:
        Coordinates used by localization, shapes ``(m,)`` and ``(n,)`` (or ``None``).
    period:
        Length of a periodic coordinate (``None`` if not periodic).
    """

    H: np.ndarray
    R: np.ndarray
    obs_positions: np.ndarray | None = None
    state_positions: np.ndarray | None = None
    period: float | None = None

    def __post_init__(self) -> None:
        m = self.H.shape[0]
        if self.H.ndim != 2 or self.R.shape != (m, m):
            raise ConfigError(f"H must be (m, n) and R (m, m); got {self.H.shape}, {self.R.shape}")

    @property
    def n_obs(self) -> int:
        """``m``."""
        return self.H.shape[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``H x`` for states ``(..., n)``; returns ``(..., m)``."""
        return x @ self.H.T

    def jacobian(self, x: np.ndarray | None = None) -> np.ndarray:
        """``H`` (the operator is linear)."""
        return self.H

    def sample(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy observations ``H x + eps`` of one state ``(n,)``; shape ``(m,)``."""
        return self(x) + np.linalg.cholesky(self.R) @ rng.standard_normal(self.n_obs)

    def distances(self) -> np.ndarray:
        """Distances state -> observation, shape ``(n, m)`` (needs the positions)."""
        if self.obs_positions is None or self.state_positions is None:
            raise ConfigError("this operator has no positions; localization needs them")
        d = np.abs(self.state_positions[:, None] - self.obs_positions[None, :])
        if self.period is not None:
            d = np.minimum(d % self.period, self.period - d % self.period)
        return d


def _diag_r(m: int, sigma: float | np.ndarray) -> np.ndarray:
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (m,))
    if np.any(sigma <= 0):
        raise ConfigError("observation-error standard deviations must be > 0")
    return np.diag(sigma**2)


def point_sampling(
    n: int, index: np.ndarray, sigma: float | np.ndarray, *, periodic: bool = True
) -> LinearObservation:
    """Observe grid points ``index`` of an ``n``-point (periodic) 1D grid directly.

    Positions are grid indices, so localization radii are in grid units.
    """
    index = np.asarray(index, dtype=int)
    if index.size == 0 or index.min() < 0 or index.max() >= n:
        raise ConfigError(f"observation indices must lie in 0..{n - 1}")
    h = np.zeros((index.size, n))
    h[np.arange(index.size), index] = 1.0
    return LinearObservation(
        h,
        _diag_r(index.size, sigma),
        obs_positions=index.astype(float),
        state_positions=np.arange(n, dtype=float),
        period=float(n) if periodic else None,
    )


def partial_components(
    n: int, components: list[int] | np.ndarray, variance: float
) -> LinearObservation:
    """Observe some components of a state vector (e.g. x1 and x2 of Lorenz-63), ``R = variance I``.

    All components with ``variance`` 2 give DAPPER's Lorenz-63 operator.
    """
    return point_sampling(n, np.asarray(components), np.sqrt(variance), periodic=True)


def random_subset(
    n: int, n_observed: int, variance: float, rng: np.random.Generator
) -> LinearObservation:
    """A new random subset of ``n_observed`` of the ``n`` components (draw one per cycle)."""
    if not 0 < n_observed <= n:
        raise ConfigError(f"n_observed must be in 1..{n}, got {n_observed}")
    picked = np.sort(rng.choice(n, size=n_observed, replace=False))
    return partial_components(n, picked, variance)


def station_columns(nx: int, n_stations: int) -> np.ndarray:
    """Evenly spaced station columns ``(2 k + 1) nx // (2 n_stations)``, ``(n_stations,)``.

    Every station sits in the middle of its share of the ``nx`` periodic columns.
    """
    if not 0 < n_stations <= nx:
        raise ConfigError(f"n_stations must be in 1..{nx}, got {n_stations}")
    return (2 * np.arange(n_stations) + 1) * nx // (2 * n_stations)


def radiosonde_columns(
    nx: int, nz: int, columns: np.ndarray, levels: np.ndarray, sigma: float
) -> LinearObservation:
    """Profiles at station columns ``columns`` and levels ``levels`` of an ``(nz, nx)`` grid.

    Observations are ordered station-major (``yrs[station, level]`` flattened); the
    state is flattened ``iz * nx + ix``. Positions are the column indices (periodic in x).
    """
    columns, levels = np.asarray(columns, dtype=int), np.asarray(levels, dtype=int)
    if columns.min() < 0 or columns.max() >= nx or levels.min() < 0 or levels.max() >= nz:
        raise ConfigError(f"stations must lie in 0..{nx - 1} and levels in 0..{nz - 1}")
    flat = (levels[None, :] * nx + columns[:, None]).ravel()
    h = np.zeros((flat.size, nx * nz))
    h[np.arange(flat.size), flat] = 1.0
    return LinearObservation(
        h,
        _diag_r(flat.size, sigma),
        obs_positions=np.repeat(columns, levels.size).astype(float),
        state_positions=np.tile(np.arange(nx), nz).astype(float),
        period=float(nx),
    )


def satellite_weights(z: np.ndarray, peaks: np.ndarray, width: float) -> np.ndarray:
    """Gaussian vertical weighting functions, one per channel, normalised to unit integral.

    Parameters
    ----------
    z:
        Level heights, ``(nz,)`` (equally spaced).
    peaks, width:
        Peak height of each channel ``(c,)`` and the common Gaussian width (units of ``z``).

    Returns
    -------
    numpy.ndarray
        ``w[c, k]`` such that ``sum_k w[c, k] dz = 1``; shape ``(c, nz)``.
    """
    dz = float(z[1] - z[0])
    w = np.exp(-0.5 * ((z[None, :] - np.asarray(peaks)[:, None]) / width) ** 2)
    return w / (w.sum(axis=1, keepdims=True) * dz)


def satellite_channels(
    nx: int, z: np.ndarray, weights: np.ndarray, sigma: float
) -> LinearObservation:
    """Vertically weighted integrals ``y[c, ix] = sum_k w[c, k] phi[k, ix] dz`` in every column.

    Observations are ordered channel-major (``ysat[channel, x]`` flattened).
    """
    n_channels, nz = weights.shape
    dz = float(z[1] - z[0])
    h = np.zeros((n_channels, nx, nz, nx))
    for ix in range(nx):
        h[:, ix, :, ix] = weights * dz
    h = h.reshape(n_channels * nx, nz * nx)
    return LinearObservation(
        h,
        _diag_r(n_channels * nx, sigma),
        obs_positions=np.tile(np.arange(nx), n_channels).astype(float),
        state_positions=np.tile(np.arange(nx), nz).astype(float),
        period=float(nx),
    )


def graph_observations(
    node_positions: np.ndarray, obs_positions: np.ndarray, sigma: float, *, k: int = 3
) -> LinearObservation:
    """Sparse observations at arbitrary points, interpolated from the ``k`` nearest graph nodes.

    Inverse-distance weights (rows of ``H`` sum to 1); an observation on a node
    reads that node exactly.

    Parameters
    ----------
    node_positions:
        Node coordinates, ``(n, d)``.
    obs_positions:
        Observation coordinates, ``(m, d)``.
    """
    nodes = np.asarray(node_positions, dtype=float)
    points = np.asarray(obs_positions, dtype=float)
    if nodes.ndim != 2 or points.ndim != 2 or nodes.shape[1] != points.shape[1]:
        raise ConfigError("node and observation positions must be (n, d) and (m, d)")
    k = min(k, nodes.shape[0])
    dist = np.linalg.norm(points[:, None, :] - nodes[None, :, :], axis=-1)
    nearest = np.argsort(dist, axis=1)[:, :k]
    h = np.zeros((points.shape[0], nodes.shape[0]))
    for i, idx in enumerate(nearest):
        d = dist[i, idx]
        if d[0] < 1e-12:
            h[i, idx[0]] = 1.0
        else:
            w = 1.0 / d
            h[i, idx] = w / w.sum()
    return LinearObservation(h, _diag_r(points.shape[0], sigma))
