"""Autoregressive rollout of a trained emulator, one step at a time.

The rollout keeps the model's input window (members, T_in, N, V) and nothing
else: each step predicts the prognostic variables, computes the input-only fields
for the new valid time, and shifts the window. Steps are yielded as they are made,
so a writer can stream a forecast of any length to disk.

Ensembles (``members > 1``) perturb the initial states of members 1..M-1 and,
optionally, each step's prediction (:mod:`wxai.emulator.inference.perturbations`);
member 0 is the unperturbed control.
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
from wxai.emulator.inference.perturbations import (
    EnsemblePerturbations,
    StateArchive,
    perturbed_windows,
)
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


@torch.no_grad()
def rollout(
    ckpt: InferenceCheckpoint,
    initial: InitialState,
    steps: int,
    *,
    forcings: ForcingProvider,
    members: int = 1,
    perturbation: float | EnsemblePerturbations = 0.5,
    archive: StateArchive | None = None,
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
        How members differ; a number is white initial noise of that amplitude.
    archive:
        Training-period states, needed by random-field and model perturbations.
    device:
        ``"cpu"`` or ``"cuda"``.

    Raises
    ------
    ConfigError
        ``steps < 1``, ``members < 1``, input-only fields not available over the lead,
        or perturbations that need an archive without one.
    """
    if steps < 1:
        raise ConfigError(f"the lead must be at least one step ({ckpt.data.step}), got {steps}")
    if members < 1:
        raise ConfigError(f"members must be at least 1, got {members}")
    perturbation = EnsemblePerturbations.of(perturbation)
    if members > 1 and perturbation.needs_archive and archive is None:
        raise ConfigError(
            f"{perturbation.describe()} perturbations draw training states: pass a StateArchive"
        )
    dates = valid_dates(ckpt, initial.init_time, steps)
    forcings.check_covers(dates)
    emulator = ckpt.emulator.to(device)
    index = emulator.prognostic_index
    rng = np.random.default_rng(seed)
    window_np = perturbed_windows(
        ckpt, initial.fields, members, perturbation, rng=rng, archive=archive
    )
    noisy = members > 1 and perturbation.model_amplitude > 0
    # (M, T_in, V, N) -> the network's (M, T_in, N, V)
    window = torch.from_numpy(np.ascontiguousarray(window_np.transpose(0, 1, 3, 2))).to(device)
    first = window[:, -1].index_select(-1, index).permute(0, 2, 1)
    yield ForecastStep(0, dates[0], first.cpu().numpy(), 0.0)
    for k in range(1, steps + 1):
        started = time.perf_counter()
        prediction = emulator(window)  # (M, N, P)
        if noisy:
            change = perturbation.model_amplitude * archive.changes(members - 1, rng)
            noise = torch.from_numpy(change.transpose(0, 2, 1).astype(np.float32))
            prediction[1:] += noise.to(device)
        row = torch.from_numpy(forcings.row(dates[k]).T.copy()).to(device)  # (N, V)
        window = emulator.advance(window, prediction, row.expand(members, -1, -1), index)
        fields = prediction.permute(0, 2, 1).cpu().numpy()
        yield ForecastStep(k, dates[k], fields, time.perf_counter() - started)
