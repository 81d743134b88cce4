"""Start a run from another run's weights: transfer to a finer mesh or another grid (AICON).

Only parameters move; the graph, the normalisation statistics and the optimiser
start anew. A parameter whose size depends on the graph (the trainable per-node
vectors of the data and hidden nodes) cannot be copied when the new graph has
another number of nodes. With ``nodes="interpolate"`` (the default) each new node
takes the inverse-distance mean of the vectors of its nearest source nodes on the
sphere, read from the graph an inference checkpoint carries: on nested icosahedral
meshes the coarse nodes keep their own vector and a node added at an edge midpoint
starts mostly from the edge's two ends (weights about 0.38 each, 0.23 for the third
nearest node). With ``nodes="reinitialise"``, or a
source without its graph (a Lightning checkpoint), they keep the new model's
random start. Every other parameter must have the same name and shape in both
models, otherwise the two model configurations differ and the transfer is refused
with the parameters named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import nn
from torch_geometric.data import HeteroData

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.graphs.io import graph_from_payload
from wxai.emulator.graphs.nodes import positions_xyz

__all__ = [
    "GRAPH_DEPENDENT",
    "TransferReport",
    "interpolation_weights",
    "steps_to_reach",
    "transfer_weights",
]

#: Parameters whose shape follows the number of graph nodes, and their node type.
GRAPH_DEPENDENT = {"data_trainable": "data", "hidden_trainable": "hidden"}

NodeTransfer = Literal["interpolate", "reinitialise"]


@dataclass
class TransferReport:
    """Which parameters came from the source checkpoint and which start anew."""

    source: str
    loaded: list[str] = field(default_factory=list)
    interpolated: list[str] = field(default_factory=list)
    reinitialised: list[str] = field(default_factory=list)


def interpolation_weights(
    source_xyz: np.ndarray, target_xyz: np.ndarray, k: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-distance weights from source to target points on the unit sphere.

    ``source_xyz`` (S, 3), ``target_xyz`` (T, 3) unit vectors -> ``index`` (T, k) of the
    ``k`` nearest sources and ``weight`` (T, k), proportional to 1 / chord distance and
    summing to one per target; a target on a source point (chord below 1e-9) takes that
    source alone.
    """
    k = min(k, len(source_xyz))
    distance, index = cKDTree(source_xyz).query(target_xyz, k=k)
    distance, index = distance.reshape(len(target_xyz), k), index.reshape(len(target_xyz), k)
    on_point = distance[:, 0] < 1e-9
    weight = 1.0 / np.maximum(distance, 1e-12)
    weight[on_point] = 0.0
    weight[on_point, 0] = 1.0
    return index, weight / weight.sum(axis=1, keepdims=True)


def _load(path: Path) -> dict:
    """The checkpoint's payload: an inference checkpoint or a Lightning training checkpoint."""
    if not path.is_file():
        raise DataFormatError(f"training.transfer_from: no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        try:  # Lightning checkpoints hold more than plain containers
            payload = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise DataFormatError(
                f"training.transfer_from: {path} is not a readable checkpoint ({exc})"
            ) from exc
    if not isinstance(payload, dict):
        raise DataFormatError(f"training.transfer_from: {path} holds no state_dict")
    return payload


def _source_parameters(path: Path, payload: dict) -> dict[str, torch.Tensor]:
    """``net.*`` tensors of a checkpoint's payload."""
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise DataFormatError(f"training.transfer_from: {path} holds no state_dict")
    out = {}
    for key, value in state.items():
        name = key.removeprefix("emulator.")
        if name.startswith("net."):
            out[name.removeprefix("net.")] = value
    if not out:
        raise DataFormatError(f"training.transfer_from: {path} is not a wxai emulator checkpoint")
    return out


def _source_positions(payload: dict) -> dict[str, np.ndarray]:
    """Unit vectors (N, 3) of the source graph's nodes per node type; empty without a graph."""
    if "graph" not in payload:
        return {}
    graph = graph_from_payload(payload["graph"], "the source checkpoint's graph")
    return {kind: positions_xyz(graph[kind].x.numpy()) for kind in ("data", "hidden")}


def transfer_weights(
    net: nn.Module,
    path: str | os.PathLike,
    graph: HeteroData | None = None,
    nodes: NodeTransfer = "interpolate",
) -> TransferReport:
    """Copy the matching parameters of the checkpoint at ``path`` into ``net`` in place.

    ``graph`` is the graph ``net`` was built on; with it and ``nodes="interpolate"``,
    per-node vectors of another graph size are interpolated from the source graph's
    nodes (module docstring), without it they keep their random start.

    Raises
    ------
    ConfigError
        A graph-independent parameter missing from the source or of another shape
        (another hidden size, variable list, number of layers or processor).
    """
    path = Path(path)
    payload = _load(path)
    source = _source_parameters(path, payload)
    positions = _source_positions(payload) if nodes == "interpolate" and graph else {}
    report = TransferReport(source=str(path))
    mismatched = []
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            stored = source.get(name)
            kind = GRAPH_DEPENDENT.get(name.split(".")[-1])
            if stored is not None and stored.shape == parameter.shape:
                parameter.copy_(stored)
                report.loaded.append(name)
            elif kind is None or (stored is not None and stored.shape[1:] != parameter.shape[1:]):
                found = "missing" if stored is None else f"shape {tuple(stored.shape)}"
                mismatched.append(f"{name} {tuple(parameter.shape)} ({found} in the source)")
            elif stored is not None and kind in positions:  # same width, other node count
                target = positions_xyz(graph[kind].x.numpy())
                index, weight = interpolation_weights(positions[kind], target)
                weight = torch.from_numpy(weight).to(stored.dtype)[..., None]
                parameter.copy_((stored[torch.from_numpy(index)] * weight).sum(dim=1))
                report.interpolated.append(name)
            else:
                report.reinitialised.append(name)
    if mismatched:
        raise ConfigError(
            f"training.transfer_from: {path} has another model configuration; these "
            f"parameters do not match: {'; '.join(mismatched[:5])}"
            + (f" and {len(mismatched) - 5} more" if len(mismatched) > 5 else "")
        )
    return report


def steps_to_reach(val_loss: list[float], target: float, steps_per_epoch: float) -> float:
    """Training steps until the per-epoch validation loss first reaches ``target`` (inf: never)."""
    for epoch, loss in enumerate(val_loss):
        if loss <= target:
            return (epoch + 1) * steps_per_epoch
    return float("inf")
