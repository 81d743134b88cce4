"""Benchmark figures: grouped bars, backend curves and the matmul throughput plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.viz.benchmarks import matmul_figure, plot_backend_curves, plot_grouped_bars


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_grouped_bars_floor_and_labels():
    _fig, ax = plt.subplots()
    plot_grouped_bars(
        ax,
        ["k1", "k2"],
        {"a": [0.0, 2.0], "b": [1.0, 3.0]},
        colours={"a": "C0", "b": "C1"},
        names={"a": "A"},
        floor=1e-3,
    )
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1e-3, 2.0, 1.0, 3.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["k1", "k2"]
    bar_texts = [t.get_text() for t in ax.texts]
    assert bar_texts == ["0", "2", "1", "3"]
    # Bars of one group sit side by side around the group's position.
    assert ax.patches[0].get_x() < 0 < ax.patches[2].get_x() + ax.patches[2].get_width()


def test_backend_curves_every_nth_point():
    _fig, ax = plt.subplots()
    x = np.arange(10.0)
    plot_backend_curves(ax, x, x, {"F": 2 * x}, colours={"F": "C0"}, markers={"F": "o"}, every=3)
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [0, 3, 6, 9])


def test_matmul_figure_one_line_per_device_and_dtype_with_skips_noted():
    timings = [
        SimpleNamespace(device="cpu", dtype="float32", n=n, tflops=0.1 * n, rel_error=1e-7)
        for n in (64, 128)
    ] + [SimpleNamespace(device="cpu", dtype="bfloat16", n=64, tflops=0.2, rel_error=1e-3)]
    fig = matmul_figure(
        timings, sizes=[64, 128], repeats=3, tolerance=1e-4, skipped={"cpu/float16": "no"}
    )
    ax_rate = fig.axes[0]
    assert [line.get_label() for line in ax_rate.get_lines()] == ["cpu float32", "cpu bfloat16"]
    np.testing.assert_allclose(ax_rate.get_lines()[0].get_ydata(), [6.4, 12.8])
    assert any("cpu/float16 (no)" in t.get_text() for t in fig.texts)
