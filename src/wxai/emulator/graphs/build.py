"""Build the encoder-processor-decoder graph of a data grid as a ``HeteroData``.

Node types ``"data"`` (dataset cells, same order) and ``"hidden"`` (mesh nodes); edge types
``("data", "to", "hidden")`` (encoder), ``("hidden", "to", "hidden")`` (processor, both
directions, the union of all levels when multi-scale) and ``("hidden", "to", "data")``
(decoder). Node stores: ``x`` (N, 2) float32 (lat, lon) radians (data nodes keep the
dataset's longitude convention, hidden nodes have longitudes in (-pi, pi]), ``area_weight`` (N,)
float32 mean 1; hidden nodes also ``level`` (N,) int64, the coarsest level holding the node.
Edge stores: ``edge_index`` (2, E) int64 (source, target), ``edge_attr`` (E, 3) float32
[length / max length, east, north direction of the source seen from the target],
``max_length_km``; processor edges also ``level`` (E,) int64.
"""

from __future__ import annotations

import hashlib
import warnings
from datetime import UTC, datetime

import numpy as np
import torch
from torch_geometric.data import HeteroData
from torch_geometric.data.storage import EdgeStorage, NodeStorage

from wxai.core.errors import WxaiWarning
from wxai.data.grids.icon import EARTH_RADIUS
from wxai.emulator.graphs.config import CutoffEdges, GraphConfig, KnnEdges
from wxai.emulator.graphs.edges import (
    cutoff_edges,
    directed,
    edge_attributes,
    great_circle,
    knn_edges,
    sort_edges,
)
from wxai.emulator.graphs.mesh import Mesh, build_mesh, xyz_to_latlon
from wxai.emulator.graphs.nodes import area_weights, latlon_xyz

__all__ = [
    "DATA",
    "DECODER",
    "ENCODER",
    "HIDDEN",
    "PROCESSOR",
    "build_graph",
    "coordinates_sha256",
]

DATA, HIDDEN = "data", "hidden"
ENCODER = (DATA, "to", HIDDEN)
PROCESSOR = (HIDDEN, "to", HIDDEN)
DECODER = (HIDDEN, "to", DATA)
EARTH_RADIUS_KM = EARTH_RADIUS / 1000.0


def coordinates_sha256(latitudes: np.ndarray, longitudes: np.ndarray) -> str:
    """sha256 of the float64 latitude and longitude arrays (degrees, grid order)."""
    h = hashlib.sha256()
    for a in (latitudes, longitudes):
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64).ravel()).tobytes())
    return h.hexdigest()


def _wxai_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wxai")
    except PackageNotFoundError:
        return "unknown"


