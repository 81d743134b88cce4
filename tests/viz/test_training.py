"""Training figures: loss curves, fits, parameter counts, batch maps, variant grids."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.viz.training import (
    batch_maps_figure,
    plot_function_fits,
    plot_loss_curves,
    plot_parameter_counts,
    variant_runs_figure,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_loss_curves_are_log_scaled_numbered_from_first_with_a_reference():
    _fig, ax = plt.subplots()
    plot_loss_curves(ax, {"train": [1.0, 0.5, 0.2], "test": [1.2, 0.6, 0.3]}, reference=(0.4, "p"))
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train", "test", "p"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_legend() is not None
    _fig, ax = plt.subplots()
    plot_loss_curves(ax, {"only": [3.0, 2.0]}, first=0)
    assert ax.get_legend() is None
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 1])


def test_function_fits_draw_target_fits_and_data():
    _fig, ax = plt.subplots()
    x = np.linspace(0, 1, 5)
    plot_function_fits(ax, x, x**2, {"fit": (x, "C1--")}, data=(x, x), truth_label="x^2")
    assert [line.get_label() for line in ax.get_lines()] == ["x^2", "fit"]
    assert len(ax.collections) == 1  # the training points


def test_parameter_counts_mark_mismatches():
    _fig, ax = plt.subplots()
    plot_parameter_counts(ax, {"1-2-1": (7, 7), "1-3-1": (10, 11)})
    texts = [t.get_text() for t in ax.texts]
    assert texts == [" 7 = formula 7", " 10 \u2260 formula 11"]
    assert ax.get_xscale() == "log"


def test_batch_maps_one_panel_per_loader_with_numbers():
    table = np.array([[0, 0, 1, 1], [1, 0, 0, 1]])
    fig = batch_maps_figure({"a": table, "b": table}, {"a": "A", "b": "B"}, batch_size=2)
    panels = [ax for ax in fig.axes if ax.get_title() in {"A", "B"}]
    assert len(panels) == 2
    assert [t.get_text() for t in panels[0].texts] == ["0", "0", "1", "1", "1", "0", "0", "1"]
    assert "4 samples, batch size 2" in fig._suptitle.get_text()


def test_variant_runs_highlight_the_best():
    fig = variant_runs_figure(
        ["a", "b"],
        [[1.0, 0.5], [1.0, 0.1]],
        [0.3, 0.05],
        colours=["C0", "C1"],
        linestyles=["-", "--"],
        best=1,
        threshold=0.1,
    )
    ax_loss, ax_bar = fig.axes
    assert [line.get_label() for line in ax_loss.get_lines()] == ["a", "b (best)"]
    assert ax_loss.get_lines()[1].get_linewidth() > ax_loss.get_lines()[0].get_linewidth()
    bars = ax_bar.patches
    assert [round(b.get_width(), 2) for b in bars] == [0.3, 0.05]
    assert bars[1].get_facecolor() != bars[0].get_facecolor()
