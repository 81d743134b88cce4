"""The cockpit's graph emulator: where its model is, leads and initial times, a rollout in memory.

The model is found by :func:`find_emulator_model`: the checkpoint named by
``WXAI_EMULATOR_MODEL``, else the newest ``inference-best.pt`` under
``<home>/emulator/models`` (where ``wxai lab run emulator-forecast`` and the
``emulator-train`` task put trained models). Heavy imports (torch, the emulator)
happen inside the functions, so the cockpit starts without them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wxai.cockpit.emulator_levels import LevelChoice, choose_variable, model_layers
from wxai.core.errors import ConfigError, WxaiError

if TYPE_CHECKING:
    from wxai.emulator.datasets.reader import EmulatorDataset
    from wxai.emulator.inference.perturbations import EnsemblePerturbations, StateArchive
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "MAX_LEAD_HOURS",
    "MODEL_ENV",
    "FieldRequest",
    "InMemoryForecast",
    "NoEmulatorModel",
    "find_emulator_model",
    "forecast_in_memory",
    "initial_time",
    "parse_init",
    "provenance_lines",
    "resolve_request",
    "steps_for_lead",
]

#: Environment variable naming the inference checkpoint the cockpit uses.
MODEL_ENV = "WXAI_EMULATOR_MODEL"
#: The file a training writes for its best weights.
MODEL_FILE = "inference-best.pt"
#: Longest lead the cockpit runs [h]: 15 days.
MAX_LEAD_HOURS = 15 * 24

HOW_TO_GET_ONE = (
    "train one with `wxai lab run emulator-forecast` (or the emulator-train task, or "
    "`wxai emulator train ...` with output_dir under <WXAI_HOME>/emulator/models), or "
    f"name a checkpoint in {MODEL_ENV}"
)


class NoEmulatorModel(WxaiError, LookupError):
    """No trained emulator is available to the cockpit."""


def models_dir(home: Path) -> Path:
    """``<home>/emulator/models``: one folder per trained model."""
    return Path(home) / "emulator" / "models"


def find_emulator_model(home: Path) -> Path:
    """The inference checkpoint the cockpit uses.

    ``WXAI_EMULATOR_MODEL`` if set, else the newest (by modification time)
    ``inference-best.pt`` under ``<home>/emulator/models``.

    Raises
    ------
    NoEmulatorModel
        Saying how to train one.
    """
    named = os.environ.get(MODEL_ENV, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise NoEmulatorModel(f"{MODEL_ENV} names {path}, which does not exist")
        return path
    folder = models_dir(home)
    found = sorted(folder.rglob(MODEL_FILE), key=lambda p: p.stat().st_mtime)
    if not found:
        raise NoEmulatorModel(f"no trained emulator under {folder}: {HOW_TO_GET_ONE}")
    return found[-1]


def steps_for_lead(lead_hours: float, step: dt.timedelta) -> int:
    """Model steps of a lead [h]: a positive multiple of the model step, at most 15 days.

    Raises
    ------
    ConfigError
        Naming the step and the limit.
    """
    step_h = step.total_seconds() / 3600
    if lead_hours <= 0 or lead_hours > MAX_LEAD_HOURS:
        raise ConfigError(
            f"lead {lead_hours:g} h: give a lead from {step_h:g} h up to {MAX_LEAD_HOURS} h "
            "(15 days)"
        )
    steps, rest = divmod(lead_hours, step_h)
    if rest:
        raise ConfigError(
            f"lead {lead_hours:g} h is not a multiple of the model step ({step_h:g} h); "
            f"try {steps * step_h:g} h or {(steps + 1) * step_h:g} h"
        )
    return int(steps)


def parse_init(text: str) -> np.datetime64:
    """An ISO date (``2000-01-05``, ``2000-01-05T12``, ``2000-01-05 12:00Z``) as datetime64[s].

    Raises
    ------
    ConfigError
        Not a date (file names are not accepted here).
    """
    cleaned = text.strip().replace(" ", "T").removesuffix("Z").removesuffix("UTC").rstrip("T")
    try:
        return np.datetime64(cleaned, "s")
    except ValueError:
        raise ConfigError(
            f"init {text!r} is not a date: write it as YYYY-MM-DD or YYYY-MM-DDTHH"
        ) from None


def initial_time(dataset: EmulatorDataset, init: str | None) -> np.datetime64:
    """``init`` if it is a date of ``dataset``, else its last date (the latest analysis).

    Raises
    ------
    ConfigError
        A date the dataset does not hold, naming its range and step.
    """
    if not init or not init.strip():
        return dataset.dates[-1]
    date = parse_init(init)
    if date not in set(dataset.dates):
        hours = dataset.frequency.total_seconds() / 3600
        raise ConfigError(
            f"init {init!r} is not a date of the training dataset ({dataset.dates[0]} .. "
            f"{dataset.dates[-1]}, every {hours:g} h); leave it empty for the latest analysis"
        )
    return date


@dataclass(frozen=True)
class InMemoryForecast:
    """The last step of a rollout.

    Attributes
    ----------
    init, valid:
        Initial and valid time, datetime64[s].
    members:
        Prognostic variables at ``valid``, float32 (M, P, N), physical units; member 0
        is the unperturbed control.
    seconds:
        Wall time of each model step [s] (all members together).
    """

    init: np.datetime64
    valid: np.datetime64
    members: np.ndarray
    seconds: list[float]

    @property
    def fields(self) -> np.ndarray:
        """The control's prognostic variables, (P, N)."""
        return self.members[0]


