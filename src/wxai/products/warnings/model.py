"""The learned diagnoser: model fields at one time -> warning logits per level.

:class:`WarningDiagnoser` wraps :class:`wxai.nn.unet.UNet2d` between the channel-wise
normalisation of the training inputs and a crop: it takes raw fields in their units
(any grid size; it pads to a multiple of ``2**depth`` by repeating the edge) and
returns one logit per level and grid cell. ``sigmoid(logit)`` is the likelihood that
a forecaster warns the cell at that level; thresholding it gives the masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from wxai.core.errors import DataFormatError
from wxai.nn.unet import UNet2d
from wxai.products.warnings.dataset import ChannelStats
from wxai.products.warnings.levels import WarningLevel, check_levels
from wxai.products.warnings.scoring import nested

__all__ = ["WarningDiagnoser"]


class WarningDiagnoser(nn.Module):
    """U-Net warning diagnoser with its normalisation, levels and grid.

    Parameters
    ----------
    channels:
        Input variable names in channel order (canonical :mod:`wxai.vocab` names).
    levels:
        Warning levels (one output per level).
    stats:
        Channel statistics of the training inputs.
    grid_step:
        Grid spacing it was trained on [degrees].
    window_hours:
        Validity period of the warnings it learned [h].
    base_channels, depth:
        U-Net size.

    Shapes
    ------
    ``(batch, C, H, W)`` raw fields -> ``(batch, L, H, W)`` logits.
    """

    def __init__(
        self,
        channels: Sequence[str],
        levels: Sequence[WarningLevel],
        stats: ChannelStats,
        *,
        grid_step: float,
        window_hours: float,
        base_channels: int = 16,
        depth: int = 2,
    ) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.levels = check_levels(levels)
        self.grid_step = float(grid_step)
        self.window_hours = float(window_hours)
        self.depth = depth
        if len(stats.mean) != len(self.channels):
            raise DataFormatError(
                f"{len(stats.mean)} channel statistics for {len(self.channels)} channels"
            )
        self.register_buffer("mean", torch.as_tensor(stats.mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(stats.std, dtype=torch.float32))
        self.net = UNet2d(
            len(self.channels), len(self.levels), base_channels=base_channels, depth=depth
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, L, H, W)`` of raw fields ``(batch, C, H, W)``."""
        z = (x - self.mean[:, None, None]) / self.std[:, None, None]
        factor = 2**self.depth
        height, width = z.shape[-2:]
        pad_h, pad_w = -height % factor, -width % factor
        if pad_h or pad_w:
            z = nn.functional.pad(z, (0, pad_w, 0, pad_h), mode="replicate")
        return self.net(z)[..., :height, :width]

    @torch.no_grad()
    def likelihood(self, inputs: np.ndarray, batch_size: int = 16) -> np.ndarray:
        """Warning likelihood per level ``(N, L, H, W)`` in [0, 1] of raw ``(N, C, H, W)``."""
        self.eval()
        device = self.mean.device
        out = []
        for start in range(0, len(inputs), batch_size):
            x = torch.as_tensor(np.asarray(inputs[start : start + batch_size], np.float32))
            out.append(torch.sigmoid(self(x.to(device))).cpu().numpy())
        return np.concatenate(out)

    def masks(self, inputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Nested warning masks ``(N, L, H, W)``: likelihood >= ``threshold``."""
        return nested(self.likelihood(inputs) >= threshold)
