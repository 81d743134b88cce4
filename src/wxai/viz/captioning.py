"""Figures of the wind-image captioner: example images with captions, the training loss,
and accuracy by speed bin next to the confusion matrix of compass points.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from wxai.viz.classifiers import plot_confusion_matrix
from wxai.viz.training import plot_loss_curves


def caption_examples_figure(
    images: np.ndarray,
    true_captions: Sequence[str],
    generated: Sequence[str],
    hits: Sequence[bool],
    *,
    columns: int = 4,
) -> Figure:
    """A grid of images ``(n, H, W, 3)`` uint8, each titled with its true and generated caption.

    Generated captions that are misses (``hits`` False: wrong sector or speed off by more
    than the tolerance) are drawn in red.
    """
    n = len(images)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.3 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    rows_of_cases = zip(images, true_captions, generated, hits, strict=True)
    for ax, (image, truth, said, hit) in zip(axes.flat, rows_of_cases, strict=False):
        ax.imshow(image, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"true: {truth.removeprefix('wind ')}", fontsize=8, loc="left")
        ax.set_xlabel(f"said: {said.removeprefix('wind ')}", fontsize=8, loc="left")
        ax.xaxis.label.set_color("black" if hit else "C3")
    fig.suptitle("Unseen wind images (hue = direction from, brightness = speed 0-30 m/s, north up)")
    fig.tight_layout()
    return fig


def caption_loss_figure(losses: Sequence[float], *, baseline: float | None = None) -> Figure:
    """Teacher-forced cross-entropy [nats per token] per epoch, with an optional reference."""
    fig, ax = plt.subplots(figsize=(6, 4))
    reference = None if baseline is None else (baseline, "constant most-common caption")
    plot_loss_curves(
        ax,
        {"training": losses},
        ylabel="cross-entropy [nats / token]",
        title="Captioner training (teacher forcing)",
        reference=reference,
    )
    return fig


def caption_accuracy_figure(
    edges: np.ndarray,
    sector_rate: np.ndarray,
    speed_rate: np.ndarray,
    confusion: np.ndarray,
    sector_names: Sequence[str],
    *,
    baseline: tuple[float, float] | None = None,
    tolerance: float = 3.0,
) -> Figure:
    """Left: sector and speed hit rates per true-speed bin; right: sector confusion counts.

    Parameters
    ----------
    edges:
        Speed-bin edges ``(k + 1,)`` [m s-1].
    sector_rate, speed_rate:
        ``(k,)`` rates per bin in [0, 1].
    confusion:
        ``(8, 8)`` counts [true, said].
    baseline:
        ``(sector rate, speed rate)`` of the constant caption, drawn as dotted lines.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), width_ratios=(1, 1.1))
    centres = 0.5 * (edges[:-1] + edges[1:])
    width = 0.4 * np.diff(edges)
    left.bar(centres - width / 2, sector_rate, width, color="C0", label="sector right")
    left.bar(
        centres + width / 2, speed_rate, width, color="C1", label=f"speed within {tolerance:g} m/s"
    )
    if baseline is not None:
        left.axhline(baseline[0], color="C0", ls=":", label="baseline sector")
        left.axhline(baseline[1], color="C1", ls=":", label="baseline speed")
    left.axhline(0.8, color="k", lw=0.8, ls="--", label="acceptance 0.8")
    left.set(
        xlabel="true mean speed [m/s]",
        ylabel="fraction of unseen fields",
        ylim=(0, 1.3),
        xticks=edges,
        title="Hit rates by speed bin",
    )
    left.legend(fontsize=8, loc="upper center", ncol=3)
    short = ["".join(part[0].upper() for part in name.split("-")) for name in sector_names]
    plot_confusion_matrix(right, confusion, short, title="Compass point: true vs said")
    right.set(xlabel="said sector", ylabel="true sector")
    fig.tight_layout()
    return fig
