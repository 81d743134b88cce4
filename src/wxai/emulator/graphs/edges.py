"""Edge construction (cut-off radius, k nearest neighbours) and edge attributes.

Neighbour searches run in ``scipy.spatial.cKDTree`` on unit vectors: the chord
``2 sin(d / 2)`` is monotone in the great-circle angle ``d``, so a chord radius is an
angular radius. Edges follow PyG: ``edge_index[0]`` = source, ``edge_index[1]`` = target.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from wxai.core.errors import ConfigError

__all__ = [
    "cutoff_edges",
    "directed",
    "edge_attributes",
    "edge_directions",
    "great_circle",
    "knn_edges",
    "sort_edges",
]


def great_circle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle angle (radians) between unit vectors ``a`` and ``b``, (E, 3) each -> (E,)."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.einsum("ij,ij->i", a, b))


def _chord(angle: float) -> float:
    return 2.0 * np.sin(0.5 * min(angle, np.pi))


def sort_edges(edges: np.ndarray) -> np.ndarray:
    """Edges (2, E) sorted by target, then source (a deterministic order)."""
    order = np.lexsort((edges[0], edges[1]))
    return edges[:, order]


def directed(pairs: np.ndarray) -> np.ndarray:
    """Both directions of undirected pairs (E, 2) -> edge index (2, 2E)."""
    return np.concatenate([pairs.T, pairs[:, ::-1].T], axis=1)


def cutoff_edges(source_xyz: np.ndarray, target_xyz: np.ndarray, radius: float) -> np.ndarray:
    """Edges from every source to every target within ``radius`` (great-circle radians).

    Returns
    -------
    Edge index (2, E) int64, sorted by target then source.
    """
    if radius <= 0:
        raise ConfigError(f"cut-off radius must be positive, got {radius}")
    chord = _chord(radius)
    pairs = cKDTree(source_xyz).sparse_distance_matrix(
        cKDTree(target_xyz), chord, output_type="ndarray"
    )
    edges = np.stack([pairs["i"], pairs["j"]]).astype(np.int64)
    return sort_edges(edges)


def knn_edges(source_xyz: np.ndarray, target_xyz: np.ndarray, k: int) -> np.ndarray:
    """Edges to every target from its ``k`` nearest sources.

    Returns
    -------
    Edge index (2, n_target * k) int64, sorted by target then source.

    Raises
    ------
    ConfigError
        When there are fewer than ``k`` sources.
    """
    if k > source_xyz.shape[0]:
        raise ConfigError(f"knn: {k} exceeds the {source_xyz.shape[0]} source nodes")
    _, idx = cKDTree(source_xyz).query(target_xyz, k=k)
    idx = np.asarray(idx).reshape(target_xyz.shape[0], k)
    targets = np.repeat(np.arange(target_xyz.shape[0]), k)
    return sort_edges(np.stack([idx.ravel(), targets]).astype(np.int64))


def edge_directions(source_xyz: np.ndarray, target_xyz: np.ndarray) -> np.ndarray:
    """Unit direction of each source seen from its target, in the target's east/north frame.

    The tangent at the target of the great circle towards the source, (E, 3) each in,
    (E, 2) out as (east, north). At a pole the frame of longitude ``arctan2(y, x)`` is used
    (0 exactly at the pole: east = +y, north = -x at the North Pole).
    """
    t = target_xyz
    tangent = source_xyz - np.einsum("ij,ij->i", source_xyz, t)[:, None] * t
    lon = np.arctan2(t[:, 1], t[:, 0])
    lat = np.arcsin(np.clip(t[:, 2], -1.0, 1.0))
    east = np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=1)
    north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], axis=1)
    comp = np.stack(
        [np.einsum("ij,ij->i", tangent, east), np.einsum("ij,ij->i", tangent, north)], axis=1
    )
    norm = np.linalg.norm(comp, axis=1, keepdims=True)
    return comp / np.where(norm > 0, norm, 1.0)


def edge_attributes(
    edge_index: np.ndarray, source_xyz: np.ndarray, target_xyz: np.ndarray
) -> tuple[np.ndarray, float]:
    """Edge features [length / max length, direction east, direction north], (E, 3) float32.

    Returns
    -------
    attr, max_length:
        The features and the longest edge (great-circle radians) used to normalise.
    """
    s = source_xyz[edge_index[0]]
    t = target_xyz[edge_index[1]]
    length = great_circle(s, t)
    max_length = float(length.max()) if length.size else 1.0
    scale = max_length if max_length > 0 else 1.0
    attr = np.concatenate([(length / scale)[:, None], edge_directions(s, t)], axis=1)
    return attr.astype(np.float32), max_length
