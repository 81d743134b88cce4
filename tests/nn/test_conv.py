"""Convolution blocks: receptive field by gradients, circular equivariance, shapes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.nn.conv import (
    ConvBlock1d,
    ConvBlock2d,
    ConvClassifier1d,
    ConvNet1d,
    input_support,
    receptive_field,
)


def test_receptive_field_formula():
    assert receptive_field([7, 7, 7]) == 19  # the course's 1 + 3 (k - 1)
    assert receptive_field([7, 7, 7, 1]) == 19  # a 1x1 output layer adds nothing
    assert receptive_field([3, 3], [1, 2]) == 1 + 2 + 4
    with pytest.raises(ValueError, match="dilation"):
        receptive_field([3, 3], [1])


@pytest.mark.parametrize("index", [0, 5, 20, 39])
def test_output_depends_on_exactly_19_points_by_gradient(index):
    """d output[i] / d input is non-zero on exactly the 19 points i-9..i+9 (wrapping)."""
    torch.manual_seed(0)
    net = ConvNet1d([1, 32, 32, 32, 1], [7, 7, 7, 1], padding_mode="circular", act="tanh")
    length = 40
    x = torch.randn(1, 1, length, requires_grad=True)
    net(x)[0, 0, index].backward()
    nonzero = set(torch.nonzero(x.grad[0, 0]).flatten().tolist())
    assert nonzero == {(index + k) % length for k in range(-9, 10)}
    assert int(input_support(net, length, index).sum()) == net.receptive_field == 19


@settings(max_examples=20, deadline=None)
@given(shift=st.integers(-30, 30), length=st.integers(12, 48))
def test_circular_conv_commutes_with_roll(shift, length):
    torch.manual_seed(1)
    net = ConvNet1d([2, 8, 3], 5, padding_mode="circular")
    x = torch.randn(3, 2, length)
    with torch.no_grad():
        rolled_then_conv = net(torch.roll(x, shift, dims=-1))
        conv_then_rolled = torch.roll(net(x), shift, dims=-1)
    torch.testing.assert_close(rolled_then_conv, conv_then_rolled, atol=1e-5, rtol=1e-5)


def test_circular_2d_block_commutes_with_roll_and_zero_padding_does_not():
    torch.manual_seed(2)
    x = torch.randn(2, 3, 10, 12)
    circular = ConvBlock2d(3, 4, 3, padding_mode="circular")
    zeros = ConvBlock2d(3, 4, 3, padding_mode="zeros")
    with torch.no_grad():
        torch.testing.assert_close(
            circular(torch.roll(x, (2, -3), dims=(-2, -1))),
            torch.roll(circular(x), (2, -3), dims=(-2, -1)),
        )
        assert not torch.allclose(
            zeros(torch.roll(x, 2, dims=-1)), torch.roll(zeros(x), 2, dims=-1), atol=1e-5
        )


def test_shapes_and_errors():
    assert ConvBlock1d(1, 4, 5, dilation=2)(torch.zeros(2, 1, 17)).shape == (2, 4, 17)
    net = ConvNet1d([1, 6, 6, 2], 3)
    features = net.features(torch.zeros(2, 1, 9))
    assert [f.shape[1] for f in features] == [6, 6, 2]
    assert ConvClassifier1d(1, 3, [4, 8])(torch.zeros(5, 1, 50)).shape == (5, 3)
    with pytest.raises(ValueError, match="odd"):
        ConvBlock1d(1, 1, 4)
