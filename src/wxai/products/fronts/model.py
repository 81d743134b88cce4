"""The front detector: channel normalisation and a U-Net, saved as one small file.

:class:`FrontDetector` maps physical fields ``(B, 6, H, W)`` in :data:`CHANNELS` order
to class logits ``(B, 4, H, W)``; the normalisation is part of the module, so the
exported ONNX graph takes the same physical fields. H and W must be multiples of
``2**depth``; :func:`~wxai.products.fronts.detect.detect_fronts` pads charts to that.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from wxai.core.errors import DataFormatError
from wxai.data.formats import atomic_path
from wxai.nn.unet import UNet2d
from wxai.products.fronts.cases import CHANNELS, FRONT_CLASSES
from wxai.products.stats import ChannelStats

__all__ = [
    "DETECTOR_FORMAT",
    "MODEL_ENV",
    "DetectorConfig",
    "FrontDetector",
    "find_front_model",
    "load_detector",
    "models_dir",
    "save_detector",
]

DETECTOR_FORMAT = "wxai-front-detector/1"
#: Environment variable naming the detector file the CLI and the cockpit use.
MODEL_ENV = "WXAI_FRONT_MODEL"
_MODEL_FILE = "front-detector.pt"


@dataclass(frozen=True)
class DetectorConfig:
    """U-Net size: channels at full resolution and number of halvings."""

    base_channels: int = 16
    depth: int = 2


class FrontDetector(nn.Module):
    """Normalise, then a :class:`~wxai.nn.unet.UNet2d` with 6 inputs and 4 classes."""

    def __init__(self, stats: ChannelStats, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DetectorConfig()
        self.register_buffer(
            "mean", torch.tensor(stats.mean, dtype=torch.float32).view(1, -1, 1, 1)
        )
        self.register_buffer(
            "stdev", torch.tensor(stats.std, dtype=torch.float32).view(1, -1, 1, 1)
        )
        self.unet = UNet2d(
            len(CHANNELS),
            len(FRONT_CLASSES),
            base_channels=self.config.base_channels,
            depth=self.config.depth,
        )

    @property
    def multiple(self) -> int:
        """H and W must be multiples of this."""
        return 2**self.config.depth

    @property
    def stats(self) -> ChannelStats:
        """The training statistics, (C,) each."""
        return ChannelStats(
            mean=self.mean.flatten().cpu().numpy(), std=self.stdev.flatten().cpu().numpy()
        )

    def forward(self, fields: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 4, H, W)`` from physical fields ``(B, 6, H, W)``."""
        return self.unet((fields - self.mean) / self.stdev)


def save_detector(
    detector: FrontDetector, path: str | os.PathLike, metadata: dict[str, Any] | None = None
) -> Path:
    """Write weights, statistics and config to ``path`` (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": DETECTOR_FORMAT,
        "channels": list(CHANNELS),
        "classes": {int(k): v for k, v in FRONT_CLASSES.items()},
        "config": asdict(detector.config),
        "state_dict": detector.state_dict(),
        "metadata": dict(metadata or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def models_dir(home: str | os.PathLike) -> Path:
    """``<home>/products/fronts``: one folder per trained detector."""
    return Path(home) / "products" / "fronts"


def find_front_model(home: str | os.PathLike | None = None) -> Path | None:
    """The detector named by ``WXAI_FRONT_MODEL``, else the newest under :func:`models_dir`."""
    named = os.environ.get(MODEL_ENV)
    if named:
        return Path(named)
    if home is None:
        from wxai.core.paths import home_dir

        home = home_dir()
    found = sorted(models_dir(home).glob(f"*/{_MODEL_FILE}"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def load_detector(path: str | os.PathLike) -> tuple[FrontDetector, dict[str, Any]]:
    """The detector saved at ``path`` (eval mode) and its metadata.

    Raises
    ------
    DataFormatError
        Missing file, not a front detector, or another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(
            f"no front detector at {path}; train one with `wxai lab run front-detection`"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataFormatError(f"{path} is not a readable front detector ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != DETECTOR_FORMAT:
        raise DataFormatError(f"{path} is not a wxai front detector ({DETECTOR_FORMAT})")
    if list(payload["channels"]) != list(CHANNELS):
        raise DataFormatError(
            f"{path} was trained on channels {payload['channels']}, this wxai uses {list(CHANNELS)}"
        )
    state = payload["state_dict"]
    stats = ChannelStats(
        mean=state["mean"].flatten().numpy().astype(np.float64),
        std=state["stdev"].flatten().numpy().astype(np.float64),
    )
    detector = FrontDetector(stats, DetectorConfig(**payload["config"]))
    detector.load_state_dict(state)
    return detector.eval(), dict(payload.get("metadata", {}))
