"""Generative-model figures: sample panels, histograms, the noise map, diffusion snapshots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.viz.generative import (
    diffusion_snapshots_figure,
    plot_histograms,
    plot_noise_map,
    plot_samples,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_samples_are_a_histogram_in_1d_and_a_scatter_in_2d():
    _fig, (ax1, ax2) = plt.subplots(1, 2)
    rng = np.random.default_rng(0)
    plot_samples(ax1, rng.normal(size=(100, 1)), "C0")
    assert len(ax1.patches) == 60 and not ax1.collections
    plot_samples(ax2, rng.normal(size=(100, 2)), "C1")
    assert len(ax2.collections[0].get_offsets()) == 100


def test_histograms_share_bins_and_noise_map_follows_the_direction():
    _fig, (ax, ax_map) = plt.subplots(1, 2)
    reference = np.linspace(-1, 1, 200)
    plot_histograms(ax, reference, {"g": (reference + 0.5, {"color": "C1"})}, bins=11)
    assert len(ax.patches) == 10 + 1  # 10 bars and one step outline
    z = np.linspace(-2, 2, 9)
    plot_noise_map(ax_map, z, -z, reference)  # a decreasing map
    transport = ax_map.get_lines()[1].get_ydata()
    assert transport[0] > transport[-1]  # the reference transport decreases too


def test_diffusion_snapshots_one_row_per_target_one_column_per_step():
    states = {
        "1D": {0: np.zeros((10, 1)), 5: np.ones((10, 1))},
        "2D": {0: np.zeros((10, 2)), 5: np.ones((10, 2))},
    }
    fig = diffusion_snapshots_figure(
        states, [5, 0], np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.5]), title="R"
    )
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "1D\nt = 5, \u0101_t = 0.500",
        "1D\nt = 0, \u0101_t = 1.000",
        "2D\nt = 5, \u0101_t = 0.500",
        "2D\nt = 0, \u0101_t = 1.000",
    ]
    assert fig._suptitle.get_text() == "R"
