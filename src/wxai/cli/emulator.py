"""``wxai emulator``: build datasets and graphs, and train graph emulators."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="Anemoi-style graph emulator: datasets, graphs, training, forecasts.", no_args_is_help=True
)
dataset_app = typer.Typer(help="Build and inspect training datasets (Zarr).", no_args_is_help=True)
graph_app = typer.Typer(
    help="Build and inspect encoder-processor-decoder graphs.", no_args_is_help=True
)
app.add_typer(dataset_app, name="dataset")
app.add_typer(graph_app, name="graph")

#: Arguments and options several commands share.
Checkpoint = Annotated[Path, typer.Argument(help="inference-best.pt or inference-last.pt")]
Threads = Annotated[
    int | None,
    typer.Option("--threads", help="torch intra-op threads (1 when other jobs share the CPU)"),
]


@app.callback()
def _emulator() -> None:
    """Anemoi-style graph emulator: a recipe to a dataset, a graph, a trained model."""


@app.command("train")
def train(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="Hydra overrides: model=graph_transformer dataset.path=hs.zarr ..."),
    ] = None,
    config_dir: Annotated[
        Path | None,
        typer.Option("--config-dir", help="A config tree like configs/emulator (its config.yaml)"),
    ] = None,
) -> None:
    """Train an emulator from configs/emulator composed with OVERRIDES.

    The same command runs on a laptop and on a cluster: trainer.accelerator, strategy,
    devices, num_nodes and precision decide (see deploy/hpc/ for SLURM and PBS jobs).
    """
    from wxai.emulator.training.config import compose_training_config
    from wxai.emulator.training.run import SUMMARY_FILE
    from wxai.emulator.training.run import train as run_training

    config = compose_training_config(overrides or [], config_dir)
    summary = run_training(config)
    if summary.inference_checkpoint:  # rank 0
        console = Console()
        console.print(
            f"trained {summary.parameters:,} parameters for {summary.epochs} epochs "
            f"({summary.steps} steps, {summary.seconds:.0f} s, {summary.world_size} process(es))"
        )
        if summary.best_val_loss is not None:
            console.print(f"best validation loss {summary.best_val_loss:.4f}")
        for name, value in sorted(summary.val_rmse.items()):
            persistence = summary.val_persistence_rmse.get(name, float("nan"))
            console.print(f"  {name:>12}: RMSE {value:.4g} (persistence {persistence:.4g})")
        console.print(f"inference checkpoint: {summary.inference_checkpoint}")
        console.print(f"summary: {Path(config.output_dir) / SUMMARY_FILE}")


@app.command("forecast")
def forecast(  # noqa: PLR0917 (typer options)
    checkpoint: Checkpoint,
    init: Annotated[
        str,
        typer.Option(
            "--init", help="A date of the dataset (2000-11-01T00) or a GRIB/NetCDF analysis"
        ),
    ],
    lead: Annotated[str, typer.Option("--lead", help="Lead time: 10d, 36h or 72 (hours)")],
    out: Annotated[Path, typer.Option("--out", help="forecast.nc or forecast.grib2")],
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="Dataset for --init dates (default: the training one)"),
    ] = None,
    members: Annotated[int, typer.Option("--members", help="Ensemble size (1: control)")] = 1,
    perturbation: Annotated[
        float,
        typer.Option(
            "--perturbation",
            help="Initial perturbation: white: in one-step-change stdevs; random-field: "
            "the factor on the difference of two training states",
        ),
    ] = 0.5,
    perturbation_kind: Annotated[
        str,
        typer.Option("--perturbation-kind", help="white or random-field"),
    ] = "white",
    model_noise: Annotated[
        float,
        typer.Option(
            "--model-noise", help="Factor on a random 6 h change added to each member each step"
        ),
    ] = 0.0,
    calibrated: Annotated[
        bool,
        typer.Option(
            "--calibrated",
            help="The checkpoint's calibrated random-field + model-noise settings (see "
            "`wxai emulator calibrate`), instead of --perturbation* and --model-noise",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
    threads: Threads = None,
) -> None:
    """Roll a trained emulator forward from INIT and write the forecast as NetCDF or GRIB2."""
    _set_threads(threads)
    from wxai.emulator.inference.perturbations import EnsemblePerturbations
    from wxai.emulator.inference.run import run_forecast

    perturbations = (
        "calibrated"
        if calibrated
        else EnsemblePerturbations(perturbation_kind, perturbation, model_noise)
    )

    with _progress_bar("steps") as advance:
        summary = run_forecast(
            checkpoint,
            init,
            lead,
            out,
            dataset=dataset,
            members=members,
            perturbation=perturbations,
            seed=seed,
            device=device,
            progress=advance,
        )
    typer.echo(summary.describe())


@app.command("calibrate")
def calibrate(
    checkpoint: Checkpoint,
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset", help="Dataset with the training period (default: the training one)"
        ),
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Compute again even where ensemble.json is valid")
    ] = False,
    threads: Threads = None,
) -> None:
    """Calibrate the checkpoint's ensemble on training dates; keep it in ensemble.json beside it."""
    _set_threads(threads)
    from wxai.emulator.inference.calibration import checkpoint_calibration
    from wxai.emulator.inference.run import archive_dataset
    from wxai.emulator.training.emulator import read_inference_checkpoint

    ckpt = read_inference_checkpoint(checkpoint)
    calibration, origin = checkpoint_calibration(
        ckpt, archive_dataset(ckpt, dataset), refresh=again
    )
    typer.echo(f"{calibration.describe()}\n{origin}")
    typer.echo(
        f"use it: wxai emulator forecast {checkpoint} --members 10 --calibrated ... "
        f"(= --perturbation-kind {calibration.initial} --perturbation "
        f"{calibration.initial_amplitude:.4g} --model-noise {calibration.model_amplitude:.4g})"
    )


