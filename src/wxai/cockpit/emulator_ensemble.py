"""Chat tool ``emulator_ensemble``: how sure is the emulator of its forecast.

An ensemble of the cockpit's emulator from the latest analysis (or a date of its
training dataset): random-field initial perturbations and model noise
(:mod:`wxai.emulator.inference.perturbations`) with amplitudes calibrated so that
spread matches error on training dates (:mod:`wxai.emulator.inference.calibration`:
computed on the first request for a checkpoint, then read from ``ensemble.json``
beside it). The answer maps the ensemble mean and spread of one variable at one
lead, and with a threshold the fraction of members above (or below) it, with
provenance.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wxai.cockpit.chat_tools import FigureStore
from wxai.cockpit.emulator_files import cells_png
from wxai.cockpit.emulator_model import (
    forecast_in_memory,
    provenance_lines,
    resolve_request,
)
from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = ["MAX_MEMBERS", "ensemble_answer"]

#: Largest ensemble the chat runs (memory and time grow with it).
MAX_MEMBERS = 30


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
    from wxai.emulator.inference.calibration import checkpoint_calibration
    from wxai.emulator.inference.perturbations import StateArchive

    if not 2 <= members <= MAX_MEMBERS:
        raise ConfigError(f"members must be 2..{MAX_MEMBERS}, got {members}")
    request = resolve_request(ckpt, variable, level, lead_hours, init)
    choice, units, dataset = request.choice, request.units, request.dataset
    calibration, origin = checkpoint_calibration(ckpt, dataset)
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
        f"- perturbations: {calibration.describe()}; {origin}",
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
