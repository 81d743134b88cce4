"""Fixed Fourier-feature input maps for coordinate networks (PINNs, implicit fields)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from wxai.core.errors import ConfigError

__all__ = ["FourierFeatures"]


class FourierFeatures(nn.Module):
    """Fixed input map ``x -> [sin(x W^T), cos(x W^T)]``: ``(n, d) -> (n, 2 k)``.

    ``W (k, d)`` holds angular frequencies in radians per unit of ``x``; it is a buffer,
    not trained. Two choices:

    - :meth:`random`: ``W ~ N(0, scale^2)`` (random Fourier features). The network is a
      function of quasi-periodic features with no common period.
    - :meth:`harmonic`: ``W_j = 2 pi j / period``, ``j = 1..k``, per axis. Every output
      of the network is then exactly ``period``-periodic: it extrapolates a solution with
      that period perfectly, and cannot represent one without it.
    """

    def __init__(self, frequencies: torch.Tensor) -> None:
        super().__init__()
        if frequencies.ndim != 2 or frequencies.shape[0] == 0:
            raise ConfigError(
                "Fourier frequencies must be a non-empty (k, d) matrix, got "
                f"{tuple(frequencies.shape)}"
            )
        self.register_buffer("frequencies", frequencies.float())

    @classmethod
    def random(
        cls, in_features: int, n_features: int, scale: float, seed: int = 0
    ) -> FourierFeatures:
        """``n_features`` Gaussian frequencies of standard deviation ``scale`` [rad per unit x]."""
        if not scale > 0 or n_features < 1:
            raise ConfigError(
                f"random Fourier features need n_features >= 1 and scale > 0, got "
                f"{n_features} and {scale}"
            )
        generator = torch.Generator().manual_seed(seed)
        return cls(scale * torch.randn(n_features, in_features, generator=generator))

    @classmethod
    def harmonic(cls, period: float | Sequence[float], n_harmonics: int) -> FourierFeatures:
        """Harmonics ``1..n_harmonics`` of ``period`` (one period per input axis)."""
        periods = [float(period)] if isinstance(period, int | float) else [float(p) for p in period]
        if n_harmonics < 1 or not all(p > 0 for p in periods):
            raise ConfigError(
                f"harmonic features need n_harmonics >= 1 and positive periods, got "
                f"{n_harmonics} and {periods}"
            )
        rows = [
            [2 * math.pi * j / p if axis == a else 0.0 for a in range(len(periods))]
            for axis, p in enumerate(periods)
            for j in range(1, n_harmonics + 1)
        ]
        return cls(torch.tensor(rows))

    @property
    def out_features(self) -> int:
        """Width of the output, ``2 k``."""
        return 2 * self.frequencies.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d) -> (n, 2 k)``."""
        phase = x @ self.frequencies.T
        return torch.cat([torch.sin(phase), torch.cos(phase)], dim=-1)
