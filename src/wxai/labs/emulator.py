"""Emulator labs (course unit U12): dataset from a simulator, graphs, training.

Each lab builds what it needs with the library and reuses what an earlier lab built:
datasets go to ``$WXAI_HOME/emulator/datasets/<recipe>.zarr`` (a finished build with the
same recipe is reused), graphs to ``$WXAI_HOME/emulator/graphs/<graph>-<recipe>.pt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U12 = "U12 Emulator, Anemoi-style"


class EmulatorLab(LabConfig):
    recipe: str = Field(description="a recipe of configs/emulator/recipes (without .yaml)")


def _dataset(recipe: str) -> Path:
    """Build (or reuse) the dataset of ``configs/emulator/recipes/<recipe>.yaml``."""
    from wxai.core.paths import configs_dir, ensure_dir, home_dir
    from wxai.emulator.datasets.build import build_dataset

    target = ensure_dir(home_dir() / "emulator" / "datasets") / f"{recipe}.zarr"
    return build_dataset(configs_dir() / "emulator" / "recipes" / f"{recipe}.yaml", target)


def _graph(graph: str, recipe: str, dataset: Path) -> Path:
    """Build (or reuse) the graph of ``configs/emulator/graphs/<graph>.yaml`` on ``dataset``."""
    from wxai.core.paths import configs_dir, ensure_dir, home_dir
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.graphs import build_graph, load_graph_config, save_graph

    target = ensure_dir(home_dir() / "emulator" / "graphs") / f"{graph}-{recipe}.pt"
    if not target.is_file():
        cells = open_dataset(dataset)
        config = load_graph_config(configs_dir() / "emulator" / "graphs" / f"{graph}.yaml")
        save_graph(
            build_graph(config, cells.latitudes, cells.longitudes, dataset=str(dataset)), target
        )
    return target


def training_config(cfg: Any, out: Path) -> Any:
    """configs/emulator composed for a lab config with recipe, graph, model, seed, overrides."""
    from wxai.emulator.training.config import compose_training_config

    dataset = _dataset(cfg.recipe)
    graph = _graph(cfg.graph, cfg.recipe, dataset)
    return compose_training_config(
        [
            f"preset={cfg.preset}",
            f"model={cfg.model}",
            f"dataset.path={dataset}",
            f"graph.path={graph}",
            f"output_dir={out}",
            f"training.seed={cfg.seed}",
            "tracking.enabled=false",  # the lab's own run holds the figures and metrics
            "trainer.enable_progress_bar=false",
            *cfg.overrides,
        ]
    )


# --- emulator-dataset --------------------------------------------------------------------


class EmulatorDatasetConfig(EmulatorLab):
    """Settings of ``emulator-dataset``."""


@lab(
    "emulator-dataset",
    title="Held-Suarez runs of a dynamical core become an Anemoi-layout training dataset",
    topic=U12,
    day=4,
    config=EmulatorDatasetConfig,
)
def emulator_dataset(cfg: EmulatorDatasetConfig, ctx: LabContext) -> LabOutcome:
    """Build the recipe's dataset, inspect it, and map its last state."""
    import time

    import matplotlib.pyplot as plt

    from wxai.emulator.datasets.inspect import inspect_dataset
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.viz.emulator_panels import plot_cell_fields, plot_zonal_means

    started = time.perf_counter()
    path = _dataset(cfg.recipe)
    seconds = time.perf_counter() - started
    report = inspect_dataset(path)
    data = open_dataset(path)
    last = data.fields(len(data) - 1, len(data))[0]  # (V, N)
    index = data.name_to_index
    levels = sorted(
        {name.split("_")[1] for name in data.variables if name.startswith("u_")}, key=int
    )
    top, bottom = levels[0], levels[-1]
    figure = plot_cell_fields(
        data.latitudes,
        data.longitudes,
        {
            f"u_{top} [m/s]": last[index[f"u_{top}"]],
            f"t_{bottom} [K]": last[index[f"t_{bottom}"]],
            f"v_{bottom} [m/s]": last[index[f"v_{bottom}"]],
            "sp [hPa]": last[index["sp"]] / 100.0,
        },
        cmaps={
            f"u_{top} [m/s]": "RdBu_r",
            f"v_{bottom} [m/s]": "RdBu_r",
            f"t_{bottom} [K]": "inferno",
        },
        suptitle=f"{cfg.recipe}: last state, {data.dates[-1]}",
    )
    ctx.save_figure(figure, "dataset_fields.png")
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    plot_zonal_means(
        ax,
        data.latitudes,
        {f"u_{lv}": last[index[f"u_{lv}"]] for lv in levels},
        ylabel="zonal-mean u [m/s]",
    )
    ax.set_title("Jets: zonal-mean zonal wind of the last state, per sigma level")
    ctx.save_figure(fig, "zonal_mean_wind.png")

    from wxai.viz.emulator_panels import zonal_mean

    jet = max(float(zonal_mean(data.latitudes, last[index[f"u_{lv}"]])[1].max()) for lv in levels)
    return LabOutcome(
        metrics={
            "dates": float(len(data)),
            "variables": float(len(data.variables)),
            "cells": float(len(data.latitudes)),
            "size_mb": report.size_bytes / 2**20,
            "build_seconds": seconds,
            "max_zonal_mean_u": jet,
            "problems": float(len(report.problems)),
        },
        acceptance=Acceptance(
            metric="problems",
            value=float(len(report.problems)),
            comparison="<=",
            threshold=0.0,
            baseline="COURSE_MAP U12: `inspect` finds dates, statistics and NaNs consistent",
        ),
        summary=(
            f"{len(data)} dates x {len(data.variables)} variables x {len(data.latitudes)} cells "
            f"({report.size_bytes / 2**20:.1f} MiB) in {seconds:.0f} s; strongest zonal-mean "
            f"westerly {jet:.1f} m/s; inspect: {'; '.join(report.problems) or 'no problems'}."
        ),
    )


