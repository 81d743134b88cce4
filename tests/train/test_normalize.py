"""Normalizers fitted to data, and a regressor that carries them."""

from __future__ import annotations

import pytest
import torch

from wxai.nn.mlp import MLP
from wxai.train.normalize import NormalizedRegressor, Normalizer


def test_fit_standardizes_and_inverse_round_trips():
    data = torch.randn(500, 3) * torch.tensor([2.0, 10.0, 0.5]) + torch.tensor([-5.0, 20.0, 1.0])
    norm = Normalizer.fit(data)
    z = norm.transform(data)
    torch.testing.assert_close(z.mean(dim=0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(dim=0), torch.ones(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(norm.inverse(z), data, atol=1e-4, rtol=1e-6)
    assert norm.features == 3


def test_constant_feature_is_only_centred():
    data = torch.stack([torch.arange(10.0), torch.full((10,), 7.0)], dim=1)
    norm = Normalizer.fit(data)
    assert float(norm.std[1]) == 1.0
    assert torch.all(norm.transform(data)[:, 1] == 0)


def test_invalid_statistics_are_rejected():
    with pytest.raises(ValueError, match="positive"):
        Normalizer(torch.zeros(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="differ"):
        Normalizer(torch.zeros(2), torch.ones(3))
    with pytest.raises(ValueError, match="samples"):
        Normalizer.fit(torch.ones(1, 2))


def test_statistics_travel_in_the_state_dict():
    norm = Normalizer.fit(torch.randn(50, 2) * 3 + 1)
    state = norm.state_dict()
    assert set(state) == {"mean", "std"}
    copy = Normalizer(torch.zeros(2), torch.ones(2))
    copy.load_state_dict(state)
    x = torch.randn(4, 2)
    assert torch.equal(copy(x), norm(x))


def test_regressor_works_in_physical_units():
    x = torch.randn(64, 2) * 10 + 3
    y = x[:, :1] * 4 - 7
    model = NormalizedRegressor(MLP(2, 1, [8]), Normalizer.fit(x), Normalizer.fit(y))
    x_n, y_n = model.normalized_pairs(x, y)
    with torch.no_grad():
        expected = model.out_norm.inverse(model.net(x_n))
        assert torch.equal(model(x), expected)
    torch.testing.assert_close(model.out_norm.inverse(y_n), y, atol=1e-4, rtol=1e-5)
    assert {"in_norm.mean", "out_norm.std", "net.net.0.weight"} <= set(model.state_dict())
