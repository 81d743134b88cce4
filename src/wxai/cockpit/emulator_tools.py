"""Chat tools of the graph emulator: a forecast map, an ensemble, and the model's scorecard.

``emulator_forecast`` rolls the cockpit's emulator (:func:`find_emulator_model`) out in
memory from the latest analysis of its training dataset (or a date of it) and maps
one variable at one lead. ``emulator_scorecard`` answers "how good is it at day 5":
RMSE of the emulator, persistence and climatology on initial times of the validation
period, read from ``scorecard.json`` beside the checkpoint, or computed and cached
there. ``emulator_ensemble`` (:mod:`wxai.cockpit.emulator_ensemble`) maps a calibrated
ensemble's mean, spread and a probability. All answer with provenance: the checkpoint,
its creation time, graph fingerprint and training dataset. Without a model they say how
to get one.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wxai.assistant.llm.tools.tool import Tool, tool
from wxai.cockpit.chat_tools import FigureStore, ToolUnavailable
from wxai.cockpit.emulator_ensemble import ensemble_answer
from wxai.cockpit.emulator_files import cells_png
from wxai.cockpit.emulator_model import (
    NoEmulatorModel,
    find_emulator_model,
    forecast_in_memory,
    provenance_lines,
    resolve_request,
    steps_for_lead,
)

if TYPE_CHECKING:
    from wxai.emulator.inference.scores import Scorecard
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "SCORECARD_FILE",
    "SCORE_EVERY",
    "SCORE_MAX_INITS",
    "cached_scorecard",
    "emulator_tools",
    "scorecard_for",
]

#: The scorecard cached beside the checkpoint.
SCORECARD_FILE = "scorecard.json"
#: Initial times of a scorecard computed for the chat: at most this many ...
SCORE_MAX_INITS = 8
#: ... evenly spread over the validation period (every date is a candidate).
SCORE_EVERY = 1
#: The forecasts a scorecard compares (as in ``wxai.emulator.inference.scores``).
SYSTEMS = ("emulator", "persistence", "climatology")
_CMAPS = {"t": "inferno", "u": "RdBu_r", "v": "RdBu_r", "sp": "viridis"}


def _checkpoint(home: Path) -> InferenceCheckpoint:
    from wxai.emulator.training.emulator import read_inference_checkpoint

    try:
        return read_inference_checkpoint(find_emulator_model(home))
    except NoEmulatorModel as exc:
        raise ToolUnavailable(f"the emulator is not available: {exc}") from None


def _utc(date: np.datetime64) -> str:
    return f"{np.datetime_as_string(date, unit='m').replace('T', ' ')} UTC"


def _timing(seconds: list[float], step_hours: float) -> str:
    total = float(np.sum(seconds))
    per = 1000 * total / max(len(seconds), 1)
    return f"- {len(seconds)} steps of {step_hours:g} h in {total:.2f} s ({per:.1f} ms per step)"


def _forecast(
    home: Path, figures: FigureStore, *, variable: str, level: float | None, lead_hours: int,
    init: str | None,
) -> dict[str, Any]:  # fmt: skip
    ckpt = _checkpoint(home)
    request = resolve_request(ckpt, variable, level, lead_hours, init)
    choice, units = request.choice, request.units
    run = forecast_in_memory(ckpt, request.dataset, request.start, request.steps)
    values = run.fields[request.index]
    scratch = figures.scratch()
    try:
        title = f"{choice.name} [{units}], {choice.label}, valid {_utc(run.valid)}"
        png = cells_png(
            ckpt, {title: values}, scratch / "emulator-map.png",
            cmaps={title: _CMAPS.get(choice.param, "viridis")},
            suptitle=f"wxai emulator: +{lead_hours} h from {_utc(run.init)}",
        )  # fmt: skip
        urls = [figures.adopt(png)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    latest = " (the latest analysis of the training dataset)" if not init else ""
    stats = f"min {values.min():.4g}, mean {values.mean():.4g}, max {values.max():.4g} {units}"
    lines = [
        f"**Emulator forecast of {choice.name} [{units}]** on {choice.label}, "
        f"+{lead_hours} h from {_utc(run.init)}{latest}, valid {_utc(run.valid)}: {stats}.",
        "",
    ]
    if choice.note:
        lines += [f"Level: {choice.note}.", ""]
    lines += [
        *provenance_lines(ckpt, home),
        f"- init {_utc(run.init)}, valid {_utc(run.valid)}",
        _timing(run.seconds, ckpt.data.step.total_seconds() / 3600),
    ]
    return {
        "variable": choice.name,
        "level_kind": choice.kind,
        "model_level": choice.level if choice.kind == "model" else None,
        "sigma": choice.sigma,
        "pressure_hpa": choice.level if choice.kind == "pressure" else None,
        "units": units,
        "lead_hours": lead_hours,
        "init": str(run.init),
        "valid": str(run.valid),
        "minimum": float(values.min()),
        "mean": float(values.mean()),
        "maximum": float(values.max()),
        "checkpoint_created": ckpt.created,
        "graph_fingerprint": ckpt.graph_fingerprint[:12],
        "seconds_per_step": float(np.mean(run.seconds)),
        "text": "\n".join(lines),
        "figures": urls,
    }


# ------------------------------------------------------------------ scorecard


def cached_scorecard(ckpt: InferenceCheckpoint, steps: int) -> Scorecard | None:
    """The ``scorecard.json`` beside ``ckpt`` if it is newer and scores ``steps`` leads."""
    from wxai.emulator.inference.scores import Scorecard
    from wxai.emulator.inference.sidecar import read_sidecar

    data = read_sidecar(ckpt, SCORECARD_FILE)
    known = {f.name for f in dataclasses.fields(Scorecard)}
    try:
        card = Scorecard(**{k: v for k, v in data.items() if k in known})
    except (AttributeError, TypeError):
        return None  # no cache, or one of another version: score again
    if card.variables != list(ckpt.emulator.prognostic) or len(card.lead_hours) < steps:
        return None
    return card


def scorecard_for(ckpt: InferenceCheckpoint, steps: int) -> tuple[Scorecard, str]:
    """A scorecard of ``ckpt`` up to ``steps`` leads, and where it came from.

    The cached one when it covers the leads, else :func:`score_emulator` on at most
    ``SCORE_MAX_INITS`` initial times of the validation period, cached.
    """
    card = cached_scorecard(ckpt, steps)
    if card is not None:
        return card, f"read from the cache `{SCORECARD_FILE}` beside the checkpoint"
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.inference.scores import score_emulator
    from wxai.emulator.inference.sidecar import write_sidecar

    validation = ckpt.config.dataset.validation
    started = time.perf_counter()
    card = score_emulator(
        ckpt, open_dataset(ckpt.data.provenance["path"]), start=validation.start.isoformat(),
        end=validation.end.isoformat(), steps=steps, every=SCORE_EVERY,
        max_inits=SCORE_MAX_INITS,
    )  # fmt: skip
    cached = " and cached" if write_sidecar(ckpt, SCORECARD_FILE, card.to_dict()) else ""
    return card, f"computed now in {time.perf_counter() - started:.1f} s{cached}"


def _scorecard_pngs(card: Scorecard, steps: int, folder: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from wxai.viz.verification import plot_scorecard

    leads = [f"{h:g}" for h in card.lead_hours[:steps]]
    paths = []
    for reference in SYSTEMS[1:]:
        ratio = np.asarray(card.rmse["emulator"]) / np.asarray(card.rmse[reference])
        path = folder / f"scorecard-{reference}.png"
        figure = plot_scorecard(
            ratio[:steps].T, leads, card.variables, label=f"RMSE ratio emulator / {reference}",
            title=f"Emulator against {reference} ({len(card.inits)} initial times)", path=path,
        )  # fmt: skip
        plt.close(figure)
        paths.append(path)
    return paths


def _scorecard_text(card: Scorecard, rmse: dict[str, dict[str, float]], lead_hours: int) -> str:
    """The headline and the table of a scorecard at one lead (Markdown)."""
    n = len(card.variables)
    beats = {ref: sum(r["emulator"] < r[ref] for r in rmse.values()) for ref in SYSTEMS[1:]}
    rows = [
        f"| {v} | {u} | {r['emulator']:.4g} | {r['persistence']:.4g} | {r['climatology']:.4g} |"
        for (v, r), u in zip(rmse.items(), card.units, strict=True)
    ]
    return "\n".join([
        f"**Emulator scorecard at +{lead_hours} h**: area-weighted RMSE, mean over "
        f"{len(card.inits)} initial times of the validation period. The emulator beats "
        f"persistence for {beats['persistence']} of {n} variables and climatology for "
        f"{beats['climatology']} of {n}.",
        "",
        "| variable | units | emulator | persistence | climatology |",
        "|---|---|---|---|---|",
        *rows,
    ])  # fmt: skip


def _scorecard(home: Path, figures: FigureStore, lead_hours: int) -> dict[str, Any]:
    ckpt = _checkpoint(home)
    steps = steps_for_lead(lead_hours, ckpt.data.step)
    card, origin = scorecard_for(ckpt, steps)
    rmse = {v: {s: float(card.rmse_of(s, v)[steps - 1]) for s in SYSTEMS} for v in card.variables}
    scratch = figures.scratch()
    try:
        urls = [figures.adopt(p) for p in _scorecard_pngs(card, steps, scratch)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    validation = ckpt.config.dataset.validation
    text = "\n".join([
        _scorecard_text(card, rmse, lead_hours),
        "",
        *provenance_lines(ckpt, home),
        f"- validation period {validation.start:%Y-%m-%d %H} .. {validation.end:%Y-%m-%d %H} "
        f"UTC; initial times {card.inits[0]} .. {card.inits[-1]}; scores {origin}",
        f"- {card.seconds_per_forecast:.2f} s per emulator forecast of "
        f"{len(card.lead_hours)} steps",
    ])  # fmt: skip
    return {
        "lead_hours": lead_hours,
        "rmse": rmse,
        "units": dict(zip(card.variables, card.units, strict=True)),
        "inits": card.inits,
        "origin": origin,
        "checkpoint_created": ckpt.created,
        "graph_fingerprint": ckpt.graph_fingerprint[:12],
        "text": text,
        "figures": urls,
    }


def emulator_tools(home: Path, figures: FigureStore) -> list[Tool]:
    """``emulator_forecast``, ``emulator_ensemble`` and ``emulator_scorecard`` for the user
    of ``figures``."""

    @tool(
        requests=(
            "run the emulator from the latest analysis and show me 850 hPa temperature at day 3",
            "emulator forecast of surface pressure in 48 hours",
        )
    )
    def emulator_forecast(
        variable: str, lead_hours: int, level: float | None = None, init: str | None = None
    ) -> dict[str, Any]:
        """Run the graph emulator and map one variable at one lead time.

        Parameters
        ----------
        variable:
            t (temperature), u, v (wind components) or sp (surface pressure); or a model
            variable such as t_8.
        lead_hours:
            Lead time [h], a multiple of 6, at most 360.
        level:
            Pressure [hPa] such as 850 (the nearest model level is used), or sigma (0..1].
        init:
            Initial date (YYYY-MM-DDTHH) of the training dataset; default its latest.
        """
        return _forecast(
            home, figures, variable=variable, level=level, lead_hours=lead_hours, init=init
        )

    @tool(
        requests=(
            "how certain is the emulator about 850 hPa temperature at day 5",
            "emulator ensemble spread of surface pressure in 72 hours",
            "probability from the emulator ensemble that sp is below 99000 Pa at day 3",
        )
    )
    def emulator_ensemble(
        variable: str,
        lead_hours: int,
        *,
        level: float | None = None,
        init: str | None = None,
        members: int = 10,
        threshold: float | None = None,
        below: bool = False,
    ) -> dict[str, Any]:
        """Run a calibrated ensemble of the graph emulator: mean, spread, a probability.

        Parameters
        ----------
        variable:
            t (temperature), u, v (wind components) or sp (surface pressure); or a model
            variable such as t_8.
        lead_hours:
            Lead time [h], a multiple of 6, at most 360.
        level:
            Pressure [hPa] such as 850 (the nearest model level is used), or sigma (0..1].
        init:
            Initial date (YYYY-MM-DDTHH) of the training dataset; default its latest.
        members:
            Ensemble size, 2..30.
        threshold:
            A value in the variable's units: adds the fraction of members above it.
        below:
            With ``threshold``: the fraction below it instead.
        """
        return ensemble_answer(
            _checkpoint(home), home, figures, variable=variable, lead_hours=lead_hours,
            level=level, init=init, members=members, threshold=threshold, below=below,
        )  # fmt: skip

    @tool(requests=("how good is the emulator at day 5", "emulator scorecard"))
    def emulator_scorecard(lead_hours: int = 120) -> dict[str, Any]:
        """Scores of the graph emulator against persistence and climatology at a lead time.

        Parameters
        ----------
        lead_hours:
            Lead time [h], a multiple of 6, at most 360.
        """
        return _scorecard(home, figures, lead_hours)

    return [emulator_forecast, emulator_ensemble, emulator_scorecard]
