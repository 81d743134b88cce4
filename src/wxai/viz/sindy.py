"""Figures of equation discovery (SINDy, neural SINDy) on a three-variable system.

Trajectories are arrays ``(n, 3)`` (time, variable) at times ``(n,)`` in model time units;
coefficient matrices are ``(variables, terms)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "figure_coefficients",
    "figure_discovered_trajectories",
    "figure_error_vs_noise",
    "figure_noisy_discovery",
]

_NAMES = ("x", "y", "z")
_METHOD_STYLE = {"finite differences": ("C1", "s"), "neural": ("C2", "o")}


def figure_discovered_trajectories(
    t: np.ndarray,
    truth: np.ndarray,
    discovered: np.ndarray,
    *,
    equations: Sequence[str] = (),
    names: Sequence[str] = _NAMES,
) -> Figure:
    """True and discovered trajectories from the same initial state.

    Top: the two attractors in 3D; bottom: each component against time.

    Parameters
    ----------
    t:
        Times ``(n,)``.
    truth, discovered:
        Trajectories ``(n, 3)``; ``discovered`` integrates the SINDy model.
    equations:
        Discovered equations, printed above the panels.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 9))
    grid = fig.add_gridspec(2, 6, height_ratios=(1.4, 1), hspace=0.3, wspace=0.9)
    for col, (label, states, color) in enumerate(
        (("True Lorenz-63", truth, "k"), ("SINDy-discovered model", discovered, "C2"))
    ):
        ax = fig.add_subplot(grid[0, 3 * col : 3 * col + 3], projection="3d")
        ax.plot(*states.T, color=color, lw=0.4)
        ax.set(xlabel=names[0], ylabel=names[1], zlabel=names[2], title=label)
    for j in range(3):
        ax = fig.add_subplot(grid[1, 2 * j : 2 * j + 2])
        ax.plot(t, truth[:, j], "k-", lw=1.2, label="truth")
        ax.plot(t, discovered[:, j], "C2--", lw=1, label="discovered")
        ax.set(xlabel="time (model units)", ylabel=names[j])
    ax.legend(fontsize=8, loc="upper right")
    if equations:
        text = "\n".join(["Discovered from noise-free data:", *equations])
        fig.suptitle(text, fontsize=10, family="monospace")
    return fig


