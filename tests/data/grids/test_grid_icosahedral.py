"""Synthetic icosahedral grids: counts, areas, neighbours, ICON-like files."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest

from wxai.data.grids.icon import read_icon_grid
from wxai.data.grids.icosahedral import (
    edge_topology,
    grid_uuid,
    icosahedral_grid,
    write_icon_grid,
)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_counts_areas_and_neighbours(n: int) -> None:
    grid = icosahedral_grid(n, radius=1.0)
    assert grid.n_cells == 20 * 4**n
    assert grid.n_vertices == 10 * 4**n + 2
    edges, _, edge_cells = edge_topology(grid.vertex_of_cell)
    assert grid.n_vertices - edges.shape[0] + grid.n_cells == 2  # Euler characteristic
    assert (edge_cells >= 0).all()  # closed surface: every edge has two cells
    assert grid.cell_area is not None
    np.testing.assert_allclose(grid.cell_area.sum(), 4.0 * np.pi, rtol=1e-10)
    assert (grid.cell_area > 0).all()
    nb = grid.neighbor_cell_index
    assert nb is not None and nb.shape == (grid.n_cells, 3)
    assert (nb >= 0).all()
    cells = np.arange(grid.n_cells)
    assert (nb != cells[:, None]).all()
    assert all(len(set(row)) == 3 for row in nb.tolist())
    # symmetry: a neighbour lists the cell as its neighbour
    assert all(c in nb[other] for c in cells for other in nb[c])
    # centres on the sphere inside [-90, 90] and [-180, 180)
    assert (np.abs(grid.clat) <= 90).all() and (grid.clon >= -180).all() and (grid.clon < 180).all()


def test_earth_radius_areas() -> None:
    grid = icosahedral_grid(2)
    r = grid.attrs["sphere_radius"]
    np.testing.assert_allclose(grid.cell_area.sum(), 4 * np.pi * r**2, rtol=1e-10)


def test_write_read_round_trip(tmp_path: Path) -> None:
    grid = icosahedral_grid(2, radius=1.0)
    path = write_icon_grid(grid, tmp_path / "sub" / "icon_grid_R01B02.nc")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left over
    back = read_icon_grid(path)
    np.testing.assert_allclose(back.clon, grid.clon, atol=1e-12)
    np.testing.assert_allclose(back.clat, grid.clat, atol=1e-12)
    np.testing.assert_allclose(back.vlat, grid.vlat, atol=1e-12)
    np.testing.assert_array_equal(back.vertex_of_cell, grid.vertex_of_cell)
    np.testing.assert_array_equal(back.neighbor_cell_index, grid.neighbor_cell_index)
    np.testing.assert_allclose(back.cell_area, grid.cell_area)
    assert back.uuid == grid.uuid == grid_uuid(2, 1.0)
    assert (back.grid_root, back.grid_level, back.number_of_grid_used) == (1, 2, 0)
    assert back.attrs["synthetic"] == "true"
    with netCDF4.Dataset(path) as nc:  # real ICON layout: radians, (3, ncells), 1-based
        assert nc.variables["vertex_of_cell"].shape == (3, grid.n_cells)
        assert nc.variables["vertex_of_cell"][:].min() == 1
        assert nc.variables["clon"].units == "radian"
        assert np.abs(nc.variables["clat"][:]).max() <= np.pi / 2


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    path = tmp_path / "grids" / "grid.nc"
    write_icon_grid(icosahedral_grid(0, radius=1.0), path)
    before = path.read_bytes()
    broken = icosahedral_grid(1, radius=1.0)
    object.__setattr__(broken, "cell_area", np.ones(3))  # wrong shape: the write fails
    with pytest.raises((IndexError, ValueError)):
        write_icon_grid(broken, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["grid.nc"]
