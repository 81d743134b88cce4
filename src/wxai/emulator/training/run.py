"""One training run: dataset, graph and model config in; checkpoints and a summary out.

:func:`train` wires the parts and hands them to Lightning's ``Trainer``; the trainer's
``strategy``, ``devices`` and ``num_nodes`` decide whether this is one CPU process or a
multi-node GPU job (DDP launched by ``torchrun``/SLURM/PBS, see ``deploy/hpc/``). Under
DDP every rank runs this same function; rank 0 writes the files and the MLflow run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback, EarlyStopping, ModelCheckpoint

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.datasets.reader import EmulatorDataset, open_dataset
from wxai.emulator.graphs import check_matches, load_graph
from wxai.emulator.inference.grid import DataGrid
from wxai.emulator.training.config import EmulatorTrainingConfig
from wxai.emulator.training.data import EmulatorDataModule, period_indices
from wxai.emulator.training.emulator import (
    build_emulator,
    graph_fingerprint,
    save_inference_checkpoint,
)
from wxai.emulator.training.module import EmulatorModule
from wxai.emulator.training.transfer import transfer_weights

#: Summary file written next to the checkpoints.
SUMMARY_FILE = "summary.json"


@dataclass
class TrainingSummary:
    """What a run did, as written to ``summary.json`` (rank 0)."""

    epochs: int
    steps: int
    seconds: float
    world_size: int
    ranks_in_sync: bool
    parameter_checksums: list[float]
    parameters: int
    best_val_loss: float | None
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_rmse: dict[str, float] = field(default_factory=dict)
    val_persistence_rmse: dict[str, float] = field(default_factory=dict)
    inference_checkpoint: str = ""
    best_checkpoint: str = ""
    run_id: str | None = None
    transfer: dict[str, Any] | None = None


class _History(Callback):
    """Per-epoch mean training and validation loss, and the parameter checksum of each rank."""

    def __init__(self) -> None:
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.val_scores: dict[str, float] = {}
        self.checksums: list[float] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        value = trainer.callback_metrics.get(
            "train_loss_epoch", trainer.callback_metrics.get("train_loss")
        )
        if value is not None:
            self.train_loss.append(float(value))

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        if "val_loss" in metrics:
            self.val_loss.append(float(metrics["val_loss"]))
        self.val_scores = {k: float(v) for k, v in metrics.items() if k.startswith("val_")}

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        # Parameters of every rank must be equal after DDP's all-reduced updates.
        total = torch.zeros(1, dtype=torch.float64, device=module.device)
        for parameter in module.parameters():
            total += parameter.detach().double().abs().sum()
        gathered = trainer.strategy.all_gather(total)
        self.checksums = [float(v) for v in torch.as_tensor(gathered).flatten().cpu()]


def increment_stdev(
    dataset: EmulatorDataset, first: int, stop: int, prognostic: list[int], samples: int = 64
) -> np.ndarray:
    """Standard deviation of one-step increments of the prognostic variables, in stdev units.

    Estimated from up to ``samples`` evenly spaced pairs of the training period; shape ``(P,)``.
    """
    stdev = np.where(dataset.statistics["stdev"] > 0, dataset.statistics["stdev"], 1.0)[prognostic]
    starts = np.unique(np.linspace(first, stop - 2, num=min(samples, stop - first - 1)).astype(int))
    increments = []
    for start in starts:
        pair = dataset.fields(int(start), int(start) + 2)[:, prognostic, :]  # (2, P, N)
        increments.append((pair[1] - pair[0]) / stdev[:, None])
    spread = np.concatenate(increments, axis=-1).std(axis=-1)
    return np.where(spread > 1e-6, spread, 1.0).astype(np.float32)


def _check_resume(path: Path, signature: dict[str, Any]) -> None:
    """Refuse to restart from a checkpoint of a different configuration, naming what differs."""
    if not path.is_file():
        raise DataFormatError(f"training.resume_from: no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise DataFormatError(
            f"training.resume_from: {path} is not a readable checkpoint: {exc}"
        ) from exc
    stored = checkpoint.get("wxai_signature") if isinstance(checkpoint, dict) else None
    if stored is None:
        raise ConfigError(
            f"training.resume_from: {path} is not a wxai emulator training checkpoint"
        )
    different = [key for key in signature if stored.get(key) != signature[key]]
    if different:
        raise ConfigError(
            f"training.resume_from: {path} was trained with another configuration "
            f"(different {', '.join(different)}); start a new run or use the matching config"
        )


def train(config: EmulatorTrainingConfig, callbacks: Sequence[Callback] = ()) -> TrainingSummary:
    """Train the configured emulator; see the module docstring.

    ``callbacks`` are further Lightning callbacks (progress reports of a caller).
    """
    started = time.perf_counter()
    pl.seed_everything(config.training.seed, workers=True, verbose=False)
    if config.training.torch_threads:
        torch.set_num_threads(config.training.torch_threads)
    dataset = open_dataset(config.dataset.path)
    graph = load_graph(config.graph.path)
    check_matches(graph, dataset.latitudes, dataset.longitudes)

    forcing = list(
        config.dataset.forcing if config.dataset.forcing is not None else dataset.forcing_variables
    )
    unknown = sorted(set(forcing) - set(dataset.variables))
    if unknown:
        raise ConfigError(
            f"dataset.forcing names variables not in {config.dataset.path}: {unknown}"
        )
    unknown = sorted(set(config.training.loss_weights) - set(dataset.variables))
    if unknown:
        raise ConfigError(f"training.loss_weights names unknown variables: {unknown}")
    prognostic = [i for i, name in enumerate(dataset.variables) if name not in set(forcing)]
    train_span = period_indices(dataset, config.dataset.train)
    val_span = period_indices(dataset, config.dataset.validation)
    t_in = config.dataset.multistep_input
    rollout = config.training.rollout

    emulator = build_emulator(
        config.model,
        graph,
        variables=dataset.variables,
        forcing=forcing,
        statistics=dataset.statistics,
        increment_stdev=increment_stdev(dataset, *train_span, prognostic),
        multistep_input=t_in,
    )
    signature = {
        "variables": list(dataset.variables),
        "forcing": forcing,
        "multistep_input": t_in,
        "graph": graph_fingerprint(graph),
        "model": config.model.model_dump(mode="json"),
    }
    if config.training.resume_from is not None:
        _check_resume(config.training.resume_from, signature)
    transfer = None
    if config.training.transfer_from is not None:
        if config.training.resume_from is not None:
            raise ConfigError("training.transfer_from and training.resume_from exclude each other")
        transfer = transfer_weights(
            emulator.net, config.training.transfer_from, graph, config.training.transfer_nodes
        )
    if config.training.compile:
        emulator.compile_network()
    module = EmulatorModule(emulator, graph["data"].area_weight, config.training, signature)
    data = EmulatorDataModule(
        dataset,
        train_span,
        val_span,
        train_length=t_in + rollout.max,
        val_length=t_in + max(rollout.validation, 1),
        batch_size=config.training.batch_size,
        num_workers=config.training.num_workers,
        seed=config.training.seed,
    )

    out = Path(config.output_dir)
    checkpoints = ModelCheckpoint(
        dirpath=out / "checkpoints",
        filename="best-{epoch:03d}-{val_loss:.4f}",
        monitor="val_loss",
        save_top_k=1,
        save_last=True,
    )
    history = _History()
    every: list[Callback] = [checkpoints, history, *callbacks]
    if config.training.early_stopping_patience:
        every.append(EarlyStopping("val_loss", patience=config.training.early_stopping_patience))
    logger = _logger(config)
    trainer_cfg = config.trainer
    trainer = pl.Trainer(
        accelerator=trainer_cfg.accelerator,
        strategy=trainer_cfg.strategy,
        devices=trainer_cfg.devices,
        num_nodes=trainer_cfg.num_nodes,
        precision=trainer_cfg.precision,
        max_epochs=config.training.max_epochs,
        max_steps=config.training.max_steps,
        gradient_clip_val=config.training.gradient_clip,
        log_every_n_steps=trainer_cfg.log_every_n_steps,
        limit_train_batches=trainer_cfg.limit_train_batches,
        limit_val_batches=trainer_cfg.limit_val_batches,
        enable_progress_bar=trainer_cfg.enable_progress_bar,
        enable_model_summary=False,
        callbacks=every,
        logger=logger if logger is not None else False,
        default_root_dir=out,
        deterministic=False,
    )
    if logger is not None:
        logger.log_hyperparams(config.model_dump(mode="json"))
    trainer.fit(module, datamodule=data, ckpt_path=config.training.resume_from)

    summary = TrainingSummary(
        epochs=trainer.current_epoch,
        steps=trainer.global_step,
        seconds=time.perf_counter() - started,
        world_size=trainer.world_size,
        ranks_in_sync=len(set(history.checksums)) <= 1,
        parameter_checksums=history.checksums,
        parameters=sum(p.numel() for p in emulator.parameters()),
        best_val_loss=float(checkpoints.best_model_score)
        if checkpoints.best_model_score is not None
        else None,
        train_loss=history.train_loss,
        val_loss=history.val_loss,
        transfer=None if transfer is None else asdict(transfer),
        val_rmse={
            k.split("/", 1)[1]: v
            for k, v in history.val_scores.items()
            if k.startswith("val_rmse/")
        },
        val_persistence_rmse={
            k.split("/", 1)[1]: v
            for k, v in history.val_scores.items()
            if k.startswith("val_persistence_rmse/")
        },
        best_checkpoint=checkpoints.best_model_path,
        run_id=logger.tracker.run_id if logger is not None and trainer.is_global_zero else None,
    )
    if trainer.is_global_zero:
        _write_outputs(
            config,
            emulator=emulator,
            graph=graph,
            data=DataGrid.from_dataset(dataset, input_only=forcing),
            best=checkpoints.best_model_path,
            summary=summary,
            out=out,
        )
    return summary


def _logger(config: EmulatorTrainingConfig) -> Any:
    if not config.tracking.enabled:
        return None
    from wxai.train.lightning import TrackerLogger
    from wxai.train.tracking import MlflowTracker

    tracking = config.tracking
    tags = transfer_lineage(config.training.transfer_from)
    return TrackerLogger(
        lambda: MlflowTracker.start(tracking.experiment, run_name=tracking.run_name, tags=tags)
    )


def transfer_lineage(source: Path | None) -> dict[str, str]:
    """MLflow lineage tags of a run started from ``source`` (``training.transfer_from``):
    the checkpoint and, from the ``summary.json`` beside it, the run that trained it."""
    if source is None:
        return {}
    from wxai.train.tracking import lineage_tags

    summary = Path(source).parent / SUMMARY_FILE
    parent = ""
    if summary.is_file():
        try:
            parent = str(json.loads(summary.read_text()).get("run_id") or "")
        except (OSError, ValueError):
            parent = ""
    tags = lineage_tags(
        parent_run_id=parent,
        source_model_uri=str(Path(source).resolve()),
        training_type="transfer",
    )
    return {key: value for key, value in tags.items() if value}


def _write_outputs(
    config: EmulatorTrainingConfig,
    *,
    emulator: Any,
    graph: Any,
    data: DataGrid,
    best: str,
    summary: TrainingSummary,
    out: Path,
) -> None:
    """Inference checkpoints of the last and the best weights, and ``summary.json``."""
    raw = config.model_dump(mode="json")
    metadata = {"val_rmse": summary.val_rmse, "val_persistence_rmse": summary.val_persistence_rmse}
    last = save_inference_checkpoint(
        emulator, graph, raw, out / "inference-last.pt", data=data, **metadata
    )
    summary.inference_checkpoint = str(last)
    if best:
        state = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
        weights = {
            k.removeprefix("emulator."): v for k, v in state.items() if k.startswith("emulator.")
        }
        emulator.load_state_dict(weights)  # training is over: the module now holds the best
        save_inference_checkpoint(
            emulator, graph, raw, out / "inference-best.pt", data=data, **metadata
        )
    (out / SUMMARY_FILE).write_text(json.dumps(asdict(summary), indent=2))
