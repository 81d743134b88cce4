"""Figures of trajectory reconstruction from partial observations and learned forecasts.

Used by the ORIGEN labs: states are sequences ``(n, d)`` (time, component); partial
observations are given as values ``(n, d)`` with a boolean mask of the observed ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "figure_cycle_rmse",
    "figure_final_cycle",
    "figure_forecast_skill",
    "figure_rollouts",
    "figure_sequential_analyses",
]

_NAMES = ("$x_1$", "$x_2$")


def figure_sequential_analyses(
    truth: np.ndarray,
    *,
    background: np.ndarray,
    analysis: np.ndarray,
    obs_values: np.ndarray,
    obs_mask: np.ndarray,
    round1: np.ndarray,
    round2: np.ndarray,
) -> Figure:
    """A 2-component sequence: cycled 3D-Var (left) and two sequential rounds (right).

    Parameters
    ----------
    truth, background, analysis:
        Sequences ``(n, 2)`` of the cycled pass.
    obs_values, obs_mask:
        Its observations ``(n, 2)`` (NaN where not observed) and the mask.
    round1, round2:
        Analyses after a round observing ``x_1`` and one observing ``x_2``, ``(n, 2)``.
    """
    import matplotlib.pyplot as plt

    k = np.arange(truth.shape[0])
    fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex=True)
    for j in range(2):
        ax = axes[j, 0]
        ax.plot(k, truth[:, j], "k-", lw=1.5, label="truth")
        ax.plot(k, background[:, j], "C7-", lw=0.8, label="background")
        ax.plot(k, analysis[:, j], "C3-", lw=1, label="analysis")
        seen = obs_mask[:, j]
        ax.plot(k[seen], obs_values[seen, j], f"C{j}.", ms=4, label=f"obs of {_NAMES[j]}")
        ax.set(ylabel=_NAMES[j])
        ax = axes[j, 1]
        ax.plot(k, truth[:, j], "k-", lw=1.5, label="truth")
        ax.plot(k, round1[:, j], "C1--", label="after round 1 ($x_1$ observed)")
        ax.plot(k, round2[:, j], "C2-", label="after round 2 ($x_2$ observed)")
    axes[0, 0].set_title("3D-Var cycling with persistence, random single observations")
    axes[0, 1].set_title("Two sequential rounds")
    for ax in axes[0]:
        ax.legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("step k")
    return fig


def figure_cycle_rmse(
    rmse: Mapping[str, np.ndarray],
    truth: np.ndarray,
    analyses: Mapping[int, np.ndarray],
    *,
    threshold: float,
    ylabel: str = "RMSE / sigma_o",
) -> Figure:
    """RMSE per reconstruction cycle (left) and the 2D trajectories of selected cycles.

    Parameters
    ----------
    rmse:
        Label -> RMSE per cycle ``(cycles,)``; the first two get blue and red markers.
    truth:
        True trajectory ``(n, 2)``.
    analyses:
        Cycle -> analysed trajectory ``(n, 2)``, coloured along viridis.
    threshold:
        A reference level drawn dotted (in the units of ``rmse``).
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    for (label, values), color in zip(rmse.items(), ("C0", "C3", "C2", "C1"), strict=False):
        ax1.semilogy(np.arange(values.size), values, f"{color}o-", ms=3, label=label)
    ax1.axhline(threshold, color="k", ls=":", label=f"{threshold:g} sigma_o")
    ax1.set(xlabel="cycle", ylabel=ylabel, title="RMSE per reconstruction cycle")
    ax1.legend()
    ax2.plot(truth[:, 0], truth[:, 1], "k-", lw=2, label="truth")
    cmap = plt.get_cmap("viridis")
    for index, (cycle, a) in enumerate(analyses.items()):
        color = cmap(index / max(1, len(analyses) - 1))
        ax2.plot(a[:, 0], a[:, 1], color=color, lw=0.8, label=f"cycle {cycle}")
    ax2.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal", title="Reconstruction (B update)")
    ax2.legend(fontsize=7)
    return fig


