"""Scores of masks and label maps: intersection over union, per class and with a tolerance.

Detected objects such as fronts or warning areas are judged cell by cell
(:func:`iou`, :func:`class_iou`) and, because a front drawn one grid cell beside the
true one is still a good front, also within a neighbourhood
(:func:`neighbourhood_scores`): a detected cell is a hit when a true cell of the same
class lies within ``radius`` cells, and a true cell is found when a detected one lies
within ``radius``. That is the neighbourhood evaluation used in front-detection
papers (probability of detection, success ratio, critical success index).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from wxai.core.errors import ConfigError

__all__ = ["NeighbourhoodScores", "class_iou", "iou", "neighbourhood_scores"]


def _same_shape(predicted: ArrayLike, truth: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    pred, true = np.asarray(predicted), np.asarray(truth)
    if pred.shape != true.shape:
        raise ConfigError(f"shapes differ: predicted {pred.shape}, truth {true.shape}")
    return pred, true


def iou(predicted: ArrayLike, truth: ArrayLike) -> float:
    """Intersection over union of two boolean masks of one shape (NaN when both are empty)."""
    pred, true = _same_shape(predicted, truth)
    pred, true = pred.astype(bool), true.astype(bool)
    union = np.count_nonzero(pred | true)
    return float(np.count_nonzero(pred & true) / union) if union else float("nan")


def class_iou(predicted: ArrayLike, truth: ArrayLike, n_classes: int) -> np.ndarray:
    """IoU of every class ``0..n_classes-1`` of two integer label maps: ``(n_classes,)``.

    A class absent from both maps gets NaN. Leading dimensions (cases, times) are
    pooled: the IoU of a set of maps is computed from their summed counts.
    """
    pred, true = _same_shape(predicted, truth)
    return np.array([iou(pred == k, true == k) for k in range(n_classes)])


@dataclass(frozen=True)
class NeighbourhoodScores:
    """Counts and scores of one class within a tolerance radius.

    Attributes
    ----------
    found, missed:
        True cells with / without a detected cell within the radius.
    hits, false_alarms:
        Detected cells with / without a true cell within the radius.
    """

    found: int
    missed: int
    hits: int
    false_alarms: int

    @property
    def pod(self) -> float:
        """Probability of detection: found / all true cells (NaN without true cells)."""
        total = self.found + self.missed
        return self.found / total if total else float("nan")

    @property
    def success_ratio(self) -> float:
        """Hits / all detected cells (NaN when nothing was detected)."""
        total = self.hits + self.false_alarms
        return self.hits / total if total else float("nan")

    @property
    def csi(self) -> float:
        """Critical success index from POD and success ratio: 1 / (1/POD + 1/SR - 1)."""
        pod, sr = self.pod, self.success_ratio
        if not (pod > 0 and sr > 0):
            return 0.0 if (pod == 0 or sr == 0) else float("nan")
        return 1.0 / (1.0 / pod + 1.0 / sr - 1.0)


def _near(mask: np.ndarray, radius: float) -> np.ndarray:
    """Cells within ``radius`` grid lengths (Euclidean, in the last two axes) of ``mask``."""
    if radius <= 0:
        return mask
    if not mask.any():
        return mask
    r = int(np.floor(radius))
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    disk = (x**2 + y**2) <= radius**2
    footprint = disk.reshape((1,) * (mask.ndim - 2) + disk.shape)
    return ndimage.binary_dilation(mask, structure=footprint)


def neighbourhood_scores(
    predicted: ArrayLike, truth: ArrayLike, label: int, radius: float
) -> NeighbourhoodScores:
    """Tolerance-aware counts of class ``label`` in label maps ``(..., H, W)``.

    Parameters
    ----------
    predicted, truth:
        Integer label maps of one shape; the last two axes are the grid.
    label:
        The class scored.
    radius:
        Tolerance in grid cells (0: cell by cell; 1 also counts the 4 direct
        neighbours; 1.5 the 8 around).
    """
    if radius < 0:
        raise ConfigError(f"radius must be >= 0 grid cells, got {radius}")
    pred, true = _same_shape(predicted, truth)
    if pred.ndim < 2:
        raise ConfigError(f"label maps need two grid axes, got shape {pred.shape}")
    p, t = pred == label, true == label
    near_truth, near_pred = _near(t, radius), _near(p, radius)
    return NeighbourhoodScores(
        found=int(np.count_nonzero(t & near_pred)),
        missed=int(np.count_nonzero(t & ~near_pred)),
        hits=int(np.count_nonzero(p & near_truth)),
        false_alarms=int(np.count_nonzero(p & ~near_truth)),
    )
