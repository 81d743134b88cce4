"""Distance-based tapering of covariances and observation influence (localization)."""

from __future__ import annotations

import numpy as np

from wxai.core.errors import UnknownNameError

#: Factor from the localization radius to the Gaspari-Cohn half-support ``c``, chosen so
#: that the taper resembles a Gaussian with standard deviation ``radius`` (as in DAPPER).
GC_SCALE = 1.82


def gaspari_cohn(dist: np.ndarray, radius: float) -> np.ndarray:
    """Gaspari-Cohn (1999, eq. 4.10) fifth-order compactly supported taper.

    Parameters
    ----------
    dist:
        Distances (any shape), same unit as ``radius``.
    radius:
        Localization radius; the taper vanishes beyond ``2 * 1.82 * radius``.

    Returns
    -------
    numpy.ndarray
        Coefficients in ``[0, 1]``, 1 at distance 0, shape of ``dist``.
    """
    c = radius * GC_SCALE
    r = np.abs(np.asarray(dist, dtype=float)) / c
    out = np.zeros_like(r)
    near = r <= 1
    far = (r > 1) & (r < 2)
    a = r[near]
    out[near] = -0.25 * a**5 + 0.5 * a**4 + 0.625 * a**3 - 5 / 3 * a**2 + 1
    b = r[far]
    out[far] = b**5 / 12 - 0.5 * b**4 + 0.625 * b**3 + 5 / 3 * b**2 - 5 * b + 4 - 2 / (3 * b)
    return np.clip(out, 0.0, 1.0)


def gaussian_taper(dist: np.ndarray, radius: float) -> np.ndarray:
    """``exp(-d^2 / (2 radius^2))`` (no compact support)."""
    return np.exp(-0.5 * (np.asarray(dist, dtype=float) / radius) ** 2)


TAPERS = {"gc": gaspari_cohn, "gauss": gaussian_taper}


def taper(dist: np.ndarray, radius: float, kind: str = "gc") -> np.ndarray:
    """Taper coefficients by name (``"gc"`` or ``"gauss"``)."""
    try:
        return TAPERS[kind](dist, radius)
    except KeyError:
        raise UnknownNameError("taper", kind, TAPERS) from None
