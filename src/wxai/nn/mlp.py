"""Fully connected networks (multi-layer perceptrons)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from wxai.core.errors import ConfigError

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
}


def activation(name: str) -> nn.Module:
    """A new activation module by name (relu, tanh, gelu, silu, sigmoid)."""
    from wxai.core.errors import UnknownNameError

    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise UnknownNameError("activation", name, _ACTIVATIONS) from None


class MLP(nn.Module):
    """A feed-forward network ``in -> hidden... -> out`` with one activation between layers.

    Parameters
    ----------
    in_features, out_features:
        Input and output sizes.
    hidden:
        Sizes of the hidden layers, e.g. ``(16, 16)`` for a 1-16-16-1 network.
    act:
        Activation name applied after every hidden layer (not after the output).

    Shapes
    ------
    input ``(..., in_features)`` -> output ``(..., out_features)``.
    """

    def __init__(
        self, in_features: int, out_features: int, hidden: Sequence[int], act: str = "tanh"
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden, out_features]
        layers: list[nn.Module] = []
        for index, (size_in, size_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(size_in, size_out))
            if index < len(sizes) - 2:
                layers.append(activation(act))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network to ``x`` of shape ``(..., in_features)``."""
        return self.net(x)


def mlp_parameter_count(sizes: Sequence[int]) -> int:
    """Number of weights and biases of a dense network with layer sizes ``sizes``.

    Each layer ``n_in -> n_out`` has ``n_in * n_out`` weights and ``n_out`` biases,
    e.g. 1-16-16-1 -> 32 + 272 + 17 = 321 and 2-16-16-1 -> 48 + 272 + 17 = 337.
    """
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def shallow_width_for_budget(in_features: int, out_features: int, budget: int) -> int:
    """Width ``h`` of a one-hidden-layer network ``in -> h -> out`` closest to ``budget``.

    Such a network has ``(in + 1) h + (h + 1) out`` parameters; the result is at least 1.
    Used to compare shallow and deep networks at a similar parameter count.
    """
    if budget < 1:
        raise ConfigError(f"budget must be positive, got {budget}")
    width = round((budget - out_features) / (in_features + 1 + out_features))
    return max(int(width), 1)