def figure_noisy_discovery(
    t: np.ndarray,
    truth: np.ndarray,
    observations: np.ndarray,
    *,
    smooth: np.ndarray,
    derivatives: Mapping[str, np.ndarray],
    t_evolution: np.ndarray,
    evolutions: Mapping[str, np.ndarray],
    noise: float,
    shown: slice | None = None,
    names: Sequence[str] = _NAMES,
) -> Figure:
    """Noisy data, derivative estimates and the evolution of the discovered models.

    Rows are the three variables; columns: (1) observations, truth and the smooth network
    fit; (2) derivative estimates against the true tendency; (3) each discovered model
    integrated from the true initial state against the truth.

    Parameters
    ----------
    t, truth, observations, smooth:
        Times ``(n,)``, true states, noisy observations, network fit ``(n, 3)``.
    derivatives:
        Label -> ``(n, 3)``; first ``"true"``, then estimates (finite differences, neural).
    t_evolution, evolutions:
        Times ``(m,)`` and label -> ``(m, 3)``, the first ``"truth"``.
    noise:
        Observation-noise standard deviation, for the title.
    shown:
        Samples drawn in the first two columns (default: the first 20 %).
    """
    import matplotlib.pyplot as plt

    shown = shown or slice(0, max(t.size // 5, 2))
    fig, axes = plt.subplots(3, 3, figsize=(15, 9), sharex="col")
    # colour, line style, width, drawing order: the noisy FD curve goes under the others
    styles = {"true": ("k", "-", 1.4, 3), "finite differences": ("C1", "-", 0.6, 1)}
    for j in range(3):
        ax = axes[j, 0]
        ax.plot(t[shown], observations[shown, j], ".", color="C0", ms=2, label="observations")
        ax.plot(t[shown], truth[shown, j], "k-", lw=1.2, label="truth")
        ax.plot(t[shown], smooth[shown, j], "C2--", lw=1.2, label="network fit $x_\\theta$")
        ax.set(ylabel=names[j])
        ax = axes[j, 1]
        for label, values in derivatives.items():
            color, style, width, order = styles.get(label, ("C2", "--", 1.4, 4))
            ax.plot(
                t[shown],
                values[shown, j],
                color=color,
                ls=style,
                lw=width,
                zorder=order,
                label=label,
            )
        ax.set(ylabel=f"d{names[j]}/dt (per time unit)")
        ax = axes[j, 2]
        for states, color in zip(evolutions.values(), ("k", "C1", "C2"), strict=False):
            ax.plot(t_evolution, states[:, j], color=color, lw=1.2 if color == "k" else 1)
        ax.set(ylabel=names[j])
    axes[0, 0].set_title(f"Data (noise sigma = {noise:g}) and smooth fit")
    axes[0, 1].set_title("Derivative estimates")
    axes[0, 2].set_title("Evolution of the discovered models")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[0, 1].legend(fontsize=7, loc="upper right")
    axes[0, 2].legend(list(evolutions), fontsize=7, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel("time (model units)")
    fig.tight_layout()
    return fig


def figure_error_vs_noise(
    noise_levels: Sequence[float],
    errors: Mapping[str, np.ndarray],
    exact: Mapping[str, np.ndarray],
    *,
    threshold: float | None = None,
) -> Figure:
    """Coefficient error and structure recovery of each method against observation noise.

    Parameters
    ----------
    noise_levels:
        Noise standard deviations ``(L,)`` (state units).
    errors:
        Method -> relative coefficient error ``(L, seeds)``.
    exact:
        Method -> whether the discovered support was exact ``(L, seeds)``.
    threshold:
        STLSQ threshold, for the title.
    """
    import matplotlib.pyplot as plt

    noise = np.asarray(noise_levels, dtype=float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    for label, values in errors.items():
        color, marker = _METHOD_STYLE.get(label, ("C0", "^"))
        right = np.asarray(exact[label], dtype=bool)
        ax1.plot(noise, np.median(values, axis=1), color=color, lw=1.2, label=f"{label} (median)")
        for i, level in enumerate(noise):
            ax1.scatter(
                np.full(values.shape[1], level)[right[i]],
                values[i][right[i]],
                color=color,
                marker=marker,
                s=22,
            )
            ax1.scatter(
                np.full(values.shape[1], level)[~right[i]],
                values[i][~right[i]],
                facecolors="none",
                edgecolors=color,
                marker=marker,
                s=22,
            )
        ax2.plot(noise, right.mean(axis=1), color=color, marker=marker, label=label)
    ax1.scatter([], [], color="0.4", label="seed, right terms (filled)")
    ax1.scatter([], [], facecolors="none", edgecolors="0.4", label="seed, wrong terms (hollow)")
    ax1.set(
        xscale="log",
        yscale="log",
        xlabel="observation noise sigma (state units)",
        ylabel=r"coefficient error $\|\Xi - \Xi_{true}\| / \|\Xi_{true}\|$",
        title="Coefficient error" + (f" (STLSQ threshold {threshold:g})" if threshold else ""),
    )
    ax1.legend(fontsize=7)
    ax2.set(
        xscale="log",
        ylim=(-0.05, 1.05),
        xlabel="observation noise sigma (state units)",
        ylabel="fraction of seeds with the exact set of terms",
        title="Structure recovery",
    )
    ax2.legend(fontsize=8)
    return fig


def figure_coefficients(
    terms: Sequence[str],
    matrices: Mapping[str, np.ndarray],
    *,
    names: Sequence[str] = _NAMES,
) -> Figure:
    """Coefficient matrices side by side, each entry written out (zeros left blank).

    Parameters
    ----------
    terms:
        Library term names, one per column.
    matrices:
        Label -> ``(3, len(terms))``; the first is the reference (true) matrix, and
        entries of the others whose support differs from it are framed in red.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    reference = next(iter(matrices.values()))
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 2.6))
    for ax, (label, xi) in zip(np.atleast_1d(axes), matrices.items(), strict=True):
        shade = np.sign(xi) * np.log1p(np.abs(xi)) / 3.5  # signed log scale in [-1, 1]
        ax.imshow(shade, cmap="RdBu_r", vmin=-1, vmax=1)
        for i, j in np.ndindex(xi.shape):
            if xi[i, j] != 0:
                color = "w" if abs(shade[i, j]) > 0.6 else "k"
                ax.text(j, i, f"{xi[i, j]:.2f}", ha="center", va="center", fontsize=7, color=color)
            if (xi[i, j] != 0) != (reference[i, j] != 0):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="r", lw=2))
        ax.set_xticks(range(len(terms)), [term.replace(" ", "") for term in terms])
        ax.set_yticks(range(len(names)), [f"d{n}/dt" for n in names])
        ax.set_title(label, fontsize=10)
    fig.text(0.5, -0.02, "red frame: term kept or dropped wrongly", ha="center", fontsize=8)
    return fig
