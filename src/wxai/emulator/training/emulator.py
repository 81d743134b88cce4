"""The inference module: normalisation, the graph network, and one forecast step.

:class:`Emulator` is what a trained model is: a plain ``nn.Module`` holding the network,
the normalisation statistics, the variable lists and the graph (as the network's
buffers). It maps physical states to the next physical state and knows nothing of
training; the Lightning module wraps it, and the inference checkpoint stores it with
its configuration so it can be rebuilt without the training code or the dataset.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.graphs.io import graph_from_payload, graph_payload
from wxai.emulator.inference.grid import DataGrid
from wxai.emulator.models import GraphEmulatorNet, ModelConfig

#: Format tag of inference checkpoints written by :func:`save_inference_checkpoint`.
INFERENCE_FORMAT = "wxai-emulator-inference/2"


class Emulator(nn.Module):
    """Next-state predictor on physical variables.

    Parameters
    ----------
    net:
        Maps normalised inputs ``(B, T_in, N, V)`` to normalised increments ``(B, N, P)``.
    variables:
        The dataset's variables, in its order (``V``).
    prognostic:
        The variables the model predicts (``P``); the others are input-only forcings.
    mean, stdev:
        Shape ``(V,)``: normalisation statistics of the training period (physical units).
    increment_stdev:
        Shape ``(P,)``: standard deviation of one-step increments in normalised units; the
        network's output is scaled by it, so its target has unit variance.
    multistep_input:
        ``T_in``, past states the network sees.
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        variables: Sequence[str],
        prognostic: Sequence[str],
        mean: np.ndarray,
        stdev: np.ndarray,
        increment_stdev: np.ndarray,
        multistep_input: int,
    ) -> None:
        super().__init__()
        unknown = sorted(set(prognostic) - set(variables))
        if unknown:
            raise ConfigError(
                f"prognostic variables {unknown} are not in the dataset {list(variables)}"
            )
        self.net = net
        self.variables = list(variables)
        self.prognostic = list(prognostic)
        self.multistep_input = multistep_input
        index = {name: i for i, name in enumerate(self.variables)}
        stdev = np.where(np.asarray(stdev) > 0, stdev, 1.0)  # constant fields: no scaling
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("stdev", torch.as_tensor(stdev, dtype=torch.float32))
        self.register_buffer(
            "increment_stdev", torch.as_tensor(increment_stdev, dtype=torch.float32)
        )
        self.register_buffer(
            "prognostic_index", torch.tensor([index[name] for name in self.prognostic])
        )

    def compile_network(self, **options: Any) -> None:
        """Run the network through ``torch.compile`` from now on (weights stay shared).

        The compiled wrapper is kept outside the module tree, so ``state_dict`` keys and
        checkpoints see the plain network.
        """
        self.__dict__["_compiled"] = torch.compile(self.net, **options)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Physical ``(..., V)`` -> normalised ``(..., V)``."""
        return (x - self.mean) / self.stdev

    def denormalise_prognostic(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised prognostic ``(..., P)`` -> physical units."""
        return z * self.stdev[self.prognostic_index] + self.mean[self.prognostic_index]

    def step_normalised(self, window: torch.Tensor) -> torch.Tensor:
        """Next prognostic state ``(B, N, P)`` from a normalised window ``(B, T_in, N, V)``."""
        last = window[:, -1, :, :].index_select(-1, self.prognostic_index)
        net = self.__dict__.get("_compiled", self.net)
        return last + net(window) * self.increment_stdev

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        """Next prognostic state in physical units from physical states ``(B, T_in, N, V)``."""
        return self.denormalise_prognostic(self.step_normalised(self.normalise(window)))

    @staticmethod
    def advance(
        window: torch.Tensor,
        prediction: torch.Tensor,
        forcing_row: torch.Tensor,
        index: torch.Tensor,
    ) -> torch.Tensor:
        """Drop the oldest state; append ``forcing_row`` ``(B, N, V)`` with ``prediction`` in it.

        Works in either units as long as all three tensors share them.
        """
        row = forcing_row.clone()
        row[..., index] = prediction
        return torch.cat([window[:, 1:], row.unsqueeze(1)], dim=1)


