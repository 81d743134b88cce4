"""Encoder-processor-decoder networks of the graph emulator (GNN or graph transformer)."""

from wxai.emulator.models.config import (
    GNNConfig,
    GraphTransformerConfig,
    ModelConfig,
    parse_model_config,
)
from wxai.emulator.models.network import GraphEmulatorNet

__all__ = [
    "GNNConfig",
    "GraphEmulatorNet",
    "GraphTransformerConfig",
    "ModelConfig",
    "parse_model_config",
]
