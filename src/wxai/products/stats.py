"""Per-channel normalisation statistics of gridded model inputs (fronts, warnings)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wxai.core.errors import DataFormatError

__all__ = ["ChannelStats"]


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation of training inputs.

    Attributes
    ----------
    mean, std:
        ``(C,)`` in the channels' units (std floored at 1e-6).
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, inputs: np.ndarray) -> ChannelStats:
        """Statistics of ``inputs`` ``(N, C, H, W)`` over cases and grid cells."""
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim != 4:
            raise DataFormatError(f"inputs must be (N, C, H, W), got shape {x.shape}")
        mean = x.mean(axis=(0, 2, 3))
        std = np.maximum(x.std(axis=(0, 2, 3)), 1e-6)
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def apply(self, inputs: np.ndarray) -> np.ndarray:
        """Standardised ``(x - mean) / std`` of ``(N, C, H, W)`` inputs."""
        return (inputs - self.mean[:, None, None]) / self.std[:, None, None]
