"""Summaries of a graph: node and edge counts per level, degrees, edge lengths, coverage."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch_geometric.data import HeteroData

from wxai.core.errors import DataFormatError
from wxai.emulator.graphs.build import (
    DATA,
    DECODER,
    EARTH_RADIUS_KM,
    ENCODER,
    HIDDEN,
    PROCESSOR,
)
from wxai.emulator.graphs.edges import great_circle
from wxai.emulator.graphs.nodes import positions_xyz

__all__ = ["format_inspection", "inspect_graph"]

_ROLES = {"encoder": ENCODER, "processor": PROCESSOR, "decoder": DECODER}


def _stats(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"min": 0.0, "mean": 0.0, "max": 0.0}
    return {
        "min": float(values.min()),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }


def _edges(graph: HeteroData, edge_type: tuple[str, str, str]) -> dict[str, Any]:
    src, _, dst = edge_type
    ei = graph[edge_type].edge_index.numpy()
    n_src, n_dst = int(graph[src].num_nodes), int(graph[dst].num_nodes)
    length = great_circle(
        positions_xyz(graph[src].x.numpy())[ei[0]], positions_xyz(graph[dst].x.numpy())[ei[1]]
    )
    out = {
        "source": src,
        "target": dst,
        "count": int(ei.shape[1]),
        "in_degree": _stats(np.bincount(ei[1], minlength=n_dst)),
        "out_degree": _stats(np.bincount(ei[0], minlength=n_src)),
        "length_km": _stats(length * EARTH_RADIUS_KM),
    }
    level = getattr(graph[edge_type], "level", None)
    if level is not None:
        levels, counts = np.unique(level.numpy(), return_counts=True)
        out["per_level"] = {int(lv): int(c) for lv, c in zip(levels, counts, strict=True)}
    return out


def inspect_graph(graph: HeteroData) -> dict[str, Any]:
    """Counts and statistics of a graph from :func:`~wxai.emulator.graphs.build.build_graph`.

    Returns
    -------
    dict
        ``nodes``: per node type ``count`` (hidden also ``per_level``: nodes first present
        at each level and the cumulative count); ``edges``: per role (encoder, processor,
        decoder) ``count``, ``in_degree``/``out_degree`` min/mean/max over all target/source
        nodes, ``length_km`` min/mean/max (processor also ``per_level``); ``unreached``:
        data nodes sending no encoder edge, hidden nodes receiving none, hidden nodes
        sending no decoder edge, data nodes receiving none (counts and first indices);
        ``provenance``.

    Raises
    ------
    DataFormatError
        When a node or edge type is missing.
    """
    missing = [t for t in (DATA, HIDDEN) if t not in graph.node_types]
    missing += ["->".join(t[::2]) for t in _ROLES.values() if t not in graph.edge_types]
    if missing:
        raise DataFormatError(f"not an emulator graph: missing {', '.join(map(str, missing))}")
    nodes: dict[str, Any] = {t: {"count": int(graph[t].num_nodes)} for t in (DATA, HIDDEN)}
    level = getattr(graph[HIDDEN], "level", None)
    if level is not None:
        levels, counts = np.unique(level.numpy(), return_counts=True)
        nodes[HIDDEN]["per_level"] = {
            int(lv): {"new": int(c), "cumulative": int(counts[: i + 1].sum())}
            for i, (lv, c) in enumerate(zip(levels, counts, strict=True))
        }
    edges = {role: _edges(graph, t) for role, t in _ROLES.items()}
    enc = graph[ENCODER].edge_index.numpy()
    dec = graph[DECODER].edge_index.numpy()
    n_data, n_hidden = nodes[DATA]["count"], nodes[HIDDEN]["count"]

    def absent(indices: np.ndarray, n: int) -> dict[str, Any]:
        idx = np.setdiff1d(np.arange(n), indices)
        return {"count": int(idx.size), "first": idx[:10].tolist()}

    unreached = {
        "data_not_encoded": absent(enc[0], n_data),
        "hidden_without_encoder_edges": absent(enc[1], n_hidden),
        "hidden_not_decoding": absent(dec[0], n_hidden),
        "data_not_decoded": absent(dec[1], n_data),
    }
    return {
        "nodes": nodes,
        "edges": edges,
        "unreached": unreached,
        "provenance": dict(getattr(graph, "provenance", {}) or {}),
    }


def _fmt(s: dict[str, float], unit: str = "") -> str:
    return f"{s['min']:.4g} / {s['mean']:.4g} / {s['max']:.4g}{unit}"


def format_inspection(report: dict[str, Any]) -> str:
    """The text of :func:`inspect_graph`'s report, one fact a line."""
    lines = []
    prov = report.get("provenance", {})
    if prov:
        lines.append(
            f"created {prov.get('created', '?')} by wxai {prov.get('wxai_version', '?')}"
            + (f" for {prov['dataset']}" if prov.get("dataset") else "")
        )
        if "config" in prov:
            lines.append(f"config: {prov['config']}")
    for node_type, info in report["nodes"].items():
        lines.append(f"nodes {node_type}: {info['count']}")
        for lv, c in info.get("per_level", {}).items():
            lines.append(f"  level {lv}: {c['new']} new, {c['cumulative']} in all")
    for role, info in report["edges"].items():
        lines.append(f"edges {role} ({info['source']} -> {info['target']}): {info['count']}")
        lines.append(f"  in-degree min/mean/max: {_fmt(info['in_degree'])}")
        lines.append(f"  out-degree min/mean/max: {_fmt(info['out_degree'])}")
        lines.append(f"  length min/mean/max: {_fmt(info['length_km'], ' km')}")
        for lv, c in info.get("per_level", {}).items():
            lines.append(f"  level {lv}: {c} edges")
    for name, info in report["unreached"].items():
        first = f" (first: {info['first']})" if info["count"] else ""
        lines.append(f"{name.replace('_', ' ')}: {info['count']}{first}")
    return "\n".join(lines)
