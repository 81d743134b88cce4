"""A plain supervised training loop for small models (labs, tests, smoke runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader

from wxai.core.progress import ProgressReporter, null_progress

MetricLogger = Callable[[dict[str, float], int], None]


@dataclass
class FitHistory:
    """Mean training loss per epoch (and validation loss when a loader was given)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    *,
    epochs: int,
    lr: float,
    loss_fn: nn.Module | None = None,
    val_loader: DataLoader | None = None,
    device: torch.device | str = "cpu",
    log: MetricLogger | None = None,
    progress: ProgressReporter = null_progress,
    log_every: int = 1,
) -> FitHistory:
    """Train ``model`` with Adam on ``(x, y)`` batches and return the loss history.

    Parameters
    ----------
    epochs:
        Passes over ``train_loader``.
    lr:
        Adam learning rate.
    loss_fn:
        Defaults to mean squared error.
    log:
        Called as ``log({"train_loss": ..., "val_loss": ...}, epoch)`` every ``log_every``
        epochs (for a tracker).
    progress:
        Receives the fraction of epochs done.
    """
    loss_fn = loss_fn or nn.MSELoss()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = FitHistory()
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x_batch, y_batch in train_loader:
            x, y = x_batch.to(device), y_batch.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            count += len(x)
        history.train_loss.append(total / max(count, 1))
        metrics = {"train_loss": history.train_loss[-1]}
        if val_loader is not None:
            history.val_loss.append(evaluate(model, val_loader, loss_fn, device))
            metrics["val_loss"] = history.val_loss[-1]
        if log is not None and (epoch % log_every == 0 or epoch == epochs - 1):
            log(metrics, epoch)
        progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}")
    return history


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: DataLoader, loss_fn: nn.Module, device: torch.device | str = "cpu"
) -> float:
    """Mean of ``loss_fn`` over ``loader`` (weighted by batch size)."""
    model.eval()
    total, count = 0.0, 0
    for x_batch, y_batch in loader:
        x, y = x_batch.to(device), y_batch.to(device)
        total += loss_fn(model(x), y).item() * len(x)
        count += len(x)
    return total / max(count, 1)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """Model output for ``x`` in evaluation mode, returned on the CPU."""
    model.eval()
    return model(x.to(device)).cpu()
