"""Emulator labs of day 5 (course unit U12): forecasts and the ICON grid.

They use the trained models of :mod:`wxai.labs.emulator` (the same datasets, graphs
and training configuration) and the inference and verification of
:mod:`wxai.emulator.inference`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from wxai.labs.emulator import U12, EmulatorLab, EmulatorTrainingLabConfig, training_config
from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext

# --- emulator-forecast -------------------------------------------------------------------


class TrainedModelLab(EmulatorLab):
    """A lab on the preset's trained model, scored on its validation period."""

    graph: str = Field(description="a graph of configs/emulator/graphs (without .yaml)")
    model: Literal["gnn", "graph_transformer"] = Field(description="the processor")
    overrides: list[str] = Field(
        default_factory=list, description="further Hydra overrides of configs/emulator"
    )
    checkpoint: str | None = Field(
        default=None,
        description="an inference checkpoint to verify; None trains (or reuses) the preset's",
    )
    lead: str = Field(description="forecast length, e.g. 5d")
    every: int = Field(ge=1, description="every n-th validation date is an initial time")
    max_inits: int | None = Field(default=None, ge=1, description="cap on initial times")
    main_variables: list[str] = Field(description="variables the acceptance looks at")


class EmulatorForecastConfig(TrainedModelLab):
    """Settings of ``emulator-forecast``."""

    map_variable: str = Field(description="variable drawn as forecast, truth and error")
    map_leads: list[str] = Field(description="leads of the maps, e.g. [1d, 3d]")
    max_ratio: float = Field(
        gt=0,
        description="acceptance: worst RMSE ratio (full: against persistence up to the lead "
        "and climatology at 1 d; smoke: mean against climatology at the first lead)",
    )


def trained_checkpoint(cfg: TrainedModelLab) -> Path:
    """The preset's trained model under $WXAI_HOME/emulator/models (trained once, reused)."""
    from wxai.core.paths import ensure_dir, home_dir
    from wxai.emulator.training.run import train

    if cfg.checkpoint:
        return Path(cfg.checkpoint)
    name = f"{cfg.model}-{cfg.recipe}-{cfg.graph}-seed{cfg.seed}"
    out = ensure_dir(home_dir() / "emulator" / "models") / name
    best = out / "inference-best.pt"
    if not best.is_file():
        train(training_config(cfg, out))
    return best


def trained_model(cfg: TrainedModelLab, ctx: LabContext) -> tuple[Any, Any, Any]:
    """The trained checkpoint, its training dataset and the validation period."""
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.training.emulator import read_inference_checkpoint

    ckpt = read_inference_checkpoint(trained_checkpoint(cfg))
    dataset = open_dataset(ckpt.data.provenance["path"])
    validation = training_config(cfg, ctx.run_dir / "unused").dataset.validation
    return ckpt, dataset, validation


def _attention_figure(ckpt: Any, dataset: Any, init: Any) -> Any:
    """Last processor layer's attention of the hidden node nearest 45N 0E, one forward."""
    import numpy as np
    import torch

    from wxai.emulator.inference.initial import initial_from_dataset
    from wxai.viz.graphs import plot_node_attention

    net = ckpt.emulator.net
    window = initial_from_dataset(ckpt, dataset, init).fields  # (T_in, V, N)
    net.record_attention = True
    with torch.no_grad():
        ckpt.emulator(torch.from_numpy(window.transpose(0, 2, 1).copy()).unsqueeze(0))
    attention = net.attention_weights[-1].numpy()
    net.record_attention = False
    lat, lon = np.rad2deg(ckpt.graph["hidden"].x.numpy().astype(float)).T
    node = int(np.argmin((lat - 45.0) ** 2 + (((lon + 180.0) % 360.0) - 180.0) ** 2))
    return plot_node_attention(ckpt.graph, attention, node, layer_name="(last processor layer)")


