"""Graph convolutions (PyTorch Geometric's ``GCNConv``) on graphs of observed fields.

:func:`observed_field_graphs` turns fields sampled on a 1D chain of nodes, some of
them observed, into PyG graphs; :class:`GCNStack` maps a graph's node features to
one value per node, so a field can be reconstructed from its sparse observations
on a graph of any size.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from wxai.nn.graphs import chain_graph

if TYPE_CHECKING:
    from torch_geometric.data import Data


class GCNStack(nn.Module):
    """``layers`` GCN convolutions with ReLU in between, reading one node-feature key.

    Parameters
    ----------
    in_features:
        Width of the node features read from the graph.
    hidden:
        Width of the hidden layers.
    layers:
        Number of convolutions (at least 1); the last maps to one value per node, so
        the receptive field is ``layers`` hops.
    features:
        Attribute of the input graph that holds the node features, e.g. ``"x"`` or
        ``"x_free"``: several models can share graphs that carry several encodings.

    Shapes
    ------
    graph (or batch of graphs) with ``graph[features]`` ``(N, in_features)`` and
    ``edge_index`` ``(2, E)`` -> values ``(N,)``.
    """

    def __init__(self, in_features: int, hidden: int, layers: int, features: str = "x") -> None:
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.features = features
        sizes = [in_features] + [hidden] * (layers - 1) + [1]
        self.convs = nn.ModuleList(
            GCNConv(n_in, n_out) for n_in, n_out in itertools.pairwise(sizes)
        )

    def forward(self, data: Any) -> torch.Tensor:
        """One value per node of ``data`` (a PyG ``Data`` or ``Batch``)."""
        h = data[self.features]
        for index, conv in enumerate(self.convs):
            h = conv(h, data.edge_index)
            if index < len(self.convs) - 1:
                h = F.relu(h)
        return h.squeeze(-1)


def observed_field_graphs(
    truth: np.ndarray, observed: np.ndarray, position: np.ndarray, hops: int = 1
) -> list[Data]:
    """One PyG graph per field, on a chain of nodes linked to ``hops`` neighbours per side.

    Parameters
    ----------
    truth:
        ``(count, N)`` field values at the nodes.
    observed:
        ``(count, N)`` bool, which values are observed.
    position:
        ``(N,)`` node coordinates.

    Returns
    -------
    list of ``count`` graphs, each with ``x_free`` ``(N, 2)`` (observed value or 0, and
    the observation mask: no coordinate), ``x_coord`` ``(N, 3)`` (the same plus the
    absolute coordinate), ``y`` ``(N,)`` the truth, ``pos`` ``(N,)`` and ``edge_index``;
    all float32.
    """
    from torch_geometric.data import Data

    n_nodes = len(position)
    edge_index, _ = chain_graph(n_nodes, hops=hops)
    graphs = []
    for values, mask in zip(truth, observed, strict=True):
        free = np.stack([np.where(mask, values, 0.0), mask.astype(float)], axis=1)
        coord = np.concatenate([free, position[:, None]], axis=1)
        graphs.append(
            Data(
                x_free=torch.tensor(free, dtype=torch.float32),
                x_coord=torch.tensor(coord, dtype=torch.float32),
                y=torch.tensor(values, dtype=torch.float32),
                pos=torch.tensor(position, dtype=torch.float32),
                edge_index=edge_index,
                num_nodes=n_nodes,
            )
        )
    return graphs
