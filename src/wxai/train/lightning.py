"""Thin PyTorch Lightning adapters around inference modules (anemoi-style).

The network is a plain :class:`torch.nn.Module` from :mod:`wxai.nn` that knows nothing
of training; :class:`LightningRegressor` adds the loss, the optimiser and a per-epoch
loss record, and :func:`fit_lightning` runs a quiet single-device ``Trainer``. After
training, ``module.model`` is the network to use, save or ship.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

#: Called as ``on_epoch(epoch, mean_training_loss)`` after every training epoch.
EpochCallback = Callable[[int, float], None]


class LightningRegressor(pl.LightningModule):
    """Train ``model`` to regress ``batch.y`` with MSE and Adam.

    Parameters
    ----------
    model:
        Maps a batch (a tensor, or a PyG ``Batch`` of graphs) to predictions of the
        shape of ``batch.y``.
    lr:
        Adam learning rate.
    on_epoch:
        Optional callback after every training epoch (a tracker, a progress bar).

    Attributes
    ----------
    epoch_losses:
        Mean training loss of every finished epoch (mean over batches).
    """

    def __init__(self, model: nn.Module, lr: float, on_epoch: EpochCallback | None = None) -> None:
        super().__init__()
        self.model = model
        self.lr = lr
        self.on_epoch = on_epoch
        self.epoch_losses: list[float] = []
        self._batch_losses: list[float] = []

    def forward(self, batch: Any) -> torch.Tensor:
        """The wrapped model's prediction."""
        return self.model(batch)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """MSE of the prediction against ``batch.y``."""
        loss = F.mse_loss(self(batch), batch.y)
        self._batch_losses.append(float(loss.detach()))
        return loss

    def on_train_epoch_end(self) -> None:
        """Record the epoch's mean loss and report it."""
        self.epoch_losses.append(sum(self._batch_losses) / len(self._batch_losses))
        self._batch_losses.clear()
        if self.on_epoch is not None:
            self.on_epoch(self.current_epoch, self.epoch_losses[-1])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam over the wrapped model's parameters."""
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def fit_lightning(
    module: pl.LightningModule,
    loader: Any,
    *,
    epochs: int,
    device: torch.device | str = "cpu",
    root_dir: str | Path | None = None,
) -> pl.LightningModule:
    """Train ``module`` on ``loader`` with a quiet single-device Lightning ``Trainer``.

    No logger, checkpoints, progress bar or model summary: the module records what it
    needs (e.g. :attr:`LightningRegressor.epoch_losses`). Lightning's hint to add
    DataLoader workers is silenced (pointless for small in-memory data sets). The
    module is returned on the CPU in evaluation mode.

    Parameters
    ----------
    device:
        ``"cpu"`` trains on the CPU; any other device lets Lightning pick the accelerator.
    root_dir:
        Lightning's ``default_root_dir`` (where it would write anything).
    """
    from pytorch_lightning.utilities.warnings import PossibleUserWarning

    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu" if torch.device(device).type == "cpu" else "auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
        default_root_dir=root_dir,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*", PossibleUserWarning)
        trainer.fit(module, loader)
    module.eval()
    return module.cpu()
