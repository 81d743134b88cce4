"""Feature scaling that travels with the model it was fitted for.

:class:`Normalizer` stores per-feature mean and standard deviation as module
buffers, so it is saved, logged and loaded together with a network.
:class:`NormalizedRegressor` wraps a network between an input and an output
normalizer: it takes and returns physical units while the inner network works
on standardized values.
"""

from __future__ import annotations

import torch
from torch import nn

from wxai.core.errors import ConfigError


class Normalizer(nn.Module):
    """Per-feature standardization ``z = (x - mean) / std`` and its inverse.

    Parameters
    ----------
    mean, std:
        Tensors of shape ``(features,)`` in the units of the data.

    Shapes
    ------
    ``transform``: ``(..., features)`` -> ``(..., features)``; ``inverse`` likewise.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean.shape != std.shape:
            raise ConfigError(f"mean {tuple(mean.shape)} and std {tuple(std.shape)} differ")
        if not bool(torch.all(std > 0)):
            raise ConfigError("every standard deviation must be positive")
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    @classmethod
    def fit(cls, data: torch.Tensor, eps: float = 1e-8) -> Normalizer:
        """Fit to ``data`` of shape ``(samples, features)``.

        A feature without spread (``std <= eps``) gets ``std = 1``: it is only centred.
        """
        data = torch.as_tensor(data, dtype=torch.float32)
        if data.ndim != 2 or data.shape[0] < 2:
            raise ConfigError(
                f"need data of shape (samples >= 2, features), got {tuple(data.shape)}"
            )
        std = data.std(dim=0)
        std = torch.where(std > eps, std, torch.ones_like(std))
        return cls(data.mean(dim=0), std)

    @property
    def features(self) -> int:
        """Number of features."""
        return int(self.mean.numel())

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Standardize ``x`` (physical units -> dimensionless)."""
        return (x - self.mean) / self.std

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`transform` (dimensionless -> physical units)."""
        return z * self.std + self.mean

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`transform`."""
        return self.transform(x)

    def extra_repr(self) -> str:
        return f"features={self.features}"


class NormalizedRegressor(nn.Module):
    """``y = out_norm.inverse(net(in_norm(x)))``: a network in physical units.

    Parameters
    ----------
    net:
        Network on standardized inputs and outputs, ``(..., n_in) -> (..., n_out)``.
    in_norm, out_norm:
        Normalizers fitted to the training inputs and targets.
    """

    def __init__(self, net: nn.Module, in_norm: Normalizer, out_norm: Normalizer) -> None:
        super().__init__()
        self.net = net
        self.in_norm = in_norm
        self.out_norm = out_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Prediction in the units of the targets for ``x`` in the units of the inputs."""
        return self.out_norm.inverse(self.net(self.in_norm.transform(x)))

    def normalized_pairs(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(in_norm(x), out_norm(y))``: the pairs the inner network is trained on."""
        return self.in_norm.transform(x), self.out_norm.transform(y)
