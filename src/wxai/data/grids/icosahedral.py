"""Small ICON-like icosahedral grids built offline, and writing them as grid files.

:func:`icosahedral_grid` starts from an icosahedron with vertices at the poles
(as ICON does), bisects every edge ``n`` times (each triangle -> 4) and projects
the new vertices onto the sphere: ICON's R1B``n`` construction, 20 * 4**n cells.
Cell centres are the circumcentres of the spherical triangles (ICON's choice),
areas are spherical-triangle areas (they sum to 4 pi R**2 to rounding), and
neighbours are the cells across each of the three edges.

:func:`write_icon_grid` writes any :class:`~wxai.data.grids.icon.IconGrid` in
the layout of real ICON grid files (radians, 1-based (3, n_cells) index
tables, ``uuidOfHGrid``, ``number_of_grid_used``, ``grid_root``,
``grid_level``), marked ``synthetic`` in its global attributes, to a
temporary file that is renamed into place when complete.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import netCDF4
import numpy as np

from wxai.core.errors import ConfigError
from wxai.data.grids.icon import EARTH_RADIUS, IconGrid

__all__ = [
    "edge_topology",
    "icon_rnbk",
    "icosahedral_grid",
    "icosahedron",
    "rnbk_grid",
    "root_division",
    "spherical_triangle_area",
    "subdivide",
    "write_icon_grid",
]


def icosahedron() -> tuple[np.ndarray, np.ndarray]:
    """Unit icosahedron with vertices at the poles.

    Returns
    -------
    xyz, faces:
        Vertices, shape (12, 3); faces, shape (20, 3), anticlockwise seen from outside.
    """
    lat = np.arctan(0.5)
    k = np.arange(5)
    upper_lon = np.deg2rad(72.0 * k)
    lower_lon = np.deg2rad(36.0 + 72.0 * k)
    ring = lambda lon, la: np.stack(  # noqa: E731
        [np.cos(la) * np.cos(lon), np.cos(la) * np.sin(lon), np.full(5, np.sin(la))], axis=1
    )
    xyz = np.vstack([[0.0, 0.0, 1.0], ring(upper_lon, lat), ring(lower_lon, -lat), [0, 0, -1.0]])
    north, south = 0, 11
    up = 1 + k
    lo = 6 + k
    up1 = 1 + (k + 1) % 5
    lo1 = 6 + (k + 1) % 5
    faces = np.concatenate(
        [
            np.stack([np.full(5, north), up, up1], axis=1),
            np.stack([up, lo, up1], axis=1),
            np.stack([up1, lo, lo1], axis=1),
            np.stack([np.full(5, south), lo1, lo], axis=1),
        ]
    )
    return xyz, _orient(xyz, faces)


def _orient(xyz: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = (xyz[faces[:, i]] for i in range(3))
    flip = np.einsum("ij,ij->i", a, np.cross(b, c)) < 0
    faces = faces.copy()
    faces[flip] = faces[flip][:, [0, 2, 1]]
    return faces


def edge_topology(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges of a closed or open triangle mesh.

    Parameters
    ----------
    faces:
        Vertex indices, shape (n_cells, 3); edge k of a cell joins corners k and k+1.

    Returns
    -------
    edge_vertices, edge_of_cell, edge_cells:
        Shapes (n_edges, 2), (n_cells, 3) and (n_edges, 2); ``edge_cells`` holds -1
        for the missing side of a boundary edge.
    """
    pairs = np.stack([faces, np.roll(faces, -1, axis=1)], axis=2).reshape(-1, 2)
    edge_vertices, edge_of_cell = np.unique(np.sort(pairs, axis=1), axis=0, return_inverse=True)
    edge_of_cell = edge_of_cell.reshape(faces.shape)
    cell = np.repeat(np.arange(faces.shape[0]), 3)
    order = np.argsort(edge_of_cell.ravel(), kind="stable")
    flat = edge_of_cell.ravel()[order]
    edge_cells = np.full((edge_vertices.shape[0], 2), -1, dtype=np.int64)
    first = np.ones(flat.size, dtype=bool)
    first[1:] = flat[1:] != flat[:-1]
    edge_cells[flat[first], 0] = cell[order][first]
    edge_cells[flat[~first], 1] = cell[order][~first]
    return edge_vertices, edge_of_cell, edge_cells


