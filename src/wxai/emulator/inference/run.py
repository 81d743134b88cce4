"""``wxai emulator forecast``: checkpoint + initial state -> a forecast file."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from wxai.core.errors import ConfigError
from wxai.emulator.datasets.reader import EmulatorDataset, open_dataset
from wxai.emulator.inference.calibration import checkpoint_calibration
from wxai.emulator.inference.forcings import ForcingProvider
from wxai.emulator.inference.initial import initial_state
from wxai.emulator.inference.output import created_now, open_writer
from wxai.emulator.inference.perturbations import EnsemblePerturbations, StateArchive
from wxai.emulator.inference.rollout import rollout
from wxai.emulator.training.emulator import InferenceCheckpoint, read_inference_checkpoint

__all__ = ["ForecastSummary", "archive_dataset", "parse_lead", "run_forecast"]

_LEAD = re.compile(r"^\s*(\d+)\s*([dhm]?)\s*$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "": 3600}


def parse_lead(text: str, step: dt.timedelta) -> int:
    """Number of model steps in a lead such as ``10d``, ``36h`` or ``72`` (hours)."""
    match = _LEAD.match(str(text))
    if not match:
        raise ConfigError(f"--lead {text!r}: write it as 10d, 36h or 72 (hours)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    steps, rest = divmod(seconds, int(step.total_seconds()))
    if rest or steps < 1:
        raise ConfigError(f"--lead {text!r} is not a positive multiple of the model step {step}")
    return steps


@dataclass
class ForecastSummary:
    """What a forecast run did."""

    path: str
    checkpoint: str
    init_time: str
    initial_source: str
    steps: int
    members: int
    step_hours: float
    perturbation: str = ""  # how the members differ (ensembles only)
    calibration: str = ""  # where calibrated settings came from (``--calibrated`` only)
    seconds_per_step: list[float] = field(default_factory=list)

    @property
    def mean_step_seconds(self) -> float:
        return float(np.mean(self.seconds_per_step)) if self.seconds_per_step else 0.0

    @property
    def median_step_seconds(self) -> float:
        """Median over the steps after the first (which carries one-off warm-up costs)."""
        steady = self.seconds_per_step[1:] or self.seconds_per_step
        return float(np.median(steady)) if steady else 0.0

    def describe(self) -> str:
        first = self.seconds_per_step[0] * 1000 if self.seconds_per_step else 0.0
        return (
            f"forecast from {self.init_time}: {self.steps} steps of {self.step_hours:g} h, "
            f"{self.members} member(s), {self.mean_step_seconds * 1000:.1f} ms per step "
            f"(first {first:.1f} ms, then median {self.median_step_seconds * 1000:.1f} ms; "
            f"{sum(self.seconds_per_step):.2f} s in all)\n"
            + (f"perturbations: {self.perturbation}\n" if self.perturbation else "")
            + (f"calibration: {self.calibration}\n" if self.calibration else "")
            + f"written to {self.path}"
        )


def archive_dataset(ckpt: InferenceCheckpoint, dataset: str | Path | None) -> EmulatorDataset:
    """``dataset``, else the checkpoint's training dataset: where ensemble perturbations
    and their calibration draw training-period states from; a clear error where missing."""
    path = Path(dataset) if dataset is not None else Path(ckpt.data.provenance.get("path", ""))
    if not path.exists():
        raise ConfigError(
            f"random-field and model perturbations and their calibration draw states of the "
            f"training period from the training dataset, which is not at {path}: pass --dataset"
        )
    return open_dataset(path)


def run_forecast(
    checkpoint: str | Path,
    init: str,
    lead: str,
    out: str | Path,
    *,
    dataset: str | Path | None = None,
    members: int = 1,
    perturbation: float | EnsemblePerturbations | Literal["calibrated"] = 0.5,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> ForecastSummary:
    """Run a forecast and write it to ``out`` (``.nc`` or ``.grib2``).

    ``perturbation="calibrated"``: the checkpoint's calibrated ensemble settings
    (:func:`~wxai.emulator.inference.calibration.checkpoint_calibration`, computed
    on the training dataset, or ``dataset``, the first time).

    Every check (checkpoint, initial state, lead against the forcings, output
    suffix) happens before the first byte is written; a failure during the
    rollout removes the partial file.
    """
    ckpt = read_inference_checkpoint(checkpoint, map_location=device)
    steps = parse_lead(lead, ckpt.data.step)
    if members < 1:
        raise ConfigError(f"--members must be at least 1, got {members}")
    initial, opened = initial_state(ckpt, init, dataset=dataset)
    forcings = ForcingProvider(ckpt, opened)
    source = None  # the dataset training states are drawn from, opened when needed
    calibration = ""
    if perturbation == "calibrated":
        perturbation = EnsemblePerturbations()  # a single member takes none
        if members > 1:
            source = opened if opened is not None else archive_dataset(ckpt, dataset)
            found, calibration = checkpoint_calibration(ckpt, source)
            perturbation = found.perturbations
    perturbation = EnsemblePerturbations.of(perturbation)
    archive = None
    if members > 1 and perturbation.needs_archive:
        if source is None:
            source = opened if opened is not None else archive_dataset(ckpt, dataset)
        archive = StateArchive.from_dataset(ckpt, source, seed=seed)
    attrs = {
        "title": f"wxai emulator forecast from {initial.init_time}",
        "source": f"wxai graph emulator ({ckpt.config.model.processor}) {ckpt.path.name}",
        "history": f"{created_now()} wxai emulator forecast",
        "wxai_checkpoint": str(ckpt.path),
        "wxai_checkpoint_created": ckpt.created,
        "wxai_graph_fingerprint": ckpt.graph_fingerprint,
        "wxai_training_dataset": ckpt.data.provenance.get("path", ""),
        "wxai_initial_state": initial.source,
    }
    if members > 1:
        attrs["wxai_ensemble_perturbations"] = perturbation.describe()
    stepper = rollout(
        ckpt,
        initial,
        steps,
        forcings=forcings,
        members=members,
        perturbation=perturbation,
        archive=archive,
        seed=seed,
        device=device,
    )
    first = next(stepper)  # checks the lead against the forcings before any output
    writer = open_writer(
        out,
        ckpt.data,
        ckpt.emulator.prognostic,
        init_time=initial.init_time,
        members=members,
        attrs=attrs,
    )
    summary = ForecastSummary(
        path=str(out),
        checkpoint=str(ckpt.path),
        init_time=str(initial.init_time),
        initial_source=initial.source,
        steps=steps,
        members=members,
        step_hours=ckpt.data.step.total_seconds() / 3600,
        perturbation=perturbation.describe() if members > 1 else "",
        calibration=calibration,
    )
    try:
        writer.write(first)
        for step in stepper:
            writer.write(step)
            summary.seconds_per_step.append(step.seconds)
            if progress:
                progress(step.index, steps)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return summary
