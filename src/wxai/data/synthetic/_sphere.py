"""Small spherical-geometry and smooth-noise helpers for the synthetic atmosphere."""

from __future__ import annotations

import numpy as np

#: Mean Earth radius (m).
EARTH_RADIUS = 6.371e6
#: Earth's angular velocity (rad s-1).
OMEGA = 7.292e-5


def wrap180(deg: np.ndarray | float) -> np.ndarray:
    """Angles (or longitudes) wrapped to [-180, 180) degrees."""
    return (np.asarray(deg, dtype=float) + 180.0) % 360.0 - 180.0


def polar(
    lat: np.ndarray, lon: np.ndarray, clat: float, clon: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Great-circle distance and bearings between points and a centre.

    Parameters
    ----------
    lat, lon:
        Points [degrees], any (equal) shape.
    clat, clon:
        Centre [degrees].

    Returns
    -------
    r:
        Distance [m].
    bearing_out:
        Bearing of each point seen from the centre [degrees clockwise from north].
    bearing_in:
        Bearing of the centre seen from each point [radians clockwise from north].
    """
    p1, p2 = np.deg2rad(clat), np.deg2rad(lat)
    dlon = np.deg2rad(np.asarray(lon, dtype=float) - clon)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    r = 2.0 * EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    out = np.arctan2(
        np.sin(dlon) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlon)
    )
    back = np.arctan2(
        -np.sin(dlon) * np.cos(p1), np.cos(p2) * np.sin(p1) - np.sin(p2) * np.cos(p1) * np.cos(dlon)
    )
    return r, np.rad2deg(out) % 360.0, back


def coriolis(lat: np.ndarray) -> np.ndarray:
    """Coriolis parameter f = 2 Omega sin(lat) [s-1]."""
    return 2.0 * OMEGA * np.sin(np.deg2rad(lat))


def logistic(x: np.ndarray) -> np.ndarray:
    """Smooth step 1 / (1 + exp(-x)), overflow-safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


class SmoothModes:
    """A few large-scale waves on the sphere, periodic in longitude, with gradients.

    ``value = cos(lat)**2 * sum_k a_k cos(m_k lon + n_k lat + c_k - w_k t)``; the
    ``cos(lat)**2`` envelope keeps the field and its gradient finite at the poles.
    """

    def __init__(
        self, rng: np.random.Generator, n: int, amplitude: float, speed: float = 0.0
    ) -> None:
        self.a = amplitude * rng.uniform(0.5, 1.0, n) / np.sqrt(n)
        self.m = rng.integers(3, 9, n).astype(float)
        self.k = rng.uniform(-8.0, 8.0, n)
        self.c = rng.uniform(0.0, 2 * np.pi, n)
        # eastward phase speed [m s-1] at 45 degrees -> angular frequency [rad h-1]
        self.w = self.m * speed * 3600.0 / (EARTH_RADIUS * np.cos(np.pi / 4))

    def _phase(self, lat: np.ndarray, lon: np.ndarray, hours: float) -> np.ndarray:
        lam, phi = np.deg2rad(lon)[..., None], np.deg2rad(lat)[..., None]
        return self.m * lam + self.k * phi + self.c - self.w * hours

    def value(self, lat: np.ndarray, lon: np.ndarray, hours: float = 0.0) -> np.ndarray:
        """Field values, same shape as ``lat``."""
        env = np.cos(np.deg2rad(lat)) ** 2
        return env * (self.a * np.cos(self._phase(lat, lon, hours))).sum(-1)

    def gradient(
        self, lat: np.ndarray, lon: np.ndarray, hours: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(d/dx eastward, d/dy northward) of :meth:`value` [units m-1]."""
        phi = np.deg2rad(lat)
        ph = self._phase(lat, lon, hours)
        s = (self.a * np.cos(ph)).sum(-1)
        ds_dlam = -(self.a * self.m * np.sin(ph)).sum(-1)
        ds_dphi = -(self.a * self.k * np.sin(ph)).sum(-1)
        dx = np.cos(phi) * ds_dlam / EARTH_RADIUS
        dy = (np.cos(phi) ** 2 * ds_dphi - 2.0 * np.sin(phi) * np.cos(phi) * s) / EARTH_RADIUS
        return dx, dy
