"""Training samples: windows of consecutive states cut from an anemoi-layout dataset.

A sample starting at time index ``t`` holds the states ``t .. t + multistep_input +
rollout - 1``: the model sees the first ``multistep_input`` and is scored on the rest,
one step after another. Samples are cut within one period (training or validation) so
validation never sees a training date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    from wxai.emulator.datasets.reader import EmulatorDataset
    from wxai.emulator.training.config import Period


def period_indices(dataset: EmulatorDataset, period: Period) -> tuple[int, int]:
    """Time indices ``[first, last + 1)`` of the dataset's dates inside ``period``."""
    dates = dataset.dates.astype("datetime64[s]")
    start = np.datetime64(_naive(period.start), "s")
    end = np.datetime64(_naive(period.end), "s")
    inside = np.flatnonzero((dates >= start) & (dates <= end))
    if inside.size == 0:
        raise ConfigError(
            f"no date of {dataset.path} lies in {period.start:%Y-%m-%d %H:%M} .. "
            f"{period.end:%Y-%m-%d %H:%M} (it covers {dates[0]} .. {dates[-1]})"
        )
    return int(inside[0]), int(inside[-1]) + 1


def _naive(moment: datetime) -> datetime:
    """``moment`` as a naive UTC datetime (the dataset's dates are naive UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class StateWindows(Dataset):
    """Windows of ``length`` consecutive states from time indices ``[first, stop)``.

    Items are float32 tensors of shape ``(length, N, V)`` in physical units (the
    Lightning module normalises on the device).
    """

    def __init__(self, dataset: EmulatorDataset, first: int, stop: int, length: int) -> None:
        count = stop - first - length + 1
        if count < 1:
            raise ConfigError(
                f"the period has {stop - first} dates of {dataset.path}, fewer than the "
                f"{length} one sample needs (input steps + rollout); widen it"
            )
        self.dataset, self.first, self.length, self.count = dataset, first, length, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> torch.Tensor:
        start = self.first + index
        fields = self.dataset.fields(start, start + self.length)  # (T, V, N)
        return torch.from_numpy(np.ascontiguousarray(fields.transpose(0, 2, 1)))


class EmulatorDataModule(pl.LightningDataModule):
    """Training and validation loaders over one dataset; Lightning adds distributed samplers.

    Parameters
    ----------
    train_length, val_length:
        States per sample: ``multistep_input + rollout`` (the largest rollout of the schedule
        for training, so one loader serves every epoch).
    """

    def __init__(
        self,
        dataset: EmulatorDataset,
        train: tuple[int, int],
        validation: tuple[int, int],
        *,
        train_length: int,
        val_length: int,
        batch_size: int,
        num_workers: int = 0,
        seed: int = 42,
    ) -> None:
        super().__init__()
        self.train_set = StateWindows(dataset, *train, train_length)
        self.val_set = StateWindows(dataset, *validation, val_length)
        self.batch_size, self.num_workers, self.seed = batch_size, num_workers, seed

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            num_workers=self.num_workers,
            generator=torch.Generator().manual_seed(self.seed),
            persistent_workers=self.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            self.val_set, batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers
        )
