"""ICON grid reading, triangulation with dateline mending and remapping to lat/lon."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.core.errors import DataFormatError
from wxai.data.grids.icon import (
    IconGrid,
    read_icon_grid,
    regular_latlon,
    remap_to_latlon,
    remap_weights,
    triangulation,
)
from wxai.data.grids.icosahedral import icosahedral_grid, write_icon_grid

GRID = icosahedral_grid(3, radius=1.0)  # 1280 cells
LAT, LON = regular_latlon(3.0)
WEIGHTS = {m: remap_weights(GRID, LAT, LON, m) for m in ("nearest", "linear")}


@pytest.mark.parametrize("n", [1, 3])
def test_mended_triangles_do_not_span_the_dateline(n: int) -> None:
    grid = icosahedral_grid(n, radius=1.0)
    raw = grid.vlon[grid.vertex_of_cell]
    assert (raw.max(axis=1) - raw.min(axis=1) > 180).any()  # the test grid crosses it
    tri = triangulation(grid)
    assert tri.spans().max() <= 180.0
    assert set(tri.cell_index.tolist()) == set(range(grid.n_cells))
    assert tri.triangulation.triangles.shape[0] >= grid.n_cells
    # duplicated triangles stay within one map width of the dateline
    assert np.abs(tri.triangulation.x).max() < 360.0
    values = np.arange(grid.n_cells, dtype=float)
    np.testing.assert_array_equal(tri.face_values(values), values[tri.cell_index])


def _covered(tri, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether each map point lies in at least one drawn triangle (barycentric test)."""
    t = tri.triangulation
    x, y = np.asarray(t.x)[t.triangles], np.asarray(t.y)[t.triangles]  # (m, 3)
    e1x, e1y, e2x, e2y = x[:, 1] - x[:, 0], y[:, 1] - y[:, 0], x[:, 2] - x[:, 0], y[:, 2] - y[:, 0]
    det = e1x * e2y - e1y * e2x
    qx, qy = lon[:, None] - x[:, 0], lat[:, None] - y[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (qx * e2y - qy * e2x) / det
        v = (e1x * qy - e1y * qx) / det
    eps = 1e-9
    return ((u >= -eps) & (v >= -eps) & (u + v <= 1 + eps) & (det != 0)).any(axis=1)


@pytest.mark.parametrize("n", [1, 3])
def test_mended_triangles_cover_the_whole_map_polar_caps_included(n: int) -> None:
    tri = triangulation(icosahedral_grid(n, radius=1.0))
    lat = np.concatenate([np.linspace(-89.9, -80, 12), np.linspace(-79, 79, 40), [85, 89.9]])
    lon, lat = np.meshgrid(np.linspace(-179.5, 179.5, 180), lat)
    covered = _covered(tri, lon.ravel(), lat.ravel())
    assert covered.all(), f"{(~covered).sum()} map points in no triangle"
    assert tri.spans().max() <= 180.0


def test_dateline_mending_by_hand() -> None:
    grid = IconGrid(
        clon=np.array([178.0, 0.0]),
        clat=np.array([1.0, 1.0]),
        vlon=np.array([170.0, -170.0, 175.0, -5.0, 5.0, 0.0]),
        vlat=np.array([0.0, 0.0, 5.0, 0.0, 0.0, 5.0]),
        vertex_of_cell=np.array([[0, 1, 2], [3, 4, 5]]),
    )
    tri = triangulation(grid)
    assert tri.spans().max() <= 20.0 + 1e-12
    assert sorted(tri.cell_index.tolist()) == [0, 0, 1]  # crossing cell drawn at both edges
    masked = triangulation(grid, dateline="mask")
    assert masked.triangulation.mask.tolist() == [True, False]


def test_remap_errors_nearest_small_linear_better() -> None:
    lat2, lon2 = np.meshgrid(np.deg2rad(LAT), np.deg2rad(LON), indexing="ij")
    clat, clon = np.deg2rad(GRID.clat), np.deg2rad(GRID.clon)
    cases = [  # cos(lat) has a kink (cone) at the poles: linear gains less there
        (np.cos(clat), np.cos(lat2), 0.8),
        (np.cos(clat) ** 2 * np.cos(2 * clon), np.cos(lat2) ** 2 * np.cos(2 * lon2), 0.3),
    ]
    for source, truth, factor in cases:
        err = {
            m: remap_to_latlon(GRID, source, LAT, LON, weights=w).values - truth
            for m, w in WEIGHTS.items()
        }
        rms = {m: float(np.sqrt((e**2).mean())) for m, e in err.items()}
        assert np.abs(err["nearest"]).max() < 0.15
        assert rms["nearest"] < 0.05
        assert rms["linear"] < factor * rms["nearest"]
        assert not np.isnan(err["linear"]).any()


@settings(max_examples=20, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False))
def test_remap_of_constant_is_exact(value: float) -> None:
    for w in WEIGHTS.values():
        out = remap_to_latlon(GRID, np.full(GRID.n_cells, value), LAT, LON, weights=w)
        np.testing.assert_allclose(out.values, value, rtol=1e-12, atol=1e-12 * abs(value))


def test_remap_dataarray_keeps_leading_dims() -> None:
    data = xr.DataArray(
        np.stack([np.ones(GRID.n_cells), 2 * np.ones(GRID.n_cells)]),
        dims=("time", "cell"),
        coords={"time": [0, 1]},
        name="t2m",
        attrs={"units": "K"},
    )
    out = remap_to_latlon(GRID, data, LAT, LON, method="nearest")
    assert out.dims == ("time", "latitude", "longitude")
    assert out.name == "t2m" and out.attrs["units"] == "K"
    np.testing.assert_allclose(out.sel(time=1).values, 2.0)
    assert out["latitude"].attrs["units"] == "degrees_north"


def test_nearest_max_distance_masks_far_targets() -> None:
    half = np.flatnonzero(GRID.clat > 0)
    sub = IconGrid(
        GRID.clon[half], GRID.clat[half], GRID.vlon, GRID.vlat, GRID.vertex_of_cell[half]
    )
    out = remap_to_latlon(
        sub, np.ones(half.size), LAT, LON, weights=remap_weights(sub, LAT, LON, "nearest", 10.0)
    )
    assert np.isnan(out.sel(latitude=-61.5).values).all()
    assert not np.isnan(out.sel(latitude=61.5).values).any()


def test_corrupt_and_truncated_grid_files(tmp_path: Path) -> None:
    good = write_icon_grid(icosahedral_grid(2, radius=1.0), tmp_path / "grid.nc")
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataFormatError, match=r"truncated\.nc"):
        read_icon_grid(truncated)
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(DataFormatError, match=r"garbage\.nc"):
        read_icon_grid(garbage)
    with pytest.raises(FileNotFoundError):
        read_icon_grid(tmp_path / "absent.nc")


def test_bad_indices_and_missing_variables(tmp_path: Path) -> None:
    path = write_icon_grid(icosahedral_grid(1, radius=1.0), tmp_path / "grid.nc")
    with netCDF4.Dataset(path, "a") as nc:
        nc.variables["vertex_of_cell"][0, 0] = 999
    with pytest.raises(DataFormatError, match="vertex_of_cell"):
        read_icon_grid(path)
    other = tmp_path / "other.nc"
    with netCDF4.Dataset(other, "w") as nc:
        nc.createDimension("cell", 3)
        nc.createVariable("clon", "f8", ("cell",))[:] = [0, 1, 2]
    with pytest.raises(DataFormatError, match="clat"):
        read_icon_grid(other)
