"""Figures of classifiers and detectors: labelled points, probability maps with input
gradients, predicted curves, confusion matrices, score histograms and ROC curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_ellipse_labels(
    ax: Axes,
    points: np.ndarray,
    labels: np.ndarray,
    ellipses: Sequence[tuple[Sequence[float], Sequence[float], float]],
) -> None:
    """Points ``(n, 2)`` coloured by a 0/1 label and the ellipses that define class 1.

    ``ellipses`` holds ``(centre, (major, minor) semi-axes, angle in degrees)`` each.
    """
    from matplotlib.patches import Ellipse

    ax.scatter(points[:, 0], points[:, 1], c=np.where(labels > 0, "C3", "C0"), s=5, alpha=0.6)
    for centre, (major, minor), angle in ellipses:
        ax.add_patch(
            Ellipse(centre, 2 * major, 2 * minor, angle=angle, fill=False, lw=2, color="k")
        )
    ax.scatter([], [], c="C3", s=12, label="class 1: inside an ellipse")
    ax.scatter([], [], c="C0", s=12, label="class 0: outside")
    ax.legend(loc="lower left", fontsize=8)
    ax.set(title="Labels from two shifted, rotated ellipses", xlabel="x\u2081", ylabel="x\u2082")


def plot_probability_map(
    ax: Axes,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    arrows: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    title: str = "",
) -> object:
    """A class-1 probability map, its p = 0.5 contour and input-gradient arrows.

    Parameters
    ----------
    grid:
        ``(xx, yy, p)``, the meshgrid and the probability on it.
    arrows:
        ``(cx, cy, g)``, a coarser meshgrid and the gradient ``grad_x p`` there
        ``(*cx.shape, 2)``. Gradients span orders of magnitude, so an arrow's length is
        ``|g|^0.3`` (relative to the largest) along ``g``.

    Returns
    -------
    The colour mesh (for a shared colour bar).
    """
    xx, yy, prob = grid
    cx, cy, grads = arrows
    image = ax.pcolormesh(xx, yy, prob, cmap="RdBu_r", vmin=0, vmax=1, shading="auto")
    ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1.5)
    norm = np.linalg.norm(grads, axis=-1, keepdims=True)
    shown = grads / np.maximum(norm, 1e-12) * (norm / max(norm.max(), 1e-12)) ** 0.3
    ax.quiver(cx, cy, shown[..., 0], shown[..., 1], color="k", alpha=0.7, width=0.003)
    ax.set(title=title, xlabel="x\u2081", ylabel="x\u2082", aspect="equal")
    return image


def curve_predictions_figure(
    x: np.ndarray,
    curves: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str = "",
    n_wrong: int = 6,
    n_shown: int = 18,
) -> Figure:
    """A grid of classified curves, misclassified ones first and in red.

    Parameters
    ----------
    x:
        Abscissa ``(n_points,)``.
    curves:
        ``(n, n_points)`` curves.
    labels, predicted:
        True and predicted class ``(n,)``.
    n_wrong:
        At most this many misclassified curves lead the grid.
    """
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(predicted != labels)
    right = np.flatnonzero(predicted == labels)
    shown = np.r_[wrong[:n_wrong], right[: n_shown - min(len(wrong), n_wrong)]][:n_shown]
    fig, axes = plt.subplots(3, n_shown // 3, figsize=(16, 7), sharex=True, layout="constrained")
    for ax, k in zip(axes.flat, shown, strict=False):
        ok = predicted[k] == labels[k]
        ax.plot(x, curves[k], color="C0" if ok else "C3", lw=1.2)
        ax.set_title(
            f"true {class_names[labels[k]]}\npredicted {class_names[predicted[k]]}",
            fontsize=8,
            color="k" if ok else "C3",
        )
        ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("f(x)")
    fig.suptitle(title)
    return fig


def plot_confusion_matrix(
    ax: Axes, confusion: np.ndarray, class_names: Sequence[str], *, title: str = ""
) -> None:
    """Counts ``confusion[true, predicted]`` as an annotated image with a colour bar."""
    image = ax.imshow(confusion, cmap="Blues")
    for (row, col), count in np.ndenumerate(confusion):
        ax.text(col, row, str(count), ha="center", va="center")
    ticks = range(len(class_names))
    ax.set(
        xticks=ticks, yticks=ticks, xticklabels=class_names, yticklabels=class_names,
        xlabel="predicted class", ylabel="true class", title=title,
    )  # fmt: skip
    ax.figure.colorbar(image, ax=ax, label="count")


def plot_score_histograms(
    ax: Axes, scores: np.ndarray, labels: np.ndarray, *, xlabel: str = "score"
) -> None:
    """Histograms of positive scores ``(n,)`` for the two classes, on log-spaced bins."""
    bins = np.logspace(np.log10(scores.min()), np.log10(scores.max()), 30)
    ax.hist(scores[labels == 0], bins=bins, color="C0", alpha=0.7, label="normal")
    ax.hist(scores[labels == 1], bins=bins, color="C3", alpha=0.7, label="anomalous")
    ax.set(xscale="log", xlabel=xlabel, ylabel="cases", title="Scores of the test set")
    ax.legend()


def plot_roc(ax: Axes, fpr: np.ndarray, tpr: np.ndarray, auc: float, *, name: str = "") -> None:
    """A ROC curve with its area in the legend, and the chance diagonal."""
    ax.plot(fpr, tpr, "C3-", lw=2, label=f"{name} (AUC {auc:.3f})".strip())
    ax.plot([0, 1], [0, 1], "k:", label="chance (AUC 0.5)")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC curve")
    ax.legend(loc="lower right")


def plot_reconstructions(
    axes: Sequence[Axes],
    series: np.ndarray,
    reconstructions: np.ndarray,
    titles: Sequence[str],
    anomalous: Sequence[bool],
) -> None:
    """Sequences ``(k, time)`` (red if anomalous) with their reconstructions, one per axes."""
    for ax, values, recon, title, odd in zip(
        axes, series, reconstructions, titles, anomalous, strict=True
    ):
        ax.plot(values, "-", color="C3" if odd else "C0", lw=1.5, label="input")
        ax.plot(recon, "--", color="k", lw=1.2, label="reconstruction")
        ax.set(title=title, xlabel="time step", ylabel="value")
    axes[0].legend(fontsize=8)
