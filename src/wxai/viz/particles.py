"""Figures of cycled ensemble (particle) filters: particle clouds and error time series."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "figure_difference_series",
    "figure_error_series",
    "figure_particle_scatter",
    "running_mean",
]


def running_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` consecutive values (clipped to ``1..len(x)``).

    Parameters
    ----------
    x:
        Series ``(K,)``.

    Returns
    -------
    np.ndarray
        ``(K - window + 1,)``: the mean of every complete window.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(f"running_mean needs a non-empty 1D series, got shape {x.shape}")
    window = max(1, min(window, x.size))
    return np.convolve(x, np.ones(window) / window, mode="valid")


def figure_particle_scatter(
    ensembles: Mapping[str, tuple[np.ndarray, np.ndarray]],
    truth: np.ndarray,
    y: np.ndarray,
    *,
    cycle: int,
) -> Figure:
    """Forecast and analysis particles of a 3-variable state observed in ``x1`` and ``x2``.

    One row per method, panels ``x1-x2`` and ``x1-x3``.

    Parameters
    ----------
    ensembles:
        Method -> (forecast particles, analysis particles), each ``(N, 3)``.
    truth:
        True state ``(3,)``.
    y:
        Observation of ``(x1, x2)``, ``(2,)``.
    cycle:
        The cycle index, for the titles.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(ensembles), 2, figsize=(10, 4.5 * len(ensembles)), squeeze=False)
    for row, (name, (xb, xa)) in enumerate(ensembles.items()):
        for col, (j, label) in enumerate([(1, "x2"), (2, "x3")]):
            ax = axes[row, col]
            ax.scatter(xb[:, 0], xb[:, j], s=14, c="C0", alpha=0.6, label="forecast particles")
            ax.scatter(xa[:, 0], xa[:, j], s=14, c="C1", alpha=0.8, label="analysis particles")
            ax.plot(*xb.mean(0)[[0, j]], "s", c="C0", ms=9, mec="k", label="forecast mean")
            ax.plot(*xa.mean(0)[[0, j]], "D", c="C1", ms=9, mec="k", label="analysis mean")
            ax.plot(*truth[[0, j]], "k*", ms=14, label="truth")
            if j == 1:
                ax.plot(*y, "rX", ms=11, label="observation")
            else:
                ax.axvline(y[0], color="r", lw=1, ls="--", label="observed x1")
            ax.set(xlabel="x1", ylabel=label)
        err_b = float(np.linalg.norm(xb.mean(0) - truth))
        err_a = float(np.linalg.norm(xa.mean(0) - truth))
        axes[row, 0].set_title(
            f"{name}, cycle {cycle}: |xb - xt| = {err_b:.2f}, |xa - xt| = {err_a:.2f}",
            fontsize=10,
        )
        axes[row, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def figure_error_series(
    errors: Mapping[str, tuple[np.ndarray, np.ndarray]], *, window: int
) -> Figure:
    """Running means of the analysis (top) and first-guess (bottom) errors per cycle.

    Parameters
    ----------
    errors:
        Method -> (analysis error ``(K,)``, first-guess error ``(K,)``).
    window:
        Running-mean window (cycles).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for i, (name, (an_error, fg_error)) in enumerate(errors.items()):
        axes[0].plot(running_mean(an_error, window), f"C{i}", lw=1.2, label=name)
        axes[1].plot(running_mean(fg_error, window), f"C{i}", lw=1.2, label=name)
    axes[0].set(ylabel="analysis RMSE", yscale="log", title=f"running mean over {window} cycles")
    axes[1].set(xlabel="cycle", ylabel="first-guess RMSE", yscale="log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_difference_series(
    delta: np.ndarray, *, window: int, ylabel: str, positive: str, negative: str
) -> Figure:
    """A signed series per cycle, green above 0 and red below, with its running mean.

    Parameters
    ----------
    delta:
        The series ``(K,)``, e.g. the first-guess error of method B minus that of A.
    window:
        Running-mean window (cycles).
    positive, negative:
        What a positive / negative value means, for the title.
    """
    import matplotlib.pyplot as plt

    delta = np.asarray(delta, dtype=float)
    fig, ax = plt.subplots(figsize=(10, 4))
    cycles = np.arange(delta.size)
    ax.fill_between(cycles, delta, 0, where=delta >= 0, color="tab:green", alpha=0.5, lw=0)
    ax.fill_between(cycles, delta, 0, where=delta < 0, color="tab:red", alpha=0.5, lw=0)
    smooth = running_mean(delta, window)
    start = len(delta) - smooth.size
    ax.plot(cycles[start : start + smooth.size], smooth, "k", lw=1.2)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set(
        xlabel="cycle",
        ylabel=ylabel,
        title=f"green: {positive}, red: {negative}; mean {delta.mean():+.3f}",
    )
    fig.tight_layout()
    return fig
