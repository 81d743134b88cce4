"""Training of the warning diagnoser: AdamW, binary cross-entropy, early stopping.

The loss is the mean binary cross-entropy of the per-level logits against the
forecaster masks. After every epoch the validation loss is computed; training
stops when it has not improved by ``min_delta`` for ``patience`` epochs, and the
weights of the best epoch are restored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.core.progress import ProgressReporter, null_progress
from wxai.products.warnings.dataset import WarningCases
from wxai.products.warnings.model import WarningDiagnoser

__all__ = ["TrainHistory", "TrainSettings", "train_diagnoser"]

MetricLogger = Callable[[Mapping[str, float], int], None]


@dataclass(frozen=True)
class TrainSettings:
    """Optimiser and stopping settings.

    Attributes
    ----------
    epochs:
        Most passes over the training cases.
    batch_size:
        Cases per step.
    lr, weight_decay:
        AdamW learning rate and decoupled weight decay.
    patience, min_delta:
        Early stopping: epochs without a validation-loss improvement of ``min_delta``.
    seed:
        Seed of the weight initialisation and of the shuffling.
    """

    epochs: int = 40
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 6
    min_delta: float = 1e-4
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.epochs, self.batch_size, self.patience) < 1 or self.lr <= 0:
            raise ConfigError(f"invalid training settings {self}: counts >= 1 and lr > 0")


@dataclass
class TrainHistory:
    """Losses per epoch, the best epoch (0-based) and whether training stopped early."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False


def _tensors(cases: WarningCases) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(cases.inputs), torch.from_numpy(cases.masks.astype(np.float32))


@torch.no_grad()
def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    model.eval()
    total = 0.0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        total += nn.functional.binary_cross_entropy_with_logits(
            logits, target, reduction="sum"
        ).item()
    return total / y.numel()


def train_diagnoser(
    model: WarningDiagnoser,
    train: WarningCases,
    val: WarningCases,
    settings: TrainSettings,
    *,
    log: MetricLogger | None = None,
    progress: ProgressReporter = null_progress,
) -> TrainHistory:
    """Fit ``model`` on ``train`` with early stopping on ``val`` (CPU, in place).

    Parameters
    ----------
    log:
        Called as ``log({"train_loss": ..., "val_loss": ...}, epoch)`` (e.g. a tracker).
    progress:
        Receives the fraction of ``settings.epochs`` done.

    Returns
    -------
    TrainHistory
        The model holds the weights of ``history.best_epoch`` afterwards.
    """
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    x, y = _tensors(train)
    x_val, y_val = _tensors(val)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    loss_fn = nn.BCEWithLogitsLoss()
    history = TrainHistory()
    best, best_state, waited = float("inf"), copy.deepcopy(model.state_dict()), 0
    for epoch in range(settings.epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        history.train_loss.append(total / len(x))
        history.val_loss.append(_loss(model, x_val, y_val, settings.batch_size))
        if log is not None:
            log({"train_loss": history.train_loss[-1], "val_loss": history.val_loss[-1]}, epoch)
        progress((epoch + 1) / settings.epochs, f"epoch {epoch + 1}/{settings.epochs}")
        if history.val_loss[-1] < best - settings.min_delta:
            best, best_state, waited = history.val_loss[-1], copy.deepcopy(model.state_dict()), 0
            history.best_epoch = epoch
        else:
            waited += 1
            if waited >= settings.patience:
                history.stopped_early = True
                break
    model.load_state_dict(best_state)
    model.eval()
    return history
