"""``wxai emulator``: build datasets and graphs, and train graph emulators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="Anemoi-style graph emulator: datasets, graphs, training.", no_args_is_help=True
)
dataset_app = typer.Typer(help="Build and inspect training datasets (Zarr).", no_args_is_help=True)
graph_app = typer.Typer(
    help="Build and inspect encoder-processor-decoder graphs.", no_args_is_help=True
)
app.add_typer(dataset_app, name="dataset")
app.add_typer(graph_app, name="graph")


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


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
