"""The maps the cockpit's emulator tools draw on the model's cells."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = ["cells_png"]


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
