"""Figures of generative models: samples against a target distribution, a learned map
from noise to samples, and snapshots of a diffusion process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_samples(ax: Axes, values: np.ndarray, colour: str, label: str | None = None) -> None:
    """Samples ``(n, 1)`` as a density histogram, or ``(n, 2)`` as a scatter plot."""
    if values.shape[1] == 1:
        ax.hist(values[:, 0], bins=60, density=True, color=colour, alpha=0.7, label=label)
        ax.set(xlabel="x (standardised)", ylabel="density")
    else:
        ax.scatter(values[:, 0], values[:, 1], s=2, color=colour, alpha=0.5, label=label)
        ax.set(xlabel="x\u2081 (standardised)", ylabel="x\u2082", aspect="equal")


def plot_histograms(
    ax: Axes,
    reference: np.ndarray,
    others: Mapping[str, tuple[np.ndarray, dict]],
    *,
    bins: int = 60,
    title: str = "Target vs generated distribution",
) -> None:
    """Density histogram of 1D ``reference`` samples and step outlines of others.

    ``others`` maps a label to ``(samples, extra matplotlib keyword arguments)``; all
    share the bins spanning every sample.
    """
    lows = [reference.min(), *(v.min() for v, _ in others.values())]
    highs = [reference.max(), *(v.max() for v, _ in others.values())]
    edges = np.linspace(min(lows), max(highs), bins)
    ax.hist(reference, bins=edges, density=True, color="0.6", label="target samples")
    for label, (values, style) in others.items():
        ax.hist(values, bins=edges, density=True, histtype="step", label=label, **style)
    ax.set(xlabel="x", ylabel="density", title=title)
    ax.legend(fontsize=8)


def plot_noise_map(ax: Axes, z: np.ndarray, mapped: np.ndarray, reference: np.ndarray) -> None:
    """A learned 1D map ``x = G(z)`` from standard-normal noise, against monotone transport.

    The monotone transport of N(0, 1) onto the ``reference`` samples is
    ``F^-1(Phi(z))``; a sorted-sample loss cannot tell an increasing map from a
    decreasing one, so the reference follows the direction of ``mapped``.
    """
    ax.plot(z, mapped, "C1-", lw=2, label="generator x = G(z)")
    sign = 1.0 if mapped[-1] >= mapped[0] else -1.0
    levels = 0.5 * (1 + np.vectorize(math.erf)(sign * z / math.sqrt(2)))
    ax.plot(
        z, np.quantile(reference, levels), "k:", lw=1.5,
        label="monotone transport F\u207b\u00b9(\u03a6(\u00b1z)) of the target",
    )  # fmt: skip
    ax.set(xlabel="noise z ~ N(0, 1)", ylabel="sample x", title="Learned map from noise to samples")
    ax.legend(fontsize=8)


def diffusion_snapshots_figure(
    states: Mapping[str, Mapping[int, np.ndarray]],
    steps: Sequence[int],
    alpha_bar: Sequence[float],
    *,
    title: str,
    colour: str = "C0",
) -> Figure:
    """One row per target, one column per diffusion step, samples at each.

    Parameters
    ----------
    states:
        ``{target name: {step t: samples (n, d)}}``.
    steps:
        Steps in column order (ascending for the forward process, descending for the
        reverse one).
    alpha_bar:
        ``alpha_bar[t]`` of the noise schedule, shown in each panel title.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(states), len(steps), figsize=(3.3 * len(steps), 3.3 * len(states)),
        squeeze=False, layout="constrained",
    )  # fmt: skip
    for row, (name, by_step) in enumerate(states.items()):
        for ax, t in zip(axes[row], steps, strict=True):
            plot_samples(ax, by_step[t], colour)
            ax.set_title(f"{name}\nt = {t}, \u0101_t = {float(alpha_bar[t]):.3f}", fontsize=9)
    fig.suptitle(title)
    return fig
