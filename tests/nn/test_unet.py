"""U-Net: output shape equals input shape for every admissible size; clear errors otherwise."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.nn.unet import UNet2d


@settings(max_examples=15, deadline=None)
@given(
    depth=st.integers(0, 3),
    blocks=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    channels=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    circular=st.booleans(),
)
def test_round_trip_shapes(depth, blocks, channels, circular):
    (h_blocks, w_blocks), (in_channels, out_channels) = blocks, channels
    net = UNet2d(
        in_channels,
        out_channels,
        base_channels=4,
        depth=depth,
        padding_mode="circular" if circular else "zeros",
    )
    height, width = h_blocks * 2**depth, w_blocks * 2**depth
    with torch.no_grad():
        out = net(torch.randn(2, in_channels, height, width))
    assert out.shape == (2, out_channels, height, width)


def test_indivisible_size_names_the_fix():
    net = UNet2d(1, 1, base_channels=4, depth=2)
    with pytest.raises(ValueError, match=r"divisible by 4, got 10x12.*12x12"):
        net(torch.zeros(1, 1, 10, 12))
    with pytest.raises(ValueError, match="expects"):
        net(torch.zeros(1, 8, 8))


def test_gradients_reach_every_parameter():
    net = UNet2d(2, 1, base_channels=4, depth=2)
    net(torch.randn(1, 2, 16, 16)).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
