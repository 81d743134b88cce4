"""A small 2D U-Net: a convolutional encoder-decoder with skip connections."""

from __future__ import annotations

import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.conv import ConvBlock2d, PaddingMode


class DoubleConv2d(nn.Sequential):
    """Two 3x3 'same' convolutions, each followed by the activation.

    Shapes
    ------
    ``(batch, in_channels, H, W)`` -> ``(batch, out_channels, H, W)``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, padding_mode: PaddingMode, act: str
    ) -> None:
        super().__init__(
            ConvBlock2d(in_channels, out_channels, 3, padding_mode=padding_mode, act=act),
            ConvBlock2d(out_channels, out_channels, 3, padding_mode=padding_mode, act=act),
        )


class UNet2d(nn.Module):
    """U-Net for dense (per-pixel) prediction on a 2D grid.

    ``depth`` times the encoder halves the grid with max pooling and doubles the
    channels; the decoder upsamples with transposed convolutions and concatenates
    the encoder's features of the same resolution (skip connections). A final 1x1
    convolution gives ``out_channels`` linear outputs per pixel (logits or values).

    Parameters
    ----------
    in_channels, out_channels:
        Channels of input and output fields.
    base_channels:
        Channels at full resolution; level ``l`` has ``base_channels * 2**l``.
    depth:
        Number of down-sampling steps; ``H`` and ``W`` must be divisible by ``2**depth``.
    padding_mode:
        ``"zeros"`` or ``"circular"`` (periodic in both directions).
    act:
        Activation name.

    Shapes
    ------
    input ``(batch, in_channels, H, W)`` -> output ``(batch, out_channels, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        base_channels: int = 16,
        depth: int = 2,
        padding_mode: PaddingMode = "zeros",
        act: str = "relu",
    ) -> None:
        super().__init__()
        if depth < 0:
            raise ConfigError(f"depth must be >= 0, got {depth}")
        self.depth = depth
        widths = [base_channels * 2**level for level in range(depth + 1)]
        self.down = nn.ModuleList()
        previous = in_channels
        for width in widths:
            self.down.append(DoubleConv2d(previous, width, padding_mode, act))
            previous = width
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(width * 2, width, kernel_size=2, stride=2))
            self.merge.append(DoubleConv2d(width * 2, width, padding_mode, act))
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    def check_shape(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is ``(batch, C, H, W)`` with H, W divisible."""
        if x.dim() != 4:
            raise ConfigError(f"UNet2d expects (batch, channels, H, W), got shape {tuple(x.shape)}")
        factor = 2**self.depth
        height, width = x.shape[-2:]
        if height % factor or width % factor:
            raise ConfigError(
                f"UNet2d with depth {self.depth} needs H and W divisible by {factor}, "
                f"got {height}x{width}; pad or crop the input, e.g. to "
                f"{-(-height // factor) * factor}x{-(-width // factor) * factor}"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-pixel outputs ``(batch, out_channels, H, W)`` for ``x`` ``(batch, in, H, W)``."""
        self.check_shape(x)
        skips = []
        for level, block in enumerate(self.down):
            if level > 0:
                x = self.pool(x)
            x = block(x)
            skips.append(x)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            x = merge(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)
