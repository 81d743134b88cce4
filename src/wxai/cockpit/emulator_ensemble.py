"""Chat tool ``emulator_ensemble``: how sure is the emulator of its forecast.

An ensemble of the cockpit's emulator from the latest analysis (or a date of its
training dataset): random-field initial perturbations and model noise
(:mod:`wxai.emulator.inference.perturbations`) with amplitudes calibrated so that
spread matches error on training dates. The calibration runs on the first request
for a checkpoint (a few small ensembles) and is cached as ``ensemble.json`` beside
it. The answer maps the ensemble mean and spread of one variable at one lead, and
with a threshold the fraction of members above (or below) it, with provenance.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wxai.cockpit.chat_tools import FigureStore
from wxai.cockpit.emulator_files import cells_png, read_cache, write_cache
from wxai.cockpit.emulator_model import (
    forecast_in_memory,
    provenance_lines,
    resolve_request,
)
from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    from wxai.emulator.datasets.reader import EmulatorDataset
    from wxai.emulator.inference.perturbations import EnsemblePerturbations
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "CALIBRATION",
    "ENSEMBLE_FILE",
    "MAX_MEMBERS",
    "Calibration",
    "CalibrationPlan",
    "calibrated_perturbations",
    "ensemble_answer",
]

#: Calibrated amplitudes cached beside the checkpoint.
ENSEMBLE_FILE = "ensemble.json"
#: Largest ensemble the chat runs (memory and time grow with it).
MAX_MEMBERS = 30


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
        from wxai.emulator.inference.perturbations import EnsemblePerturbations

        return EnsemblePerturbations(self.initial, self.initial_amplitude, self.model_amplitude)


def _cached(ckpt: InferenceCheckpoint) -> Calibration | None:
    data = read_cache(ckpt, ENSEMBLE_FILE)
    try:
        calibration = Calibration(**data)
    except TypeError:
        return None  # no cache, or one of another version: calibrate again
    return calibration if calibration.graph_fingerprint == ckpt.graph_fingerprint else None


def calibrated_perturbations(
    ckpt: InferenceCheckpoint, dataset: EmulatorDataset
) -> tuple[Calibration, str]:
    """The checkpoint's calibrated ensemble settings, and where they came from.

    Cached ones when newer than the checkpoint and of its graph, else
    :func:`~wxai.emulator.inference.scores.calibrate_perturbations` on up to
    ``CALIBRATION.inits`` training dates with a lead of up to ``CALIBRATION.steps``
    steps (shorter where the training period is), cached.

    Raises
    ------
    ConfigError
        The training period holds too few dates, or the ensemble has no spread.
    """
    cached = _cached(ckpt)
    if cached is not None:
        return cached, f"read from the cache `{ENSEMBLE_FILE}` beside the checkpoint"
    from wxai.emulator.inference.perturbations import EnsemblePerturbations
    from wxai.emulator.inference.scores import calibrate_perturbations, calibration_span

    lo, hi = ckpt.data.training_period
    step = np.timedelta64(int(ckpt.data.step.total_seconds()), "s")
    # leave at least two initial times (and the model's input window) in the period
    fits = int((hi - lo) // step) - ckpt.emulator.multistep_input
    plan = CALIBRATION
    steps = min(plan.steps, fits)
    if steps < 1:
        raise ConfigError(f"the training period {lo}..{hi} is too short to calibrate an ensemble")
    start, end = calibration_span(ckpt, steps)
    started = time.perf_counter()
    settings, ratios = calibrate_perturbations(
        ckpt, dataset,
        EnsemblePerturbations(plan.initial, plan.initial_amplitude, plan.model_amplitude),
        start=start, end=end, steps=steps, members=plan.members, every=1,
        max_inits=plan.inits, seed=1,
    )  # fmt: skip
    calibration = Calibration(
        settings.initial, settings.initial_amplitude, settings.model_amplitude,
        [float(r) for r in ratios], steps, plan.inits, ckpt.graph_fingerprint,
    )  # fmt: skip
    stored = write_cache(ckpt, ENSEMBLE_FILE, dataclasses.asdict(calibration))
    cached_now = " and cached" if stored else ""
    return calibration, f"calibrated now in {time.perf_counter() - started:.1f} s{cached_now}"


def _number(value: float) -> str:
    """4 significant digits, without an exponent for values such as pressures in Pa."""
    return f"{value:.0f}" if 1e3 <= abs(value) < 1e7 else f"{value:.4g}"


def _where(values: np.ndarray, ckpt: InferenceCheckpoint) -> str:
    k = int(np.argmax(values))
    lat, lon = float(ckpt.data.latitudes[k]), float(ckpt.data.longitudes[k])
    return f"{abs(lat):.0f}°{'N' if lat >= 0 else 'S'} {lon % 360:.0f}°E"


def ensemble_answer(
    ckpt: InferenceCheckpoint,
    home: Path,
    figures: FigureStore,
    *,
    variable: str,
    lead_hours: int,
    level: float | None = None,
    init: str | None = None,
    members: int = 10,
    threshold: float | None = None,
    below: bool = False,
) -> dict[str, Any]:
    """Run a calibrated ensemble and answer with its mean, spread and probability maps."""
    from wxai.emulator.inference.perturbations import StateArchive

    if not 2 <= members <= MAX_MEMBERS:
        raise ConfigError(f"members must be 2..{MAX_MEMBERS}, got {members}")
    request = resolve_request(ckpt, variable, level, lead_hours, init)
    choice, units, dataset = request.choice, request.units, request.dataset
    calibration, origin = calibrated_perturbations(ckpt, dataset)
    run = forecast_in_memory(
        ckpt, dataset, request.start, request.steps, members=members,
        perturbation=calibration.perturbations,
        archive=StateArchive.from_dataset(ckpt, dataset), seed=2,
    )  # fmt: skip
    values = run.members[:, request.index]  # (M, N)
    mean, spread = values.mean(axis=0), values.std(axis=0, ddof=1)
    panels = {f"ensemble mean [{units}]": mean, f"spread (standard deviation) [{units}]": spread}
    cmaps = {f"spread (standard deviation) [{units}]": "magma"}
    limits: dict[str, tuple[float, float]] = {}
    probability = None
    if threshold is not None:
        side = "<" if below else ">"
        exceeds = values < threshold if below else values > threshold
        probability = exceeds.mean(axis=0)
        title = f"P({choice.name} {side} {threshold:g} {units})"
        panels[title], cmaps[title], limits[title] = probability, "Blues", (0.0, 1.0)
    valid = f"{np.datetime_as_string(run.valid, unit='m').replace('T', ' ')} UTC"
    initial = f"{np.datetime_as_string(run.init, unit='m').replace('T', ' ')} UTC"
    scratch = figures.scratch()
    try:
        png = cells_png(
            ckpt, panels, scratch / "emulator-ensemble.png", cmaps=cmaps, limits=limits,
            suptitle=f"wxai emulator ensemble, {members} members: {choice.name} on "
            f"{choice.label}, +{lead_hours} h from {initial}, valid {valid}",
        )  # fmt: skip
        urls = [figures.adopt(png)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    weights = np.asarray(ckpt.area_weight, dtype=np.float64)
    mean_spread = float(np.sum(weights * spread) / np.sum(weights))
    lines = [
        f"**Emulator ensemble of {choice.name} [{units}]** on {choice.label}, {members} members, "
        f"+{lead_hours} h from {initial}, valid {valid}: ensemble mean {_number(mean.min())} .. "
        f"{_number(mean.max())} {units}; spread (standard deviation) {_number(mean_spread)} "
        f"{units} on area average, largest {_number(spread.max())} {units} near "
        f"{_where(spread, ckpt)}.",
    ]
    if probability is not None:
        area = float(np.sum(weights * (probability >= 0.5)) / np.sum(weights))
        lines.append(
            f"At least half the members are {'below' if below else 'above'} {_number(threshold)} "
            f"{units} on {100 * area:.0f} % of the globe."
        )
    lines += [
        "",
        *provenance_lines(ckpt, home),
        f"- perturbations: {calibration.perturbations.describe()}, calibrated on "
        f"{calibration.inits} training dates over {calibration.steps} steps (spread/skill "
        f"before: {', '.join(f'{r:.2f}' for r in calibration.spread_skill_before)}); {origin}",
        f"- {len(run.seconds)} steps of {members} members in {sum(run.seconds):.2f} s",
    ]
    return {
        "variable": choice.name,
        "units": units,
        "lead_hours": lead_hours,
        "members": members,
        "init": str(run.init),
        "valid": str(run.valid),
        "mean_spread": mean_spread,
        "max_spread": float(spread.max()),
        "probability_area": None if probability is None else area,
        "perturbations": calibration.perturbations.describe(),
        "checkpoint_created": ckpt.created,
        "graph_fingerprint": ckpt.graph_fingerprint[:12],
        "text": "\n".join(lines),
        "figures": urls,
    }
