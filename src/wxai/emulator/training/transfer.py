"""Start a run from another run's weights: transfer to a finer mesh or another grid (AICON).

Only parameters move; the graph, the normalisation statistics and the optimiser
start anew. A parameter whose size depends on the graph (the trainable per-node
vectors of the data and hidden nodes) is re-initialised when the new graph has
another number of nodes; every other parameter must have the same name and shape
in both models, otherwise the two model configurations differ and the transfer is
refused with the parameters named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from wxai.core.errors import ConfigError, DataFormatError

__all__ = ["GRAPH_DEPENDENT", "TransferReport", "steps_to_reach", "transfer_weights"]

#: Parameters whose shape follows the number of graph nodes.
GRAPH_DEPENDENT = ("data_trainable", "hidden_trainable")


@dataclass
class TransferReport:
    """Which parameters came from the source checkpoint and which start anew."""

    source: str
    loaded: list[str] = field(default_factory=list)
    reinitialised: list[str] = field(default_factory=list)


def _source_parameters(path: Path) -> dict[str, torch.Tensor]:
    """``net.*`` tensors of an inference checkpoint or a Lightning training checkpoint."""
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
    state = payload.get("state_dict") if isinstance(payload, dict) else None
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


def transfer_weights(net: nn.Module, path: str | os.PathLike) -> TransferReport:
    """Copy the matching parameters of the checkpoint at ``path`` into ``net`` in place.

    Raises
    ------
    ConfigError
        A graph-independent parameter missing from the source or of another shape
        (another hidden size, variable list, number of layers or processor).
    """
    path = Path(path)
    source = _source_parameters(path)
    report = TransferReport(source=str(path))
    mismatched = []
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            stored = source.get(name)
            if stored is not None and stored.shape == parameter.shape:
                parameter.copy_(stored)
                report.loaded.append(name)
            elif name.split(".")[-1] in GRAPH_DEPENDENT:
                report.reinitialised.append(name)
            else:
                found = "missing" if stored is None else f"shape {tuple(stored.shape)}"
                mismatched.append(f"{name} {tuple(parameter.shape)} ({found} in the source)")
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