def figure_final_cycle(
    truth: np.ndarray,
    finals: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> Figure:
    """Final-cycle analyses of a 2-component sequence with their last observations.

    Parameters
    ----------
    truth:
        ``(n, 2)``.
    finals:
        Label -> (final analysis ``(n, 2)``, observed values ``(n, 2)``, mask ``(n, 2)``);
        one column of panels each.
    """
    import matplotlib.pyplot as plt

    k = np.arange(truth.shape[0])
    fig, axes = plt.subplots(2, len(finals), figsize=(12, 6), sharex=True, sharey=True)
    axes = np.asarray(axes).reshape(2, len(finals))
    for col, (label, (final, values, mask)) in enumerate(finals.items()):
        for j in range(2):
            ax = axes[j, col]
            seen = mask[:, j]
            ax.plot(k[seen], values[seen, j], f"C{j}.", ms=4, label="obs")
            ax.plot(k, truth[:, j], "k-", lw=1.5, label="truth")
            ax.plot(k, final[:, j], "C3-", lw=1, label="final analysis")
            ax.set(ylabel=_NAMES[j])
        score = float(np.sqrt(np.mean((final - truth) ** 2)))
        axes[0, col].set_title(f"Final cycle, {label}: RMSE {score:.4f}")
    axes[0, 0].legend(fontsize=7)
    return fig


def figure_forecast_skill(
    cycle_rmse: np.ndarray,
    cycle_spread: np.ndarray,
    sigma_o: float,
    losses: Mapping[str, Sequence[float]],
    lead_errors: Mapping[str, np.ndarray],
) -> Figure:
    """Reconstruction RMSE per cycle, training losses, and forecast RMSE by lead.

    Parameters
    ----------
    cycle_rmse, cycle_spread:
        Analysis RMSE and the spread the scheme assumes, per cycle ``(cycles,)``.
    sigma_o:
        Observation-error standard deviation, drawn dotted.
    losses:
        Stage label -> loss per epoch; stages are drawn one after the other.
    lead_errors:
        Label -> RMSE by lead ``1..L`` ``(L,)``, styles grey squares, blue, red.
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4))
    ax1.semilogy(cycle_rmse, "C3o-", ms=3, label="analysis RMSE")
    ax1.semilogy(cycle_spread, "C0--", label="assumed spread sqrt(tr A / 3)")
    ax1.axhline(sigma_o, color="k", ls=":", label="sigma_o")
    ax1.set(xlabel="cycle", ylabel="RMSE", title="ORIGEN reconstruction (B <- A)")
    ax1.legend(fontsize=7)
    start = 0
    for label, loss in losses.items():
        if len(loss):
            ax2.semilogy(np.arange(start, start + len(loss)), loss, label=label)
        start += len(loss)
    ax2.set(xlabel="epoch", ylabel="loss", title="Training")
    ax2.legend(fontsize=7)
    for (label, errors), style in zip(lead_errors.items(), ("C7s-", "C0o--", "C3o-"), strict=False):
        ax3.plot(np.arange(1, errors.size + 1), errors, style, label=label)
    ax3.set(xlabel="lead (steps)", ylabel="RMSE vs truth", title="Forecasts from analyses")
    ax3.legend(fontsize=7)
    return fig


def figure_rollouts(
    truth: np.ndarray,
    reference: np.ndarray,
    starts: np.ndarray,
    paths: np.ndarray,
    *,
    names: Sequence[str] = ("x", "y", "z"),
) -> Figure:
    """Forecast segments started from a reference sequence, one panel per component.

    Parameters
    ----------
    truth, reference:
        True and reconstructed sequences over the window, ``(w, d)``.
    starts, paths:
        Start indices ``(s,)`` and forecasts ``(s, lead + 1, d)``.
    """
    import matplotlib.pyplot as plt

    steps = np.arange(truth.shape[0])
    lead = paths.shape[1] - 1
    fig, axes = plt.subplots(len(names), 1, figsize=(12, 8), sharex=True)
    for j, (ax, name) in enumerate(zip(np.atleast_1d(axes), names, strict=True)):
        ax.plot(steps, truth[:, j], "k-", lw=0.8, alpha=0.5, label="truth")
        ax.plot(steps, reference[:, j], "k--", lw=1, label="reconstructed reference")
        for index, start in enumerate(starts):
            ax.plot(
                start + np.arange(lead + 1),
                paths[index, :, j],
                "C0-",
                lw=1.2,
                label="learned rollout" if index == 0 else None,
            )
        ax.plot(starts, reference[starts, j], "C3o", ms=4, label="analysis start")
        ax.set(ylabel=name)
    np.atleast_1d(axes)[0].legend(fontsize=7, ncol=4)
    np.atleast_1d(axes)[-1].set_xlabel("step after the training period")
    return fig
