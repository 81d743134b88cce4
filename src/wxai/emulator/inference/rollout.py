"""Autoregressive rollout of a trained emulator, one step at a time.

The rollout keeps the model's input window (members, T_in, N, V) and nothing
else: each step predicts the prognostic variables, computes the input-only fields
for the new valid time, and shifts the window. Steps are yielded as they are made,
so a writer can stream a forecast of any length to disk.

Ensembles start from perturbed initial states: member 0 is the unperturbed
control; the others add Gaussian noise to the prognostic variables of every
input state, ``perturbation`` times the standard deviation of one-step
increments of that variable (the typical 6-hourly change), independently per
cell. Spatially white noise is the simplest choice; it is damped by the first
steps, so the spread grows from a small start.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from wxai.core.errors import ConfigError
from wxai.emulator.inference.forcings import ForcingProvider
from wxai.emulator.inference.initial import InitialState
from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = ["ForecastStep", "rollout", "valid_dates"]


@dataclass(frozen=True, eq=False)
class ForecastStep:
    """One output time of a forecast.

    Attributes
    ----------
    index:
        Step number, 0 for the initial state.
    valid_time:
        datetime64[s].
    fields:
        Prognostic variables, float32 (members, P, N), physical units.
    seconds:
        Wall time the model took for this step (0 for the initial state).
    """

    index: int
    valid_time: np.datetime64
    fields: np.ndarray
    seconds: float


def valid_dates(ckpt: InferenceCheckpoint, init: np.datetime64, steps: int) -> np.ndarray:
    """Valid times of steps 0..``steps``: datetime64[s] (steps + 1,)."""
    delta = np.timedelta64(int(ckpt.data.step.total_seconds()), "s")
    return np.datetime64(init, "s") + delta * np.arange(steps + 1)


def _perturbed(
    ckpt: InferenceCheckpoint, window: np.ndarray, members: int, amplitude: float, seed: int
) -> np.ndarray:
    """(members, T_in, V, N) from (T_in, V, N): member 0 as given, the others perturbed."""
    emulator = ckpt.emulator
    out = np.repeat(window[None], members, axis=0)
    if members == 1 or amplitude == 0.0:
        return out
    index = emulator.prognostic_index.cpu().numpy()
    scale = (emulator.increment_stdev * emulator.stdev[emulator.prognostic_index]).cpu().numpy()
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((members - 1, *window.shape[:1], index.size, window.shape[-1]))
    out[1:, :, index] += (amplitude * scale[None, None, :, None] * noise).astype(np.float32)
    return out


@torch.no_grad()
def rollout(
    ckpt: InferenceCheckpoint,
    initial: InitialState,
    steps: int,
    *,
    forcings: ForcingProvider,
    members: int = 1,
    perturbation: float = 0.5,
    seed: int = 0,
    device: str = "cpu",
) -> Iterator[ForecastStep]:
    """Yield the initial state and ``steps`` forecast steps.

    Parameters
    ----------
    ckpt:
        The model (:func:`~wxai.emulator.training.emulator.read_inference_checkpoint`).
    initial:
        Input window (T_in, V, N), physical units.
    steps:
        Number of model steps (lead = steps x the data's time step).
    forcings:
        Input-only fields at each valid time; checked to cover the whole lead first.
    members:
        Ensemble size; 1 = deterministic.
    perturbation:
        Initial perturbation in units of the one-step increment standard deviation.
    device:
        ``"cpu"`` or ``"cuda"``.

    Raises
    ------
    ConfigError
        ``steps < 1``, ``members < 1``, or input-only fields not available over the lead.
    """
    if steps < 1:
        raise ConfigError(f"the lead must be at least one step ({ckpt.data.step}), got {steps}")
    if members < 1:
        raise ConfigError(f"members must be at least 1, got {members}")
    dates = valid_dates(ckpt, initial.init_time, steps)
    forcings.check_covers(dates)
    emulator = ckpt.emulator.to(device)
    index = emulator.prognostic_index
    window_np = _perturbed(ckpt, initial.fields, members, perturbation, seed)
    # (M, T_in, V, N) -> the network's (M, T_in, N, V)
    window = torch.from_numpy(np.ascontiguousarray(window_np.transpose(0, 1, 3, 2))).to(device)
    first = window[:, -1].index_select(-1, index).permute(0, 2, 1)
    yield ForecastStep(0, dates[0], first.cpu().numpy(), 0.0)
    for k in range(1, steps + 1):
        started = time.perf_counter()
        prediction = emulator(window)  # (M, N, P)
        row = torch.from_numpy(forcings.row(dates[k]).T.copy()).to(device)  # (N, V)
        window = emulator.advance(window, prediction, row.expand(members, -1, -1), index)
        fields = prediction.permute(0, 2, 1).cpu().numpy()
        yield ForecastStep(k, dates[k], fields, time.perf_counter() - started)
