"""Training the front detector: weighted cross-entropy plus Dice, AdamW, early stopping.

Fronts cover a few per cent of a chart, so a plain cross-entropy learns to draw none.
The loss weights each class by the inverse square root of its frequency in the
training labels and adds a soft Dice term over the three front classes, which scores
overlap whatever the class size. Training stops when the validation loss has not
improved for ``patience`` epochs and keeps the best weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr
from torch.nn import functional as F  # noqa: N812
from torch.utils.data import DataLoader, TensorDataset

from wxai.core.errors import ConfigError
from wxai.products.fronts.cases import FRONT_CLASSES, channel_array
from wxai.products.fronts.model import DetectorConfig, FrontDetector
from wxai.products.stats import ChannelStats

__all__ = [
    "FitResult",
    "TrainingConfig",
    "class_weights",
    "front_loss",
    "predict_labels",
    "train_detector",
]


@dataclass(frozen=True)
class TrainingConfig:
    """Optimiser and schedule of :func:`train_detector`."""

    epochs: int = 30
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    patience: int = 5
    seed: int = 0


@dataclass
class FitResult:
    """The best detector and its loss history (one value per epoch)."""

    detector: FrontDetector
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    class_weights: list[float] = field(default_factory=list)


def class_weights(labels: np.ndarray, n_classes: int = len(FRONT_CLASSES)) -> np.ndarray:
    """Inverse square root of class frequency, normalised to mean 1: (n_classes,)."""
    counts = np.bincount(np.asarray(labels).ravel(), minlength=n_classes).astype(float)
    weights = 1.0 / np.sqrt(np.maximum(counts, 1.0) / counts.sum())
    return weights / weights.mean()


def front_loss(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor, dice_weight: float
) -> torch.Tensor:
    """Weighted cross-entropy + ``dice_weight`` x (1 - mean soft Dice of the front classes).

    ``logits`` (B, K, H, W), ``labels`` (B, H, W) int64, ``weights`` (K,).
    """
    loss = F.cross_entropy(logits, labels, weight=weights)
    if dice_weight > 0:
        probs = logits.softmax(dim=1)[:, 1:]
        onehot = F.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].to(probs.dtype)
        inter = (probs * onehot).sum(dim=(0, 2, 3))
        total = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
        dice = (2 * inter + 1.0) / (total + 1.0)
        loss = loss + dice_weight * (1.0 - dice.mean())
    return loss


def _tensors(cases: xr.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(channel_array(cases))
    return x, torch.from_numpy(cases["front"].values.astype(np.int64))


def train_detector(
    train: xr.Dataset,
    validation: xr.Dataset,
    config: TrainingConfig | None = None,
    detector_config: DetectorConfig | None = None,
    *,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> FitResult:
    """Train a :class:`FrontDetector` on labelled cases (see ``synthetic_cases``).

    Parameters
    ----------
    on_epoch:
        Called as ``on_epoch(epoch, {"train_loss": ..., "val_loss": ...})`` (a tracker).
    """
    config = config or TrainingConfig()
    if config.epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {config.epochs}")
    torch.manual_seed(config.seed)
    detector = FrontDetector(ChannelStats.fit(channel_array(train)), detector_config)
    x_train, y_train = _tensors(train)
    x_val, y_val = _tensors(validation)
    weights = class_weights(y_train.numpy())
    weight_t = torch.tensor(weights, dtype=torch.float32)
    generator = torch.Generator().manual_seed(config.seed)
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=config.batch_size,
        shuffle=True,
        generator=generator,
    )
    optimiser = torch.optim.AdamW(
        detector.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    result = FitResult(detector=detector, class_weights=weights.tolist())
    best_state, best_loss, waited = None, float("inf"), 0
    for epoch in range(config.epochs):
        detector.train()
        total = 0.0
        for xb, yb in loader:
            optimiser.zero_grad()
            loss = front_loss(detector(xb), yb, weight_t, config.dice_weight)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(xb)
        detector.eval()
        with torch.no_grad():
            val = float(front_loss(detector(x_val), y_val, weight_t, config.dice_weight))
        result.train_loss.append(total / len(x_train))
        result.val_loss.append(val)
        if on_epoch is not None:
            on_epoch(epoch, {"train_loss": result.train_loss[-1], "val_loss": val})
        if val < best_loss:
            best_state, best_loss, waited = copy.deepcopy(detector.state_dict()), val, 0
            result.best_epoch = epoch
        else:
            waited += 1
            if waited >= config.patience:
                break
    detector.load_state_dict(best_state)
    detector.eval()
    return result


@torch.no_grad()
def predict_labels(detector: FrontDetector, cases: xr.Dataset) -> np.ndarray:
    """Most likely class per cell of labelled or unlabelled cases: (case, H, W) uint8."""
    x = torch.from_numpy(channel_array(cases))
    return detector(x).argmax(dim=1).numpy().astype(np.uint8)
