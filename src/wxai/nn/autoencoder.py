"""A sequence autoencoder built from LSTMs (encoder -> latent vector -> decoder)."""

from __future__ import annotations

import torch
from torch import nn


class LSTMAutoencoder(nn.Module):
    """Compress a sequence into one latent vector and reconstruct it.

    The encoder LSTM reads the sequence; its last hidden state is projected to a
    latent vector of size ``latent``. The decoder LSTM receives that vector at every
    time step and a linear layer maps its hidden states back to the features. Trained
    on normal sequences only, the reconstruction error is an anomaly score.

    Parameters
    ----------
    n_features:
        Features per time step.
    hidden:
        Hidden size of both LSTMs.
    latent:
        Size of the bottleneck vector.
    layers:
        Stacked LSTM layers in encoder and decoder.

    Shapes
    ------
    input ``(batch, time, n_features)`` -> reconstruction ``(batch, time, n_features)``;
    latent ``(batch, latent)``.
    """

    def __init__(self, n_features: int = 1, hidden: int = 32, latent: int = 8, layers: int = 1):
        super().__init__()
        self.encoder = nn.LSTM(n_features, hidden, layers, batch_first=True)
        self.to_latent = nn.Linear(hidden, latent)
        self.decoder = nn.LSTM(latent, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, n_features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent vectors ``(batch, latent)`` of sequences ``(batch, time, n_features)``."""
        _, (h, _) = self.encoder(x)
        return self.to_latent(h[-1])

    def decode(self, z: torch.Tensor, steps: int) -> torch.Tensor:
        """Sequences ``(batch, steps, n_features)`` from latent vectors ``(batch, latent)``."""
        y, _ = self.decoder(z.unsqueeze(1).expand(-1, steps, -1))
        return self.out(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x`` of shape ``(batch, time, n_features)``."""
        return self.decode(self.encode(x), x.shape[1])


@torch.no_grad()
def reconstruction_error(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Mean squared reconstruction error per sequence, an anomaly score.

    Parameters
    ----------
    model:
        A module returning a reconstruction of the input's shape.
    x:
        Sequences ``(batch, time, n_features)``.

    Returns
    -------
    Tensor ``(batch,)``, in squared units of ``x``.
    """
    model.eval()
    return ((model(x) - x) ** 2).flatten(1).mean(dim=1)
