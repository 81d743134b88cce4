"""The Lightning module: area-weighted rollout loss, validation scores, optimiser schedule.

Shapes: a batch is ``(B, T_in + R, N, V)`` physical states; the module normalises it,
feeds the first ``T_in`` states to the emulator, and rolls out ``R`` steps, each step's
input being the previous prediction (prognostic variables) and the true forcings of
that time. The loss of a step is

    sum_v w_v * mean_{b, n}( a_n * (y_hat - y)^2 ) / sum_v w_v

on normalised variables, with ``a_n`` the data nodes' area weights (mean 1) and
``w_v`` the per-variable weights; the rollout loss is the mean over the ``R`` steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch

from wxai.emulator.training.config import RolloutSchedule, TrainingSection
from wxai.emulator.training.emulator import Emulator


def weighted_mse(
    prediction: torch.Tensor, target: torch.Tensor, area: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Area- and variable-weighted MSE of ``(B, N, P)`` tensors.

    Returns
    -------
    The scalar loss and the per-variable area-weighted MSE ``(P,)``.
    """
    per_variable = ((prediction - target) ** 2 * area[:, None]).mean(dim=(0, 1))
    return (per_variable * weights).sum() / weights.sum(), per_variable


def cosine_with_warmup(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Learning-rate factor: linear up to 1 over ``warmup`` steps, then cosine to ``min_ratio``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class EmulatorModule(pl.LightningModule):
    """Trains an :class:`~wxai.emulator.training.emulator.Emulator`.

    Parameters
    ----------
    area_weight:
        Shape ``(N,)``: the data nodes' area weights (normalised to mean 1 here).
    loss_weights:
        Weight of each prognostic variable (missing names: 1).
    signature:
        What a checkpoint of this run must match to be resumed (variables, graph, model).
    """

    def __init__(
        self,
        emulator: Emulator,
        area_weight: torch.Tensor,
        training: TrainingSection,
        signature: Mapping[str, Any],
    ) -> None:
        super().__init__()
        self.emulator = emulator
        self.training = training
        self.rollout: RolloutSchedule = training.rollout
        self.signature = dict(signature)
        area = area_weight.float()
        self.register_buffer("area", area / area.mean())
        weights = [training.loss_weights.get(name, 1.0) for name in emulator.prognostic]
        self.register_buffer("loss_weights", torch.tensor(weights, dtype=torch.float32))
        self._step_started = 0.0

    # --- rollout ---------------------------------------------------------------------

    def rollout_loss(
        self, batch: torch.Tensor, steps: int
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Mean loss over ``steps`` autoregressive steps, and each step's per-variable MSE."""
        emulator = self.emulator
        states = emulator.normalise(batch)
        t_in = emulator.multistep_input
        window = states[:, :t_in]
        index = emulator.prognostic_index
        total = batch.new_zeros(())
        per_step = []
        for step in range(steps):
            prediction = emulator.step_normalised(window)
            truth = states[:, t_in + step]
            loss, per_variable = weighted_mse(
                prediction, truth.index_select(-1, index), self.area, self.loss_weights
            )
            total = total + loss
            per_step.append(per_variable)
            if step + 1 < steps:
                window = Emulator.advance(window, prediction, truth, index)
        return total / steps, per_step

    # --- Lightning hooks ---------------------------------------------------------------

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        self._step_started = time.perf_counter()

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        steps = self.rollout.steps_at(self.current_epoch)
        loss, _ = self.rollout_loss(batch, steps)
        self.log(
            "train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch)
        )
        self.log("rollout", float(steps), batch_size=len(batch))
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        seconds = time.perf_counter() - self._step_started
        self.log("step_time_s", seconds, batch_size=len(batch))
        self.log("samples_per_s", len(batch) / max(seconds, 1e-9), batch_size=len(batch))
        self.log("lr", self.optimizers().param_groups[0]["lr"], batch_size=len(batch))

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        loss, per_step = self.rollout_loss(batch, self.rollout.validation)
        size = len(batch)
        self.log("val_loss", loss, prog_bar=True, sync_dist=True, batch_size=size)
        # One-step scores in physical units, beside persistence (the state 6 h earlier).
        emulator = self.emulator
        t_in = emulator.multistep_input
        index = emulator.prognostic_index
        with torch.no_grad():
            forecast = emulator(batch[:, :t_in])
        truth = batch[:, t_in].index_select(-1, index)
        persistence = batch[:, t_in - 1].index_select(-1, index)
        for name, errors in (("rmse", forecast - truth), ("persistence_rmse", persistence - truth)):
            mse = (errors**2 * self.area[:, None]).mean(dim=(0, 1))
            for i, variable in enumerate(emulator.prognostic):
                self.log(f"val_{name}/{variable}", mse[i].sqrt(), sync_dist=True, batch_size=size)
        for i, variable in enumerate(emulator.prognostic):
            self.log(f"val_loss/{variable}", per_step[0][i], sync_dist=True, batch_size=size)

    def configure_optimizers(self) -> dict[str, Any]:
        cfg = self.training
        total = int(self.trainer.estimated_stepping_batches)
        optimiser = torch.optim.AdamW(self.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser,
            lambda step: cosine_with_warmup(step, cfg.warmup_steps, total, cfg.min_lr_ratio),
        )
        return {"optimizer": optimiser, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["wxai_signature"] = self.signature
