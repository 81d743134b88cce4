"""A checkpoint's calibrated ensemble settings, computed once and kept beside it.

:func:`checkpoint_calibration` gives the random-field and model-noise amplitudes
that make a checkpoint's ensemble spread like its error (:func:`calibrate_perturbations`
on training dates, following :data:`CALIBRATION`), read from ``ensemble.json`` in
the checkpoint's folder, or computed and written there. A cache older than the
checkpoint, of another graph or unreadable is computed again; a read-only folder
only means no cache. ``wxai emulator calibrate``, ``wxai emulator forecast
--calibrated`` and the cockpit's ``emulator_ensemble`` tool share it.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from wxai.core.errors import ConfigError
from wxai.emulator.datasets.reader import EmulatorDataset
from wxai.emulator.inference.perturbations import EnsemblePerturbations
from wxai.emulator.inference.scores import calibrate_perturbations, calibration_span
from wxai.emulator.inference.sidecar import read_sidecar, write_sidecar
from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "CALIBRATION",
    "CALIBRATION_FILE",
    "Calibration",
    "CalibrationPlan",
    "cached_calibration",
    "checkpoint_calibration",
]

#: The calibration kept beside the checkpoint.
CALIBRATION_FILE = "ensemble.json"


@dataclasses.dataclass(frozen=True)
class CalibrationPlan:
    """How a checkpoint's ensemble is calibrated: where the amplitudes start (the
    ``emulator-ensemble`` lab's settings), on how many training dates, with how many
    members, over up to how many steps."""

    initial: str = "random-field"
    initial_amplitude: float = 0.05
    model_amplitude: float = 0.7
    inits: int = 4
    members: int = 6
    steps: int = 16


#: The plan every checkpoint's calibration follows.
CALIBRATION = CalibrationPlan()


@dataclasses.dataclass
class Calibration:
    """Amplitudes of a calibrated ensemble and how they were found."""

    initial: str
    initial_amplitude: float
    model_amplitude: float
    spread_skill_before: list[float]  # mean spread/skill before each scaling
    steps: int
    inits: int
    graph_fingerprint: str

    @property
    def perturbations(self) -> EnsemblePerturbations:
        return EnsemblePerturbations(self.initial, self.initial_amplitude, self.model_amplitude)

    def describe(self) -> str:
        before = ", ".join(f"{r:.2f}" for r in self.spread_skill_before)
        return (
            f"{self.perturbations.describe()}, calibrated on {self.inits} training dates over "
            f"{self.steps} steps (spread/skill before: {before})"
        )


def cached_calibration(ckpt: InferenceCheckpoint) -> Calibration | None:
    """The ``ensemble.json`` beside ``ckpt``; None when missing, stale or unreadable."""
    try:
        calibration = Calibration(**read_sidecar(ckpt, CALIBRATION_FILE))
    except TypeError:
        return None  # none, or of another version
    return calibration if calibration.graph_fingerprint == ckpt.graph_fingerprint else None


def _calibrate(
    ckpt: InferenceCheckpoint, dataset: EmulatorDataset, plan: CalibrationPlan
) -> Calibration:
    lo, hi = ckpt.data.training_period
    step = np.timedelta64(int(ckpt.data.step.total_seconds()), "s")
    # leave at least two initial times (and the model's input window) in the period
    fits = int((hi - lo) // step) - ckpt.emulator.multistep_input
    steps = min(plan.steps, fits)
    if steps < 1:
        raise ConfigError(f"the training period {lo}..{hi} is too short to calibrate an ensemble")
    start, end = calibration_span(ckpt, steps)
    settings, ratios = calibrate_perturbations(
        ckpt, dataset,
        EnsemblePerturbations(plan.initial, plan.initial_amplitude, plan.model_amplitude),
        start=start, end=end, steps=steps, members=plan.members, every=1,
        max_inits=plan.inits, seed=1,
    )  # fmt: skip
    return Calibration(
        settings.initial, settings.initial_amplitude, settings.model_amplitude,
        [float(r) for r in ratios], steps, plan.inits, ckpt.graph_fingerprint,
    )  # fmt: skip


def checkpoint_calibration(
    ckpt: InferenceCheckpoint,
    dataset: EmulatorDataset,
    *,
    plan: CalibrationPlan = CALIBRATION,
    refresh: bool = False,
) -> tuple[Calibration, str]:
    """The checkpoint's calibration and where it came from (cache, or computed now).

    ``dataset`` holds the checkpoint's training period (usually its training dataset);
    ``refresh`` computes it again even where a valid cache exists.

    Raises
    ------
    ConfigError
        The training period holds too few dates, or the ensemble has no spread.
    """
    cached = None if refresh else cached_calibration(ckpt)
    if cached is not None:
        return cached, f"read from {CALIBRATION_FILE} beside the checkpoint"
    started = time.perf_counter()
    calibration = _calibrate(ckpt, dataset, plan)
    took = f"calibrated now in {time.perf_counter() - started:.1f} s"
    if not write_sidecar(ckpt, CALIBRATION_FILE, dataclasses.asdict(calibration)):
        return calibration, f"{took} (not cached: {ckpt.path.parent} is not writable)"
    return calibration, f"{took} and kept in {CALIBRATION_FILE} beside the checkpoint"
