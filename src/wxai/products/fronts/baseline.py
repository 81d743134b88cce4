"""The classical front detector: the thermal front parameter (Renard and Clarke 1965).

On a thermal field ``tau`` (here the equivalent potential temperature, smoothed),
``TFP = -grad|grad tau| . grad tau / |grad tau|`` is large at the warm edge of a
frontal zone, where the gradient's magnitude falls off toward the warm air: where
analysts draw the surface front. Cells with TFP above one
threshold and ``|grad tau|`` above another are frontal; the wind across the gradient
classes them: wind blowing from the cold side (cold advection) makes a cold front,
from the warm side a warm front. The parameter cannot tell an occlusion apart, so the
baseline never predicts occluded fronts. Thresholds and smoothing are tuned on the
training cases (:func:`tune_tfp`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from wxai.atmos.thermo import equivalent_potential_temperature
from wxai.core.errors import ConfigError
from wxai.verify.masks import class_iou

__all__ = ["ThermalFrontParameter", "spherical_gradient", "thermal_front_parameter", "tune_tfp"]

_EARTH_RADIUS = 6.371e6


def spherical_gradient(
    field: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(d/dx east, d/dy north) [units per m] of ``field`` ``(..., H, W)`` on a lat/lon grid.

    ``lat`` (H,) and ``lon`` (W,) in degrees, in any order (centred differences).
    """
    phi = np.deg2rad(np.asarray(lat, float))
    lam = np.deg2rad(np.asarray(lon, float))
    d_dphi = np.gradient(field, phi, axis=-2)
    d_dlam = np.gradient(field, lam, axis=-1)
    coslat = np.maximum(np.cos(phi), 1e-6)[:, None]
    return d_dlam / (_EARTH_RADIUS * coslat), d_dphi / _EARTH_RADIUS


def thermal_front_parameter(
    tau: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """TFP [K m-2], ``|grad tau|`` [K m-1] and ``grad tau`` of ``tau`` ``(..., H, W)`` [K]."""
    gx, gy = spherical_gradient(tau, lat, lon)
    magnitude = np.hypot(gx, gy)
    mx, my = spherical_gradient(magnitude, lat, lon)
    safe = np.maximum(magnitude, 1e-12)
    tfp = -(mx * gx + my * gy) / safe
    return tfp, magnitude, (gx, gy)


@dataclass(frozen=True)
class ThermalFrontParameter:
    """A tuned TFP detector.

    Attributes
    ----------
    smoothing:
        Gaussian smoothing of theta_e before differencing [grid cells].
    tfp_threshold:
        Minimum TFP [K per (100 km)^2].
    gradient_threshold:
        Minimum ``|grad theta_e|`` [K per 100 km].
    """

    smoothing: float = 1.0
    tfp_threshold: float = 0.5
    gradient_threshold: float = 2.0

    def predict(self, charts: xr.Dataset) -> np.ndarray:
        """Front labels ``(..., H, W)`` (0 none, 1 warm, 2 cold) of charts with
        ``msl``, ``t2m``, ``rh2m``, ``u10``, ``v10`` on (..., latitude, longitude)."""
        lat, lon = charts["latitude"].values, charts["longitude"].values
        theta_e = equivalent_potential_temperature(
            charts["t2m"].values, charts["rh2m"].values, charts["msl"].values
        )
        tfp, magnitude, (gx, gy) = self._fields(theta_e, lat, lon)
        frontal = (tfp > self.tfp_threshold) & (magnitude > self.gradient_threshold)
        advection = -(charts["u10"].values * gx + charts["v10"].values * gy)
        return np.where(frontal, np.where(advection < 0, 2, 1), 0).astype(np.uint8)

    def _fields(self, theta_e: np.ndarray, lat: np.ndarray, lon: np.ndarray):
        sigma = (0,) * (theta_e.ndim - 2) + (self.smoothing, self.smoothing)
        smooth = ndimage.gaussian_filter(theta_e, sigma=sigma, mode="nearest")
        tfp, magnitude, grad = thermal_front_parameter(smooth, lat, lon)
        # report in chart units: K per 100 km and K per (100 km)^2
        return tfp * 1e10, magnitude * 1e5, grad


def tune_tfp(
    cases: xr.Dataset,
    smoothings: tuple[float, ...] = (0.5, 1.0, 2.0),
    quantiles: tuple[float, ...] = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95),
) -> tuple[ThermalFrontParameter, float]:
    """The detector with the best mean warm/cold IoU on ``cases``, and that IoU.

    Thresholds are searched among quantiles of TFP and ``|grad theta_e|`` over the
    cases, for each smoothing; ``cases`` needs the channels and ``front`` labels.
    """
    if "front" not in cases:
        raise ConfigError("tuning the TFP baseline needs labelled cases (a 'front' variable)")
    truth = cases["front"].values
    lat, lon = cases["latitude"].values, cases["longitude"].values
    theta_e = equivalent_potential_temperature(
        cases["t2m"].values, cases["rh2m"].values, cases["msl"].values
    )
    best, best_score = ThermalFrontParameter(), -1.0
    for smoothing in smoothings:
        probe = ThermalFrontParameter(smoothing=smoothing)
        tfp, magnitude, _ = probe._fields(theta_e, lat, lon)
        tfp_levels = np.quantile(tfp, quantiles)
        grad_levels = np.quantile(magnitude, quantiles)
        for k1, k2 in itertools.product(tfp_levels, grad_levels):
            candidate = ThermalFrontParameter(smoothing, float(k1), float(k2))
            score = float(np.nanmean(class_iou(candidate.predict(cases), truth, 4)[1:3]))
            if score > best_score:
                best, best_score = candidate, score
    return best, best_score
