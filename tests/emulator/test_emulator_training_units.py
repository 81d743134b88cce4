"""Pieces of emulator training that need no dataset: schedules, loss, window advance, config."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from pydantic import ValidationError

from wxai.core.errors import ConfigError
from wxai.emulator.training.config import RolloutSchedule, compose_training_config
from wxai.emulator.training.emulator import Emulator
from wxai.emulator.training.module import cosine_with_warmup, weighted_mse


def test_cosine_with_warmup_rises_linearly_then_decays_to_the_floor():
    factors = [cosine_with_warmup(step, warmup=4, total=20, min_ratio=0.1) for step in range(21)]
    assert factors[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert factors[4] == pytest.approx(1.0)
    assert factors[12] == pytest.approx(0.1 + 0.9 * 0.5)  # half-way through the decay
    assert factors[20] == pytest.approx(0.1)
    assert all(a >= b for a, b in itertools.pairwise(factors[4:]))


def test_rollout_schedule_grows_every_increment_up_to_its_maximum():
    schedule = RolloutSchedule(start=1, epoch_increment=2, max=3)
    assert [schedule.steps_at(epoch) for epoch in range(7)] == [1, 1, 2, 2, 3, 3, 3]
    assert RolloutSchedule(start=2, max=4).steps_at(10) == 2  # no increment: stays at start
    with pytest.raises(ValidationError, match=r"rollout\.start"):
        RolloutSchedule(start=3, max=2)


def test_weighted_mse_weights_areas_and_variables():
    prediction = torch.zeros(1, 2, 2)
    target = torch.tensor([[[1.0, 2.0], [3.0, 0.0]]])  # (B=1, N=2, P=2)
    area = torch.tensor([1.5, 0.5])
    weights = torch.tensor([1.0, 3.0])
    loss, per_variable = weighted_mse(prediction, target, area, weights)
    expected = torch.tensor([(1.5 * 1 + 0.5 * 9) / 2, (1.5 * 4 + 0.5 * 0) / 2])
    assert torch.allclose(per_variable, expected)
    assert loss.item() == pytest.approx((expected[0] + 3 * expected[1]).item() / 4)


def test_advance_shifts_the_window_and_puts_the_prediction_into_the_true_forcings():
    window = torch.arange(2 * 2 * 3 * 4, dtype=torch.float32).reshape(2, 2, 3, 4)  # (B, T, N, V)
    forcing_row = torch.full((2, 3, 4), -1.0)
    prediction = torch.full((2, 3, 2), 7.0)
    index = torch.tensor([0, 2])
    advanced = Emulator.advance(window, prediction, forcing_row, index)
    assert advanced.shape == window.shape
    assert torch.equal(advanced[:, 0], window[:, 1])
    assert torch.equal(advanced[:, 1, :, [0, 2]], prediction)
    assert torch.equal(advanced[:, 1, :, [1, 3]], forcing_row[..., [1, 3]])


def test_emulator_is_a_residual_model_in_physical_units():
    class Zero(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.new_zeros(x.shape[0], x.shape[2], 1)

    emulator = Emulator(
        Zero(),
        variables=["t", "insolation"],
        prognostic=["t"],
        mean=[280.0, 0.3],
        stdev=[10.0, 0.0],  # a constant field is not scaled
        increment_stdev=[0.1],
        multistep_input=1,
    )
    state = torch.tensor([[[[290.0, 0.5]]]])  # (B=1, T=1, N=1, V=2)
    assert emulator(state).item() == pytest.approx(290.0)  # zero increment: persistence
    assert emulator.stdev[1].item() == 1.0
    with pytest.raises(ConfigError, match="not in the dataset"):
        Emulator(
            Zero(),
            variables=["t"],
            prognostic=["q"],
            mean=[0.0],
            stdev=[1.0],
            increment_stdev=[1.0],
            multistep_input=1,
        )


def test_training_config_composes_each_model_and_refuses_bad_overrides():
    gnn = compose_training_config(["preset=smoke"])
    transformer = compose_training_config(["model=graph_transformer", "trainer.devices=2"])
    assert gnn.model.processor == "gnn"
    assert transformer.model.processor == "graph_transformer"
    assert transformer.trainer.devices == 2
    with pytest.raises(ConfigError, match="model"):
        compose_training_config(["model=lstm"])
    with pytest.raises(ConfigError, match="lr"):
        compose_training_config(["training.lr=-1"])
    with pytest.raises(ConfigError, match="before it starts"):
        compose_training_config(["dataset.train.end=1999-01-01T00:00"])
    assert math.isfinite(gnn.training.lr)


def test_compiled_network_gives_the_same_step_and_leaves_the_state_dict_alone():
    class Mix(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(x[:, -1])

    torch.manual_seed(0)
    emulator = Emulator(
        Mix(),
        variables=["t", "u"],
        prognostic=["t"],
        mean=[280.0, 0.0],
        stdev=[10.0, 5.0],
        increment_stdev=[0.2],
        multistep_input=1,
    )
    window = torch.randn(3, 1, 7, 2)
    eager = emulator.step_normalised(window)
    keys = set(emulator.state_dict())
    emulator.compile_network()
    assert torch.allclose(emulator.step_normalised(window), eager, atol=1e-6)
    assert set(emulator.state_dict()) == keys
