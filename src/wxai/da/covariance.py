"""Background-error covariances: Gaussian correlations, square roots, spectral regularization."""

from __future__ import annotations

import numpy as np

from wxai.core.errors import ConfigError


def periodic_distance(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    """Shortest distance between positions ``a`` and ``b`` on a circle of length ``period``.

    Shapes broadcast; the result is in the units of the inputs.
    """
    d = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) % period
    return np.minimum(d, period - d)


def gaussian_covariance_1d(
    n: int, length_scale: float, sigma: float, *, dx: float = 1.0, periodic: bool = True
) -> np.ndarray:
    """Covariance ``sigma^2 exp(-d^2 / (2 L^2))`` between the points of a 1D grid.

    Parameters
    ----------
    n:
        Number of grid points, spacing ``dx``.
    length_scale:
        ``L`` (same unit as ``dx``).
    sigma:
        Standard deviation (state units).
    periodic:
        Distances wrap around (the grid is a circle of length ``n dx``).

    Returns
    -------
    numpy.ndarray
        Symmetric matrix of shape ``(n, n)``.
    """
    if length_scale <= 0 or sigma <= 0:
        raise ConfigError(f"length_scale and sigma must be > 0, got {length_scale}, {sigma}")
    pos = np.arange(n) * dx
    if periodic:
        d = periodic_distance(pos[:, None], pos[None, :], n * dx)
    else:
        d = np.abs(pos[:, None] - pos[None, :])
    return sigma**2 * np.exp(-0.5 * (d / length_scale) ** 2)


def gaussian_covariance_2d(
    x: np.ndarray,
    z: np.ndarray,
    length_x: float,
    length_z: float,
    sigma: float,
    *,
    period_x: float | None = None,
) -> np.ndarray:
    """Separable Gaussian covariance on an ``(nz, nx)`` grid, flattened ``iz * nx + ix``.

    Parameters
    ----------
    x, z:
        Coordinates of the columns (``nx``) and levels (``nz``), e.g. in km.
    length_x, length_z:
        Correlation lengths in the units of ``x`` and ``z``.
    period_x:
        Domain length for periodic distances in x (``None``: not periodic).

    Returns
    -------
    numpy.ndarray
        Shape ``(nz * nx, nz * nx)``: ``B = sigma^2 C_z kron C_x``.
    """
    dx = np.abs(x[:, None] - x[None, :])
    if period_x is not None:
        dx = periodic_distance(x[:, None], x[None, :], period_x)
    dz = np.abs(z[:, None] - z[None, :])
    cx = np.exp(-0.5 * (dx / length_x) ** 2)
    cz = np.exp(-0.5 * (dz / length_z) ** 2)
    return sigma**2 * np.kron(cz, cx)


def spectral_regularization(
    cov: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floor the eigenvalues of ``cov`` at ``alpha * max eigenvalue``.

    Gaussian covariances are numerically singular; flooring the spectrum gives a
    well-conditioned ``B_reg`` (condition number <= ``1 / alpha``) with an explicit inverse.

    Returns
    -------
    tuple of numpy.ndarray
        ``(B_reg, B_reg_inv, B_reg_sqrt)``, each ``(n, n)`` and symmetric, with
        ``B_reg_sqrt @ B_reg_sqrt = B_reg``.
    """
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha}")
    lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
    lam = np.maximum(lam, alpha * lam.max())
    b_reg = (vec * lam) @ vec.T
    b_inv = (vec / lam) @ vec.T
    b_sqrt = (vec * np.sqrt(lam)) @ vec.T
    return _sym(b_reg), _sym(b_inv), _sym(b_sqrt)


def sqrtm_psd(cov: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (negative eigenvalues -> 0)."""
    lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
    return _sym((vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T)


def _sym(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + a.T)
