"""A residual time stepper on a fixed graph: ``z(t + 1) = z(t) + GNN(z(t))``."""

from __future__ import annotations

import torch
from torch import nn

from wxai.nn.graphs import ring_graph
from wxai.nn.message_passing import GraphNetwork


class GraphStepper(nn.Module):
    """Advance node fields by one step with a message-passing network on a fixed graph.

    The network predicts the change of the field, so an untrained stepper starts near
    persistence. The graph (``edge_index``) and the edge features are buffers: they
    move with the module and are saved with it.

    Parameters
    ----------
    edge_index:
        ``(2, E)`` long, source and target node of each edge (see :mod:`wxai.nn.graphs`).
    edge_attr:
        ``(E, F_e)`` edge features, e.g. the signed neighbour offset of a ring.
    features:
        Field values per node (input = output size).
    hidden, layers, message_hidden, act:
        Passed to :class:`~wxai.nn.message_passing.GraphNetwork`.

    Shapes
    ------
    ``z`` ``(batch, N, features)`` -> ``(batch, N, features)``.
    """

    def __init__(
        self,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
        features: int = 1,
        *,
        hidden: int = 32,
        layers: int = 2,
        message_hidden: int | None = None,
        act: str = "relu",
    ) -> None:
        super().__init__()
        self.register_buffer("edge_index", edge_index)
        self.register_buffer("edge_attr", edge_attr)
        self.gnn = GraphNetwork(
            features,
            features,
            hidden=hidden,
            layers=layers,
            edge_features=edge_attr.shape[1],
            message_hidden=message_hidden,
            act=act,
        )

    @classmethod
    def on_ring(cls, n_nodes: int, hops: int = 1, **kwargs: object) -> GraphStepper:
        """A stepper on a periodic ring (:func:`~wxai.nn.graphs.ring_graph`), the signed
        neighbour offset as the only edge feature; ``kwargs`` go to the constructor."""
        edge_index, offset = ring_graph(n_nodes, hops=hops)
        return cls(edge_index, offset, **kwargs)  # type: ignore[arg-type]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The fields one step later, ``z + GNN(z)``."""
        return z + self.gnn(z, self.edge_index, self.edge_attr)
