"""Hidden meshes: refined icosahedra (nested levels) and ICON cell-centre meshes.

Refining with :func:`wxai.data.grids.icosahedral.subdivide` appends the edge midpoints
after the existing vertices, so the nodes of level ``l`` are the first 10 * 4**l + 2
nodes of every finer level: the multi-mesh (GraphCast, AICON) is the finest node set
with the union of the edges of all levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wxai.core.errors import InternalError
from wxai.data.grids.icon import lonlat_to_xyz, xyz_to_lonlat
from wxai.data.grids.icosahedral import edge_topology, icosahedral_grid, icosahedron, subdivide
from wxai.emulator.graphs.config import HiddenMesh

__all__ = ["Mesh", "build_mesh", "icosahedral_levels", "xyz_to_latlon"]


@dataclass(frozen=True)
class Mesh:
    """Hidden nodes and their undirected edges per refinement level.

    Attributes
    ----------
    xyz:
        Unit vectors of the nodes, (N, 3).
    node_level:
        Coarsest level each node belongs to, (N,) int64 (ICON cell centres: all ``level``).
    level_edges:
        One (E_l, 2) int64 array of undirected node pairs (i < j) per level, coarsest first.
    levels:
        The refinement level of each entry of ``level_edges``.
    """

    xyz: np.ndarray
    node_level: np.ndarray
    level_edges: list[np.ndarray]
    levels: list[int]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.xyz.shape[0])


def xyz_to_latlon(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude in radians, (N,) each, of unit vectors (N, 3).

    The node positions of a graph (``x`` = (lat, lon) radians) from
    :func:`wxai.data.grids.icon.xyz_to_lonlat`; longitudes in (-pi, pi].
    """
    lon, lat = xyz_to_lonlat(xyz)
    return np.deg2rad(lat), np.deg2rad(lon)


def icosahedral_levels(level: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Nodes of the refined icosahedron and its faces at every level.

    Returns
    -------
    xyz, faces:
        Unit vectors (10 * 4**level + 2, 3); faces per level 0..level, (20 * 4**l, 3) each,
        indexing the finest node set.
    """
    xyz, faces = icosahedron()
    all_faces = [faces]
    for _ in range(level):
        xyz, faces = subdivide(xyz, faces)
        all_faces.append(faces)
    return xyz, all_faces


def build_mesh(hidden: HiddenMesh, multi_scale: bool) -> Mesh:
    """The hidden mesh of a config: nodes and the per-level edges the processor uses."""
    level = hidden.level
    if hidden.kind == "icon-cells":
        grid = icosahedral_grid(level, radius=1.0)
        xyz = lonlat_to_xyz(grid.clon, grid.clat)
        nb = grid.neighbor_cell_index
        pairs = np.stack([np.repeat(np.arange(grid.n_cells), 3), nb.ravel()], axis=1)
        pairs = np.unique(np.sort(pairs[pairs[:, 1] >= 0], axis=1), axis=0)
        return Mesh(xyz, np.full(grid.n_cells, level, dtype=np.int64), [pairs], [level])
    xyz, faces = icosahedral_levels(level)
    if hidden.kind == "icon-vertices":
        grid = icosahedral_grid(level, radius=1.0)
        icon_xyz = lonlat_to_xyz(grid.vlon, grid.vlat)
        if not np.allclose(icon_xyz, xyz, atol=1e-9):
            raise InternalError("the R1B grid vertices are no longer the nested icosahedron")
        xyz = icon_xyz
    counts = np.asarray([10 * 4**lv + 2 for lv in range(level + 1)])
    node_level = np.searchsorted(counts, np.arange(xyz.shape[0]), side="right")
    used = list(range(level + 1)) if multi_scale else [level]
    level_edges = [edge_topology(faces[lv])[0].astype(np.int64) for lv in used]
    return Mesh(xyz, node_level.astype(np.int64), level_edges, used)
