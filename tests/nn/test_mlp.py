"""MLP construction, shapes and parameter counting against the formula."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from wxai.core.errors import UnknownNameError
from wxai.nn.mlp import (
    MLP,
    activation,
    count_parameters,
    mlp_parameter_count,
    shallow_width_for_budget,
)


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([1, 16, 1], 49),  # 32 + 17, the course's first network
        ([1, 16, 16, 1], 321),  # 32 + 272 + 17
        ([2, 16, 16, 1], 337),  # 48 + 272 + 17
        ([2, 20, 20, 1], 501),  # the wind-chill network: 60 + 420 + 21
        ([3, 7, 5, 2], 28 + 40 + 12),
        ([4, 1], 5),  # no hidden layer: plain linear regression
    ],
)
def test_counted_parameters_match_formula(sizes, expected):
    module = MLP(sizes[0], sizes[-1], sizes[1:-1])
    assert count_parameters(module) == mlp_parameter_count(sizes) == expected
    # brute force: every weight and bias tensor of every Linear layer
    linear = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
    assert len(linear) == len(sizes) - 1
    assert sum(layer.weight.numel() + layer.bias.numel() for layer in linear) == expected


def test_frozen_parameters_are_left_out_unless_asked():
    module = MLP(1, 1, [16])
    module.net[0].weight.requires_grad_(False)
    assert count_parameters(module) == 49 - 16
    assert count_parameters(module, trainable_only=False) == 49


@pytest.mark.parametrize("shape", [(7, 3), (4, 5, 3), (1, 3)])
def test_forward_keeps_leading_dimensions(shape):
    model = MLP(3, 2, [8, 8], act="relu")
    assert model(torch.randn(*shape)).shape == (*shape[:-1], 2)


def test_activation_sits_between_layers_only():
    model = MLP(2, 1, [4, 4], act="gelu")
    kinds = [type(layer) for layer in model.net]
    assert kinds == [nn.Linear, nn.GELU, nn.Linear, nn.GELU, nn.Linear]


def test_unknown_activation_suggests_the_nearest():
    with pytest.raises(UnknownNameError, match="did you mean 'tanh'"):
        activation("tahn")


@pytest.mark.parametrize("budget", [49, 321, 593, 10625])
def test_shallow_width_matches_the_budget(budget):
    width = shallow_width_for_budget(1, 1, budget)
    count = mlp_parameter_count([1, width, 1])
    assert abs(count - budget) <= 2  # one unit of width is 3 parameters here
    assert shallow_width_for_budget(1, 1, 593) == 197


def test_shallow_width_rejects_an_empty_budget():
    with pytest.raises(ValueError, match="positive"):
        shallow_width_for_budget(1, 1, 0)
