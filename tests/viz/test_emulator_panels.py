"""Maps and profiles of emulator fields on any grid's cells."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.viz.emulator_panels import plot_cell_fields, zonal_mean


@pytest.fixture
def cells() -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.meshgrid(np.linspace(-80, 80, 9), np.arange(0, 360, 20), indexing="ij")
    return lat.ravel(), lon.ravel()


def test_cell_maps_take_colour_maps_and_ranges_by_title(cells):
    lat, lon = cells
    values = {"mean [K]": 250 + lat, "P(t > 260 K)": (lat > 0).astype(float) * 0.4}
    figure = plot_cell_fields(
        lat, lon, values, cmaps={"P(t > 260 K)": "Blues"}, limits={"P(t > 260 K)": (0.0, 1.0)}
    )
    try:
        maps = [ax for ax in figure.axes if ax.get_title()]
        assert [ax.get_title() for ax in maps] == list(values)
        first, second = (ax.collections[0] for ax in maps)
        assert first.get_clim() == (170.0, 330.0)  # the data's range
        assert second.get_clim() == (0.0, 1.0)  # probabilities keep their full scale
        assert second.get_cmap().name == "Blues" and first.get_cmap().name == "viridis"
    finally:
        plt.close(figure)


def test_zonal_mean_is_the_mean_of_each_row(cells):
    lat, lon = cells
    rows, means = zonal_mean(lat, lat * 2 + np.cos(np.deg2rad(lon)))  # cos sums to 0 per row
    np.testing.assert_allclose(rows, np.linspace(-80, 80, 9))
    np.testing.assert_allclose(means, 2 * rows, atol=1e-12)
