"""Classifier figures: labelled points, probability maps, curve grids, confusion, ROC."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.viz.classifiers import (
    curve_predictions_figure,
    plot_confusion_matrix,
    plot_ellipse_labels,
    plot_probability_map,
    plot_reconstructions,
    plot_roc,
    plot_score_histograms,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_ellipse_labels_and_probability_map():
    _fig, (ax, ax_map) = plt.subplots(1, 2)
    points = np.array([[0.0, 0.0], [2.0, 2.0]])
    plot_ellipse_labels(ax, points, np.array([1.0, 0.0]), [((0, 0), (1, 0.5), 30.0)])
    assert len(ax.patches) == 1 and ax.patches[0].angle == 30.0
    xx, yy = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    grads = np.zeros((*xx.shape, 2))
    grads[..., 0] = 1e-6
    grads[0, 0] = (10.0, 0.0)
    plot_probability_map(ax_map, (xx, yy, (xx > 0).astype(float)), (xx, yy, grads), title="T")
    arrows = ax_map.collections[-1]
    u = np.asarray(arrows.U).reshape(xx.shape)
    # |g|^0.3 scaling: the largest arrow has length 1, one 1e7 times smaller only 10^-2.1.
    assert u[0, 0] == pytest.approx(1.0)
    assert u[1, 1] == pytest.approx((1e-7) ** 0.3, rel=1e-3)


def test_curve_predictions_put_misclassified_curves_first_in_red():
    x = np.linspace(-1, 1, 5)
    curves = np.tile(np.arange(30.0)[:, None], (1, 5))
    labels = np.zeros(30, dtype=int)
    predicted = labels.copy()
    predicted[[4, 9]] = 1
    fig = curve_predictions_figure(x, curves, labels, predicted, ["a", "b"], title="T")
    first, second, third = fig.axes[:3]
    assert first.get_lines()[0].get_ydata()[0] == 4 and second.get_lines()[0].get_ydata()[0] == 9
    assert first.get_lines()[0].get_color() == "C3" and third.get_lines()[0].get_color() == "C0"
    assert first.get_title() == "true a\npredicted b"


def test_confusion_roc_histograms_and_reconstructions():
    _fig, axes = plt.subplots(1, 5)
    plot_confusion_matrix(axes[0], np.array([[3, 1], [0, 2]]), ["x", "y"])
    assert [t.get_text() for t in axes[0].texts] == ["3", "1", "0", "2"]
    plot_roc(axes[1], np.array([0, 0, 1]), np.array([0, 1, 1]), 1.0, name="model")
    assert axes[1].get_lines()[0].get_label() == "model (AUC 1.000)"
    scores = np.array([0.01, 0.02, 0.5, 0.9])
    plot_score_histograms(axes[2], scores, np.array([0, 0, 1, 1]))
    assert axes[2].get_xscale() == "log" and sum(p.get_height() for p in axes[2].patches) == 4
    plot_reconstructions(axes[3:], np.zeros((2, 6)), np.ones((2, 6)), ["n", "odd"], [False, True])
    assert axes[4].get_lines()[0].get_color() == "C3" and axes[4].get_title() == "odd"
