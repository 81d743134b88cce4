"""Forecast-archive figures: local map, chunk outlines, town panels, lead-time errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.patches import Rectangle

from wxai.viz.archive_figures import (
    chunk_layout_figure,
    local_map_figure,
    plot_lead_time_errors,
    town_forecasts_figure,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _grid(n_lat: int = 10, n_lon: int = 14) -> xr.Dataset:
    lat, lon = 45.0 + 0.5 * np.arange(n_lat), 5.0 + 0.5 * np.arange(n_lon)
    yy, xx = np.meshgrid(lat, lon, indexing="ij")
    dims = ("latitude", "longitude")
    return xr.Dataset(
        {
            "t2m": (dims, 280 + yy - xx, {"units": "K"}),
            "msl": (dims, 101_000 + 100 * np.sin(xx), {"units": "Pa"}),
            "u10": (dims, np.full(yy.shape, 5.0)),
            "v10": (dims, np.zeros(yy.shape)),
        },
        coords={"latitude": lat, "longitude": lon},
    )


def test_chunk_layout_outlines_every_chunk_with_its_size():
    grid = _grid()
    fig = chunk_layout_figure(grid["t2m"], (6, 6), {"Town": (46.0, 7.0)}, title="chunks")
    ax = fig.axes[0]
    outlines = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(outlines) == 2 * 3  # 10 rows in chunks of 6, 14 columns in chunks of 6
    labels = sorted(t.get_text() for t in ax.texts if t.get_text().startswith("chunk"))
    assert labels[0] == "chunk (0, 0)\n6x6" and "chunk (1, 2)\n4x2" in labels
    assert ax.get_title() == "chunks"


def test_local_map_marks_place_and_grid_point():
    fig = local_map_figure(
        _grid(),
        (47.0, 8.0),
        (47.0, 8.0),
        extent=(6.0, 10.0, 45.5, 49.0),
        title="around",
        distance_km=3.0,
    )
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "nearest grid point (3 km)" in labels
    assert ax.get_title() == "around"


def test_town_forecasts_one_panel_per_town_and_persistence_flat():
    lead = np.arange(0, 13, 3)
    towns = ["A", "B", "C", "D"]
    series = {name: np.arange(5.0) + k for k, name in enumerate(towns)}
    hours = lead[2:]
    truth = {name: values[2:] for name, values in series.items()}
    forecasts = {name: values + 0.5 for name, values in truth.items()}
    fig = town_forecasts_figure(
        lead, series, hours, truth, forecasts, training_hours=6, title="towns"
    )
    assert len(fig.axes) == 6  # two rows of three panels
    assert [ax.get_title() for ax in fig.axes[:4]] == towns
    persistence = fig.axes[1].get_lines()[3]
    np.testing.assert_array_equal(persistence.get_ydata(), [3.0, 3.0, 3.0])
    assert [ax.axison for ax in fig.axes[4:]] == [False, False]  # unused panels are off


def test_lead_time_errors():
    _fig, ax = plt.subplots()
    plot_lead_time_errors(ax, np.array([3, 6]), {"cnn": ([0.1, 0.2], "C1-s")}, ylabel="K")
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [0.1, 0.2])
    assert ax.get_ylabel() == "K"
