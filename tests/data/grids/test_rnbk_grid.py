"""The ICON-style RnBk grid as an IconGrid: the cells of an emulator dataset on ``icon``."""

from __future__ import annotations

import numpy as np

from wxai.data.grids.icosahedral import rnbk_grid
from wxai.emulator.datasets.recipe import IconTarget
from wxai.emulator.datasets.targets import target_grid


def test_rnbk_grid_cells_are_the_dataset_cells():
    grid = rnbk_grid(2, 1)
    assert grid.n_cells == 20 * 4 * 4 and grid.n_vertices == 10 * 16 + 2
    target = target_grid(IconTarget(icon={"n": 2, "k": 1}), np.zeros(1), np.zeros(1), (1,), "x")
    np.testing.assert_allclose(grid.clat, target.latitudes, atol=1e-9)
    dlon = (grid.clon - target.longitudes + 180.0) % 360.0 - 180.0  # 0 and 360 are one longitude
    np.testing.assert_allclose(dlon, 0.0, atol=1e-9)
