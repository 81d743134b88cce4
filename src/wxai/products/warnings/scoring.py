"""Scores of warning masks against the forecasters' masks: IoU per level."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import DataFormatError
from wxai.verify.masks import iou

__all__ = ["level_iou", "mean_level_iou", "nested"]


def nested(masks: ArrayLike) -> np.ndarray:
    """Masks ``(..., L, H, W)`` made nested: level k only where levels 1..k-1 are set."""
    values = np.asarray(masks, dtype=bool)
    return np.logical_and.accumulate(values, axis=-3)


def level_iou(predicted: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """IoU of every level, pooled over cases: ``(L,)`` for masks ``(N, L, H, W)``.

    Pooled means the intersections and unions of all cases are summed before
    dividing, so large storms weigh more than small ones; a level that is empty in
    both predictions and truth gets NaN.
    """
    pred, true = np.asarray(predicted, dtype=bool), np.asarray(truth, dtype=bool)
    if pred.shape != true.shape or pred.ndim != 4:
        raise DataFormatError(
            f"masks must be (N, L, H, W) of one shape, got {pred.shape} and {true.shape}"
        )
    return np.array([iou(pred[:, k], true[:, k]) for k in range(pred.shape[1])])


def mean_level_iou(predicted: ArrayLike, truth: ArrayLike) -> float:
    """Mean over levels of :func:`level_iou` (levels empty in both are left out)."""
    return float(np.nanmean(level_iou(predicted, truth)))
