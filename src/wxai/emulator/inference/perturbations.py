"""Ensemble perturbations of emulator forecasts: what the initial state and the model miss.

An ensemble has two sources of spread.

Initial perturbations stand for analysis uncertainty and are added to every input
state of members 1..M-1 (member 0 is the unperturbed control):

- ``white``: independent Gaussian noise per cell, ``initial_amplitude`` times the
  standard deviation of each variable's one-step change. The emulator damps such
  small-scale noise within a few steps, so spread stays far below the error.
- ``random-field``: the difference between the input windows of two dates drawn at
  random from the training period, times ``initial_amplitude`` (random field
  perturbations, Magnusson, Nycander and Kaellen 2009, Tellus A 61). Differences of
  real states are large-scale and close to balance, so they grow like real errors.
  They are added in +/- pairs, so the ensemble mean starts at the analysis.

Model perturbations stand for the emulator's own error, which a deterministic model
trained on mean squared error never shows: after every step each perturbed member's
prediction gets a one-step change of the training period (a random date's
``x(t+1) - x(t)``, with a random sign) times ``model_amplitude``, which gives the noise
the structure and size of real 6-hourly changes, variable by variable.

Both random kinds draw from a :class:`StateArchive` of the training period.
:func:`wxai.emulator.inference.scores.calibrate_perturbations` scales the amplitudes
until spread matches error on training dates, before an ensemble is scored on
held-out ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from wxai.core.errors import ConfigError
from wxai.emulator.datasets.reader import EmulatorDataset
from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "INITIAL_METHODS",
    "EnsemblePerturbations",
    "StateArchive",
    "perturbed_windows",
]

#: Kinds of initial perturbation.
INITIAL_METHODS = ("white", "random-field")


@dataclass(frozen=True)
class EnsemblePerturbations:
    """How the members of an ensemble differ.

    Attributes
    ----------
    initial:
        ``"white"`` or ``"random-field"`` (see the module docstring).
    initial_amplitude:
        white: in one-step-change standard deviations; random-field: the factor on
        the difference of two states.
    model_amplitude:
        Factor on the one-step change added after each step (0: no model noise).
    """

    initial: Literal["white", "random-field"] = "white"
    initial_amplitude: float = 0.5
    model_amplitude: float = 0.0

    def __post_init__(self) -> None:
        if self.initial not in INITIAL_METHODS:
            raise ConfigError(
                f"unknown initial perturbation {self.initial!r}; use one of {INITIAL_METHODS}"
            )
        if self.initial_amplitude < 0 or self.model_amplitude < 0:
            raise ConfigError(
                "perturbation amplitudes must be >= 0, got "
                f"{self.initial_amplitude} and {self.model_amplitude}"
            )

    @classmethod
    def of(cls, value: float | EnsemblePerturbations) -> EnsemblePerturbations:
        """``value`` itself, or white initial noise of amplitude ``value``."""
        return value if isinstance(value, cls) else cls(initial_amplitude=value)

    @property
    def needs_archive(self) -> bool:
        """True when states of the training period are drawn from."""
        return self.initial == "random-field" or self.model_amplitude > 0

    def scaled(self, factor: float) -> EnsemblePerturbations:
        """Both amplitudes times ``factor``."""
        return replace(
            self,
            initial_amplitude=self.initial_amplitude * factor,
            model_amplitude=self.model_amplitude * factor,
        )

    def describe(self) -> str:
        text = f"{self.initial} {self.initial_amplitude:.3g}"
        return text + (f" + model noise {self.model_amplitude:.3g}" if self.model_amplitude else "")


class StateArchive:
    """Windows of consecutive training-period states to draw perturbations from.

    ``windows``: float32 (K, T_in + 1, P, N), physical units, the prognostic variables
    of ``K`` randomly chosen dates: the ``T_in`` input states ending at the date and
    the state one step after it.
    """

    def __init__(self, windows: np.ndarray) -> None:
        if windows.ndim != 4 or windows.shape[0] < 2 or windows.shape[1] < 2:
            raise ConfigError(
                f"a state archive needs (K >= 2, T_in + 1, P, N) windows, got {windows.shape}"
            )
        self.windows = windows

    @classmethod
    def from_dataset(
        cls,
        ckpt: InferenceCheckpoint,
        dataset: EmulatorDataset,
        *,
        size: int = 128,
        seed: int = 0,
    ) -> StateArchive:
        """``size`` windows from the checkpoint's training period in ``dataset``.

        Raises
        ------
        ConfigError
            The dataset has fewer than two complete windows in the training period.
        """
        emulator = ckpt.emulator
        t_in = emulator.multistep_input
        lo, hi = ckpt.data.training_period
        inside = np.flatnonzero((dataset.dates >= lo) & (dataset.dates <= hi))
        ends = inside[(inside >= t_in - 1) & (inside + 1 <= inside.max(initial=-1))]
        if ends.size < 2:
            raise ConfigError(
                f"{dataset.path} has no two complete {t_in + 1}-state windows in the "
                f"training period {lo}..{hi} to draw perturbations from"
            )
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(ends, size=min(size, ends.size), replace=False))
        columns = [dataset.name_to_index[name] for name in emulator.prognostic]
        windows = np.stack(
            [dataset.fields(int(i) - t_in + 1, int(i) + 2)[:, columns] for i in chosen]
        )
        return cls(windows)

    @property
    def input_steps(self) -> int:
        return self.windows.shape[1] - 1

    def differences(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, T_in, P, N): input windows of one random date minus another's."""
        k = self.windows.shape[0]
        first = rng.integers(0, k, count)
        second = (first + rng.integers(1, k, count)) % k  # never the same date
        inputs = self.windows[:, :-1]
        return inputs[first] - inputs[second]

    def changes(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, P, N): one-step changes x(t+1) - x(t) of random dates, random signs."""
        picked = rng.integers(0, self.windows.shape[0], count)
        sign = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), count)
        change = self.windows[picked, -1] - self.windows[picked, -2]
        return change * sign[:, None, None]


def _white_noise(
    ckpt: InferenceCheckpoint, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """(count, T_in, P, N) Gaussian noise scaled by each variable's one-step-change stdev."""
    emulator = ckpt.emulator
    scale = (emulator.increment_stdev * emulator.stdev[emulator.prognostic_index]).cpu().numpy()
    return rng.standard_normal(shape) * scale[None, None, :, None]


def perturbed_windows(
    ckpt: InferenceCheckpoint,
    window: np.ndarray,
    members: int,
    perturbations: EnsemblePerturbations,
    *,
    rng: np.random.Generator,
    archive: StateArchive | None = None,
) -> np.ndarray:
    """(members, T_in, V, N) from the input window (T_in, V, N): member 0 as given.

    Raises
    ------
    ConfigError
        A random-field perturbation without an archive.
    """
    out = np.repeat(window[None], members, axis=0)
    if members == 1 or perturbations.initial_amplitude == 0.0:
        return out
    index = ckpt.emulator.prognostic_index.cpu().numpy()
    count = members - 1
    if perturbations.initial == "white":
        noise = _white_noise(ckpt, (count, window.shape[0], index.size, window.shape[-1]), rng)
    else:
        if archive is None:
            raise ConfigError("random-field perturbations need a StateArchive of training states")
        pairs = archive.differences((count + 1) // 2, rng)
        noise = np.stack([pairs, -pairs], axis=1).reshape(-1, *pairs.shape[1:])[:count]
    out[1:, :, index] += (perturbations.initial_amplitude * noise).astype(np.float32)
    return out
