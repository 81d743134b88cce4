"""Front lines from front masks: skeletons traced into polylines, written as GeoJSON.

Each class's mask is thinned to a one-cell skeleton (scikit-image); every connected
piece of skeleton becomes a graph of 8-neighbour cells (networkx), and its longest
shortest path between two end cells is the front line, so short side branches of
the skeleton are dropped. Lines shorter than ``min_cells`` are noise and dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from wxai.data.formats import atomic_path
from wxai.products.fronts.cases import FRONT_CLASSES

__all__ = ["FrontLine", "front_lines", "lines_geojson", "write_geojson"]


@dataclass(frozen=True)
class FrontLine:
    """One front: its class and its points, (n, 2) latitude and longitude [degrees]."""

    kind: str
    points: np.ndarray
    time: np.datetime64 | None = None


def _longest_path(cells: np.ndarray) -> list[tuple[int, int]]:
    """The longest shortest path through 8-connected skeleton ``cells`` (k, 2)."""
    graph = nx.Graph()
    members = {tuple(c) for c in cells.tolist()}
    for r, c in members:
        graph.add_node((r, c))
        for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
            other = (r + dr, c + dc)
            if other in members:
                graph.add_edge((r, c), other, weight=float(np.hypot(dr, dc)))
    ends = [n for n, degree in graph.degree() if degree == 1] or list(graph.nodes)[:1]
    start = ends[0]
    far = nx.single_source_dijkstra_path_length(graph, start)
    a = max(far, key=far.get)
    paths = nx.single_source_dijkstra_path(graph, a)
    lengths = nx.single_source_dijkstra_path_length(graph, a)
    b = max(lengths, key=lengths.get)
    return paths[b]


def front_lines(
    labels: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    min_cells: int = 4,
    time: np.datetime64 | None = None,
) -> list[FrontLine]:
    """Polylines of every front in one label map ``(H, W)`` on ``lat`` (H,) x ``lon`` (W,)."""
    lines = []
    for label, kind in FRONT_CLASSES.items():
        if label == 0:
            continue
        skeleton = skeletonize(np.asarray(labels) == label)
        pieces, n = ndimage.label(skeleton, structure=np.ones((3, 3), bool))
        for piece in range(1, n + 1):
            cells = np.argwhere(pieces == piece)
            if len(cells) < min_cells:
                continue
            path = np.array(_longest_path(cells))
            if len(path) < min_cells:
                continue
            points = np.column_stack([lat[path[:, 0]], lon[path[:, 1]]])
            lines.append(FrontLine(kind=kind, points=points, time=time))
    return lines


def lines_geojson(lines: list[FrontLine]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of LineStrings (coordinates longitude, latitude)."""
    features = []
    for line in lines:
        properties: dict[str, Any] = {"front": line.kind}
        if line.time is not None and not np.isnat(line.time):
            properties["valid_time"] = str(np.datetime64(line.time, "s")) + "Z"
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(float(x), 4), round(float(y), 4)] for y, x in line.points
                    ],
                },
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write_geojson(lines: list[FrontLine], path: str | os.PathLike) -> Path:
    """Write :func:`lines_geojson` of ``lines`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(lines_geojson(lines), indent=1))
    return Path(path)
