"""ConvNet2d shares ConvNet1d's construction; periodic windows match measured supports."""

from __future__ import annotations

import pytest
import torch

from wxai.nn.conv import ConvBlock2d, ConvNet1d, ConvNet2d, input_support, periodic_window


def test_conv_net_2d_shapes_blocks_and_linear_output():
    torch.manual_seed(0)
    net = ConvNet2d([3, 8, 8, 1], 3, padding_mode="replicate", act="gelu")
    assert all(isinstance(layer, ConvBlock2d) for layer in net.layers)
    assert isinstance(net.layers[-1].act, torch.nn.Identity)
    assert net.receptive_field == 7
    x = torch.randn(2, 3, 12, 10)
    assert net(x).shape == (2, 1, 12, 10)
    assert [f.shape[1] for f in net.features(x)] == [8, 8, 1]


def test_conv_net_2d_output_pixel_sees_a_square_of_the_receptive_field():
    torch.manual_seed(0)
    net = ConvNet2d([1, 4, 4, 1], 3, padding_mode="zeros", act="tanh")
    x = torch.randn(1, 1, 15, 15, requires_grad=True)
    net(x)[0, 0, 7, 7].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    assert (int(rows.min()), int(rows.max())) == (4, 10)
    assert (int(cols.min()), int(cols.max())) == (4, 10)


@pytest.mark.parametrize("index", [0, 7, 15])
def test_periodic_window_is_what_a_circular_net_depends_on(index):
    torch.manual_seed(0)
    net = ConvNet1d([1, 4, 4, 1], [5, 5, 1], padding_mode="circular", act="tanh")
    window = periodic_window(16, index, net.receptive_field)
    assert window.dtype == torch.bool and int(window.sum()) == 9
    assert window[index] and window[(index + 4) % 16] and not window[(index + 5) % 16]
    assert torch.equal(input_support(net, 16, index), window)