# --- emulator-graphs ---------------------------------------------------------------------


class EmulatorGraphsConfig(EmulatorLab):
    """Settings of ``emulator-graphs``."""

    graph: str = Field(description="a graph of configs/emulator/graphs (without .yaml)")


@lab(
    "emulator-graphs",
    title="Encoder, multi-mesh processor and decoder graphs on the sphere",
    topic=U12,
    day=4,
    config=EmulatorGraphsConfig,
)
def emulator_graphs(cfg: EmulatorGraphsConfig, ctx: LabContext) -> LabOutcome:
    """Build the graph of the recipe's grid, check its coverage and draw its levels."""
    from wxai.emulator.graphs import inspect_graph, load_graph
    from wxai.viz.graphs import plot_graph_levels

    graph = load_graph(_graph(cfg.graph, cfg.recipe, _dataset(cfg.recipe)))
    report = inspect_graph(graph)
    ctx.save_figure(plot_graph_levels(graph), "mesh_levels.png")
    unreached = sum(int(entry["count"]) for entry in report["unreached"].values())
    metrics = {
        "data_nodes": float(graph["data"].num_nodes),
        "hidden_nodes": float(graph["hidden"].num_nodes),
        **{f"edges_{name}": float(store.edge_index.shape[1]) for name, store in _edge_sets(graph)},
        "unreached_nodes": float(unreached),
    }
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="unreached_nodes",
            value=float(unreached),
            comparison="<=",
            threshold=0.0,
            baseline="every data node is encoded and decoded, every hidden node sends and receives",
        ),
        summary=", ".join(f"{k} {v:.0f}" for k, v in metrics.items()),
    )


def _edge_sets(graph: object) -> list[tuple[str, object]]:
    names = {("data", "to", "hidden"): "encoder", ("hidden", "to", "hidden"): "processor"}
    return [(names.get(t, "decoder"), graph[t]) for t in graph.edge_types]  # type: ignore[attr-defined]


