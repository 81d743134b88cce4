"""Figures of low-dimensional dynamical systems and of models learned from them.

Used by the neural right-hand-side lab: error growth against lead time, marginal and
projected climate histograms of free runs, and trajectories from one initial state.
States are arrays ``(..., n)``; time is in model units, states in model units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["component_names", "figure_climate", "figure_error_growth", "figure_trajectories"]

_LORENZ_NAMES = ("x", "y", "z")


def component_names(n: int) -> tuple[str, ...]:
    """``x, y, z`` for three components, ``x_1 .. x_n`` otherwise."""
    return _LORENZ_NAMES if n == 3 else tuple(f"x_{i + 1}" for i in range(n))


def _style(index: int, name: str) -> dict:
    """Line style of a curve: truth black, baselines grey and dashed, models coloured."""
    if name in ("truth", "true model"):
        return {"color": "k", "lw": 1.8}
    if name in ("persistence", "climatology"):
        return {"color": "0.45" if name == "persistence" else "0.7", "ls": "--", "lw": 1.2}
    return {"color": f"C{index}", "lw": 1.4}


def figure_error_growth(
    panels: Mapping[str, tuple[np.ndarray, Mapping[str, np.ndarray]]],
    *,
    threshold: float | None = None,
    marks: Mapping[str, float] | None = None,
) -> Figure:
    """RMSE against lead time, one panel per set of initial states (log scale).

    Parameters
    ----------
    panels:
        Panel title -> ``(lead_times (L,), {forecast name: RMSE (L,)})``.
    threshold:
        A horizontal line (e.g. the valid-time threshold), state units.
    marks:
        Panel title -> a lead time to mark with a vertical line (e.g. the verified lead).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (title, (lead_times, curves)) in zip(axes[0], panels.items(), strict=True):
        for i, (name, rmse) in enumerate(curves.items()):
            shown = np.where(np.isfinite(rmse) & (rmse > 0), rmse, np.nan)
            ax.plot(lead_times, shown, label=name, **_style(i, name))
        if threshold is not None:
            ax.axhline(threshold, color="C3", ls=":", lw=1, label=f"threshold {threshold:.2g}")
        if marks and title in marks:
            ax.axvline(marks[title], color="C2", ls=":", lw=1, label=f"lead {marks[title]:g}")
        ax.set(yscale="log", xlabel="lead time (model time units)", ylabel="RMSE (state units)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def figure_climate(
    samples: Mapping[str, np.ndarray],
    *,
    names: Sequence[str] | None = None,
    projection: tuple[int, int] = (0, 2),
    bins: int = 60,
) -> Figure:
    """Marginal histograms of each component (top) and 2D projections (bottom) per run.

    Parameters
    ----------
    samples:
        Run name -> climate sample ``(m, n)``; the first is the reference.
    names:
        Component names (default :func:`component_names`).
    projection:
        The two components of the bottom-row histograms (default ``x`` and ``z``).
    """
    import matplotlib.pyplot as plt

    runs = list(samples.items())
    n = runs[0][1].shape[1]
    names = tuple(names or component_names(n))
    cols = max(n, len(runs))
    fig, axes = plt.subplots(2, cols, figsize=(3.8 * cols, 7), squeeze=False)
    ref = runs[0][1]
    for j in range(n):
        ax = axes[0, j]
        edges = np.linspace(ref[:, j].min(), ref[:, j].max(), bins + 1)
        pad = 0.1 * (edges[-1] - edges[0])
        edges = np.linspace(edges[0] - pad, edges[-1] + pad, bins + 1)
        for i, (label, sample) in enumerate(runs):
            ax.hist(
                sample[:, j], edges, density=True, histtype="step", label=label, **_style(i, label)
            )
        ax.set(xlabel=f"${names[j]}$ (state units)", ylabel="density")
        ax.set_title(f"marginal of ${names[j]}$", fontsize=10)
    axes[0, 0].legend(fontsize=7)
    for j in range(n, cols):
        axes[0, j].axis("off")
    a, b = projection
    lim_a = (ref[:, a].min(), ref[:, a].max())
    lim_b = (ref[:, b].min(), ref[:, b].max())
    for i, (label, sample) in enumerate(runs):
        ax = axes[1, i]
        ax.hist2d(sample[:, a], sample[:, b], bins=bins, range=(lim_a, lim_b), cmap="Greys")
        ax.set(xlabel=f"${names[a]}$", ylabel=f"${names[b]}$")
        ax.set_title(f"{label}: ${names[a]}$-${names[b]}$ histogram", fontsize=10)
    for i in range(len(runs), cols):
        axes[1, i].axis("off")
    fig.tight_layout()
    return fig


def figure_trajectories(
    lead_times: np.ndarray,
    runs: Mapping[str, np.ndarray],
    *,
    background: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    projection: tuple[int, int] = (0, 2),
    title: str = "",
) -> Figure:
    """Runs from one initial state: a phase-plane projection and each component in time.

    Parameters
    ----------
    lead_times:
        ``(L,)`` model time units.
    runs:
        Run name -> states ``(L, n)``; name the reference ``"truth"``.
    background:
        States ``(m, n)`` drawn in grey behind the phase plane (e.g. the attractor).
    """
    import matplotlib.pyplot as plt

    n = next(iter(runs.values())).shape[1]
    names = tuple(names or component_names(n))
    rows = (n + 2) // 2
    fig, grid = plt.subplots(rows, 2, figsize=(11, 3.6 * rows), squeeze=False)
    axes = grid.ravel()
    for ax in axes[n + 1 :]:
        ax.axis("off")
    a, b = projection
    phase = axes[0]
    if background is not None:
        phase.plot(background[:, a], background[:, b], ".", ms=2, color="0.8", label="attractor")
    for i, (label, states) in enumerate(runs.items()):
        finite = np.all(np.isfinite(states), axis=1)
        phase.plot(states[finite, a], states[finite, b], label=label, **_style(i, label))
        for j in range(n):
            axes[j + 1].plot(lead_times[finite], states[finite, j], label=label, **_style(i, label))
    start = next(iter(runs.values()))[0]
    phase.plot(start[a], start[b], "o", color="C3", ms=6, label="start")
    phase.set(xlabel=f"${names[a]}$", ylabel=f"${names[b]}$")
    phase.set_title("phase plane", fontsize=10)
    phase.legend(fontsize=7, loc="lower left")
    for j in range(n):
        axes[j + 1].set(xlabel="time (model time units)", ylabel=f"${names[j]}$ (state units)")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
