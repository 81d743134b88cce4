"""Convolution blocks for 1D and 2D grids, with optional periodic (circular) padding."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.mlp import MLP, activation

PaddingMode = Literal["zeros", "circular", "reflect", "replicate"]


def receptive_field(kernel_sizes: Sequence[int], dilations: Sequence[int] | None = None) -> int:
    """Number of input points one output point of a stack of stride-1 convolutions depends on.

    Each layer with kernel ``k`` and dilation ``d`` widens the field by ``(k - 1) d``,
    so three layers with ``k = 7`` see ``1 + 3 * 6 = 19`` points.

    Parameters
    ----------
    kernel_sizes:
        Kernel size of every layer, first to last.
    dilations:
        Dilation of every layer (default 1 everywhere).
    """
    dilations = [1] * len(kernel_sizes) if dilations is None else list(dilations)
    if len(dilations) != len(kernel_sizes):
        raise ConfigError(
            f"got {len(kernel_sizes)} kernel sizes but {len(dilations)} dilations; "
            "give one dilation per layer"
        )
    if any(k < 1 for k in kernel_sizes) or any(d < 1 for d in dilations):
        raise ConfigError("kernel sizes and dilations must be positive")
    return 1 + sum((k - 1) * d for k, d in zip(kernel_sizes, dilations, strict=True))


def _same_padding(kernel_size: int, dilation: int) -> int:
    if kernel_size % 2 == 0:
        raise ConfigError(
            f"kernel_size must be odd for 'same' output size, got {kernel_size}; use 3, 5, 7, ..."
        )
    return (kernel_size - 1) // 2 * dilation


class ConvBlock1d(nn.Module):
    """A 'same'-size 1D convolution followed by an optional activation.

    Parameters
    ----------
    in_channels, out_channels:
        Channel counts.
    kernel_size:
        Odd kernel width (grid points).
    dilation:
        Spacing between kernel taps.
    padding_mode:
        ``"circular"`` for a periodic domain (the last point neighbours the first),
        ``"zeros"`` for a bounded one.
    act:
        Activation name (see :func:`wxai.nn.mlp.activation`) or ``None`` for a linear block.

    Shapes
    ------
    input ``(batch, in_channels, length)`` -> output ``(batch, out_channels, length)``.
    """

    _conv: type[nn.Module] = nn.Conv1d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        dilation: int = 1,
        padding_mode: PaddingMode = "zeros",
        act: str | None = "relu",
    ) -> None:
        super().__init__()
        self.conv = self._conv(
            in_channels,
            out_channels,
            kernel_size,
            padding=_same_padding(kernel_size, dilation),
            dilation=dilation,
            padding_mode=padding_mode,
        )
        self.act = activation(act) if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve ``x`` of shape ``(batch, in_channels, *spatial)``."""
        return self.act(self.conv(x))


class ConvBlock2d(ConvBlock1d):
    """A 'same'-size 2D convolution followed by an optional activation.

    Parameters are those of :class:`ConvBlock1d`; ``"circular"`` padding wraps both axes.

    Shapes
    ------
    input ``(batch, in_channels, height, width)`` -> output ``(batch, out_channels, height,
    width)``.
    """

    _conv = nn.Conv2d


class ConvNet1d(nn.Module):
    """A stack of 'same'-size 1D convolutions mapping a field to a field.

    Every layer but the last is followed by the activation, so the output is linear.

    Parameters
    ----------
    channels:
        Channel counts ``[in, hidden..., out]``, e.g. ``[1, 32, 32, 32, 1]``.
    kernel_sizes:
        One odd kernel size per layer (``len(channels) - 1`` of them), or a single
        size for all layers.
    dilations:
        One dilation per layer (default 1).
    padding_mode, act:
        As in :class:`ConvBlock1d`.

    Shapes
    ------
    input ``(batch, channels[0], length)`` -> output ``(batch, channels[-1], length)``.
    """

    _block: type[ConvBlock1d] = ConvBlock1d

    def __init__(
        self,
        channels: Sequence[int],
        kernel_sizes: int | Sequence[int] = 3,
        *,
        dilations: Sequence[int] | None = None,
        padding_mode: PaddingMode = "circular",
        act: str = "relu",
    ) -> None:
        super().__init__()
        n_layers = len(channels) - 1
        if n_layers < 1:
            raise ConfigError(f"channels needs at least [in, out], got {list(channels)}")
        kernels = [kernel_sizes] * n_layers if isinstance(kernel_sizes, int) else kernel_sizes
        dilations = [1] * n_layers if dilations is None else dilations
        if len(kernels) != n_layers or len(dilations) != n_layers:
            raise ConfigError(
                f"{n_layers} layers need {n_layers} kernel sizes and dilations, "
                f"got {len(kernels)} and {len(dilations)}"
            )
        self.kernel_sizes = list(kernels)
        self.dilations = list(dilations)
        self.layers = nn.ModuleList(
            self._block(
                channels[i],
                channels[i + 1],
                self.kernel_sizes[i],
                dilation=self.dilations[i],
                padding_mode=padding_mode,
                act=act if i < n_layers - 1 else None,
            )
            for i in range(n_layers)
        )

    @property
    def receptive_field(self) -> int:
        """Input points one output point depends on (see :func:`receptive_field`)."""
        return receptive_field(self.kernel_sizes, self.dilations)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of every layer, first hidden layer to the output.

        Returns
        -------
        list of tensors ``(batch, channels[i + 1], length)``.
        """
        outputs = []
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(batch, channels[0], length)`` to the output field."""
        for layer in self.layers:
            x = layer(x)
        return x


