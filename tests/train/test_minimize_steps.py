"""minimize_steps: fresh data every step, cosine decay to zero, sparse logging."""

from __future__ import annotations

import itertools

import torch

from wxai.train.loop import minimize_steps


def test_fits_a_line_from_fresh_batches_and_logs_sparsely():
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)

    def step_loss(step: int) -> torch.Tensor:
        x = torch.randn(64, 1)
        return torch.mean((model(x) - (3 * x - 1)) ** 2)

    logged: list[tuple[int, float]] = []
    losses = minimize_steps(
        model, step_loss, steps=300, lr=0.05, log=lambda s, v: logged.append((s, v)), log_points=10
    )
    assert len(losses) == 300
    assert losses[-1] < 1e-3 < losses[0]
    assert abs(model.weight.item() - 3) < 0.02 and abs(model.bias.item() + 1) < 0.02
    steps = [s for s, _ in logged]
    assert steps == [*range(0, 300, 30), 299]
    assert all(losses[s] == v for s, v in logged)
    assert not model.training


def test_learning_rate_decays_to_zero_by_the_last_step():
    model = torch.nn.Linear(1, 1)
    seen: list[float] = []

    def step_loss(step: int) -> torch.Tensor:
        seen.append(float(model.weight))
        return (model.weight**2).sum() + 0 * model.bias.sum()

    minimize_steps(model, step_loss, steps=20, lr=0.1)
    moves = [abs(b - a) for a, b in itertools.pairwise(seen)]
    assert moves[-1] < 0.1 * moves[0]  # the cosine schedule slows the last steps
