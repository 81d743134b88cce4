"""ICON triangular grids: reading grid files, triangulation, remapping to lat/lon.

An ICON grid file holds the cell centres ``clon``/``clat`` and vertices
``vlon``/``vlat`` (radians), ``vertex_of_cell`` and ``neighbor_cell_index``
(shape (3, n_cells), 1-based Fortran indices, 0 or negative meaning "none"),
``cell_area`` and the global attributes ``uuidOfHGrid``,
``number_of_grid_used``, ``grid_root`` and ``grid_level``. :class:`IconGrid`
holds the same in degrees with 0-based indices of shape (n_cells, 3).

Dateline handling (:func:`triangulation`)
-----------------------------------------
``dateline="mend"`` (default): each triangle's vertex longitudes are unwrapped
relative to one of its non-polar vertices, so no triangle spans more than 180
degrees; a pole vertex (longitude undefined) takes the mean longitude of the
other two, and the triangle is drawn as the quad between those two corners and the
map's top (bottom) edge, so the polar caps are covered. Corners whose longitude changed
become new nodes. A triangle reaching
beyond +180 (or -180) is duplicated shifted by -360 (+360), so both map edges are
covered; ``cell_index`` maps every triangle back to its cell. ``"mask"`` keeps
the original nodes and masks triangles spanning more than 180 degrees;
``"none"`` does nothing.

Remapping (:func:`remap_weights`, :func:`remap_to_latlon`)
---------------------------------------------------------
``nearest``: nearest cell centre by chord distance, ``scipy.spatial.cKDTree`` on
3-D unit vectors (no dateline or pole special cases). ``linear``: the convex
hull of the cell centres on the unit sphere is their spherical Delaunay
triangulation; a target point lies in the hull facet its ray from the Earth's
centre passes through (all three coefficients of ``p = M @ lam`` non-negative,
``M`` the facet's corner vectors) and gets the weights ``lam / sum(lam)``, i.e.
planar barycentric interpolation in the facet after gnomonic projection.
Constants are reproduced exactly and linear functions of x, y, z too. Facets
much larger than typical (``1 - d > 10 * median``, ``d`` the facet plane's
distance from the centre) only occur across the outside of a limited-area grid;
targets in them get NaN.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import netCDF4
import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError
from wxai.data.formats import MissingFileError

if TYPE_CHECKING:
    from matplotlib.tri import Triangulation

__all__ = [
    "EARTH_RADIUS",
    "IconGrid",
    "IconTriangulation",
    "RemapWeights",
    "lonlat_to_xyz",
    "read_icon_grid",
    "regular_latlon",
    "remap_to_latlon",
    "remap_weights",
    "triangulation",
    "xyz_to_lonlat",
]

#: Earth radius used by ICON (m).
EARTH_RADIUS = 6371229.0
_POLE_TOL = 1e-6  # degrees


@dataclass(frozen=True, eq=False)
class IconGrid:
    """An ICON triangular grid in degrees with 0-based indices.

    Attributes
    ----------
    clon, clat:
        Cell-centre longitude in [-180, 180) and latitude, degrees, shape (n_cells,).
    vlon, vlat:
        Vertex longitude in [-180, 180) and latitude, degrees, shape (n_vertices,).
    vertex_of_cell:
        0-based vertex indices of each cell, shape (n_cells, 3), int64.
    neighbor_cell_index:
        0-based indices of the edge neighbours, shape (n_cells, 3), -1 for none; or
        None when the file has none.
    cell_area:
        Cell areas, shape (n_cells,), in ``area_units`` (m2 on the ICON sphere), or None.
    uuid:
        ``uuidOfHGrid`` ("" when absent).
    number_of_grid_used, grid_root, grid_level:
        Grid identification attributes (None when absent).
    attrs:
        All global attributes of the file.
    """

    clon: np.ndarray
    clat: np.ndarray
    vlon: np.ndarray
    vlat: np.ndarray
    vertex_of_cell: np.ndarray
    neighbor_cell_index: np.ndarray | None = None
    cell_area: np.ndarray | None = None
    area_units: str = "m2"
    uuid: str = ""
    number_of_grid_used: int | None = None
    grid_root: int | None = None
    grid_level: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.clon.size)

    @property
    def n_vertices(self) -> int:
        """Number of vertices."""
        return int(self.vlon.size)


def lonlat_to_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Unit vectors of points given in degrees, shape (..., 3)."""
    lon_r, lat_r = np.deg2rad(lon), np.deg2rad(lat)
    cl = np.cos(lat_r)
    return np.stack([cl * np.cos(lon_r), cl * np.sin(lon_r), np.sin(lat_r)], axis=-1)


