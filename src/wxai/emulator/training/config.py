"""The emulator's training configuration: one pydantic schema over the Hydra tree.

``configs/emulator/config.yaml`` composes a dataset, a graph, a model (``model=gnn`` or
``model=graph_transformer``), the training schedule and the Lightning trainer; a preset
(``preset=smoke|full``) sizes the run. Scaling from a laptop to a GPU cluster changes
only ``trainer.*`` (accelerator, strategy, devices, num_nodes, precision), never code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wxai.core.composition import compose_yaml, validation_message
from wxai.core.errors import ConfigError
from wxai.core.paths import configs_dir
from wxai.emulator.models import ModelConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Section):
    """Dates ``start`` to ``end``, both included (ISO 8601, UTC)."""

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ConfigError(f"period ends ({self.end}) before it starts ({self.start})")
        return self


class DatasetSection(_Section):
    """Which Zarr dataset, which dates train and validate, which variables are input-only."""

    path: Path = Field(description="an anemoi-layout Zarr built by `wxai emulator dataset create`")
    train: Period
    validation: Period
    forcing: list[str] | None = Field(
        default=None,
        description="input-only variables; None: the dataset's computed forcings and static fields",
    )
    multistep_input: int = Field(default=1, ge=1, le=8, description="past states fed to the model")


class GraphSection(_Section):
    """A graph file from `wxai emulator graph create`, checked against the dataset's cells."""

    path: Path


class RolloutSchedule(_Section):
    """Steps of the autoregressive rollout loss: ``start``, +1 every ``epoch_increment`` epochs."""

    start: int = Field(default=1, ge=1)
    epoch_increment: int = Field(default=0, ge=0, description="0: the rollout stays at start")
    max: int = Field(default=1, ge=1)
    validation: int = Field(default=1, ge=1, description="rollout steps scored in validation")

    def steps_at(self, epoch: int) -> int:
        """Rollout steps in ``epoch`` (0-based)."""
        if self.epoch_increment == 0:
            return min(self.start, self.max)
        return min(self.start + epoch // self.epoch_increment, self.max)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.max:
            raise ConfigError(f"rollout.start = {self.start} is above rollout.max = {self.max}")
        return self


class TrainingSection(_Section):
    """Optimiser, schedule, loss weights and stopping."""

    lr: float = Field(default=1e-3, gt=0, description="peak learning rate (AdamW)")
    weight_decay: float = Field(default=0.0, ge=0)
    warmup_steps: int = Field(default=100, ge=0, description="linear warm-up, then cosine decay")
    min_lr_ratio: float = Field(default=0.01, ge=0, le=1, description="final lr / peak lr")
    max_epochs: int = Field(default=10, ge=1, le=100_000)
    max_steps: int = Field(default=-1, ge=-1, description="-1: max_epochs decides")
    batch_size: int = Field(default=2, ge=1, le=4096)
    num_workers: int = Field(default=0, ge=0, le=64)
    gradient_clip: float = Field(default=1.0, gt=0)
    early_stopping_patience: int = Field(default=0, ge=0, description="0: no early stopping")
    rollout: RolloutSchedule = RolloutSchedule()
    loss_weights: dict[str, float] = Field(
        default_factory=dict, description="per-variable weight of the loss (default 1)"
    )
    seed: int = Field(default=42, ge=0)
    torch_threads: int | None = Field(default=None, ge=1, description="intra-op threads per rank")
    resume_from: Path | None = Field(default=None, description="a Lightning checkpoint to restart")
    transfer_from: Path | None = Field(
        default=None,
        description="a checkpoint whose weights start this run (weights only: new graph, "
        "statistics, optimiser and schedule)",
    )
    transfer_nodes: Literal["interpolate", "reinitialise"] = Field(
        default="interpolate",
        description="per-node vectors of another graph size: interpolated from the source "
        "graph's nearest nodes (inverse distance), or a fresh random start",
    )
    compile: bool = Field(
        default=False,
        description="torch.compile the network: 20-30 % faster steps after a compilation of "
        "seconds to a minute (needs a C++ compiler on CPU)",
    )


class TrainerSection(_Section):
    """What Lightning's ``Trainer`` gets: where and how wide to run."""

    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = "auto"
    strategy: str = Field(default="auto", description="auto, ddp, ddp_spawn, fsdp, ...")
    devices: int | Literal["auto"] = "auto"
    num_nodes: int = Field(default=1, ge=1)
    precision: str = Field(default="32-true", description="32-true, bf16-mixed, 16-mixed")
    log_every_n_steps: int = Field(default=10, ge=1)
    limit_train_batches: float | int | None = None
    limit_val_batches: float | int | None = None
    enable_progress_bar: bool = True


class TrackingSection(_Section):
    """MLflow run of the training (rank 0 only)."""

    enabled: bool = True
    experiment: str = "emulator"
    run_name: str | None = None


class EmulatorTrainingConfig(_Section):
    """Everything one training run needs."""

    preset: Literal["smoke", "full"]
    dataset: DatasetSection
    graph: GraphSection
    model: ModelConfig
    training: TrainingSection = TrainingSection()
    trainer: TrainerSection = TrainerSection()
    tracking: TrackingSection = TrackingSection()
    output_dir: Path = Field(description="checkpoints and the inference checkpoint go here")


def emulator_config_dir() -> Path:
    """``configs/emulator``: the Hydra tree of emulator training."""
    return configs_dir() / "emulator"


def compose_training_config(
    overrides: Sequence[str] = (), config_dir: Path | None = None
) -> EmulatorTrainingConfig:
    """Compose ``configs/emulator`` (or ``config_dir``) with Hydra overrides and validate it.

    Raises
    ------
    ConfigError
        An unknown key or choice, a malformed override, or a value the schema refuses.
    """
    resolved = compose_yaml(
        config_dir or emulator_config_dir(), overrides, what="emulator training"
    )
    return validate_training_config(resolved)


def validate_training_config(raw: dict[str, Any]) -> EmulatorTrainingConfig:
    """Validate a plain dict (e.g. stored in a checkpoint) against the schema."""
    try:
        return EmulatorTrainingConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid emulator training configuration: {validation_message(exc)}"
        ) from exc
