"""Configuration of the graph emulator network (encoder, processor, decoder).

``ModelConfig`` is a pydantic discriminated union on ``processor``:
``{"processor": "gnn", ...}`` gives :class:`GNNConfig`,
``{"processor": "graph_transformer", ...}`` gives :class:`GraphTransformerConfig`.
Encoder and decoder use the same kind of block as the processor (as Anemoi does).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from wxai.core.composition import validation_message
from wxai.core.errors import ConfigError


class _ModelConfigBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: int = Field(64, ge=1, description="latent width of every node (channels)")
    processor_layers: int = Field(4, ge=1, description="blocks on the hidden multi-mesh")
    mlp_ratio: float = Field(2.0, gt=0, description="MLP hidden width / `hidden`")
    activation: Literal["gelu", "silu"] = "gelu"
    layer_norm: bool = Field(True, description="pre-norm LayerNorm in every block")
    num_chunks: int = Field(
        1,
        ge=1,
        description="split encoder/decoder edges into this many groups of target nodes, "
        "each recomputed in the backward pass (activation checkpointing): less memory, "
        "more time; 1 = no chunking",
    )
    trainable_size: int = Field(
        8, ge=0, description="trainable per-node embedding size (data and hidden nodes)"
    )

    @property
    def mlp_hidden(self) -> int:
        """Hidden width of the block MLPs, ``round(mlp_ratio * hidden)``."""
        return max(1, round(self.mlp_ratio * self.hidden))


class GNNConfig(_ModelConfigBase):
    """Message-passing blocks: edge MLP over ``[h_i, h_j, e_ij]``, sum, node MLP."""

    processor: Literal["gnn"] = "gnn"


class GraphTransformerConfig(_ModelConfigBase):
    """Edge-aware multi-head attention over the incoming edges of each node."""

    processor: Literal["graph_transformer"] = "graph_transformer"
    heads: int = Field(4, ge=1, description="attention heads; must divide `hidden`")

    def model_post_init(self, context: Any, /) -> None:
        """Check that the heads divide the hidden width."""
        if self.hidden % self.heads:
            raise ConfigError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")


ModelConfig = Annotated[GNNConfig | GraphTransformerConfig, Field(discriminator="processor")]
_ADAPTER: TypeAdapter[GNNConfig | GraphTransformerConfig] = TypeAdapter(ModelConfig)


def parse_model_config(data: dict[str, Any]) -> GNNConfig | GraphTransformerConfig:
    """Validate a mapping (e.g. a YAML section) into the config of its ``processor``.

    Raises :class:`~wxai.core.errors.ConfigError` naming the offending fields.
    """
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid emulator model config: {validation_message(exc)}") from exc


#: Configurations matched to Anemoi's small CPU run (about 190K parameters each with
#: the 64 x 32 Gaussian grid, the level-3 icosahedral mesh, 2 x 14 inputs, 8 outputs;
#: Anemoi: GNN 189,716, graph transformer 195,508). SiLU: cheaper than GELU on CPU.
BENCHMARK_CONFIGS: dict[str, GNNConfig | GraphTransformerConfig] = {
    "gnn": GNNConfig(hidden=56, processor_layers=4, mlp_ratio=1.8, activation="silu"),
    "graph_transformer": GraphTransformerConfig(
        hidden=64, processor_layers=3, heads=4, mlp_ratio=1.875, activation="silu"
    ),
}
