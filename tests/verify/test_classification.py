"""Accuracy, ROC curve and AUC against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from wxai.verify.classification import accuracy, roc_auc, roc_curve


def test_accuracy():
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    with pytest.raises(ValueError, match="shapes"):
        accuracy([0, 1], [0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_and_curve_match_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=200)
    scores = np.round(rng.normal(size=200) + labels, 1)  # rounding makes ties
    assert roc_auc(scores, labels) == pytest.approx(metrics.roc_auc_score(labels, scores))
    fpr, tpr = roc_curve(scores, labels)
    fpr_ref, tpr_ref, _ = metrics.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, fpr_ref)
    np.testing.assert_allclose(tpr, tpr_ref)


def test_roc_auc_limits_and_errors():
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert roc_auc([0.5, 0.5], [0, 1]) == 0.5
    with pytest.raises(ValueError, match="positive and one negative"):
        roc_auc([0.1, 0.2], [1, 1])