class ConvNet2d(ConvNet1d):
    """A stack of 'same'-size 2D convolutions mapping fields to fields.

    Parameters are those of :class:`ConvNet1d`; kernels are square and
    :attr:`receptive_field` is the width of the (square) field of view in grid points.
    ``padding_mode="replicate"`` suits a limited-area domain, ``"circular"`` a doubly
    periodic one.

    Shapes
    ------
    input ``(batch, channels[0], height, width)`` -> output ``(batch, channels[-1], height,
    width)``.
    """

    _block = ConvBlock2d


class ConvClassifier1d(nn.Module):
    """1D convolutional feature extractor followed by a dense classification head.

    The feature maps are average-pooled to ``pooled_length`` bins and flattened, so
    the same network accepts any input length ``>= pooled_length``.

    Parameters
    ----------
    in_channels:
        Channels of the input signal.
    n_classes:
        Number of output logits.
    channels:
        Output channels of the convolution layers, e.g. ``[16, 32]``.
    kernel_size:
        Odd kernel size of every convolution.
    pooled_length:
        Bins kept per channel before the head.
    head_hidden:
        Hidden sizes of the dense head.
    padding_mode, act:
        As in :class:`ConvBlock1d`.

    Shapes
    ------
    input ``(batch, in_channels, length)`` -> logits ``(batch, n_classes)``.
    """

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        channels: Sequence[int] = (16, 32),
        *,
        kernel_size: int = 5,
        pooled_length: int = 8,
        head_hidden: Sequence[int] = (64,),
        padding_mode: PaddingMode = "zeros",
        act: str = "relu",
    ) -> None:
        super().__init__()
        sizes = [in_channels, *channels]
        self.features = nn.Sequential(
            *(
                ConvBlock1d(a, b, kernel_size, padding_mode=padding_mode, act=act)
                for a, b in itertools.pairwise(sizes)
            )
        )
        self.pool = nn.AdaptiveAvgPool1d(pooled_length)
        self.head = MLP(sizes[-1] * pooled_length, n_classes, head_hidden, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)`` for signals ``x`` of shape ``(batch, in, length)``."""
        return self.head(self.pool(self.features(x)).flatten(1))


def input_support(
    model: nn.Module, length: int, index: int, *, channels: int = 1, batch: int = 4
) -> torch.Tensor:
    """Input positions that output point ``index`` depends on, found by autograd.

    Differentiates the sum of output ``[:, :, index]`` with respect to ``batch``
    random inputs and marks the positions with a non-zero gradient in any of them,
    which measures the receptive field of a trained or untrained network.

    Parameters
    ----------
    model:
        Maps ``(batch, channels, length)`` to ``(batch, out_channels, length)``.
    length:
        Grid points of the probe input.
    index:
        Output position examined.

    Returns
    -------
    Boolean tensor ``(length,)``.
    """
    device = next(model.parameters()).device
    x = torch.randn(batch, channels, length, device=device, requires_grad=True)
    model(x)[:, :, index].sum().backward()
    assert x.grad is not None
    return (x.grad.abs().sum(dim=(0, 1)) > 0).cpu()


def periodic_window(length: int, index: int, width: int) -> torch.Tensor:
    """The ``width`` positions centred on ``index`` of a periodic grid, as a mask.

    What :func:`input_support` should find for output ``index`` of a circular-padded
    stack of 'same' convolutions with receptive field ``width`` (odd) on ``length``
    points, when the field is narrower than the domain.

    Returns
    -------
    Boolean tensor ``(length,)``.
    """
    mask = torch.zeros(length, dtype=torch.bool)
    half = width // 2
    mask[[(index + offset) % length for offset in range(-half, half + 1)]] = True
    return mask
