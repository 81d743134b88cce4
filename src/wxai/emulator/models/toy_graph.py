"""A small emulator graph with the layout of :mod:`wxai.emulator.graphs`, built directly.

For tests and benchmarks of the network that must not depend on the graph builder:
data nodes on a regular-longitude Gaussian grid, hidden nodes the vertices of a
refined icosahedron, encoder edges by cut-off radius, processor edges the union of
the icosahedron's edges at every refinement level (both directions), decoder edges
to the ``k`` nearest hidden nodes. Edge features as in the spec: great-circle length
over the largest of that edge type, then the direction of the source seen from the
target in the target's local (east, north) frame.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree

from wxai.data.grids.icosahedral import edge_topology, icosahedron, subdivide


def gaussian_grid(nlon: int = 64, nlat: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes (degrees, ``(nlat * nlon,)``) of a Gaussian grid, north first."""
    nodes, _ = np.polynomial.legendre.leggauss(nlat)
    lat = np.rad2deg(np.arcsin(nodes))[::-1]
    lon = 360.0 * np.arange(nlon) / nlon
    grid_lat, grid_lon = np.meshgrid(lat, lon, indexing="ij")
    return grid_lat.ravel(), grid_lon.ravel()


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def _latlon(xyz: np.ndarray) -> np.ndarray:
    return np.stack([np.arcsin(np.clip(xyz[:, 2], -1, 1)), np.arctan2(xyz[:, 1], xyz[:, 0])], 1)


def edge_features(src_xyz: np.ndarray, dst_xyz: np.ndarray) -> np.ndarray:
    """``(E, 3)`` float32: [length / max length, east, north] of source seen from target."""
    length = np.arccos(np.clip(np.einsum("ij,ij->i", src_xyz, dst_xyz), -1.0, 1.0))
    z = np.array([0.0, 0.0, 1.0])
    east = np.cross(z, dst_xyz)
    east_norm = np.linalg.norm(east, axis=1, keepdims=True)
    east = np.where(east_norm > 1e-12, east / np.maximum(east_norm, 1e-12), [0.0, 1.0, 0.0])
    north = np.cross(dst_xyz, east)
    offset = src_xyz - dst_xyz
    direction = np.stack(
        [np.einsum("ij,ij->i", offset, east), np.einsum("ij,ij->i", offset, north)]
    )
    direction /= np.maximum(np.linalg.norm(direction, axis=0), 1e-12)
    scale = length.max() if len(length) and length.max() > 0 else 1.0
    return np.column_stack([length / scale, direction.T]).astype(np.float32)


def toy_graph(
    nlon: int = 64,
    nlat: int = 32,
    level: int = 3,
    cutoff_factor: float = 0.6,
    k_decoder: int = 3,
):  # -> HeteroData
    """An encoder-processor-decoder graph for a Gaussian grid (64 x 32: 2048 data nodes).

    Parameters
    ----------
    nlon, nlat:
        Gaussian grid size; data nodes ordered north to south, west to east.
    level:
        Icosahedron refinements of the hidden mesh (3: 642 nodes).
    cutoff_factor:
        Encoder radius as a multiple of the longest finest-level mesh edge.
    k_decoder:
        Hidden nodes feeding each data node.
    """
    from torch_geometric.data import HeteroData

    lat, lon = gaussian_grid(nlon, nlat)
    data_xyz = _xyz(np.deg2rad(lat), np.deg2rad(lon))
    xyz, faces = icosahedron()
    mesh_edges = [edge_topology(faces)[0]]
    for _ in range(level):
        xyz, faces = subdivide(xyz, faces)
        mesh_edges.append(edge_topology(faces)[0])
    # vertex numbering is kept across refinements, so coarse edges index fine vertices
    undirected = np.unique(np.sort(np.concatenate(mesh_edges), axis=1), axis=0)
    processor = np.concatenate([undirected, undirected[:, ::-1]]).T
    finest = mesh_edges[-1]
    longest = np.arccos(np.einsum("ij,ij->i", xyz[finest[:, 0]], xyz[finest[:, 1]]).min())
    chord = 2.0 * np.sin(cutoff_factor * longest / 2.0)
    pairs = cKDTree(xyz).query_ball_point(data_xyz, r=chord)
    enc_src = np.concatenate([np.full(len(p), i) for i, p in enumerate(pairs)]).astype(np.int64)
    enc_dst = np.concatenate([np.asarray(p, dtype=np.int64) for p in pairs])
    _, nearest = cKDTree(data_xyz).query(xyz, k=1)  # every hidden node gets an edge
    enc_src = np.concatenate([enc_src, nearest])
    enc_dst = np.concatenate([enc_dst, np.arange(len(xyz))])
    encoder = np.unique(np.stack([enc_src, enc_dst]), axis=1)
    _, knn = cKDTree(xyz).query(data_xyz, k=k_decoder)
    decoder = np.stack([knn.ravel(), np.repeat(np.arange(len(data_xyz)), k_decoder)])

    graph = HeteroData()
    for name, positions in (("data", data_xyz), ("hidden", xyz)):
        graph[name].x = torch.tensor(_latlon(positions), dtype=torch.float32)
        graph[name].num_nodes = len(positions)
    parts = {
        ("data", "to", "hidden"): (encoder, data_xyz, xyz),
        ("hidden", "to", "hidden"): (processor, xyz, xyz),
        ("hidden", "to", "data"): (decoder, xyz, data_xyz),
    }
    for key, (index, src_xyz, dst_xyz) in parts.items():
        graph[key].edge_index = torch.tensor(index, dtype=torch.long)
        attr = edge_features(src_xyz[index[0]], dst_xyz[index[1]])
        graph[key].edge_attr = torch.from_numpy(attr)
    return graph