def xyz_to_lonlat(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude in (-180, 180] and latitude in [-90, 90], degrees, of unit vectors (..., 3).

    The inverse of :func:`lonlat_to_xyz`; each output has shape (...). The z component is
    clipped to [-1, 1], so vectors a rounding error off the unit sphere are accepted.
    """
    xyz = np.asarray(xyz)
    lon = np.rad2deg(np.arctan2(xyz[..., 1], xyz[..., 0]))
    lat = np.rad2deg(np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0)))
    return lon, lat


def _wrap(lon: np.ndarray) -> np.ndarray:
    return (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0


# ---------------------------------------------------------------------------
# reading


@contextmanager
def _open(path: Path) -> Iterator[netCDF4.Dataset]:
    if not path.is_file():
        raise MissingFileError(
            f"ICON grid file not found: {path}; check the path or set the grid file in the config"
        )
    errors = (OSError, RuntimeError, ValueError, IndexError, KeyError, TypeError)
    try:
        nc = netCDF4.Dataset(path, "r")
    except errors as exc:
        raise DataFormatError(
            f"cannot open ICON grid file {path}: {exc}. The file is corrupt, truncated or "
            "not NetCDF; download or generate it again."
        ) from exc
    try:
        yield nc
    except DataFormatError:
        raise
    except errors as exc:
        raise DataFormatError(
            f"cannot read ICON grid file {path}: {exc}. The file is corrupt or truncated."
        ) from exc
    finally:
        nc.close()


def _angle(nc: netCDF4.Dataset, name: str, path: Path) -> np.ndarray:
    if name not in nc.variables:
        raise DataFormatError(
            f"ICON grid file {path} has no variable {name!r}; found: "
            f"{', '.join(sorted(nc.variables))}"
        )
    var = nc.variables[name]
    values = np.asarray(var[...], dtype=float).ravel()
    units = str(var.getncattr("units")).lower() if "units" in var.ncattrs() else "radian"
    if not np.isfinite(values).all():
        raise DataFormatError(f"ICON grid file {path}: {name} has missing or non-finite values")
    return values if "deg" in units else np.rad2deg(values)


def _index(nc: netCDF4.Dataset, name: str, n_cells: int, path: Path) -> np.ndarray | None:
    if name not in nc.variables:
        return None
    idx = np.asarray(nc.variables[name][...], dtype=np.int64)
    if idx.shape == (3, n_cells):
        idx = idx.T
    if idx.shape != (n_cells, 3):
        raise DataFormatError(
            f"ICON grid file {path}: {name} has shape {idx.shape}, expected (3, {n_cells})"
        )
    return np.where(idx > 0, idx - 1, -1)


def _int_attr(attrs: dict[str, Any], name: str) -> int | None:
    return int(attrs[name]) if name in attrs else None


def read_icon_grid(path: str | Path) -> IconGrid:
    """Read an ICON grid file (real or from :func:`~wxai.data.grids.icosahedral.write_icon_grid`).

    Parameters
    ----------
    path:
        NetCDF grid file with ``clon``, ``clat``, ``vlon``, ``vlat`` and
        ``vertex_of_cell`` (others optional).

    Returns
    -------
    IconGrid
        Degrees, 0-based indices of shape (n_cells, 3).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataFormatError
        Corrupt or truncated file, missing variables, inconsistent shapes or vertex
        indices outside ``1..n_vertices``.
    """
    path = Path(path)
    with _open(path) as nc:
        clon, clat = _angle(nc, "clon", path), _angle(nc, "clat", path)
        vlon, vlat = _angle(nc, "vlon", path), _angle(nc, "vlat", path)
        if clon.shape != clat.shape or vlon.shape != vlat.shape:
            raise DataFormatError(f"ICON grid file {path}: coordinate shapes do not match")
        n_cells = clon.size
        if "vertex_of_cell" not in nc.variables:
            raise DataFormatError(f"ICON grid file {path} has no variable 'vertex_of_cell'")
        voc = _index(nc, "vertex_of_cell", n_cells, path)
        assert voc is not None
        if (voc < 0).any() or (voc >= vlon.size).any():
            raise DataFormatError(
                f"ICON grid file {path}: vertex_of_cell has indices outside 1..{vlon.size}"
            )
        neighbours = _index(nc, "neighbor_cell_index", n_cells, path)
        if neighbours is not None and (neighbours >= n_cells).any():
            raise DataFormatError(f"ICON grid file {path}: neighbor_cell_index out of range")
        area, area_units = None, "m2"
        if "cell_area" in nc.variables:
            var = nc.variables["cell_area"]
            area = np.asarray(var[...], dtype=float).ravel()
            area_units = str(var.getncattr("units")) if "units" in var.ncattrs() else "m2"
            if area.shape != clon.shape:
                raise DataFormatError(f"ICON grid file {path}: cell_area has wrong shape")
        attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
    return IconGrid(
        clon=_wrap(clon),
        clat=clat,
        vlon=_wrap(vlon),
        vlat=vlat,
        vertex_of_cell=voc,
        neighbor_cell_index=neighbours,
        cell_area=area,
        area_units=area_units,
        uuid=str(attrs.get("uuidOfHGrid", "")),
        number_of_grid_used=_int_attr(attrs, "number_of_grid_used"),
        grid_root=_int_attr(attrs, "grid_root"),
        grid_level=_int_attr(attrs, "grid_level"),
        attrs=attrs,
    )


# ---------------------------------------------------------------------------
# triangulation


@dataclass(frozen=True, eq=False)
class IconTriangulation:
    """Triangulation of ICON cells for plotting.

    Attributes
    ----------
    triangulation:
        ``matplotlib.tri.Triangulation`` with x = longitude, y = latitude (degrees);
        nodes are grid vertices plus those added by dateline mending.
    cell_index:
        Cell of each triangle, shape (n_triangles,).
    """

    triangulation: Triangulation
    cell_index: np.ndarray

    def face_values(self, values: np.ndarray) -> np.ndarray:
        """Cell-centre values, shape (..., n_cells), as per-triangle values (..., n_triangles).

        Use as ``tripcolor(tri.triangulation, facecolors=tri.face_values(v))``.
        """
        return np.asarray(values)[..., self.cell_index]

    def spans(self) -> np.ndarray:
        """Longitude span (max - min, degrees) of every triangle, shape (n_triangles,)."""
        x = np.asarray(self.triangulation.x)[self.triangulation.triangles]
        return x.max(axis=1) - x.min(axis=1)


def triangulation(
    grid: IconGrid, dateline: Literal["mend", "mask", "none"] = "mend"
) -> IconTriangulation:
    """Triangulate the cells of ``grid`` (vertices as nodes, cells as triangles).

    Parameters
    ----------
    grid:
        The ICON grid.
    dateline:
        ``"mend"``, ``"mask"`` or ``"none"`` (see the module docstring).
    """
    from matplotlib.tri import Triangulation

    if dateline not in ("mend", "mask", "none"):
        raise UnknownNameError("dateline mode", str(dateline), ["mend", "mask", "none"])
    tri = grid.vertex_of_cell
    cells = np.arange(grid.n_cells)
    if dateline != "mend":
        lon = grid.vlon[tri]
        mask = (lon.max(axis=1) - lon.min(axis=1) > 180.0) if dateline == "mask" else None
        t = Triangulation(grid.vlon, grid.vlat, tri, mask=mask)
        return IconTriangulation(t, cells)

    lon, lat = grid.vlon[tri], grid.vlat[tri]
    pole = np.abs(lat) >= 90.0 - _POLE_TOL
    first = np.argmin(pole, axis=1)  # first non-polar corner
    ref = lon[np.arange(lon.shape[0]), first][:, None]
    unwrapped = ref + ((lon - ref + 180.0) % 360.0 - 180.0)
    nonpole = (~pole).sum(axis=1, keepdims=True)
    mean = np.where(pole, 0.0, unwrapped).sum(axis=1, keepdims=True) / np.maximum(nonpole, 1)
    unwrapped = np.where(pole, mean, unwrapped)
    centre = unwrapped.mean(axis=1, keepdims=True)
    unwrapped -= 360.0 * np.floor((centre + 180.0) / 360.0)

    polar = pole.sum(axis=1) == 1
    ordinary = ~polar
    changed = (np.abs(unwrapped - lon) > 1e-12) & ordinary[:, None]
    x = [grid.vlon, unwrapped[changed]]
    y = [grid.vlat, lat[changed]]
    triangles = tri.copy()
    triangles[changed] = grid.n_vertices + np.arange(int(changed.sum()))
    n_nodes = grid.n_vertices + int(changed.sum())
    all_tris, all_cells = [triangles[ordinary]], [cells[ordinary]]
    corner_x = [unwrapped[ordinary]]
    corner_y = [lat[ordinary]]
    if polar.any():  # a pole corner becomes the map's top (bottom) edge: a quad, 2 triangles
        quad_x, quad_y = _polar_quads(unwrapped[polar], lat[polar], pole[polar])
        k = quad_x.shape[0]
        x.append(quad_x.ravel())
        y.append(quad_y.ravel())
        quad = n_nodes + 4 * np.arange(k)[:, None]
        all_tris.append(np.concatenate([quad + np.array([0, 1, 2]), quad + np.array([0, 2, 3])]))
        all_cells.append(np.tile(cells[polar], 2))
        corner_x.append(np.concatenate([quad_x[:, [0, 1, 2]], quad_x[:, [0, 2, 3]]]))
        corner_y.append(np.concatenate([quad_y[:, [0, 1, 2]], quad_y[:, [0, 2, 3]]]))
        n_nodes += 4 * k
    base_cells = np.concatenate(all_cells)
    corner_x, corner_y = np.concatenate(corner_x), np.concatenate(corner_y)
    for side, shift in (
        (corner_x.max(axis=1) > 180.0, -360.0),
        (corner_x.min(axis=1) < -180.0, 360.0),
    ):
        if not side.any():
            continue
        k = int(side.sum())
        x.append((corner_x[side] + shift).ravel())
        y.append(corner_y[side].ravel())
        all_tris.append(n_nodes + np.arange(3 * k).reshape(k, 3))
        all_cells.append(base_cells[side])
        n_nodes += 3 * k
    t = Triangulation(np.concatenate(x), np.concatenate(y), np.concatenate(all_tris))
    return IconTriangulation(t, np.concatenate(all_cells))


def _polar_quads(
    lon: np.ndarray, lat: np.ndarray, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Corners of triangles with one pole corner as quads on the map, each ``(k, 4)``.

    On a longitude/latitude map the pole is a line, so a triangle touching it covers the
    strip between its other two corners' longitudes up to the pole: the quad
    ``a, b, (lon_b, pole), (lon_a, pole)`` in the triangle's corner order.
    """
    rows = np.arange(lon.shape[0])[:, None]
    p = np.argmax(pole, axis=1)[:, None]
    order = (p + np.array([1, 2])) % 3  # the two ordinary corners, cyclic after the pole
    a_b_lon, a_b_lat = lon[rows, order], lat[rows, order]
    pole_lat = lat[rows[:, 0], p[:, 0]][:, None]
    quad_x = np.concatenate([a_b_lon, a_b_lon[:, ::-1]], axis=1)
    quad_y = np.concatenate([a_b_lat, np.repeat(pole_lat, 2, axis=1)], axis=1)
    return quad_x, quad_y


# ---------------------------------------------------------------------------
# remapping


def regular_latlon(resolution: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre latitudes and longitudes of a global regular grid (degrees).

    Returns ``latitude`` (-90 + r/2 ... 90 - r/2) and ``longitude`` (-180 + r/2 ...).
    """
    nlat = round(180.0 / resolution)
    if nlat < 1 or abs(nlat * resolution - 180.0) > 1e-9:
        raise ConfigError(f"resolution {resolution} must divide 180 degrees")
    lat = -90.0 + resolution * (np.arange(nlat) + 0.5)
    lon = -180.0 + resolution * (np.arange(2 * nlat) + 0.5)
    return lat, lon


@dataclass(frozen=True, eq=False)
class RemapWeights:
    """Sparse weights from cells to a regular latitude/longitude grid.

    Attributes
    ----------
    indices:
        Source cells, shape (n_lat * n_lon, k) (k = 1 nearest, 3 linear).
    weights:
        Weights, same shape, rows summing to 1; NaN rows mark targets outside the grid.
    latitude, longitude:
        Target coordinates (degrees), shapes (n_lat,), (n_lon,).
    method:
        ``"nearest"`` or ``"linear"``.
    """

    indices: np.ndarray
    weights: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    method: str

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Remap ``values`` of shape (..., n_cells) to (..., n_lat, n_lon)."""
        values = np.asarray(values, dtype=float)
        out = (values[..., self.indices] * self.weights).sum(axis=-1)
        return out.reshape(*values.shape[:-1], self.latitude.size, self.longitude.size)


def _incident_facets(simplices: np.ndarray, n_points: int) -> np.ndarray:
    """Facets around each point, shape (n_points, max_degree), padded with -1."""
    flat = simplices.ravel()
    facet = np.repeat(np.arange(simplices.shape[0]), 3)
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=n_points)
    starts = np.cumsum(counts) - counts
    slot = np.arange(flat.size) - np.repeat(starts, counts)
    table = np.full((n_points, max(int(counts.max()), 1)), -1, dtype=np.int64)
    table[flat[order], slot] = facet[order]
    return table


def _linear_weights(
    src: np.ndarray, dst: np.ndarray, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    from scipy.spatial import ConvexHull, cKDTree

    hull = ConvexHull(src)
    simplices = hull.simplices.astype(np.int64)
    corners = src[simplices]  # (n_facets, 3 corners, 3 xyz)
    inverse = np.linalg.inv(np.transpose(corners, (0, 2, 1)))  # columns are corners
    one_minus_d = 1.0 + hull.equations[:, 3]  # equations: n.x + offset = 0, |n| = 1
    bad_facet = one_minus_d > 10.0 * np.median(one_minus_d)
    table = _incident_facets(simplices, src.shape[0])
    tree = cKDTree(src)
    k = min(4, src.shape[0])
    idx = np.zeros((dst.shape[0], 3), dtype=np.int64)
    w = np.full((dst.shape[0], 3), np.nan)
    for s in range(0, dst.shape[0], chunk):
        p = dst[s : s + chunk]
        _, near = tree.query(p, k=k)
        cand = table[np.asarray(near).reshape(p.shape[0], -1)].reshape(p.shape[0], -1)
        valid = cand >= 0
        lam = np.einsum("nmij,nj->nmi", inverse[np.where(valid, cand, 0)], p)
        inside = valid & (lam.min(axis=2) >= -1e-12) & (lam.sum(axis=2) > 0)
        found = inside.any(axis=1)
        best = np.argmax(inside, axis=1)
        rows = np.arange(p.shape[0])
        facet = cand[rows, best]
        lam_best = lam[rows, best]
        miss = np.flatnonzero(~found)
        if miss.size:  # exhaustive search (rare)
            lam_all = np.einsum("fij,nj->nfi", inverse, p[miss])
            ok = (lam_all.min(axis=2) >= -1e-12) & (lam_all.sum(axis=2) > 0)
            fb = np.argmax(ok, axis=1)
            facet[miss] = fb
            lam_best[miss] = lam_all[np.arange(miss.size), fb]
            found[miss] = ok.any(axis=1)
        lam_best = np.clip(lam_best, 0.0, None)
        weights = lam_best / lam_best.sum(axis=1, keepdims=True)
        outside = ~found | bad_facet[facet]
        weights[outside] = np.nan
        idx[s : s + chunk] = simplices[facet]
        w[s : s + chunk] = weights
    idx[np.isnan(w).any(axis=1)] = 0
    return idx, w


def remap_weights(
    grid: IconGrid,
    latitude: np.ndarray,
    longitude: np.ndarray,
    method: Literal["nearest", "linear"] = "linear",
    max_distance_deg: float | None = None,
) -> RemapWeights:
    """Weights to remap cell-centre data of ``grid`` to a regular lat/lon grid.

    Parameters
    ----------
    grid:
        Source ICON grid.
    latitude, longitude:
        Target coordinates in degrees, shapes (n_lat,), (n_lon,).
    method:
        ``"nearest"`` or ``"linear"`` (see the module docstring).
    max_distance_deg:
        For ``nearest``: targets farther than this great-circle angle from every
        cell centre get NaN (useful for limited-area grids).
    """
    from scipy.spatial import cKDTree

    if method not in ("nearest", "linear"):
        raise UnknownNameError("remap method", str(method), ["nearest", "linear"])
    latitude = np.asarray(latitude, dtype=float).ravel()
    longitude = np.asarray(longitude, dtype=float).ravel()
    lat2, lon2 = np.meshgrid(latitude, longitude, indexing="ij")
    dst = lonlat_to_xyz(lon2.ravel(), lat2.ravel())
    src = lonlat_to_xyz(grid.clon, grid.clat)
    if method == "nearest":
        dist, near = cKDTree(src).query(dst)
        weights = np.ones((dst.shape[0], 1))
        if max_distance_deg is not None:
            chord = 2.0 * np.sin(np.deg2rad(max_distance_deg) / 2.0)
            weights[dist > chord] = np.nan
        return RemapWeights(near[:, None].astype(np.int64), weights, latitude, longitude, method)
    idx, w = _linear_weights(src, dst)
    return RemapWeights(idx, w, latitude, longitude, method)


def remap_to_latlon(
    grid: IconGrid,
    values: np.ndarray | xr.DataArray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    *,
    method: Literal["nearest", "linear"] = "linear",
    weights: RemapWeights | None = None,
) -> xr.DataArray:
    """Remap cell-centre data to a regular latitude/longitude grid.

    Parameters
    ----------
    grid:
        Source ICON grid.
    values:
        Data of shape (..., n_cells); a DataArray must have a ``cell`` dimension
        (moved last; its other dims, coordinates and attrs are kept).
    latitude, longitude:
        Target coordinates in degrees, shapes (n_lat,), (n_lon,).
    method:
        ``"nearest"`` or ``"linear"``.
    weights:
        Precomputed :func:`remap_weights` (reused across fields); overrides the
        other target arguments.

    Returns
    -------
    xarray.DataArray
        Dims (..., ``latitude``, ``longitude``), NaN outside a limited-area grid.
    """
    if weights is None:
        weights = remap_weights(grid, latitude, longitude, method)
    if isinstance(values, xr.DataArray):
        if "cell" not in values.dims:
            raise DataFormatError(f"values need a 'cell' dimension, got dims {values.dims}")
        da = values.transpose(..., "cell")
        lead = [d for d in da.dims if d != "cell"]
        coords = {k: v for k, v in da.coords.items() if "cell" not in v.dims}
        name, attrs, data = da.name, dict(da.attrs), da.values
    else:
        data = np.asarray(values)
        lead = [f"dim_{i}" for i in range(data.ndim - 1)]
        coords, name, attrs = {}, None, {}
    if data.shape[-1] != grid.n_cells:
        raise DataFormatError(
            f"values have {data.shape[-1]} cells along the last axis, the grid has {grid.n_cells}"
        )
    out = weights.apply(data)
    coords = {
        **coords,
        "latitude": ("latitude", weights.latitude, {"units": "degrees_north"}),
        "longitude": ("longitude", weights.longitude, {"units": "degrees_east"}),
    }
    attrs = {**attrs, "remap_method": weights.method}
    return xr.DataArray(
        out, dims=(*lead, "latitude", "longitude"), coords=coords, name=name, attrs=attrs
    )
