"""Figures of physics-informed networks: solutions beyond the training interval, loss curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from wxai.viz.training import plot_loss_curves

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_pinn_extrapolation(
    x: np.ndarray,
    exact: np.ndarray,
    solutions: Mapping[str, np.ndarray],
    *,
    residual_intervals: Mapping[str, tuple[float, float]],
    bound: float | None = None,
    exact_label: str = "exact",
    xlabel: str = "x [rad]",
    pi_ticks: bool = True,
) -> Figure:
    """PINN solutions against the exact one (top) and their absolute errors (bottom).

    Parameters
    ----------
    x, exact:
        Evaluation points ``(n,)`` and the exact solution there ``(n,)``.
    solutions:
        ``{label: network solution (n,)}``, drawn in the order given.
    residual_intervals:
        ``{label: (lower, upper)}`` where each solution's residual was enforced. The
        first interval is shaded; a bracket above the top panel marks each interval.
    bound:
        Error bound drawn as a dotted line in the error panel.
    pi_ticks:
        Label the x axis at multiples of pi.
    """
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    lo, hi = next(iter(residual_intervals.values()))
    for ax in (top, bottom):
        ax.axvspan(lo, hi, color="C7", alpha=0.15, lw=0)
        ax.grid(alpha=0.3)
    top.plot(x, exact, "k-", lw=3, alpha=0.35, label=exact_label)
    floor = np.finfo(float).eps
    for index, (label, values) in enumerate(solutions.items()):
        style = {"color": f"C{index}", "lw": 1.4, "ls": "-" if index < 3 else "--"}
        top.plot(x, values, label=label, **style)
        bottom.semilogy(x, np.maximum(np.abs(values - exact), floor), **style)
    top.set_xlim(float(x[0]), float(x[-1]))
    _mark_intervals(top, residual_intervals, list(solutions))
    top.set(ylabel="y", title="PINN solutions of y'' + y = 0, y(0) = 0, y'(0) = 1")
    top.set_ylim(-2.2, 3.1)
    top.legend(fontsize=8, loc="lower left", ncol=2)
    if bound is not None:
        bottom.axhline(bound, color="k", ls=":", lw=1.2, label=f"bound {bound:g}")
        bottom.legend(fontsize=8, loc="lower right")
    bottom.set(xlabel=xlabel, ylabel="|y_PINN - exact|", title="Absolute error")
    bottom.set_xlim(float(x[0]), float(x[-1]))
    if pi_ticks:
        ticks = np.arange(np.ceil(x[0] / np.pi), np.floor(x[-1] / np.pi) + 1)
        bottom.set_xticks(ticks * np.pi, [_pi_label(k) for k in ticks])
    fig.tight_layout()
    return fig


def _mark_intervals(ax, intervals: Mapping[str, tuple[float, float]], order: Sequence[str]):
    """A bar per solution, in its colour, over the interval where its residual was enforced."""
    for row, (label, (lo, hi)) in enumerate(intervals.items()):
        color = f"C{order.index(label)}" if label in order else "C7"
        y = 2.95 - 0.15 * row
        ax.plot([lo, hi], [y, y], color=color, lw=3, solid_capstyle="butt")
    text = "bars: where each residual is enforced; shaded: training interval "
    ax.text(ax.get_xlim()[1], 2.95 - 0.15 * len(intervals), text, ha="right", va="top", fontsize=8)


def _pi_label(k: float) -> str:
    return {0: "0", 1: "π"}.get(int(k), f"{int(k)}π")


def figure_pinn_losses(
    histories: Mapping[str, Sequence[float]], adam_epochs: int, *, title: str = ""
) -> Figure:
    """PINN loss curves: Adam epochs, then L-BFGS loss evaluations, split by a dashed line.

    Parameters
    ----------
    histories:
        ``{label: total loss per Adam epoch then per L-BFGS evaluation}``.
    adam_epochs:
        Number of Adam epochs (where L-BFGS starts).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    plot_loss_curves(
        ax,
        {label: np.asarray(values) for label, values in histories.items()},
        xlabel="Adam epoch, then L-BFGS loss evaluation",
        ylabel="loss = mean r^2 + w * condition misfit",
        title=title or "PINN training loss",
        lw=1.0,
    )
    ax.axvline(adam_epochs, color="k", ls="--", lw=1)
    ax.text(adam_epochs, ax.get_ylim()[0], " L-BFGS ->", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig
