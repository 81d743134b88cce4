"""What the cockpit keeps beside an emulator checkpoint, and the maps its tools draw.

Caches (``scorecard.json``, ``ensemble.json``) are JSON files in the checkpoint's
folder: valid while newer than the checkpoint, written atomically, skipped where the
folder is read-only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = ["cells_png", "read_cache", "write_cache"]


def read_cache(ckpt: InferenceCheckpoint, name: str) -> Any | None:
    """The JSON ``name`` beside the checkpoint; None when missing, older or unreadable."""
    path = ckpt.path.parent / name
    try:
        if path.stat().st_mtime < ckpt.path.stat().st_mtime:
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_cache(ckpt: InferenceCheckpoint, name: str, data: Any) -> bool:
    """Write ``data`` as the JSON ``name`` beside the checkpoint; False where it cannot."""
    path = ckpt.path.parent / name
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(data, indent=1))
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        return False
    return True


def cells_png(
    ckpt: InferenceCheckpoint,
    panels: dict[str, np.ndarray],
    path: Path,
    *,
    cmaps: dict[str, str],
    suptitle: str,
    limits: dict[str, tuple[float, float]] | None = None,
) -> Path:
    """Global maps of ``panels`` (title -> values (N,) on the model's cells), two per row.

    ``cmaps`` and ``limits`` (colour range) by panel title.
    """
    import matplotlib.pyplot as plt

    from wxai.viz.emulator_panels import plot_cell_fields

    figure = plot_cell_fields(
        ckpt.data.latitudes, ckpt.data.longitudes, panels, ncols=min(2, len(panels)),
        cmaps=cmaps, limits=limits, suptitle=suptitle,
    )  # fmt: skip
    try:
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
    return path
