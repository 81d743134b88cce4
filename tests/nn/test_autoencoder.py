"""LSTM autoencoder: shapes, a bottleneck, and learning to reconstruct."""

from __future__ import annotations

import math

import torch

from wxai.core.device import torch_threads
from wxai.nn.autoencoder import LSTMAutoencoder, reconstruction_error


def test_shapes():
    model = LSTMAutoencoder(n_features=3, hidden=16, latent=4, layers=2)
    x = torch.randn(5, 20, 3)
    assert model.encode(x).shape == (5, 4)
    assert model(x).shape == x.shape
    assert model.decode(torch.zeros(5, 4), 7).shape == (5, 7, 3)
    assert reconstruction_error(model, x).shape == (5,)


def test_reconstruction_depends_on_input_only_through_the_latent():
    torch.manual_seed(0)
    model = LSTMAutoencoder(1, 8, 2)
    x = torch.randn(4, 12, 1)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.decode(model.encode(x), 12))


def test_training_lowers_error_of_normal_sequences():
    torch.manual_seed(0)
    t = torch.arange(24.0)
    phase = torch.rand(8, 1) * 2 * math.pi
    x = torch.sin(2 * math.pi * t / 12 + phase).unsqueeze(-1)
    model = LSTMAutoencoder(1, 16, 4)
    before = reconstruction_error(model, x).mean()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    with torch_threads(1):
        for _ in range(250):
            model.train()
            loss = ((model(x) - x) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    assert reconstruction_error(model, x).mean() < 0.3 * before
