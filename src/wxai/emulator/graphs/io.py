"""Saving, loading and checking graphs.

The file is a ``torch.save`` of plain containers (a format tag, node and edge stores as
dicts of tensors and numbers, the provenance), so :func:`load_graph` reads it with
``weights_only=True`` (no arbitrary pickles) and rebuilds the ``HeteroData``.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData

from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.formats import MissingFileError
from wxai.emulator.graphs.build import DATA, EARTH_RADIUS_KM, coordinates_sha256
from wxai.emulator.graphs.edges import great_circle
from wxai.emulator.graphs.nodes import latlon_xyz, positions_xyz

__all__ = [
    "FORMAT",
    "check_matches",
    "graph_from_payload",
    "graph_payload",
    "load_graph",
    "save_graph",
]

FORMAT = "wxai-emulator-graph"
VERSION = 1


def _store_dict(store) -> dict[str, Any]:
    return dict(store.to_dict())


def graph_payload(graph: HeteroData) -> dict[str, Any]:
    """``graph`` as plain containers of tensors and numbers (what :func:`save_graph` writes).

    :func:`graph_from_payload` turns it back; checkpoints embed it the same way.
    """
    return {
        "format": FORMAT,
        "version": VERSION,
        "provenance": dict(getattr(graph, "provenance", {}) or {}),
        "nodes": {t: _store_dict(graph[t]) for t in graph.node_types},
        "edges": [[*t, _store_dict(graph[t])] for t in graph.edge_types],
    }


def save_graph(graph: HeteroData, path: str | Path) -> Path:
    """Write ``graph`` to ``path`` atomically (temporary file in the same folder, then rename).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = graph_payload(graph)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        torch.save(payload, tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def graph_from_payload(payload: Any, source: str = "graph") -> HeteroData:
    """Rebuild a ``HeteroData`` from the dict :func:`save_graph` writes.

    Raises
    ------
    DataFormatError
        When ``payload`` is not a wxai graph of a known version.
    """
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataFormatError(
            f"{source} is not a wxai emulator graph (no format tag {FORMAT!r}); "
            "create one with `wxai emulator graph create`"
        )
    if payload.get("version") != VERSION:
        raise DataFormatError(
            f"{source} has graph format version {payload.get('version')!r}, "
            f"this wxai reads version {VERSION}; create the graph again"
        )
    graph = HeteroData()
    try:
        for node_type, items in payload["nodes"].items():
            for key, value in items.items():
                setattr(graph[node_type], key, value)
        for src, rel, dst, items in payload["edges"]:
            for key, value in items.items():
                setattr(graph[src, rel, dst], key, value)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataFormatError(f"{source} has a malformed graph payload: {exc}") from exc
    graph.provenance = payload.get("provenance", {})
    return graph


def load_graph(path: str | Path) -> HeteroData:
    """Read a graph written by :func:`save_graph`.

    Raises
    ------
    MissingFileError
        (a :class:`DataFormatError`) when ``path`` does not exist.
    DataFormatError
        When the file is truncated, corrupt or not a wxai graph.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"graph file not found: {path}; create it with `wxai emulator graph create`"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        EOFError,
        KeyError,  # a text file read as a legacy pickle
        OSError,
        ValueError,
        zipfile.BadZipFile,
        pickle.UnpicklingError,
    ) as exc:
        raise DataFormatError(
            f"cannot read graph file {path}: {exc}. The file is corrupt, truncated or not a "
            "wxai graph; create it again with `wxai emulator graph create`"
        ) from exc
    return graph_from_payload(payload, f"graph file {path}")


def check_matches(
    graph: HeteroData,
    latitudes: np.ndarray,
    longitudes: np.ndarray,
    *,
    tolerance_km: float = 1.0,
) -> None:
    """Check that ``graph``'s data nodes are the cells of a dataset, in the same order.

    A matching coordinate hash passes at once; otherwise every data node must lie within
    ``tolerance_km`` of its dataset cell (the graph stores float32 radians, ~1 m).

    Raises
    ------
    ConfigError
        Naming the problem: a different number of cells, or the cells that moved.
    """
    lat = np.asarray(latitudes, dtype=np.float64).ravel()
    lon = np.asarray(longitudes, dtype=np.float64).ravel()
    n_graph = int(graph[DATA].num_nodes)
    if lat.size != n_graph:
        raise ConfigError(
            f"the graph has {n_graph} data nodes but the dataset has {lat.size} cells; "
            "build the graph for this dataset's grid"
        )
    provenance = getattr(graph, "provenance", None) or {}
    if provenance.get("data_coordinates_sha256") == coordinates_sha256(lat, lon):
        return
    x = graph[DATA].x.double().numpy()
    graph_xyz = positions_xyz(x)
    xyz = latlon_xyz(lat, lon)
    dist = great_circle(graph_xyz, xyz) * EARTH_RADIUS_KM
    bad = np.flatnonzero(dist > tolerance_km)
    if bad.size:
        i = int(bad[0])
        raise ConfigError(
            f"the graph's data nodes differ from the dataset's coordinates at {bad.size} of "
            f"{n_graph} cells (up to {dist.max():.1f} km); first at cell {i}: graph "
            f"({np.rad2deg(x[i, 0]):.4f}, {np.rad2deg(x[i, 1]):.4f}) vs dataset "
            f"({lat[i]:.4f}, {lon[i]:.4f}) degrees lat/lon; build the graph for this dataset"
        )