def build_emulator(
    model: ModelConfig,
    graph: Any,
    *,
    variables: Sequence[str],
    forcing: Sequence[str],
    statistics: dict[str, np.ndarray],
    increment_stdev: np.ndarray,
    multistep_input: int,
) -> Emulator:
    """A fresh :class:`Emulator` for ``variables``, ``forcing`` of them input-only."""
    missing = sorted(set(forcing) - set(variables))
    if missing:
        raise ConfigError(f"forcing variables {missing} are not in the dataset {list(variables)}")
    prognostic = [name for name in variables if name not in set(forcing)]
    if not prognostic:
        raise ConfigError("every variable is a forcing: nothing left to predict")
    net = GraphEmulatorNet(model, graph, multistep_input, len(variables), len(prognostic))
    return Emulator(
        net,
        variables=variables,
        prognostic=prognostic,
        mean=statistics["mean"],
        stdev=statistics["stdev"],
        increment_stdev=increment_stdev,
        multistep_input=multistep_input,
    )


def graph_fingerprint(graph: Any) -> str:
    """sha256 of the graph's node positions and edges: which graph a model was trained on."""
    digest = hashlib.sha256()
    for node_type in sorted(graph.node_types):
        digest.update(node_type.encode())
        digest.update(graph[node_type].x.detach().cpu().numpy().tobytes())
    for edge_type in sorted(graph.edge_types):
        digest.update("/".join(edge_type).encode())
        digest.update(graph[edge_type].edge_index.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def save_inference_checkpoint(
    emulator: Emulator,
    graph: Any,
    config: dict[str, Any],
    path: Path,
    *,
    data: DataGrid,
    **metadata: Any,
) -> Path:
    """Write what inference needs (weights, graph, statistics, variables, data grid,
    config) atomically."""
    payload = {
        "format": INFERENCE_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config,
        "variables": emulator.variables,
        "prognostic": emulator.prognostic,
        "multistep_input": emulator.multistep_input,
        "graph": graph_payload(graph),
        "graph_fingerprint": graph_fingerprint(graph),
        "data": data.to_payload(),
        "state_dict": {k: v.detach().cpu() for k, v in emulator.state_dict().items()},
        "metadata": metadata,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # plain containers: weights_only loads
    torch.save(payload, partial)
    partial.replace(path)
    return path


@dataclass(frozen=True, eq=False)
class InferenceCheckpoint:
    """An inference checkpoint read back: the model, its data grid and provenance."""

    path: Path
    emulator: Emulator
    data: DataGrid
    area_weight: np.ndarray  # (N,) the graph's data-node area weights, mean 1
    graph: Any  # the HeteroData the model was trained on
    config: Any
    graph_fingerprint: str
    created: str
    metadata: dict[str, Any]


def read_inference_checkpoint(
    path: str | os.PathLike, map_location: str = "cpu"
) -> InferenceCheckpoint:
    """Rebuild the :class:`Emulator` of an inference checkpoint (in ``eval()`` mode) with
    its :class:`~wxai.emulator.inference.grid.DataGrid`.

    The file is read and the network built on the CPU; the emulator is then moved to
    ``map_location`` (``"cuda"``, ...). The graph and the data grid stay on the CPU.

    Raises
    ------
    DataFormatError
        Missing file, not a checkpoint, or a checkpoint of another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"no inference checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise DataFormatError(
            f"{path} is not a readable inference checkpoint ({type(exc).__name__}: {first})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != INFERENCE_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else None
        hint = f" (format {found!r}, expected {INFERENCE_FORMAT!r}: retrain)" if found else ""
        raise DataFormatError(f"{path} is not a wxai emulator inference checkpoint{hint}")
    from wxai.emulator.training.config import validate_training_config

    config = validate_training_config(payload["config"])
    graph = graph_from_payload(payload["graph"], f"the graph in {path}")
    state = payload["state_dict"]
    net = GraphEmulatorNet(
        config.model,
        graph,
        payload["multistep_input"],
        len(payload["variables"]),
        len(payload["prognostic"]),
    )
    emulator = Emulator(
        net,
        variables=payload["variables"],
        prognostic=payload["prognostic"],
        mean=state["mean"].numpy(),
        stdev=state["stdev"].numpy(),
        increment_stdev=state["increment_stdev"].numpy(),
        multistep_input=payload["multistep_input"],
    )
    emulator.load_state_dict(state)
    return InferenceCheckpoint(
        path=path,
        emulator=emulator.to(map_location).eval(),
        data=DataGrid.from_payload(payload["data"], str(path)),
        area_weight=graph["data"].area_weight.detach().cpu().numpy().astype(np.float64),
        graph=graph,
        config=config,
        graph_fingerprint=str(payload["graph_fingerprint"]),
        created=str(payload["created"]),
        metadata=dict(payload.get("metadata", {})),
    )


def load_inference_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> Emulator:
    """The :class:`Emulator` of an inference checkpoint, ready for ``eval()`` use."""
    return read_inference_checkpoint(path, map_location).emulator
