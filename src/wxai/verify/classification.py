"""Scores of classifiers and detectors: accuracy, confusion matrix, ROC curve and its area."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError


def accuracy(predicted: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of predicted labels equal to the true labels (0..1).

    Parameters
    ----------
    predicted, labels:
        Class labels of the same shape (any hashable numeric type).
    """
    pred, true = np.asarray(predicted), np.asarray(labels)
    if pred.shape != true.shape:
        raise ConfigError(f"shapes differ: predicted {pred.shape}, labels {true.shape}")
    if pred.size == 0:
        raise ConfigError("accuracy of empty arrays is undefined; pass at least one value")
    return float(np.mean(pred == true))


def _binary(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float).ravel()
    y = np.asarray(labels).ravel()
    if s.shape != y.shape:
        raise ConfigError(f"scores and labels differ in size: {s.size} vs {y.size}")
    if not np.isin(y, [0, 1]).all():
        raise ConfigError("labels must be 0 (negative) or 1 (positive)")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ConfigError("ROC needs at least one positive and one negative label")
    return s, y


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: probability that a random positive outscores a negative.

    Computed from ranks (Mann-Whitney U), ties counting one half.

    Parameters
    ----------
    scores:
        Detector scores ``(n,)``, higher means more likely positive.
    labels:
        ``(n,)`` with 1 for positive (e.g. anomaly) and 0 for negative.

    Returns
    -------
    AUC in ``[0, 1]``; 0.5 is chance.
    """
    from scipy.stats import rankdata

    s, y = _binary(scores, labels)
    ranks = rankdata(s)  # average ranks for ties
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, from (0, 0) to (1, 1).

    Returns
    -------
    fpr, tpr:
        Arrays ``(k,)`` with ``k`` = distinct scores + 1, non-decreasing.
    """
    s, y = _binary(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    tp = np.cumsum(y)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    return np.r_[0.0, fp / (~y).sum()], np.r_[0.0, tp / y.sum()]


def confusion_matrix(labels: ArrayLike, predicted: ArrayLike, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    labels, predicted:
        Integer class labels in ``0 .. n_classes - 1``, of the same shape.

    Returns
    -------
    int array ``(n_classes, n_classes)``; rows sum to the class sizes, the trace is
    the number of correct predictions.
    """
    true, pred = np.asarray(labels).ravel(), np.asarray(predicted).ravel()
    if true.shape != pred.shape:
        raise ConfigError(f"shapes differ: labels {true.shape}, predicted {pred.shape}")
    for name, values in (("labels", true), ("predicted", pred)):
        if values.size and (values.min() < 0 or values.max() >= n_classes):
            raise ConfigError(f"{name} must lie in 0..{n_classes - 1}")
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(confusion, (true, pred), 1)
    return confusion