def forecast_in_memory(
    ckpt: InferenceCheckpoint,
    dataset: EmulatorDataset,
    init: np.datetime64,
    steps: int,
    *,
    members: int = 1,
    perturbation: EnsemblePerturbations | float = 0.0,
    archive: StateArchive | None = None,
    seed: int = 0,
) -> InMemoryForecast:
    """Roll ``ckpt`` out ``steps`` steps from ``init`` (a date of ``dataset``); keep the last.

    ``members`` > 1 runs an ensemble perturbed as ``perturbation`` says (a number:
    white initial noise of that amplitude; ``archive``: the training states it draws
    from).
    """
    from wxai.emulator.inference.forcings import ForcingProvider
    from wxai.emulator.inference.initial import initial_from_dataset
    from wxai.emulator.inference.rollout import rollout

    start = initial_from_dataset(ckpt, dataset, init)
    forcings = ForcingProvider(ckpt, dataset)
    seconds: list[float] = []
    last = None
    for step in rollout(
        ckpt, start, steps, forcings=forcings, members=members, perturbation=perturbation,
        archive=archive, seed=seed,
    ):  # fmt: skip
        if step.index:
            seconds.append(step.seconds)
        last = step
    assert last is not None
    return InMemoryForecast(start.init_time, last.valid_time, last.fields, seconds)


@dataclass(frozen=True)
class FieldRequest:
    """A chat request for one variable at one lead, resolved against the model.

    ``index``: the variable's row in the model's prognostic fields; ``start``: the
    initial date (datetime64[s]) in ``dataset``; ``units`` from the dataset.
    """

    dataset: EmulatorDataset
    choice: LevelChoice
    index: int
    steps: int
    start: np.datetime64
    units: str


def resolve_request(
    ckpt: InferenceCheckpoint,
    variable: str,
    level: float | None,
    lead_hours: int,
    init: str | None,
) -> FieldRequest:
    """Variable and level (:func:`choose_variable`), lead and initial time of a request.

    Raises
    ------
    ConfigError, UnknownNameError
        An unknown variable, a lead off the step or too long, an init not in the dataset.
    """
    from wxai.emulator.datasets.reader import open_dataset

    steps = steps_for_lead(lead_hours, ckpt.data.step)
    meta = ckpt.data.variables_metadata
    dataset = open_dataset(ckpt.data.provenance["path"])
    prognostic = list(ckpt.emulator.prognostic)
    choice = choose_variable(meta, prognostic, variable, level, model_layers(dataset.attrs))
    return FieldRequest(
        dataset=dataset,
        choice=choice,
        index=prognostic.index(choice.name),
        steps=steps,
        start=initial_time(dataset, init),
        units=str(meta.get(choice.name, {}).get("units", "")),
    )


def _shown(path: str | Path, home: Path) -> str:
    """``path`` relative to the wxai home when inside it (``<home>/...``), else as is."""
    path = Path(path)
    try:
        return f"<home>/{path.resolve().relative_to(Path(home).resolve())}"
    except ValueError:
        return str(path)


def provenance_lines(ckpt: InferenceCheckpoint, home: Path) -> list[str]:
    """Markdown bullet lines: checkpoint, its creation, graph fingerprint and training data."""
    data = ckpt.data.provenance
    stats = f"{data.get('statistics_start_date', '?')} .. {data.get('statistics_end_date', '?')}"
    return [
        f"- checkpoint `{_shown(ckpt.path, home)}`, created {ckpt.created}",
        f"- graph fingerprint `{ckpt.graph_fingerprint[:12]}`, model {ckpt.config.model.processor}",
        f"- training dataset `{_shown(data.get('path', '?'), home)}` ({data.get('name', '?')}, "
        f"{data.get('start_date', '?')} .. {data.get('end_date', '?')}; statistics {stats})",
    ]