def subdivide(xyz: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bisect every edge and split each triangle into four, projecting onto the sphere."""
    edge_vertices, edge_of_cell, _ = edge_topology(faces)
    mid = xyz[edge_vertices[:, 0]] + xyz[edge_vertices[:, 1]]
    mid /= np.linalg.norm(mid, axis=1, keepdims=True)
    m = xyz.shape[0] + edge_of_cell  # midpoint of edge (k, k+1)
    a, b, c = faces[:, 0], faces[:, 1], faces[:, 2]
    ab, bc, ca = m[:, 0], m[:, 1], m[:, 2]
    new = np.concatenate(
        [
            np.stack([a, ab, ca], axis=1),
            np.stack([ab, b, bc], axis=1),
            np.stack([ca, bc, c], axis=1),
            np.stack([ab, bc, ca], axis=1),
        ]
    )
    return np.vstack([xyz, mid]), new


def spherical_triangle_area(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Area (sr) of spherical triangles with unit-vector corners, shape (n, 3) each.

    Uses tan(E/2) = |a.(b x c)| / (1 + a.b + b.c + c.a), accurate for small cells.
    """
    num = np.abs(np.einsum("ij,ij->i", a, np.cross(b, c)))
    den = 1.0 + np.einsum("ij,ij->i", a, b) + np.einsum("ij,ij->i", b, c)
    den += np.einsum("ij,ij->i", c, a)
    return 2.0 * np.arctan2(num, den)


def _lonlat(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.rad2deg(np.arctan2(xyz[:, 1], xyz[:, 0]))
    lat = np.rad2deg(np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0)))
    pole = np.abs(lat) >= 90.0 - 1e-9
    lon[pole] = 0.0
    return (lon + 180.0) % 360.0 - 180.0, lat


def grid_uuid(level: int, radius: float) -> str:
    """Deterministic ``uuidOfHGrid`` of the synthetic R1B``level`` grid on ``radius``."""
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"wxai:synthetic-icosahedral:R01B{level:02d}:{radius!r}")
    )


