"""The encoder-processor-decoder network of the graph emulator (Anemoi-models-like).

Data nodes (the dataset cells) are embedded from their input fields, position and a
trainable vector; hidden nodes (the icosahedral multi-mesh) from position and a
trainable vector. One bipartite block maps data -> hidden (encoder), ``L`` blocks
update the hidden mesh (processor), one bipartite block maps hidden -> data
(decoder, its targets start from the data embedding), and a LayerNorm + linear head
gives the normalised increment of the prognostic variables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from wxai.core.errors import DataFormatError
from wxai.emulator.models.config import GNNConfig, GraphTransformerConfig
from wxai.emulator.models.layers import (
    EdgeSet,
    GNNBlock,
    GraphTransformerBlock,
    positional_features,
)

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

ENCODER = ("data", "to", "hidden")
PROCESSOR = ("hidden", "to", "hidden")
DECODER = ("hidden", "to", "data")


class GraphEmulatorNet(nn.Module):
    """Graph emulator mapping input states to one step's normalised increment.

    Parameters
    ----------
    config:
        :class:`GNNConfig` or :class:`GraphTransformerConfig`.
    graph:
        ``HeteroData`` with node types ``"data"``, ``"hidden"`` (``x`` ``(N, 2)`` lat, lon
        in radians) and the edge types ``("data", "to", "hidden")``,
        ``("hidden", "to", "hidden")``, ``("hidden", "to", "data")`` with ``edge_index``
        ``(2, E)`` and ``edge_attr`` ``(E, D)``. Copied into buffers.
    n_input_times:
        ``T_in``, input time levels (flattened into the node features).
    n_inputs:
        Input variables per time level (prognostic and forcings).
    n_outputs:
        Output variables (the prognostic ones).

    Shapes
    ------
    ``x`` ``(B, T_in, N_data, n_inputs)`` -> ``(B, N_data, n_outputs)``.

    Set ``record_attention = True`` (graph transformer) to keep the last forward's
    attention weights per processor layer in :attr:`attention_weights`.
    """

    def __init__(
        self,
        config: GNNConfig | GraphTransformerConfig,
        graph: HeteroData,
        n_input_times: int,
        n_inputs: int,
        n_outputs: int,
    ) -> None:
        super().__init__()
        self.config = config
        self.n_input_times, self.n_inputs, self.n_outputs = n_input_times, n_inputs, n_outputs
        for key in ("data", "hidden", ENCODER, PROCESSOR, DECODER):
            if key not in graph.node_types and key not in graph.edge_types:
                raise DataFormatError(f"the graph has no {key!r} part")
        n_data, n_hidden = graph["data"].num_nodes, graph["hidden"].num_nodes
        self.n_data, self.n_hidden = int(n_data), int(n_hidden)
        self.register_buffer(
            "data_position", positional_features(graph["data"].x), persistent=False
        )
        self.register_buffer(
            "hidden_position", positional_features(graph["hidden"].x), persistent=False
        )
        sizes = {"data": self.n_data, "hidden": self.n_hidden}
        edge_dims = set()
        for name, key in (("encoder", ENCODER), ("processor", PROCESSOR), ("decoder", DECODER)):
            store = graph[key]
            edges = EdgeSet(
                store.edge_index,
                store.edge_attr,
                sizes[key[0]],
                sizes[key[2]],
                config.num_chunks if name != "processor" else 1,
            )
            setattr(self, f"{name}_edges", edges)
            edge_dims.add(store.edge_attr.shape[1])
        if len(edge_dims) != 1:
            raise DataFormatError(f"edge_attr widths differ between edge types: {edge_dims}")
        edge_dim = edge_dims.pop()

        width, trainable = config.hidden, config.trainable_size
        self.data_trainable = nn.Parameter(torch.randn(self.n_data, trainable) * 0.1)
        self.hidden_trainable = nn.Parameter(torch.randn(self.n_hidden, trainable) * 0.1)
        self.embed_data = nn.Linear(n_input_times * n_inputs + 4 + trainable, width)
        self.embed_hidden = nn.Linear(4 + trainable, width)

        def block(bipartite: bool) -> nn.Module:
            common = {
                "hidden": width,
                "mlp_hidden": config.mlp_hidden,
                "edge_dim": edge_dim,
                "act": config.activation,
                "layer_norm": config.layer_norm,
                "bipartite": bipartite,
            }
            if isinstance(config, GraphTransformerConfig):
                return GraphTransformerBlock(heads=config.heads, **common)
            return GNNBlock(**common)

        self.encoder = block(bipartite=True)
        self.processor = nn.ModuleList(
            block(bipartite=False) for _ in range(config.processor_layers)
        )
        self.decoder = block(bipartite=True)
        self.head_norm = nn.LayerNorm(width) if config.layer_norm else nn.Identity()
        self.head = nn.Linear(width, n_outputs)

    @property
    def record_attention(self) -> bool:
        """Whether the processor's attention weights are kept (graph transformer only)."""
        return any(getattr(layer, "record_attention", False) for layer in self.processor)

    @record_attention.setter
    def record_attention(self, value: bool) -> None:
        for layer in self.processor:
            if isinstance(layer, GraphTransformerBlock):
                layer.record_attention = bool(value)
                if not value:
                    layer.attention = None

    @property
    def attention_weights(self) -> list[torch.Tensor]:
        """Last forward's attention per processor layer, each ``(E_processor, heads)``.

        Mean over the batch; edge order of the graph's processor ``edge_index``. Empty
        for the GNN or when :attr:`record_attention` was off.
        """
        return [
            layer.attention
            for layer in self.processor
            if isinstance(layer, GraphTransformerBlock) and layer.attention is not None
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised increment ``(B, N_data, n_outputs)`` for inputs ``(B, T_in, N_data, F)``."""
        expected = (self.n_input_times, self.n_data, self.n_inputs)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise DataFormatError(
                f"input must be (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}"
            )
        batch = x.shape[0]
        fields = x.permute(2, 0, 1, 3).reshape(self.n_data, batch, -1)  # (N, B, T * F)
        static = torch.cat([self.data_position, self.data_trainable], dim=1)
        static = static.unsqueeze(1).expand(-1, batch, -1)
        h_data = self.embed_data(torch.cat([fields, static], dim=-1))  # (N_data, B, C)
        hidden_static = torch.cat([self.hidden_position, self.hidden_trainable], dim=1)
        h_hidden = self.embed_hidden(hidden_static).unsqueeze(1).expand(-1, batch, -1)

        h_hidden = self.encoder(h_data, h_hidden, self.encoder_edges)
        for layer in self.processor:
            h_hidden = layer(h_hidden, h_hidden, self.processor_edges)
        h_data = self.decoder(h_hidden, h_data, self.decoder_edges)
        return self.head(self.head_norm(h_data)).permute(1, 0, 2)
