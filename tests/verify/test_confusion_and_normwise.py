"""Confusion matrix counts and the normwise error of kernel results."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.verify.classification import accuracy, confusion_matrix
from wxai.verify.metrics import normwise_error


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    confusion = confusion_matrix(labels, predicted, 3)
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert confusion.sum(axis=1).tolist() == [2, 1, 3]
    assert np.trace(confusion) / confusion.sum() == accuracy(predicted, labels)
    with pytest.raises(ConfigError, match=r"0\.\.2"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ConfigError, match="shapes differ"):
        confusion_matrix([0, 1], [0], 3)


def test_normwise_error_relative_to_the_largest_reference_or_a_scale():
    reference = np.array([0.0, 1e-12, 4.0])
    result = reference + np.array([0.0, 1e-13, -0.004])
    absolute, relative = normwise_error(result, reference)
    assert absolute == pytest.approx(0.004)
    assert relative == pytest.approx(0.001)  # not inflated by the tiny second value
    assert normwise_error(2.0, 1.0, scale=10.0) == (1.0, 0.1)
    assert normwise_error(np.zeros(3), np.zeros(3)) == (0.0, 0.0)
    with pytest.raises(ConfigError):
        normwise_error([], [])
