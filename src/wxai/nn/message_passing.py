"""A message-passing graph layer written from its parts.

One layer updates every node ``i`` from its own state and the messages of the nodes
``j`` that have an edge ``j -> i``:

.. math::

    h_i' = W_\\text{self} h_i + b + \\bigoplus_{j \\to i} \\phi(h_j, e_{ji})

where :math:`\\bigoplus` is a sum or a mean over incoming edges and :math:`\\phi` is a
linear map (or a small MLP) of the source state and the optional edge features. The
graph enters only through ``edge_index``; the same weights serve every node, so the
layer works on graphs of any size and is equivariant to a relabelling of the nodes.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.mlp import MLP, activation

Aggregation = Literal["sum", "mean"]


def aggregate(
    messages: torch.Tensor, target: torch.Tensor, num_nodes: int, reduce: Aggregation = "sum"
) -> torch.Tensor:
    """Sum or average edge messages at their target nodes with ``index_add_``.

    Parameters
    ----------
    messages:
        Shape ``(..., E, F)``: one message per edge (leading batch dimensions allowed).
    target:
        Shape ``(E,)``, long: the receiving node of each edge.
    num_nodes:
        ``N``, the number of nodes (nodes without incoming edges receive zeros).
    reduce:
        ``"sum"`` or ``"mean"`` (mean over the incoming edges of each node).

    Returns
    -------
    torch.Tensor
        Shape ``(..., N, F)``.
    """
    shape = (*messages.shape[:-2], num_nodes, messages.shape[-1])
    out = messages.new_zeros(shape).index_add_(-2, target, messages)
    if reduce == "mean":
        count = messages.new_zeros(num_nodes).index_add_(0, target, messages.new_ones(len(target)))
        out = out / count.clamp(min=1).unsqueeze(-1)
    elif reduce != "sum":
        raise ConfigError(f"reduce must be 'sum' or 'mean', got {reduce!r}")
    return out


class MessagePassingLayer(nn.Module):
    """Graph layer with separate self and neighbour weights and optional edge features.

    Parameters
    ----------
    in_features, out_features:
        Node feature sizes ``F_in`` and ``F_out``.
    edge_features:
        Size ``D`` of the edge features concatenated to the source state in each message
        (0: none).
    aggr:
        ``"sum"`` or ``"mean"`` over the incoming messages of a node.
    message_hidden:
        ``None``: the message is linear, ``W_neigh [h_j, e_ji]``. An integer: the message
        is an MLP with one hidden layer of that width, which lets the edge features gate
        the source state (needed e.g. to tell left from right neighbours apart).
    act:
        Activation of the message MLP.
    bias:
        Whether the self term carries a bias.

    Shapes
    ------
    ``x`` ``(..., N, F_in)``, ``edge_index`` ``(2, E)`` (row 0 sources, row 1 targets),
    ``edge_attr`` ``(E, D)`` or ``(..., E, D)`` -> ``(..., N, F_out)``. No activation is
    applied to the output.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        edge_features: int = 0,
        aggr: Aggregation = "sum",
        message_hidden: int | None = None,
        act: str = "relu",
        bias: bool = True,
    ) -> None:
        super().__init__()
        if aggr not in ("sum", "mean"):
            raise ConfigError(f"aggr must be 'sum' or 'mean', got {aggr!r}")
        self.aggr: Aggregation = aggr
        self.edge_features = edge_features
        self.self_lin = nn.Linear(in_features, out_features, bias=bias)
        width = in_features + edge_features
        self.message: nn.Module
        if message_hidden is None:
            self.message = nn.Linear(width, out_features, bias=False)
        else:
            self.message = MLP(width, out_features, [message_hidden], act=act)

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Update node states ``x`` ``(..., N, F_in)`` along ``edge_index`` ``(2, E)``."""
        source, target = edge_index[0], edge_index[1]
        sent = x.index_select(-2, source)  # (..., E, F_in): the source state of every edge
        if self.edge_features:
            if edge_attr is None:
                raise ConfigError(
                    f"this layer expects edge_attr with {self.edge_features} features"
                )
            sent = torch.cat([sent, edge_attr.expand(*sent.shape[:-1], -1)], dim=-1)
        messages = self.message(sent)  # (..., E, F_out)
        return self.self_lin(x) + aggregate(messages, target, x.shape[-2], self.aggr)


class GraphNetwork(nn.Module):
    """Encoder, a stack of message-passing layers with activations, and a decoder.

    Parameters
    ----------
    in_features, out_features:
        Node input and output sizes.
    hidden:
        Latent node size.
    layers:
        Number of message-passing layers; the receptive field is ``layers`` hops.
    edge_features, aggr, message_hidden:
        Passed to every :class:`MessagePassingLayer`.
    act:
        Activation after the encoder and after every layer.

    Shapes
    ------
    ``x`` ``(..., N, in_features)`` -> ``(..., N, out_features)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        hidden: int = 32,
        layers: int = 2,
        edge_features: int = 0,
        aggr: Aggregation = "sum",
        message_hidden: int | None = None,
        act: str = "relu",
    ) -> None:
        super().__init__()
        self.encoder = nn.Linear(in_features, hidden)
        self.layers = nn.ModuleList(
            MessagePassingLayer(
                hidden,
                hidden,
                edge_features=edge_features,
                aggr=aggr,
                message_hidden=message_hidden,
                act=act,
            )
            for _ in range(layers)
        )
        self.act = activation(act)
        self.decoder = nn.Linear(hidden, out_features)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Node outputs for node inputs ``x`` on the graph ``edge_index``."""
        h = self.act(self.encoder(x))
        for layer in self.layers:
            h = self.act(layer(h, edge_index, edge_attr))
        return self.decoder(h)