# --- emulator-training -------------------------------------------------------------------


class EmulatorTrainingLabConfig(EmulatorLab):
    """Settings of ``emulator-training``."""

    graph: str = Field(description="a graph of configs/emulator/graphs (without .yaml)")
    model: Literal["gnn", "graph_transformer"] = Field(description="the processor")
    overrides: list[str] = Field(
        default_factory=list, description="further Hydra overrides of configs/emulator"
    )
    max_skill_ratio: float = Field(
        gt=0, description="acceptance: mean RMSE / persistence RMSE at 6 h (full preset)"
    )
    max_loss_ratio: float = Field(
        gt=0, description="acceptance: last / first validation loss (smoke preset)"
    )


@lab(
    "emulator-training",
    title="A graph emulator learns 6-hour steps of the Held-Suarez atmosphere",
    topic=U12,
    day=4,
    config=EmulatorTrainingLabConfig,
)
def emulator_training(cfg: EmulatorTrainingLabConfig, ctx: LabContext) -> LabOutcome:
    """Train the configured emulator with Lightning and score it against persistence."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.emulator.training.run import train
    from wxai.viz.emulator_panels import plot_skill_against_persistence
    from wxai.viz.training import plot_loss_curves

    config = training_config(cfg, ctx.run_dir / "training")
    summary = train(config)
    for epoch, (tr, va) in enumerate(zip(summary.train_loss, summary.val_loss, strict=False)):
        ctx.log_metrics({"train_loss": tr, "val_loss": va}, step=epoch)
    names = sorted(summary.val_rmse)
    rmse = [summary.val_rmse[n] for n in names]
    persistence = [summary.val_persistence_rmse[n] for n in names]
    skill = float(np.mean(np.asarray(rmse) / np.asarray(persistence)))
    loss_ratio = summary.val_loss[-1] / summary.val_loss[0]

    fig, (ax_loss, ax_skill) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    plot_loss_curves(
        ax_loss,
        {"train": summary.train_loss, "validation": summary.val_loss},
        ylabel="area-weighted MSE (normalised)",
        title=f"{cfg.model}: learning curve ({summary.parameters:,} parameters)",
    )
    plot_skill_against_persistence(ax_skill, names, rmse, persistence)
    ctx.save_figure(fig, "learning_curve_and_skill.png")

    if cfg.preset == "smoke":
        acceptance = Acceptance(
            metric="val_loss_ratio",
            value=loss_ratio,
            comparison="<=",
            threshold=cfg.max_loss_ratio,
            baseline="smoke: training lowers the validation loss",
        )
    else:
        acceptance = Acceptance(
            metric="skill_ratio",
            value=skill,
            comparison="<=",
            threshold=cfg.max_skill_ratio,
            baseline="COURSE_MAP U12: 6 h RMSE below persistence, averaged over variables",
            baseline_value=1.0,
        )
    return LabOutcome(
        metrics={
            "skill_ratio": skill,
            "val_loss_ratio": loss_ratio,
            "best_val_loss": summary.best_val_loss or float("nan"),
            "parameters": float(summary.parameters),
            "steps": float(summary.steps),
            "seconds": summary.seconds,
            **{f"rmse_{n}": v for n, v in zip(names, rmse, strict=True)},
            **{f"persistence_rmse_{n}": v for n, v in zip(names, persistence, strict=True)},
        },
        acceptance=acceptance,
        summary=(
            f"{cfg.model}, {summary.parameters:,} parameters, {summary.steps} steps in "
            f"{summary.seconds:.0f} s: 6 h RMSE / persistence {skill:.3f} on average "
            f"(best {min(r / p for r, p in zip(rmse, persistence, strict=True)):.3f}, worst "
            f"{max(r / p for r, p in zip(rmse, persistence, strict=True)):.3f})."
        ),
    )