def root_division(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Icosahedron with each edge divided in ``n``: vertices (V, 3), faces (20 n**2, 3)."""
    xyz, faces = icosahedron()
    points, tris = [], []
    ij = [(i, j) for i in range(n + 1) for j in range(n + 1 - i)]
    index = {p: q for q, p in enumerate(ij)}
    local = []
    for i in range(n):
        for j in range(n - i):
            local.append((index[i, j], index[i + 1, j], index[i, j + 1]))
            if j < n - i - 1:
                local.append((index[i + 1, j], index[i + 1, j + 1], index[i, j + 1]))
    bary = np.array([(n - i - j, i, j) for i, j in ij], dtype=float) / n
    local_arr = np.array(local)
    for f, face in enumerate(faces):
        p = bary @ xyz[face]
        points.append(p / np.linalg.norm(p, axis=1, keepdims=True))
        tris.append(local_arr + f * len(ij))
    allp = np.vstack(points)
    unique, inverse = np.unique(np.round(allp, 9), axis=0, return_inverse=True)
    vertices = np.zeros_like(unique)
    vertices[inverse.ravel()] = allp
    return vertices, inverse.ravel()[np.vstack(tris)]


def icon_rnbk(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) and faces (20 n**2 4**k, 3) of the ICON-style RnBk grid."""
    if n < 1 or k < 0:
        raise ConfigError(f"ICON grid R{n}B{k}: n must be >= 1 and k >= 0")
    xyz, faces = root_division(n)
    for _ in range(k):
        xyz, faces = subdivide(xyz, faces)
    return xyz, faces


def rnbk_grid(n: int, k: int) -> IconGrid:
    """The ICON-style RnBk grid of :func:`icon_rnbk` as an :class:`IconGrid` for plotting.

    Cells are in :func:`icon_rnbk`'s face order with centres at the normalised mean of
    their vertices, the cells of an emulator dataset on ``grid: {icon: {n, k}}``.
    """
    xyz, faces = icon_rnbk(n, k)
    centre = xyz[faces].sum(axis=1)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    clon, clat = _lonlat(centre)
    vlon, vlat = _lonlat(xyz)
    return IconGrid(
        clon=clon,
        clat=clat,
        vlon=vlon,
        vlat=vlat,
        vertex_of_cell=faces.astype(np.int64),
        number_of_grid_used=0,
        grid_root=n,
        grid_level=k,
        attrs={"title": f"wxai ICON-style grid R{n}B{k:02d}", "synthetic": "true"},
    )


def icosahedral_grid(n: int, radius: float = EARTH_RADIUS) -> IconGrid:
    """Build the R1B``n`` icosahedral grid.

    Parameters
    ----------
    n:
        Number of edge bisections (0 = icosahedron); 20 * 4**n cells,
        10 * 4**n + 2 vertices.
    radius:
        Sphere radius (m); areas are in m2 (use 1.0 for steradians).

    Returns
    -------
    IconGrid
        Degrees, 0-based indices, cell areas, neighbours; ``uuid`` from
        :func:`grid_uuid`, ``number_of_grid_used`` 0 (not a registered grid),
        ``grid_root`` 1, ``grid_level`` n, ``attrs['synthetic'] == 'true'``.
    """
    if n < 0 or int(n) != n:
        raise ConfigError(f"n must be a non-negative integer, got {n!r}")
    xyz, faces = icosahedron()
    for _ in range(int(n)):
        xyz, faces = subdivide(xyz, faces)
    a, b, c = (xyz[faces[:, i]] for i in range(3))
    centre = np.cross(b - a, c - a)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    area = spherical_triangle_area(a, b, c) * radius**2
    _, edge_of_cell, edge_cells = edge_topology(faces)
    cells = edge_cells[edge_of_cell]  # (n_cells, 3, 2)
    own = np.arange(faces.shape[0])[:, None]
    neighbours = np.where(cells[..., 0] == own, cells[..., 1], cells[..., 0])
    clon, clat = _lonlat(centre)
    vlon, vlat = _lonlat(xyz)
    uid = grid_uuid(int(n), float(radius))
    attrs = {
        "title": f"wxai synthetic icosahedral grid R01B{int(n):02d} (not an official ICON grid)",
        "synthetic": "true",
        "uuidOfHGrid": uid,
        "number_of_grid_used": 0,
        "grid_root": 1,
        "grid_level": int(n),
        "sphere_radius": float(radius),
    }
    return IconGrid(
        clon=clon,
        clat=clat,
        vlon=vlon,
        vlat=vlat,
        vertex_of_cell=faces.astype(np.int64),
        neighbor_cell_index=neighbours.astype(np.int64),
        cell_area=area,
        area_units="m2",
        uuid=uid,
        number_of_grid_used=0,
        grid_root=1,
        grid_level=int(n),
        attrs=attrs,
    )


def write_icon_grid(grid: IconGrid, path: str | Path) -> Path:
    """Write ``grid`` as an ICON-grid-like NetCDF-4 file, atomically.

    Variables: ``clon``, ``clat``, ``clon_vertices``, ``clat_vertices`` (cell),
    ``vlon``, ``vlat`` (vertex), ``elon``, ``elat`` (edge midpoints), all radians;
    ``vertex_of_cell``, ``edge_of_cell``, ``neighbor_cell_index`` (nv=3, cell),
    ``edge_vertices`` (nc=2, edge), 1-based with 0 for "none"; ``cell_area``.

    Returns
    -------
    Path
        ``path``, written through a temporary file in the same directory and
        renamed when complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    voc = grid.vertex_of_cell
    edge_vertices, edge_of_cell, edge_cells = edge_topology(voc)
    if grid.neighbor_cell_index is not None:
        neighbours = grid.neighbor_cell_index
    else:
        cells = edge_cells[edge_of_cell]
        own = np.arange(grid.n_cells)[:, None]
        neighbours = np.where(cells[..., 0] == own, cells[..., 1], cells[..., 0])
    vxyz = np.stack(
        [
            np.cos(np.deg2rad(grid.vlat)) * np.cos(np.deg2rad(grid.vlon)),
            np.cos(np.deg2rad(grid.vlat)) * np.sin(np.deg2rad(grid.vlon)),
            np.sin(np.deg2rad(grid.vlat)),
        ],
        axis=1,
    )
    emid = vxyz[edge_vertices[:, 0]] + vxyz[edge_vertices[:, 1]]
    emid /= np.linalg.norm(emid, axis=1, keepdims=True)
    elon, elat = _lonlat(emid)
    attrs = {
        "title": "wxai ICON-like grid file",
        "synthetic": "true",
        "number_of_grid_used": grid.number_of_grid_used or 0,
        "grid_root": grid.grid_root if grid.grid_root is not None else 1,
        "grid_level": grid.grid_level if grid.grid_level is not None else 0,
        **{k: v for k, v in grid.attrs.items() if k not in ("history",)},
        "uuidOfHGrid": grid.uuid or str(uuid.uuid4()),
        "history": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} written by wxai",
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
            nc.createDimension("cell", grid.n_cells)
            nc.createDimension("vertex", grid.n_vertices)
            nc.createDimension("edge", edge_vertices.shape[0])
            nc.createDimension("nv", 3)
            nc.createDimension("nc", 2)

            def var(name, dims, data, dtype="f8", **meta):
                v = nc.createVariable(name, dtype, dims, zlib=True, complevel=1)
                v[...] = data
                for k, val in meta.items():
                    v.setncattr(k, val)

            rad = np.deg2rad
            lon_meta = {"units": "radian", "standard_name": "longitude"}
            lat_meta = {"units": "radian", "standard_name": "latitude"}
            var(
                "clon",
                ("cell",),
                rad(grid.clon),
                long_name="center longitude",
                bounds="clon_vertices",
                **lon_meta,
            )
            var(
                "clat",
                ("cell",),
                rad(grid.clat),
                long_name="center latitude",
                bounds="clat_vertices",
                **lat_meta,
            )
            var("clon_vertices", ("cell", "nv"), rad(grid.vlon[voc]), units="radian")
            var("clat_vertices", ("cell", "nv"), rad(grid.vlat[voc]), units="radian")
            var("vlon", ("vertex",), rad(grid.vlon), long_name="vertex longitude", **lon_meta)
            var("vlat", ("vertex",), rad(grid.vlat), long_name="vertex latitude", **lat_meta)
            var("elon", ("edge",), rad(elon), long_name="edge midpoint longitude", **lon_meta)
            var("elat", ("edge",), rad(elat), long_name="edge midpoint latitude", **lat_meta)
            var(
                "vertex_of_cell",
                ("nv", "cell"),
                (voc + 1).T,
                "i4",
                long_name="vertices of each cell",
            )
            var(
                "edge_of_cell",
                ("nv", "cell"),
                (edge_of_cell + 1).T,
                "i4",
                long_name="edges of each cell",
            )
            var(
                "neighbor_cell_index",
                ("nv", "cell"),
                (neighbours + 1).T,
                "i4",
                long_name="cell neighbour index",
            )
            var(
                "edge_vertices",
                ("nc", "edge"),
                (edge_vertices + 1).T,
                "i4",
                long_name="vertices at the end of each edge",
            )
            if grid.cell_area is not None:
                var(
                    "cell_area",
                    ("cell",),
                    grid.cell_area,
                    units=grid.area_units,
                    long_name="area of grid cell",
                    standard_name="area",
                )
            for k, v in attrs.items():
                nc.setncattr(k, v)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
