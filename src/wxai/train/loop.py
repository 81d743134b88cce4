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


def minimize_over_batches(
    model: nn.Module,
    data: tuple[torch.Tensor, ...],
    batch_loss: Callable[[tuple[torch.Tensor, ...], torch.Generator], torch.Tensor],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    progress: Callable[[float, str], None] | None = None,
    reports: int = 10,
    label: str = "loss",
) -> list[float]:
    """Minimise ``batch_loss`` over shuffled mini-batches of ``data`` with Adam.

    For losses that need no targets (variational costs, likelihoods): ``batch_loss``
    gets the batch (the tensors of ``data`` indexed alike along dim 0) and the
    shuffling generator, and returns a scalar. The learning rate follows a cosine
    decay to 1 % of ``lr`` over all steps. ``torch.manual_seed(seed)`` is set first.

    Returns
    -------
    list[float]
        The mean loss per epoch (weighted by batch size).
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    n_cases = data[0].shape[0]
    steps = max(1, -(-n_cases // batch_size))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * steps, eta_min=0.01 * lr
    )
    losses: list[float] = []
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n_cases, generator=generator)
        total = 0.0
        for i in range(steps):
            idx = order[i * batch_size : (i + 1) * batch_size]
            loss = batch_loss(tuple(d[idx] for d in data), generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / n_cases)
        if progress is not None and (epoch % max(1, epochs // reports) == 0 or epoch == epochs - 1):
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}: {label} {losses[-1]:.4g}")
    model.eval()
    return losses


def minimize_steps(
    model: nn.Module,
    step_loss: Callable[[int], torch.Tensor],
    *,
    steps: int,
    lr: float,
    log: Callable[[int, float], None] | None = None,
    log_points: int = 50,
) -> list[float]:
    """Minimise ``step_loss(step)`` for ``steps`` Adam steps, each on freshly drawn data.

    For generators and samplers whose every step draws new noise and targets, so
    there are no epochs: the learning rate follows a cosine decay from ``lr`` to 0
    over the steps. The model is left in evaluation mode.

    Parameters
    ----------
    step_loss:
        Called with the step number ``0 .. steps - 1``; draws its batch and returns a
        scalar loss of ``model``.
    log:
        Called as ``log(step, loss)`` about ``log_points`` times, and at the last step
        (for a tracker and a progress bar).

    Returns
    -------
    list[float]
        The loss of every step.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    every = max(steps // log_points, 1)
    losses: list[float] = []
    model.train()
    for step in range(steps):
        loss = step_loss(step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if log is not None and (step % every == 0 or step == steps - 1):
            log(step, losses[-1])
    model.eval()
    return losses
