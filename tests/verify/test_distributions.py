"""Distribution distances against scipy and against hand-computable cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

from wxai.verify.distributions import energy_distance, sorted_quantile_loss, wasserstein_1d


@pytest.mark.parametrize(("n", "m"), [(50, 50), (37, 53), (1, 9)])
def test_wasserstein_1d_matches_scipy(n, m):
    rng = np.random.default_rng(n + m)
    a, b = rng.normal(size=n), rng.gamma(2.0, size=m)
    assert wasserstein_1d(a, b) == pytest.approx(scipy.stats.wasserstein_distance(a, b))


def test_wasserstein_shift_and_order_two():
    a = np.arange(10.0)
    assert wasserstein_1d(a, a + 3) == pytest.approx(3.0)
    assert wasserstein_1d(a, a[::-1]) == 0.0
    assert wasserstein_1d([0.0, 0.0], [0.0, 2.0], p=2) == pytest.approx(np.sqrt(2.0))


@pytest.mark.parametrize(("n", "m"), [(40, 40), (30, 70)])
def test_energy_distance_1d_matches_scipy(n, m):
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=n), rng.normal(0.5, 2.0, size=m)
    assert energy_distance(a, b) == pytest.approx(scipy.stats.energy_distance(a, b))
    assert energy_distance(a, b, squared=True) == pytest.approx(energy_distance(a, b) ** 2)


def test_energy_distance_in_2d_by_brute_force():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0]])
    # 2 E|X-Y| = 2 * (0 + 5) / 2 = 5; E|X-X'| (V-statistic) = 2 * 5 / 4 = 2.5; E|Y-Y'| = 0
    assert energy_distance(a, b, squared=True) == pytest.approx(2.5)
    # without the i == j pairs E|X-X'| = 5, so D^2 = 5 - 5 = 0
    assert energy_distance(a, b, squared=True, unbiased=True) == pytest.approx(0.0)
    assert energy_distance(a, a) == 0.0
    with pytest.raises(ValueError, match="dimension"):
        energy_distance(a, np.zeros((3, 3)))


def test_unbiased_energy_distance_is_near_zero_for_equal_distributions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    biased = energy_distance(a, b, squared=True)
    assert energy_distance(a, b, squared=True, unbiased=True) < biased
    assert energy_distance(a, b + 1.0, squared=True) > 10 * biased


def test_sorted_quantile_loss_is_differentiable_and_permutation_invariant():
    x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    target = torch.tensor([1.5, 2.5, 0.5])
    loss = sorted_quantile_loss(x, target, p=2)
    assert loss.item() == pytest.approx(0.25)
    loss.backward()
    torch.testing.assert_close(x.grad, torch.tensor([1.0, 1.0, 1.0]) / 3)
    assert float(sorted_quantile_loss(x, target, p=1)) == pytest.approx(
        wasserstein_1d(x.detach().numpy(), target.numpy())
    )