def _processor(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    edges = np.concatenate([directed(pairs) for pairs in mesh.level_edges], axis=1)
    level = np.concatenate(
        [
            np.full(2 * pairs.shape[0], lv)
            for pairs, lv in zip(mesh.level_edges, mesh.levels, strict=True)
        ]
    )
    order = np.lexsort((edges[0], edges[1]))
    return edges[:, order], level[order].astype(np.int64)


def _mesh_edge_length(mesh: Mesh) -> float:
    """Longest edge (radians) of the finest mesh level."""
    pairs = mesh.level_edges[-1]
    return float(great_circle(mesh.xyz[pairs[:, 0]], mesh.xyz[pairs[:, 1]]).max())


def _connect(
    rule: CutoffEdges | KnnEdges, source_xyz: np.ndarray, target_xyz: np.ndarray, reference: float
) -> np.ndarray:
    if isinstance(rule, CutoffEdges):
        return cutoff_edges(source_xyz, target_xyz, rule.cutoff * reference)
    return knn_edges(source_xyz, target_xyz, rule.knn)


def _node_store(
    store: NodeStorage,
    xyz: np.ndarray,
    weights: np.ndarray,
    latlon: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    lat, lon = xyz_to_latlon(xyz) if latlon is None else latlon
    store.x = torch.from_numpy(np.stack([lat, lon], axis=1).astype(np.float32))
    store.area_weight = torch.from_numpy(weights)
    store.num_nodes = int(xyz.shape[0])


def _edge_store(
    store: EdgeStorage, edges: np.ndarray, source_xyz: np.ndarray, target_xyz: np.ndarray
) -> None:
    attr, max_length = edge_attributes(edges, source_xyz, target_xyz)
    store.edge_index = torch.from_numpy(np.ascontiguousarray(edges, dtype=np.int64))
    store.edge_attr = torch.from_numpy(attr)
    store.max_length_km = max_length * EARTH_RADIUS_KM


def _warn_uncovered(encoder_sources: np.ndarray, decoder_targets: np.ndarray, n: int) -> None:
    """Warn when data nodes send no encoder edge or receive no decoder edge."""
    lost = n - np.unique(encoder_sources).size
    blind = n - np.unique(decoder_targets).size
    if lost:
        warnings.warn(
            f"{lost} of {n} data nodes send no encoder edge, so their inputs are ignored; "
            "raise encoder.cutoff (ICON cell-centre meshes need about 1.0) or use encoder knn",
            WxaiWarning,
            stacklevel=3,
        )
    if blind:
        warnings.warn(
            f"{blind} of {n} data nodes receive no decoder edge, so nothing is predicted there; "
            "raise decoder.cutoff or use decoder knn",
            WxaiWarning,
            stacklevel=3,
        )


def build_graph(
    config: GraphConfig,
    latitudes: np.ndarray,
    longitudes: np.ndarray,
    *,
    dataset: str | None = None,
) -> HeteroData:
    """The encoder-processor-decoder graph of a data grid.

    Parameters
    ----------
    config:
        Hidden mesh and edge rules.
    latitudes, longitudes:
        Data-node coordinates in degrees, (N,) each, in dataset cell order.
    dataset:
        Optional dataset path recorded in the provenance.

    Returns
    -------
    HeteroData
        See the module docstring; ``graph.provenance`` holds the config, creation time
        (UTC ISO 8601), wxai version, dataset, node and edge counts and
        ``data_coordinates_sha256`` (:func:`coordinates_sha256`).

    Raises
    ------
    ConfigError
        Invalid coordinates, knn larger than the source set, Voronoi failure.

    Warns
    -----
    WxaiWarning
        When data nodes send no encoder edge or receive no decoder edge (cut-off too
        small). Hidden nodes without encoder edges (fine meshes) are only reported by
        :func:`~wxai.emulator.graphs.inspect.inspect_graph`.
    """
    data_xyz = latlon_xyz(latitudes, longitudes)
    mesh = build_mesh(config.hidden, config.multi_scale)
    reference = _mesh_edge_length(mesh)

    graph = HeteroData()
    data_latlon = (np.deg2rad(np.ravel(latitudes)), np.deg2rad(np.ravel(longitudes)))
    weights = area_weights(data_xyz, config.data_area_weight)
    _node_store(graph[DATA], data_xyz, weights, data_latlon)
    _node_store(graph[HIDDEN], mesh.xyz, area_weights(mesh.xyz, "voronoi"))
    graph[HIDDEN].level = torch.from_numpy(mesh.node_level)

    encoder = _connect(config.encoder, data_xyz, mesh.xyz, reference)
    _edge_store(graph[ENCODER], encoder, data_xyz, mesh.xyz)
    processor, level = _processor(mesh)
    _edge_store(graph[PROCESSOR], processor, mesh.xyz, mesh.xyz)
    graph[PROCESSOR].level = torch.from_numpy(level)
    decoder = sort_edges(_connect(config.decoder, mesh.xyz, data_xyz, reference))
    _edge_store(graph[DECODER], decoder, mesh.xyz, data_xyz)

    _warn_uncovered(encoder[0], decoder[1], data_xyz.shape[0])
    graph.provenance = {
        "config": config.model_dump(mode="json"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "wxai_version": _wxai_version(),
        "dataset": dataset,
        "data_coordinates_sha256": coordinates_sha256(latitudes, longitudes),
        "mesh_edge_length_km": reference * EARTH_RADIUS_KM,
        "num_nodes": {DATA: int(data_xyz.shape[0]), HIDDEN: mesh.n_nodes},
        "num_edges": {
            "encoder": int(encoder.shape[1]),
            "processor": int(processor.shape[1]),
            "decoder": int(decoder.shape[1]),
        },
    }
    return graph
