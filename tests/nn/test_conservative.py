"""ZeroSum: exact conservation of a (weighted) total, projection property, clear errors."""

from __future__ import annotations

import pytest
import torch

from wxai.core.errors import ConfigError, DataFormatError
from wxai.nn.conservative import ZeroSum


def _latitude_weights(n_lat: int, n_lon: int) -> torch.Tensor:
    lat = torch.linspace(-80.0, 80.0, n_lat, dtype=torch.float64)
    return torch.cos(torch.deg2rad(lat))[:, None].expand(n_lat, n_lon).clone()


def test_output_sums_to_zero_over_the_chosen_dimension_only():
    x = torch.randn(4, 3, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = ZeroSum(-1)(x)
    assert y.sum(-1).abs().max() < 1e-13
    # The removed part is constant along -1, and totals over other dimensions are not zeroed.
    torch.testing.assert_close(x - y, (x - y)[..., :1].expand_as(x))
    assert y.sum(1).abs().max() > 0.1


def test_area_weighted_total_is_zero_and_unweighted_mean_would_not_do():
    w = _latitude_weights(12, 24)
    x = torch.rand(5, 12, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = x + torch.linspace(0, 2, 12, dtype=torch.float64)[:, None]  # total depends on latitude
    weighted = ZeroSum((-2, -1), weights=w)(x)
    assert (w * weighted).sum((-2, -1)).abs().max() < 1e-12
    unweighted = ZeroSum((-2, -1))(x)
    assert (w * unweighted).sum((-2, -1)).abs().min() > 1e-2


def test_it_is_a_projection_that_leaves_zero_total_fields_alone():
    w = _latitude_weights(6, 8)
    layer = ZeroSum((1, 2), weights=w)
    x = torch.randn(3, 6, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    once = layer(x)
    torch.testing.assert_close(layer(once), once, rtol=0, atol=1e-14)


def test_jacobian_is_identity_minus_the_weighted_mean():
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    layer = ZeroSum(-1, weights=weights)
    x = torch.randn(4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    jac = torch.autograd.functional.jacobian(layer, x)
    expected = torch.eye(4, dtype=torch.float64) - (weights / weights.sum())[None, :]
    torch.testing.assert_close(jac, expected)


def test_state_plus_zero_sum_increment_keeps_its_mass_over_1000_steps():
    gen = torch.Generator().manual_seed(4)
    u = torch.rand(8, 128, dtype=torch.float64, generator=gen)
    free, conserved = u.clone(), u.clone()
    layer = ZeroSum(-1)
    for _ in range(1000):
        du = 0.05 * torch.randn(8, 128, dtype=torch.float64, generator=gen) + 1e-4
        free = free + du
        conserved = conserved + layer(du)
    mass0 = u.sum(-1)
    assert ((conserved.sum(-1) - mass0).abs() / mass0).max() < 1e-10
    assert ((free.sum(-1) - mass0).abs() / mass0).min() > 1e-3  # the same increments, unprojected


def test_weights_follow_the_module_dtype():
    layer = ZeroSum(-1, weights=torch.ones(5)).double()
    assert layer.weights.dtype == torch.float64
    assert layer(torch.randn(2, 5, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dims": ()}, "at least one dimension"),
        ({"dims": (1, 1)}, "distinct"),
        ({"weights": torch.tensor([1.0, -1.0, 2.0])}, "non-negative"),
        ({"weights": torch.zeros(3)}, "positive sum"),
        ({"weights": torch.tensor([1.0, float("nan"), 2.0])}, "finite"),
    ],
)
def test_bad_settings_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ZeroSum(**kwargs)


def test_bad_inputs_are_data_format_errors():
    with pytest.raises(DataFormatError, match="more dimensions"):
        ZeroSum((-2, -1))(torch.randn(5))
    with pytest.raises(DataFormatError, match="empty"):
        ZeroSum(-1)(torch.randn(0, 5))
    with pytest.raises(DataFormatError, match="sizes"):
        ZeroSum(-1, weights=torch.ones(4))(torch.randn(2, 5))
    with pytest.raises(ConfigError, match="same dimension"):
        ZeroSum((1, -1))(torch.randn(2, 5))