@lab(
    "emulator-forecast",
    title="Emulator forecasts from held-out initial times, scored against persistence "
    "and climatology",
    topic=U12,
    day=5,
    config=EmulatorForecastConfig,
)
def emulator_forecast(cfg: EmulatorForecastConfig, ctx: LabContext) -> LabOutcome:
    """Roll a trained emulator out from validation dates and draw its scorecard."""
    import numpy as np

    from wxai.emulator.inference.forcings import ForcingProvider
    from wxai.emulator.inference.initial import initial_from_dataset
    from wxai.emulator.inference.rollout import rollout
    from wxai.emulator.inference.run import parse_lead
    from wxai.emulator.inference.scores import score_emulator
    from wxai.verify.spectra import zonal_power_spectrum
    from wxai.viz.emulator_panels import plot_cell_fields
    from wxai.viz.verification import plot_error_growth, plot_scorecard, plot_spectra

    ckpt, dataset, validation = trained_model(cfg, ctx)
    steps = parse_lead(cfg.lead, ckpt.data.step)
    card = score_emulator(
        ckpt,
        dataset,
        start=str(validation.start),
        end=str(validation.end),
        steps=steps,
        every=cfg.every,
        max_inits=cfg.max_inits,
    )
    (ctx.run_dir / "scorecard.json").write_text(__import__("json").dumps(card.to_dict()))
    leads = np.asarray(card.lead_hours)
    ratio_p = np.asarray(card.rmse["emulator"]) / np.asarray(card.rmse["persistence"])
    ratio_c = np.asarray(card.rmse["emulator"]) / np.asarray(card.rmse["climatology"])
    main = [card.variables.index(v) for v in cfg.main_variables]
    ctx.save_figure(
        plot_scorecard(
            ratio_p.T,
            [f"{h:g}" for h in leads],
            card.variables,
            title=f"{cfg.model}: RMSE against persistence ({len(card.inits)} initial times)",
        ),
        "scorecard_persistence.png",
    )
    for v in cfg.main_variables:
        scores = {
            name: card.rmse_of(name, v) for name in ("emulator", "persistence", "climatology")
        }
        units = card.units[card.variables.index(v)]
        ctx.save_figure(plot_error_growth(leads, scores, v, units), f"error_growth_{v}.png")

    # maps of one forecast: forecast, truth and error at the chosen leads
    init = np.datetime64(card.inits[0], "s")
    map_steps = [parse_lead(lead, ckpt.data.step) for lead in cfg.map_leads]
    wanted = max(map_steps)
    k = ckpt.emulator.prognostic.index(cfg.map_variable)
    start = dataset.date_index(init)
    forecast = {
        s.index: s.fields[0, k]
        for s in rollout(
            ckpt,
            initial_from_dataset(ckpt, dataset, init),
            wanted,
            forcings=ForcingProvider(ckpt, dataset),
        )
        if s.index in map_steps
    }
    column = dataset.name_to_index[cfg.map_variable]
    panels, cmaps = {}, {}
    for lead, n in zip(cfg.map_leads, map_steps, strict=True):
        truth = dataset.fields(start + n, start + n + 1)[0, column]
        panels[f"emulator +{lead}"] = forecast[n]
        panels[f"truth +{lead}"] = truth
        panels[f"error +{lead}"] = forecast[n] - truth
        cmaps[f"error +{lead}"] = "RdBu_r"
    ctx.save_figure(
        plot_cell_fields(
            dataset.latitudes,
            dataset.longitudes,
            panels,
            ncols=3,
            cmaps=cmaps,
            suptitle=f"{cfg.map_variable} from {init}",
        ),
        "forecast_maps.png",
    )

    last_lead, last = cfg.map_leads[-1], map_steps[-1]
    if len(ckpt.data.field_shape) == 2:  # zonal spectra need latitude rows
        n_lat, n_lon = ckpt.data.field_shape
        rows = dataset.latitudes.reshape(n_lat, n_lon)[:, 0]
        truth = dataset.fields(start + last, start + last + 1)[0, column]
        k, p_forecast = zonal_power_spectrum(forecast[last], n_lat, n_lon, rows)
        _, p_truth = zonal_power_spectrum(truth, n_lat, n_lon, rows)
        units = card.units[card.variables.index(cfg.map_variable)]
        ctx.save_figure(
            plot_spectra(
                k,
                {f"emulator +{last_lead}": p_forecast, "truth": p_truth},
                units=f"{units}^2",
                title=f"Zonal power spectrum of {cfg.map_variable}",
            ),
            "spectra.png",
        )
    if ckpt.config.model.processor == "graph_transformer":
        ctx.save_figure(_attention_figure(ckpt, dataset, init), "attention_node.png")

    day = leads <= 24.0
    if cfg.preset == "smoke":
        value = float(ratio_c[0, main].mean())
        baseline = "smoke: mean RMSE below climatology at the first lead"
        metric = "mean_climatology_ratio_first_lead"
    else:
        value = float(max(ratio_p[:, main].max(), ratio_c[day][-1, main].max()))
        baseline = (
            "issue 17: RMSE below persistence at every lead up to the forecast length and "
            "below climatology at 1 day, for the main variables"
        )
        metric = "worst_rmse_ratio"
    loses = {v: card.loses_to_climatology(v) for v in cfg.main_variables}
    return LabOutcome(
        metrics={
            metric: value,
            "initial_times": float(len(card.inits)),
            "seconds_per_forecast": card.seconds_per_forecast,
            **{
                f"rmse_{v}_{leads[-1]:g}h": float(card.rmse_of("emulator", v)[-1])
                for v in cfg.main_variables
            },
            **{
                f"loses_to_climatology_{v}_h": float("nan") if h is None else h
                for v, h in loses.items()
            },
        },
        acceptance=Acceptance(
            metric=metric, value=value, comparison="<=", threshold=cfg.max_ratio, baseline=baseline
        ),
        summary=(
            f"{cfg.model} from {len(card.inits)} initial times, {cfg.lead}: worst RMSE ratio "
            f"to persistence {ratio_p[:, main].max():.2f}, to climatology at 1 d "
            f"{ratio_c[day][-1, main].max():.2f}; worse than climatology from "
            + ", ".join(f"{v} {'never' if h is None else f'{h:g} h'}" for v, h in loses.items())
            + f"; {card.seconds_per_forecast:.2f} s per forecast."
        ),
    )


