"""Scorecards of an emulator on held-out initial times of its dataset.

For each initial time the emulator is rolled out in memory and compared, lead by
lead, with the dataset's own states (the truth), and so are two reference
forecasts every skilful model must beat: persistence (the initial state kept) and
climatology (the training period's mean for the valid time's hour of day). Scores
are area-weighted with the graph's data-node weights (``wxai.verify.fields``);
mean squared errors are averaged over initial times before the square root, as
WeatherBench 2 does.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wxai.core.errors import ConfigError, MissingExtra
from wxai.emulator.datasets.reader import EmulatorDataset
from wxai.emulator.inference.forcings import ForcingProvider
from wxai.emulator.inference.initial import check_dataset_matches, initial_from_dataset
from wxai.emulator.inference.perturbations import EnsemblePerturbations, StateArchive
from wxai.emulator.inference.rollout import rollout
from wxai.emulator.training.emulator import InferenceCheckpoint
from wxai.verify.baselines import persistence_forecast
from wxai.verify.ensemble import crps_ensemble
from wxai.verify.fields import (
    anomaly_correlation,
    climatology,
    weighted_bias,
    weighted_mae,
    weighted_mse,
)
from wxai.verify.spatial import weighted_cell_mean

__all__ = [
    "SYSTEMS",
    "EnsembleScores",
    "Scorecard",
    "calibrate_perturbations",
    "calibration_span",
    "score_emulator",
    "score_ensemble",
    "simulator_time",
    "write_scorecard",
]

#: The forecasts a scorecard compares.
SYSTEMS = ("emulator", "persistence", "climatology")


@dataclass
class Scorecard:
    """Scores per system, lead and variable.

    ``rmse[system]``, ``acc[system]``: (L, P) nested lists; ``bias``: the emulator's
    (L, P). ``lead_hours``: (L,). Units: those of each variable (``units``).
    """

    variables: list[str]
    units: list[str]
    lead_hours: list[float]
    inits: list[str]
    rmse: dict[str, list[list[float]]]
    acc: dict[str, list[list[float]]]
    bias: list[list[float]]
    seconds_per_forecast: float
    provenance: dict[str, str] = field(default_factory=dict)
    simulator_seconds_per_forecast: float | None = None
    simulator_compile_seconds: float | None = None

    def rmse_of(self, system: str, variable: str) -> np.ndarray:
        """(L,) RMSE of ``system`` for ``variable``."""
        return np.asarray(self.rmse[system])[:, self.variables.index(variable)]

    def loses_to_climatology(self, variable: str) -> float | None:
        """First lead [h] where the emulator's RMSE exceeds climatology's; None if never."""
        worse = self.rmse_of("emulator", variable) > self.rmse_of("climatology", variable)
        return float(np.asarray(self.lead_hours)[worse][0]) if worse.any() else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """Text table: RMSE at the first and last lead per variable, then the timings."""
        rows = [
            f"RMSE at {self.lead_hours[0]:g} h and {self.lead_hours[-1]:g} h "
            f"({len(self.inits)} initial times; emulator / persistence / climatology)"
        ]
        for variable, units in zip(self.variables, self.units, strict=True):
            e, p, c = (self.rmse_of(name, variable) for name in SYSTEMS)
            loses = self.loses_to_climatology(variable)
            verdict = (
                "never worse than climatology"
                if loses is None
                else f"worse than climatology from {loses:g} h"
            )
            rows.append(
                f"  {variable:>8} [{units}]: {e[0]:.3g} / {p[0]:.3g} / {c[0]:.3g}   "
                f"{e[-1]:.3g} / {p[-1]:.3g} / {c[-1]:.3g}   {verdict}"
            )
        rows.append(f"emulator: {self.seconds_per_forecast:.2f} s per forecast")
        if self.simulator_seconds_per_forecast is not None:
            rows.append(
                f"simulator: {self.simulator_seconds_per_forecast:.2f} s per forecast "
                f"(after {self.simulator_compile_seconds:.1f} s of JAX compilation)"
            )
        return "\n".join(rows)


def _setup(
    ckpt: InferenceCheckpoint,
    dataset: EmulatorDataset,
    start: str,
    end: str,
    *,
    every: int,
    steps: int,
    max_inits: int | None,
) -> tuple[np.ndarray, list[int], list[str]]:
    """Initial-time indices, the prognostic variables' dataset columns and their units.

    An initial time needs ``multistep_input`` states before it and ``steps`` after it;
    every ``every``-th qualifies, thinned evenly to ``max_inits``.
    """
    check_dataset_matches(ckpt, dataset)
    emulator = ckpt.emulator
    lo, hi = np.datetime64(start, "s"), np.datetime64(end, "s")
    index = np.flatnonzero((dataset.dates >= lo) & (dataset.dates <= hi))
    index = index[(index >= emulator.multistep_input - 1) & (index + steps < len(dataset))]
    if not index.size:
        raise ConfigError(
            f"no initial time in {start}..{end} has {steps} steps of truth after it in "
            f"{dataset.path} ({dataset.dates[0]}..{dataset.dates[-1]})"
        )
    inits = index[::every]
    if max_inits is not None and inits.size > max_inits:
        inits = inits[np.linspace(0, inits.size - 1, max_inits).round().astype(int)]
    columns = [dataset.name_to_index[name] for name in emulator.prognostic]
    meta = ckpt.data.variables_metadata
    units = [str(meta.get(name, {}).get("units", "")) for name in emulator.prognostic]
    return inits, columns, units


def simulator_time(dataset: EmulatorDataset, steps: int) -> tuple[float, float] | None:
    """Seconds the dataset's own simulator takes for ``steps`` output steps, and its
    JAX compilation time; None for a dataset built from files.

    The run continues the dataset's trajectory from the state saved beside the store
    (or starts from rest when there is none: the cost of a step does not depend on
    the state) and converts every output step to grid-point fields, as a forecast does.
    """
    recipe = dataset.attrs.get("recipe", {})
    source = recipe.get("source", {})
    if source.get("kind") != "simulator":
        return None
    from wxai.emulator.datasets.recipe import SimulatorSource
    from wxai.emulator.datasets.simulator import simulator_for

    params = SimulatorSource(**{**source, "spin_up_days": 0})
    hours = dataset.frequency.total_seconds() / 3600
    started = time.perf_counter()
    try:
        sim = simulator_for(params, hours)
    except MissingExtra:
        return None
    state = sim.initial_state()
    saved = dataset.attrs.get("wxai_build", {}).get("state")
    if saved and (dataset.path.parent / saved).is_file():
        with np.load(dataset.path.parent / saved) as npz:
            state = sim.load_state(dict(npz))
    blocks = sim.blocks(0, 1, 1, state)  # compiles the step and the output transform
    _, state = next(blocks)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _ in sim.blocks(0, steps, steps, state):
        pass
    return time.perf_counter() - started, compile_seconds


def score_emulator(
    ckpt: InferenceCheckpoint,
    dataset: EmulatorDataset,
    *,
    start: str,
    end: str,
    steps: int,
    every: int = 4,
    max_inits: int | None = None,
    device: str = "cpu",
    time_simulator: bool = False,
) -> Scorecard:
    """Score ``ckpt`` from initial times in ``start``..``end`` (every ``every``-th date).

    Parameters
    ----------
    steps:
        Forecast length in model steps; leads 1..steps are scored.
    max_inits:
        Cap on the number of initial times (evenly thinned).
    time_simulator:
        Also time the dataset's simulator over the same lead (see :func:`simulator_time`).

    Raises
    ------
    ConfigError
        A dataset that does not match the checkpoint, or no initial time with truth
        for the whole lead.
    """
    emulator = ckpt.emulator
    inits, prognostic, units = _setup(
        ckpt, dataset, start, end, every=every, steps=steps, max_inits=max_inits
    )
    stats = ckpt.data.training_period
    train = np.flatnonzero((dataset.dates >= stats[0]) & (dataset.dates <= stats[1]))
    clim = climatology(
        dataset.fields(int(train[0]), int(train[-1]) + 1)[:, prognostic],
        dataset.dates[train[0] : train[-1] + 1],
        by="hour",
    )
    weights = ckpt.area_weight
    forcings = ForcingProvider(ckpt, dataset)
    mse = {name: np.zeros((steps, len(prognostic))) for name in SYSTEMS}
    acc = {name: np.zeros((steps, len(prognostic))) for name in SYSTEMS[:2]}
    bias = np.zeros((steps, len(prognostic)))
    seconds = 0.0
    for i in inits:
        initial = initial_from_dataset(ckpt, dataset, dataset.dates[i])
        truth = dataset.fields(int(i) + 1, int(i) + steps + 1)[:, prognostic]  # (L, P, N)
        started = time.perf_counter()
        steps_made = rollout(ckpt, initial, steps, forcings=forcings, device=device)
        forecast = np.stack([step.fields[0] for step in steps_made][1:])  # (L, P, N)
        seconds += time.perf_counter() - started
        valid = dataset.dates[int(i) + 1 : int(i) + steps + 1]
        truth_at_init = dataset.fields(int(i), int(i) + 1)[0, prognostic]
        normal = clim.at(valid)
        systems = {
            "emulator": forecast,
            "persistence": persistence_forecast(truth_at_init, steps),
            "climatology": normal,
        }
        for name, values in systems.items():
            mse[name] += weighted_mse(values, truth, weights)
            if name in acc:
                acc[name] += anomaly_correlation(values, truth, normal, weights)
        bias += weighted_bias(forecast, truth, weights)
    n = inits.size
    hours = ckpt.data.step.total_seconds() / 3600
    sim = simulator_time(dataset, steps) if time_simulator else None
    return Scorecard(
        simulator_seconds_per_forecast=None if sim is None else sim[0],
        simulator_compile_seconds=None if sim is None else sim[1],
        variables=list(emulator.prognostic),
        units=units,
        lead_hours=[hours * k for k in range(1, steps + 1)],
        inits=[str(dataset.dates[i]) for i in inits],
        rmse={name: np.sqrt(m / n).tolist() for name, m in mse.items()},
        acc={name: (a / n).tolist() for name, a in acc.items()},
        bias=(bias / n).tolist(),
        seconds_per_forecast=seconds / n,
        provenance={
            "checkpoint": str(ckpt.path),
            "dataset": str(dataset.path),
            "climatology": f"{stats[0]}..{stats[1]} by hour of day",
        },
    )


def write_scorecard(card: Scorecard, folder: str | Path) -> list[Path]:
    """``scorecard.json``, ``scorecard.png`` (RMSE emulator / persistence, and against
    climatology) and ``error-growth-<variable>.png`` per variable into ``folder``."""
    from wxai.viz.verification import plot_error_growth, plot_scorecard

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "scorecard.json"]
    written[0].write_text(json.dumps(card.to_dict(), indent=2))
    leads = [f"{h:g}" for h in card.lead_hours]
    for reference in ("persistence", "climatology"):
        ratio = np.asarray(card.rmse["emulator"]) / np.asarray(card.rmse[reference])
        path = folder / f"scorecard-{reference}.png"
        plot_scorecard(
            ratio.T,
            leads,
            card.variables,
            label=f"RMSE ratio emulator / {reference}",
            title=f"Emulator against {reference} ({len(card.inits)} initial times)",
            path=path,
        )
        written.append(path)
    for variable, units in zip(card.variables, card.units, strict=True):
        path = folder / f"error-growth-{variable}.png"
        scores = {name: card.rmse_of(name, variable) for name in SYSTEMS}
        plot_error_growth(card.lead_hours, scores, variable, units, path=path)
        written.append(path)
    return written


@dataclass
class EnsembleScores:
    """Ensemble scores per lead and variable, (L, P) nested lists, averaged over inits.

    ``crps``: fair CRPS; ``control_mae``: mean absolute error of the unperturbed
    member (the deterministic forecast), the CRPS's deterministic counterpart;
    ``mean_rmse``: RMSE of the ensemble mean; ``spread``: root of the mean unbiased
    ensemble variance; ``spread_skill``: spread / mean_rmse times sqrt((M + 1) / M)
    (1 for a calibrated ensemble of M members). ``perturbation``: how the members
    differ (:meth:`EnsemblePerturbations.describe`).
    """

    variables: list[str]
    units: list[str]
    lead_hours: list[float]
    members: int
    perturbation: str
    inits: list[str]
    crps: list[list[float]]
    control_mae: list[list[float]]
    mean_rmse: list[list[float]]
    spread: list[list[float]]
    spread_skill: list[list[float]]
    seconds_per_forecast: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def mean_spread_skill(self) -> float:
        """Spread-skill ratio averaged over leads and variables."""
        return float(np.mean(self.spread_skill))


def score_ensemble(
    ckpt: InferenceCheckpoint,
    dataset: EmulatorDataset,
    *,
    start: str,
    end: str,
    steps: int,
    members: int,
    perturbation: float | EnsemblePerturbations = 0.5,
    every: int = 4,
    max_inits: int | None = None,
    seed: int = 0,
    archive: StateArchive | None = None,
) -> EnsembleScores:
    """Run ``members``-member ensembles from initial times in ``start``..``end``; score them.

    ``perturbation``: a number is white initial noise of that amplitude. Perturbations
    that draw training states use ``archive``, by default one of ``dataset``'s
    training period (:meth:`StateArchive.from_dataset`).

    Raises
    ------
    ConfigError
        Fewer than 2 members, or the conditions of :func:`score_emulator`.
    """
    if members < 2:
        raise ConfigError(f"an ensemble needs at least 2 members, got {members}")
    perturbation = EnsemblePerturbations.of(perturbation)
    emulator = ckpt.emulator
    inits, prognostic, units = _setup(
        ckpt, dataset, start, end, every=every, steps=steps, max_inits=max_inits
    )
    if perturbation.needs_archive and archive is None:
        archive = StateArchive.from_dataset(ckpt, dataset, seed=seed)
    weights = ckpt.area_weight
    forcings = ForcingProvider(ckpt, dataset)
    shape = (steps, len(prognostic))
    crps, mae, mse, var = (np.zeros(shape) for _ in range(4))
    seconds = 0.0
    for n, i in enumerate(inits):
        initial = initial_from_dataset(ckpt, dataset, dataset.dates[i])
        truth = dataset.fields(int(i) + 1, int(i) + steps + 1)[:, prognostic]  # (L, P, N)
        started = time.perf_counter()
        made = rollout(
            ckpt, initial, steps, forcings=forcings, members=members,
            perturbation=perturbation, archive=archive, seed=seed + n,
        )  # fmt: skip
        ensemble = np.stack([step.fields for step in made][1:], axis=1)  # (M, L, P, N)
        seconds += time.perf_counter() - started
        crps += crps_ensemble(ensemble, truth, weights)
        mae += weighted_mae(ensemble[0], truth, weights)
        mse += weighted_mse(ensemble.mean(axis=0), truth, weights)
        var += weighted_cell_mean(ensemble.var(axis=0, ddof=1), weights)
    k = inits.size
    spread, mean_rmse = np.sqrt(var / k), np.sqrt(mse / k)
    hours = ckpt.data.step.total_seconds() / 3600
    return EnsembleScores(
        variables=list(emulator.prognostic),
        units=units,
        lead_hours=[hours * j for j in range(1, steps + 1)],
        members=members,
        perturbation=perturbation.describe(),
        inits=[str(dataset.dates[i]) for i in inits],
        crps=(crps / k).tolist(),
        control_mae=(mae / k).tolist(),
        mean_rmse=mean_rmse.tolist(),
        spread=spread.tolist(),
        spread_skill=(spread / mean_rmse * np.sqrt((members + 1) / members)).tolist(),
        seconds_per_forecast=seconds / k,
    )


def calibration_span(ckpt: InferenceCheckpoint, steps: int) -> tuple[str, str]:
    """First and last initial time of the training period whose ``steps``-step lead stays in it.

    Raises
    ------
    ConfigError
        The training period is shorter than the lead.
    """
    lo, hi = ckpt.data.training_period
    last = hi - np.timedelta64(int(ckpt.data.step.total_seconds()), "s") * steps
    if last < lo:
        raise ConfigError(
            f"the training period {lo}..{hi} is shorter than a {steps}-step lead: "
            "no training date to calibrate the ensemble on"
        )
    return str(lo), str(last)


def calibrate_perturbations(
    ckpt: InferenceCheckpoint,
    dataset: EmulatorDataset,
    perturbation: EnsemblePerturbations,
    *,
    start: str,
    end: str,
    steps: int,
    members: int,
    every: int = 4,
    max_inits: int | None = None,
    iterations: int = 2,
    seed: int = 0,
) -> tuple[EnsemblePerturbations, list[float]]:
    """Scale both amplitudes until spread matches error on ``start``..``end``.

    Spread grows about linearly with small perturbations, so each iteration scores
    the ensemble and divides the amplitudes by its mean spread-skill ratio (over
    leads and variables). Use dates the ensemble will not be scored on: the training
    period. Returns the scaled perturbations and the mean ratio before each scaling.

    Raises
    ------
    ConfigError
        ``iterations < 1``, or the conditions of :func:`score_ensemble`.
    """
    if iterations < 1:
        raise ConfigError(f"calibration needs at least one iteration, got {iterations}")
    archive = (
        StateArchive.from_dataset(ckpt, dataset, seed=seed) if perturbation.needs_archive else None
    )
    ratios: list[float] = []
    for _ in range(iterations):
        scores = score_ensemble(
            ckpt, dataset, start=start, end=end, steps=steps, members=members,
            perturbation=perturbation, every=every, max_inits=max_inits, seed=seed,
            archive=archive,
        )  # fmt: skip
        ratio = scores.mean_spread_skill()
        ratios.append(ratio)
        if not np.isfinite(ratio) or ratio < 1e-3:  # members alike up to float rounding
            raise ConfigError(
                f"an ensemble with {perturbation.describe()} has no spread to calibrate "
                f"(spread-skill {ratio:.2g})"
            )
        perturbation = perturbation.scaled(1.0 / ratio)
    return perturbation, ratios
