"""DDPM pieces: schedules, closed-form forward process, reverse sampling."""

from __future__ import annotations

import pytest
import torch

from wxai.core.errors import UnknownNameError
from wxai.nn.diffusion import (
    EpsilonMLP,
    NoiseSchedule,
    alpha_bar,
    cosine_betas,
    diffusion_loss,
    linear_betas,
    p_sample_loop,
    q_sample,
    q_step,
)


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedules_destroy_the_signal_monotonically(name):
    schedule = NoiseSchedule.named(name, 200)
    ab = schedule.alpha_bar
    assert schedule.n_steps == 200
    assert bool((ab[1:] < ab[:-1]).all())
    assert ab[0] > 0.98 and ab[-1] < 1e-3
    assert bool(((schedule.betas > 0) & (schedule.betas < 1)).all())


def test_alpha_bar_is_the_product_of_one_minus_beta():
    betas = torch.tensor([0.1, 0.2, 0.5], dtype=torch.float64)
    torch.testing.assert_close(
        alpha_bar(betas), torch.tensor([0.9, 0.72, 0.36], dtype=torch.float64)
    )
    torch.testing.assert_close(linear_betas(3, 0.1, 0.3), torch.tensor([0.1, 0.2, 0.3]).double())
    assert cosine_betas(1000)[0] < 1e-3
    with pytest.raises(UnknownNameError):
        NoiseSchedule.named("quadratic", 10)


def test_closed_form_matches_iterated_steps_in_distribution():
    """Mean and variance of q(x_t|x_0) equal those of t+1 single steps from x_0."""
    torch.manual_seed(0)
    schedule = NoiseSchedule.named("linear", 40)
    n = 200_000
    x0 = torch.full((n, 1), 1.5)
    for t in (0, 9, 25, 39):
        x = x0.clone()
        for s in range(t + 1):
            x = q_step(x, torch.full((n,), s), schedule)
        direct = q_sample(x0, torch.full((n,), t), schedule)
        ab = float(schedule.alpha_bar[t])
        for sample in (x, direct):
            assert float(sample.mean()) == pytest.approx(1.5 * ab**0.5, abs=0.01)
            assert float(sample.var()) == pytest.approx(1 - ab, abs=0.01)


def test_closed_form_with_given_noise_is_exact():
    schedule = NoiseSchedule.named("cosine", 10)
    x0, noise = torch.randn(4, 3), torch.randn(4, 3)
    t = torch.tensor([0, 3, 5, 9])
    ab = schedule.alpha_bar[t].float().unsqueeze(1)
    torch.testing.assert_close(
        q_sample(x0, t, schedule, noise), ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    )


def test_reverse_loop_with_the_exact_noise_predictor_recovers_a_point_mass():
    """For data concentrated at c, eps(x_t) = (x_t - sqrt(ab) c) / sqrt(1 - ab) is exact."""
    schedule = NoiseSchedule.named("cosine", 50)
    centre = 0.7

    def exact_eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = schedule.alpha_bar[t].float().unsqueeze(1)
        return (x - ab.sqrt() * centre) / (1 - ab).sqrt()

    torch.manual_seed(0)
    samples, kept = p_sample_loop(exact_eps, (2000, 1), schedule, keep=[49, -1])
    assert float((samples - centre).abs().max()) < 0.05
    assert float(kept[49].std()) == pytest.approx(1.0, abs=0.1)
    torch.testing.assert_close(kept[-1], samples)


def test_eps_network_and_loss_shapes():
    model = EpsilonMLP(2, [16, 16], time_dim=8)
    x = torch.randn(5, 2)
    assert model(x, torch.randint(0, 10, (5,))).shape == (5, 2)
    loss = diffusion_loss(model, x, NoiseSchedule.named("linear", 10))
    loss.backward()
    assert loss.ndim == 0 and loss > 0