@app.command("verify")
def verify(  # noqa: PLR0917 (typer options)
    checkpoint: Checkpoint,
    start: Annotated[str, typer.Option("--start", help="First initial time (held-out period)")],
    end: Annotated[str, typer.Option("--end", help="Last initial time")],
    lead: Annotated[str, typer.Option("--lead", help="Forecast length: 5d, 72h")] = "5d",
    out: Annotated[
        Path, typer.Option("--out", help="Folder for scorecard.json and figures")
    ] = Path("scores"),
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="Dataset with the truth (default: the training one)"),
    ] = None,
    every: Annotated[int, typer.Option("--every", help="Use every n-th date as initial")] = 4,
    max_inits: Annotated[int | None, typer.Option("--max-inits")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
    time_simulator: Annotated[
        bool,
        typer.Option(help="Also time the dataset's simulator over the same lead"),
    ] = True,
    threads: Threads = None,
) -> None:
    """Scorecard of a trained emulator against persistence and climatology."""
    _set_threads(threads)
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.inference.run import parse_lead
    from wxai.emulator.inference.scores import score_emulator, write_scorecard
    from wxai.emulator.training.emulator import read_inference_checkpoint

    ckpt = read_inference_checkpoint(checkpoint, map_location=device)
    data = open_dataset(dataset or ckpt.data.provenance.get("path", ""))
    steps = parse_lead(lead, ckpt.data.step)
    card = score_emulator(
        ckpt,
        data,
        start=start,
        end=end,
        steps=steps,
        every=every,
        max_inits=max_inits,
        device=device,
        time_simulator=time_simulator,
    )
    write_scorecard(card, out)
    typer.echo(card.describe())
    typer.echo(f"written to {out}")


@dataset_app.command("create")
def dataset_create(
    recipe: Annotated[
        Path, typer.Argument(help="Recipe YAML, e.g. configs/emulator/recipes/*.yaml")
    ],
    out: Annotated[Path, typer.Argument(help="The Zarr store to write, e.g. hs.zarr")],
) -> None:
    """Build the dataset of RECIPE at OUT; resumes an interrupted build, appends new dates."""
    from wxai.emulator.datasets.build import build_dataset
    from wxai.emulator.datasets.inspect import format_report, inspect_dataset

    with _progress_bar("dates") as advance:
        path = build_dataset(recipe, out, progress=advance)
    typer.echo(format_report(inspect_dataset(path)))
    typer.echo(f"dataset written to {path}")


@dataset_app.command("inspect")
def dataset_inspect(
    path: Annotated[Path, typer.Argument(help="A Zarr store from `wxai emulator dataset create`")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Time range, frequency, variables, shapes, chunks, size, statistics, gaps and NaNs.

    Exits with status 1 when the dataset is inconsistent (the problems are listed).
    """
    from dataclasses import asdict

    from wxai.emulator.datasets.inspect import format_report, inspect_dataset

    report = inspect_dataset(path)
    if as_json:
        _print_json(asdict(report))
    else:
        typer.echo(format_report(report))
    if not report.ok:
        raise typer.Exit(1)


@graph_app.command("create")
def graph_create(
    config: Annotated[
        Path, typer.Argument(help="Graph YAML, e.g. configs/emulator/graphs/ico3.yaml")
    ],
    out: Annotated[Path, typer.Argument(help="Where to write the graph (.pt)")],
    dataset: Annotated[
        Path,
        typer.Option("--dataset", "-d", help="The Zarr dataset whose cells are the data nodes"),
    ],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw each mesh level to this PNG")
    ] = None,
) -> None:
    """Build the encoder-processor-decoder graph of DATASET's grid and save it to OUT."""
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.graphs import (
        build_graph,
        format_inspection,
        inspect_graph,
        load_graph_config,
        save_graph,
    )

    graph_config = load_graph_config(config)  # a bad config fails before the dataset is read
    cells = open_dataset(dataset)
    graph = build_graph(graph_config, cells.latitudes, cells.longitudes, dataset=str(dataset))
    save_graph(graph, out)
    typer.echo(format_inspection(inspect_graph(graph)))
    typer.echo(f"graph written to {out}")
    if plot is not None:
        _save_plot(graph, plot)


@graph_app.command("inspect")
def graph_inspect(
    path: Annotated[Path, typer.Argument(help="A graph file from `wxai emulator graph create`")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw each mesh level to this PNG")
    ] = None,
) -> None:
    """Node and edge counts per type and level, degrees, edge lengths, coverage."""
    from wxai.emulator.graphs import format_inspection, inspect_graph, load_graph

    graph = load_graph(path)
    report = inspect_graph(graph)
    if as_json:
        _print_json(report)
    else:
        typer.echo(format_inspection(report))
    if plot is not None:
        _save_plot(graph, plot)


def _save_plot(graph: object, path: Path) -> None:
    from wxai.viz.graphs import plot_graph_levels

    figure = plot_graph_levels(graph)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    typer.echo(f"picture of the mesh levels: {path}")


@contextmanager
def _progress_bar(unit: str) -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar on stderr; yields ``advance(done, total)``."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn(unit), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(unit, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise typer.BadParameter(f"--threads must be at least 1, got {threads}")
        import torch

        torch.set_num_threads(threads)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
