"""Task types of the graph emulator: ``emulator-train`` and ``emulator-forecast``.

``emulator-train`` trains a model on the Held-Suarez dataset of a preset (built by the
dynamical core, or reused) into ``<home>/emulator/models/<model>-<recipe>-<graph>-<time>/``,
where the cockpit's chat tools and the forecast task find the newest one.
``emulator-forecast`` runs that model from a date of its training dataset (default the
latest) and writes NetCDF or GRIB2 under ``<home>/emulator/forecasts/``.
"""

from __future__ import annotations

import importlib.util
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wxai.cockpit.emulator_model import (
    MAX_LEAD_HOURS,
    find_emulator_model,
    initial_time,
    parse_init,
)
from wxai.core.errors import ConfigError, MissingExtra
from wxai.core.progress import ProgressReporter

if TYPE_CHECKING:
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = [
    "EmulatorForecastParams",
    "EmulatorForecastTask",
    "EmulatorTrainParams",
    "EmulatorTrainTask",
    "training_inputs",
    "training_overrides",
]

#: The graph (configs/emulator/graphs) of trained models, as in the emulator labs.
TRAIN_GRAPH = "ico3"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


# ------------------------------------------------------------------ training


class EmulatorTrainParams(BaseModel):
    """Parameters of an ``emulator-train`` task."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["smoke", "full"] = Field(
        default="smoke", description="smoke: minutes on a CPU; full: a year of Held-Suarez"
    )
    model: Literal["gnn", "graph_transformer"] = Field(default="gnn", description="processor")


def training_inputs(preset: str) -> tuple[Path, Path]:
    """The preset's dataset and graph, built under ``<home>/emulator`` or reused.

    The dataset of ``configs/emulator/recipes/held-suarez-<preset>.yaml`` (the dynamical
    core runs the first time) and the ``ico3`` graph on its cells.
    """
    from wxai.core.paths import configs_dir, ensure_dir, home_dir
    from wxai.emulator.datasets.build import build_dataset
    from wxai.emulator.datasets.reader import open_dataset
    from wxai.emulator.graphs import build_graph, load_graph_config, save_graph

    recipe = f"held-suarez-{preset}"
    dataset = build_dataset(
        configs_dir() / "emulator" / "recipes" / f"{recipe}.yaml",
        ensure_dir(home_dir() / "emulator" / "datasets") / f"{recipe}.zarr",
    )
    graph = ensure_dir(home_dir() / "emulator" / "graphs") / f"{TRAIN_GRAPH}-{recipe}.pt"
    if not graph.is_file():
        cells = open_dataset(dataset)
        config = load_graph_config(configs_dir() / "emulator" / "graphs" / f"{TRAIN_GRAPH}.yaml")
        built = build_graph(config, cells.latitudes, cells.longitudes, dataset=str(dataset))
        save_graph(built, graph)
    return dataset, graph


def training_overrides(
    params: EmulatorTrainParams, dataset: Path, graph: Path, out: Path
) -> list[str]:
    """Overrides of ``configs/emulator`` for a task: preset, model, inputs, no MLflow run."""
    return [
        f"preset={params.preset}",
        f"model={params.model}",
        f"dataset.path={dataset}",
        f"graph.path={graph}",
        f"output_dir={out}",
        "tracking.enabled=false",  # the task's result holds the metrics
        "trainer.enable_progress_bar=false",
    ]


class EmulatorTrainTask:
    """Trains a graph emulator on a Held-Suarez preset (``wxai.emulator.training.run``)."""

    name: ClassVar[str] = "emulator-train"
    params: ClassVar[type[BaseModel]] = EmulatorTrainParams

    def check(self, params: BaseModel) -> str:
        """Recipe and graph configuration exist, the dynamical core does where the dataset
        is still to be built, and the training configuration composes."""
        from wxai.core.paths import configs_dir, home_dir
        from wxai.emulator.training.config import compose_training_config

        assert isinstance(params, EmulatorTrainParams)
        configs = configs_dir() / "emulator"
        recipe = configs / "recipes" / f"held-suarez-{params.preset}.yaml"
        for needed in (recipe, configs / "graphs" / f"{TRAIN_GRAPH}.yaml"):
            if not needed.is_file():
                raise ConfigError(f"no {needed.name} in {needed.parent}")
        built = home_dir() / "emulator" / "datasets" / f"{recipe.stem}.zarr"
        for package in ("jax", "dinosaur"):
            if not built.is_dir() and importlib.util.find_spec(package) is None:
                raise MissingExtra(package, "emulator")
        placeholders = (Path(f"{recipe.stem}.zarr"), Path("graph.pt"), Path("out"))
        config = compose_training_config(training_overrides(params, *placeholders))
        return (
            f"configuration checked: {params.model}, preset {params.preset}, "
            f"{config.training.max_epochs} epochs on {recipe.stem}"
        )

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        """Build or reuse the inputs, train, and return the checkpoint and the scores."""
        from wxai.core.paths import ensure_dir, home_dir
        from wxai.emulator.training.config import compose_training_config
        from wxai.emulator.training.run import train

        assert isinstance(params, EmulatorTrainParams)
        progress(0.0, f"dataset and graph of preset {params.preset}")
        dataset, graph = training_inputs(params.preset)
        name = f"{params.model}-{dataset.stem}-{TRAIN_GRAPH}-{_stamp()}"
        out = ensure_dir(home_dir() / "emulator" / "models") / name
        config = compose_training_config(training_overrides(params, dataset, graph, out))
        epochs = config.training.max_epochs
        progress(0.1, f"training {params.model} for {epochs} epochs")
        summary = train(config, callbacks=[_epoch_reports(progress, epochs)])
        best = out / "inference-best.pt"
        progress(1.0, f"trained {summary.epochs} epochs in {summary.seconds:.0f} s")
        return {
            "checkpoint": str(best if best.is_file() else summary.inference_checkpoint),
            "output_dir": str(out),
            "model": params.model,
            "preset": params.preset,
            "epochs": summary.epochs,
            "steps": summary.steps,
            "seconds": summary.seconds,
            "parameters": summary.parameters,
            "best_val_loss": summary.best_val_loss,
            "val_rmse": summary.val_rmse,
            "val_persistence_rmse": summary.val_persistence_rmse,
        }


# ------------------------------------------------------------------ forecast


class EmulatorForecastParams(BaseModel):
    """Parameters of an ``emulator-forecast`` task."""

    model_config = ConfigDict(extra="forbid")

    init: str = Field(
        default="",
        max_length=32,
        description="initial date of the training dataset (YYYY-MM-DDTHH); empty: the latest",
        examples=["", "2000-12-01T00"],
    )
    lead: str = Field(
        default="5d",
        pattern=r"^\s*\d{1,4}\s*[dhm]?\s*$",
        description="lead time: 10d, 36h or 72 (hours); at most 15 days",
    )
    members: int = Field(default=1, ge=1, le=50, description="ensemble size (1: control)")
    format: Literal["nc", "grib2"] = Field(default="nc", description="NetCDF or GRIB2")

    @field_validator("init")
    @classmethod
    def _a_date(cls, value: str) -> str:
        return str(parse_init(value)) if value.strip() else ""


class EmulatorForecastTask:
    """Runs the cockpit's emulator (:func:`find_emulator_model`) and writes the forecast."""

    name: ClassVar[str] = "emulator-forecast"
    params: ClassVar[type[BaseModel]] = EmulatorForecastParams

    def _plan(self, params: BaseModel) -> tuple[Path, str, int, InferenceCheckpoint]:
        """The checkpoint's path, the initial date, the steps, and the checkpoint read back."""
        from wxai.core.paths import home_dir
        from wxai.emulator.datasets.reader import open_dataset
        from wxai.emulator.inference.run import parse_lead
        from wxai.emulator.training.emulator import read_inference_checkpoint

        assert isinstance(params, EmulatorForecastParams)
        path = find_emulator_model(home_dir())
        ckpt = read_inference_checkpoint(path)
        steps = parse_lead(params.lead, ckpt.data.step)
        if steps * ckpt.data.step.total_seconds() > MAX_LEAD_HOURS * 3600:
            raise ConfigError(f"lead {params.lead!r}: at most {MAX_LEAD_HOURS // 24} days")
        init = initial_time(open_dataset(ckpt.data.provenance["path"]), params.init)
        return path, str(init), steps, ckpt

    def check(self, params: BaseModel) -> str:
        """A model exists; the lead fits its step and the limit; the date is in its dataset."""
        path, init, steps, ckpt = self._plan(params)
        hours = ckpt.data.step.total_seconds() / 3600
        return f"{path.parent.name}: {steps} steps of {hours:g} h from {init}"

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        """Run the forecast, reporting each step; the result names the file."""
        from wxai.core.paths import ensure_dir, home_dir
        from wxai.emulator.inference.run import run_forecast

        assert isinstance(params, EmulatorForecastParams)
        path, init, steps, _ = self._plan(params)
        folder = ensure_dir(home_dir() / "emulator" / "forecasts")
        out = folder / f"{_stamp()}-{uuid.uuid4().hex[:8]}" / f"forecast.{params.format}"
        out.parent.mkdir()
        progress(0.0, f"forecast from {init}, {steps} steps")

        def step_done(done: int, total: int) -> None:
            progress(done / total, f"step {done} of {total}")

        summary = run_forecast(
            path, init, params.lead, out, members=params.members, progress=step_done
        )
        return {
            "path": summary.path,
            "checkpoint": summary.checkpoint,
            "init_time": summary.init_time,
            "steps": summary.steps,
            "step_hours": summary.step_hours,
            "members": summary.members,
            "format": params.format,
            "mean_step_seconds": summary.mean_step_seconds,
        }


def _epoch_reports(progress: ProgressReporter, epochs: int) -> Any:
    """A Lightning callback reporting each finished epoch and its validation loss."""
    from pytorch_lightning.callbacks import Callback

    class EpochReports(Callback):
        def on_train_epoch_end(self, trainer: Any, module: Any) -> None:
            if trainer.sanity_checking or trainer.global_rank:
                return
            done = trainer.current_epoch + 1
            loss = trainer.callback_metrics.get("val_loss")
            shown = "" if loss is None else f", validation loss {float(loss):.4f}"
            progress(0.1 + 0.85 * done / epochs, f"epoch {done} of {epochs}{shown}")

    return EpochReports()
