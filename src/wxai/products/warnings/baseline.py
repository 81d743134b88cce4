"""The baseline diagnoser: the gust field, smoothed, thresholded at the warning levels.

Smoothing is a Gaussian of ``sigma`` grid cells; :func:`tune_smoothing` picks the
``sigma`` that gives the best mean IoU over levels against the training cases'
warning masks. Nothing else (no margin, no period, no area filter) is learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from wxai.core.errors import ConfigError
from wxai.products.warnings.levels import WarningLevel, check_levels
from wxai.products.warnings.scoring import mean_level_iou

__all__ = ["DEFAULT_SIGMA_CELLS", "GustThresholdBaseline", "tune_smoothing"]

#: Smoothing used when none was tuned [grid cells]: the value :func:`tune_smoothing`
#: chose on the ``warning-polygons`` lab's cases (smoothing only lowers the peaks,
#: while the forecasters warn a little more, not less, than the raw exceedance).
DEFAULT_SIGMA_CELLS = 0.0


@dataclass(frozen=True)
class GustThresholdBaseline:
    """Threshold the smoothed gust field at each level.

    Attributes
    ----------
    levels:
        Warning levels with their gust thresholds [m s-1].
    sigma:
        Gaussian smoothing [grid cells]; 0 thresholds the raw field.
    """

    levels: tuple[WarningLevel, ...]
    sigma: float = DEFAULT_SIGMA_CELLS

    def __post_init__(self) -> None:
        check_levels(self.levels)
        if self.sigma < 0:
            raise ConfigError(f"smoothing sigma must be >= 0 grid cells, got {self.sigma}")

    def smoothed(self, gust: ArrayLike) -> np.ndarray:
        """Gust ``(..., H, W)`` [m s-1] smoothed over the last two axes."""
        field = np.asarray(gust, dtype=float)
        if self.sigma == 0:
            return field
        sigma = (0,) * (field.ndim - 2) + (self.sigma, self.sigma)
        return ndimage.gaussian_filter(field, sigma=sigma, mode="nearest")

    def masks(self, gust: ArrayLike) -> np.ndarray:
        """Warning masks ``(..., L, H, W)`` for gust ``(..., H, W)`` [m s-1] (nested)."""
        smooth = self.smoothed(gust)
        return np.stack([smooth >= lv.threshold for lv in self.levels], axis=-3)


def tune_smoothing(
    gust: ArrayLike,
    masks: ArrayLike,
    levels: Sequence[WarningLevel],
    sigmas: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
) -> tuple[GustThresholdBaseline, dict[float, float]]:
    """The baseline whose smoothing scores best on training cases.

    Parameters
    ----------
    gust:
        ``(N, H, W)`` gust at the valid time [m s-1].
    masks:
        ``(N, L, H, W)`` forecaster masks.
    levels:
        The warning levels.
    sigmas:
        Candidate smoothing widths [grid cells].

    Returns
    -------
    (baseline, scores)
        The best baseline and the mean IoU over levels of every candidate.
    """
    levels = check_levels(levels)
    scores = {}
    for sigma in sigmas:
        candidate = GustThresholdBaseline(levels, float(sigma))
        scores[float(sigma)] = mean_level_iou(candidate.masks(gust), masks)
    best = max(scores, key=lambda s: scores[s])
    return GustThresholdBaseline(levels, best), scores