# --- emulator-icon-grid ------------------------------------------------------------------


class EmulatorIconGridConfig(EmulatorTrainingLabConfig):
    """Settings of ``emulator-icon-grid`` (``emulator-training`` on an ICON-style grid)."""

    lead: str = Field(description="lead of the GRIB2 forecast drawn on the triangles")
    map_variable: str = Field(description="variable drawn")


@lab(
    "emulator-icon-grid",
    title="AICON setting: an emulator on an ICON-style triangular grid, forecasts as ICON GRIB2",
    topic=U12,
    day=5,
    config=EmulatorIconGridConfig,
)
def emulator_icon_grid(cfg: EmulatorIconGridConfig, ctx: LabContext) -> LabOutcome:
    """Train on triangular cells, forecast to GRIB2 template 3.101, draw the native cells."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.data.formats.grib import list_messages, read_grib
    from wxai.data.grids.icosahedral import rnbk_grid
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.inference.run import parse_lead, run_forecast
    from wxai.emulator.training.emulator import read_inference_checkpoint
    from wxai.emulator.training.run import train
    from wxai.viz.fields import plot_unstructured
    from wxai.viz.maps import make_map

    config = training_config(cfg, ctx.run_dir / "training")
    summary = train(config)
    ckpt = read_inference_checkpoint(summary.inference_checkpoint)
    dataset = open_dataset(ckpt.data.provenance["path"])
    icon = dataset.attrs["recipe"]["grid"]["icon"]
    grid = rnbk_grid(int(icon["n"]), int(icon["k"]))
    init = str(config.dataset.validation.start)
    out = ctx.run_dir / "forecast.grib2"
    run_forecast(summary.inference_checkpoint, init, cfg.lead, out)
    messages = list_messages(out)
    templates = {m["gridType"] for m in messages}
    tree = read_grib(out)
    param, level = (
        cfg.map_variable.split("_") if "_" in cfg.map_variable else (cfg.map_variable, None)
    )
    node = next(n for n in tree.subtree if n.has_data and param in n.data_vars)
    field = node[param].isel(lead_time=-1)
    if level is not None:
        field = field.sel(level=float(level))
    steps = parse_lead(cfg.lead, ckpt.data.step)
    start = dataset.date_index(init)
    truth = dataset.fields(start + steps, start + steps + 1)[
        0, dataset.name_to_index[cfg.map_variable]
    ]
    forecast = np.asarray(field.values, float)
    fig = plt.figure(figsize=(15, 4.2), layout="constrained")
    import cartopy.crs as ccrs

    lo, hi = float(min(forecast.min(), truth.min())), float(max(forecast.max(), truth.max()))
    error = forecast - truth
    bound = float(np.abs(error).max())
    for i, (title, values, style) in enumerate(
        (
            (f"emulator +{cfg.lead} (from the GRIB2 file)", forecast, {"vmin": lo, "vmax": hi}),
            (f"truth +{cfg.lead}", truth, {"vmin": lo, "vmax": hi}),
            ("error", error, {"vmin": -bound, "vmax": bound, "cmap": "RdBu_r"}),
        )
    ):
        ax = fig.add_subplot(1, 3, i + 1, projection=ccrs.PlateCarree())
        make_map("PlateCarree", None, "c", ax=ax, borders=False, gridlines=False)
        plot_unstructured(ax, grid, values, label=cfg.map_variable, **style)
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"{cfg.map_variable} on {len(truth)} triangular cells, from {init}")
    ctx.save_figure(fig, "icon_forecast_triangles.png")

    names = sorted(summary.val_rmse)
    skill = float(np.mean([summary.val_rmse[n] / summary.val_persistence_rmse[n] for n in names]))
    loss_ratio = summary.val_loss[-1] / summary.val_loss[0]
    smoke = cfg.preset == "smoke"
    return LabOutcome(
        metrics={
            "cells": float(len(truth)),
            "skill_ratio": skill,
            "val_loss_ratio": loss_ratio,
            "grib_messages": float(len(messages)),
            "unstructured_grib": float(templates == {"unstructured_grid"}),
            "rmse_map_variable": float(np.sqrt(np.mean(error**2))),
        },
        acceptance=Acceptance(
            metric="val_loss_ratio" if smoke else "skill_ratio",
            value=loss_ratio if smoke else skill,
            comparison="<=",
            threshold=cfg.max_loss_ratio if smoke else cfg.max_skill_ratio,
            baseline="smoke: training lowers the validation loss"
            if smoke
            else "6 h RMSE below persistence, averaged over variables",
            baseline_value=None if smoke else 1.0,
        ),
        summary=(
            f"{len(truth)} ICON-style cells, {summary.parameters:,} parameters: 6 h RMSE / "
            f"persistence {skill:.3f}; {len(messages)} GRIB2 messages ({', '.join(templates)})."
        ),
    )
