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
from pytorch_lightning.loggers import Logger
from pytorch_lightning.utilities import rank_zero_only
from torch import nn
from torch.nn import functional as F  # noqa: N812

from wxai.core.typing import Tracker

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


class TrackerLogger(Logger):
    """A Lightning logger that writes to a :class:`~wxai.core.typing.Tracker` (an MLflow run).

    The run is started on first use, which Lightning does on rank 0 only, so a
    distributed job makes one run, not one per process.

    Parameters
    ----------
    start:
        Called once, on first use, to create the tracker (e.g.
        ``lambda: MlflowTracker.start("emulator")``).
    """

    def __init__(self, start: Callable[[], Tracker]) -> None:
        super().__init__()
        self._start = start
        self._tracker: Tracker | None = None

    @property
    def tracker(self) -> Tracker:
        """The tracker, started on first access."""
        if self._tracker is None:
            self._tracker = self._start()
        return self._tracker

    @property
    def name(self) -> str:
        return "wxai"

    @property
    def version(self) -> str:
        return self.tracker.run_id

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        self.tracker.log_params(dict(params) if not isinstance(params, dict) else params)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.tracker.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._tracker is not None:
            self._tracker.finish("FINISHED" if status == "success" else "FAILED")
