"""1D field figures: forecast cases, feature maps, the ring graph, reconstructions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.viz.fields1d import (
    feature_maps_figure,
    forecast_cases_figure,
    plot_error_bars,
    plot_reconstruction,
    plot_ring_graph,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_forecast_cases_three_panels_and_the_loss():
    x = np.linspace(0, 1, 8)
    cases = np.random.default_rng(0).random((3, 3, 8))
    fig = forecast_cases_figure(x, *cases, [1.0, 0.5], title="T")
    assert [ax.get_title() for ax in fig.axes] == [
        "test case 1",
        "test case 2",
        "test case 3",
        "Training loss",
    ]
    np.testing.assert_array_equal(fig.axes[1].get_lines()[2].get_ydata(), cases[2, 1])


def test_feature_maps_one_image_per_layer_spanning_the_grid():
    x = np.arange(10) * 0.5
    maps = {"first": np.ones((4, 10)), "last": np.zeros((6, 10))}
    fig = feature_maps_figure(x, x, x, maps)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [im.get_array().shape for im in images] == [(4, 10), (6, 10)]
    assert images[0].get_extent() == [-0.25, 4.75, -0.5, 3.5]


def test_ring_graph_has_one_edge_per_node_and_coloured_nodes():
    _fig, ax = plt.subplots()
    plot_ring_graph(ax, np.arange(6.0))
    assert len(ax.get_lines()) == 6
    np.testing.assert_array_equal(ax.collections[0].get_array(), np.arange(6.0))


def test_reconstruction_and_error_bars():
    _fig, (ax, ax_bar) = plt.subplots(1, 2)
    x = np.linspace(0, 3, 7)
    observed = np.array([True, False, False, True, False, False, True])
    plot_reconstruction(ax, x, np.sin(x), observed, {"m": (np.cos(x), "C2-")}, shade=(0, 1))
    assert len(ax.collections[0].get_offsets()) == 3
    assert [line.get_label() for line in ax.get_lines()] == ["truth", "m"]
    plot_error_bars(ax_bar, ["a", "b"], [0.1, 0.2], ["C0", "C1"], reference=(0.15, "zero"))
    assert [p.get_height() for p in ax_bar.patches] == [0.1, 0.2]
    assert ax_bar.get_lines()[0].get_ydata()[0] == 0.15
