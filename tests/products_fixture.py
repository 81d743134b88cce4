"""A tiny untrained front detector for tests of plumbing (files, CLI, chat), not skill."""

from __future__ import annotations

from pathlib import Path

import torch

from wxai.products.fronts import ChartGrid, FrontDetector, save_detector, synthetic_cases
from wxai.products.fronts.cases import channel_array
from wxai.products.fronts.model import DetectorConfig
from wxai.products.stats import ChannelStats


def tiny_detector(seed: int = 0) -> FrontDetector:
    """A 4-channel-wide U-Net with statistics of one synthetic chart (eval mode)."""
    cases = synthetic_cases([0], [0.0], ChartGrid(step=1.0, n_lat=16, n_lon=16))
    torch.manual_seed(seed)
    stats = ChannelStats.fit(channel_array(cases))
    return FrontDetector(stats, DetectorConfig(base_channels=4)).eval()


def save_tiny_detector(path: Path, grid_step: float = 0.5) -> Path:
    """:func:`tiny_detector` saved at ``path`` as trained on a ``grid_step`` degree grid."""
    return save_detector(tiny_detector(), path, {"grid_step": grid_step})
