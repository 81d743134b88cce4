"""Figures of a network fitted to a formula of two inputs, and of its fine-tuning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["fine_tune_figure", "formula_fit_figure"]


def formula_fit_figure(
    x_grid: np.ndarray,
    y_grid: np.ndarray,
    truth: np.ndarray,
    error: np.ndarray,
    scatter: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    labels: tuple[str, str, str],
    titles: tuple[str, str],
    units: str,
) -> Figure:
    """The formula as a surface, the network's error on it, predicted vs true on a test set.

    Parameters
    ----------
    x_grid, y_grid
        Input meshes, shape (ny, nx).
    truth
        The formula on the mesh, shape (ny, nx).
    error
        Network minus formula on the mesh, shape (ny, nx).
    scatter
        Legend label -> (true values, predictions) of a test set, each (n,); drawn in
        order, the first grey and small, the others in colour.
    labels
        Axis labels of the two inputs and of the output (with units).
    titles
        Titles of the surface and of the error panel.
    units
        Units of the output, for the error colour bar.
    """
    x_label, y_label, quantity = labels
    fig, (ax_truth, ax_error, ax_scatter) = plt.subplots(
        1, 3, figsize=(16, 4.4), layout="constrained"
    )
    filled = ax_truth.contourf(x_grid, y_grid, truth, levels=20, cmap="Blues_r")
    lines = ax_truth.contour(x_grid, y_grid, truth, levels=10, colors="k", linewidths=0.5)
    ax_truth.clabel(lines, fmt="%.0f", fontsize=7)
    fig.colorbar(filled, ax=ax_truth, label=quantity)
    ax_truth.set(xlabel=x_label, ylabel=y_label, title=titles[0])
    limit = max(float(np.abs(error).max()), 1e-3)
    mesh = ax_error.pcolormesh(
        x_grid, y_grid, error, cmap="RdBu_r", vmin=-limit, vmax=limit, shading="auto"
    )
    fig.colorbar(mesh, ax=ax_error, label=f"network \u2212 formula [{units}]")
    ax_error.set(xlabel=x_label, ylabel=y_label, title=titles[1])
    low, high = np.inf, -np.inf
    for i, (label, (true, predicted)) in enumerate(scatter.items()):
        style = {"c": "0.6", "alpha": 0.5} if i == 0 else {"c": f"C{i - 1}"}
        ax_scatter.scatter(np.ravel(true), np.ravel(predicted), s=4, label=label, **style)
        low, high = min(low, float(np.min(true))), max(high, float(np.max(true)))
    ax_scatter.plot([low, high], [low, high], "k--", lw=1, label="1:1")
    ax_scatter.set(xlabel=f"formula: {quantity}", ylabel=f"predicted: {quantity}",
                   title="Test set")  # fmt: skip
    ax_scatter.legend(fontsize=8, loc="upper left")
    return fig


def fine_tune_figure(
    losses: tuple[Sequence[float], Sequence[float]],
    rmses: dict[str, Sequence[float]],
    groups: Sequence[str],
    *,
    units: str,
) -> Figure:
    """Training loss of a base run and its continuation, and test RMSE per input range.

    Parameters
    ----------
    losses
        Per-epoch training loss of the base run and of the fine-tuning run, which
        continues the epoch count.
    rmses
        Model name (``champion``, ``challenger``) -> RMSE on each of ``groups``.
    groups
        Names of the test sets (input ranges), x-tick labels.
    units
        Units of the RMSE.
    """
    base, tuned = losses
    fig, (ax_loss, ax_bar) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    ax_loss.semilogy(range(1, len(base) + 1), base, "C0", label="champion (base run)")
    ax_loss.semilogy(range(len(base) + 1, len(base) + len(tuned) + 1), tuned, "C3",
                     label="challenger (fine-tune child run)")  # fmt: skip
    ax_loss.set(xlabel="epoch (fine-tuning continues the count)",
                ylabel="training MSE (standardized)", title="Training loss")  # fmt: skip
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()
    positions = np.arange(len(groups))
    width = 0.8 / max(len(rmses), 1)
    colours = ("C0", "C3", "C2", "C1")
    for i, (name, values) in enumerate(rmses.items()):
        offset = (i - (len(rmses) - 1) / 2) * width
        bars = ax_bar.bar(positions + offset, values, width=width, color=colours[i % 4],
                          label=name)  # fmt: skip
        ax_bar.bar_label(bars, fmt="%.2f", fontsize=8)
    ax_bar.set(xticks=positions, xticklabels=groups, ylabel=f"test RMSE [{units}]",
               title="Champion vs fine-tuned challenger, per input range")  # fmt: skip
    ax_bar.legend()
    return fig
