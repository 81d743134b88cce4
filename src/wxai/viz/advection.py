"""Figures of periodic-advection emulators: mass budgets, rollout snapshots, unseen shapes.

Every function takes plain arrays keyed by model name (``"truth"``, ``"free"``,
``"conservative"``, ...) and returns a matplotlib Figure for the caller to save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Line style per model name; other names cycle through the default colours.
STYLES: dict[str, dict[str, object]] = {
    "truth": {"color": "k", "lw": 2.0},
    "free": {"color": "C3", "lw": 1.5, "ls": "--"},
    "conservative": {"color": "C0", "lw": 1.5},
}

#: Drifts below this are drawn at it, so exact zeros appear on a logarithmic axis.
DRIFT_FLOOR = 1e-17


def _style(name: str, index: int) -> dict[str, object]:
    return dict(STYLES.get(name, {"color": f"C{index + 4}", "lw": 1.5}))


def _label(name: str) -> str:
    return {"free": "free CNN", "conservative": "conservative CNN"}.get(name, name)


def plot_mass_drift(
    ax: Axes,
    drift: Mapping[str, np.ndarray],
    *,
    bound: float | None = None,
    title: str = "Relative mass drift",
) -> None:
    """The largest drift over fields at every step, on a logarithmic axis.

    Parameters
    ----------
    drift:
        ``{model: relative mass drift (steps + 1,) or (steps + 1, fields)}``; floored at
        :data:`DRIFT_FLOOR`.
    bound:
        An acceptance bound drawn as a horizontal line.
    """
    for i, (name, values) in enumerate(drift.items()):
        worst = np.asarray(values).reshape(len(values), -1).max(axis=1)
        style = {**_style(name, i), "lw": 1.0}  # thin: rounding-level drifts are noisy
        ax.semilogy(np.maximum(worst, DRIFT_FLOOR), label=_label(name), **style)
    if bound is not None:
        ax.axhline(bound, color="0.4", ls=":", lw=1.2, label=f"bound {bound:.0e}")
    ax.set(
        xlabel="step",
        ylabel="|M(t) - M(0)| / sum|u(0)|",
        title=title,
        ylim=(DRIFT_FLOOR / 3, None),
    )
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8)


def mass_budget_figure(
    drift: Mapping[str, np.ndarray],
    rmse: Mapping[str, np.ndarray],
    losses: Mapping[str, Sequence[float]],
    *,
    bound: float,
) -> Figure:
    """Training loss, mass drift (log) and RMSE against the truth versus rollout step.

    Parameters
    ----------
    drift, rmse:
        ``{model: (steps + 1, fields)}`` each; the RMSE panel shows the mean over fields.
    losses:
        ``{model: one-step training loss per epoch}``.
    bound:
        The drift bound of the acceptance check.
    """
    import matplotlib.pyplot as plt

    from wxai.viz.training import plot_loss_curves

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
    plot_loss_curves(
        axes[0],
        {_label(k): v for k, v in losses.items()},
        styles={_label(k): STYLES[k]["color"] for k in losses if k in STYLES},
        ylabel="one-step MSE (state units$^2$)",
        title="Training (one-step loss)",
    )
    plot_mass_drift(axes[1], drift, bound=bound, title="Mass drift (worst field)")
    for i, (name, values) in enumerate(rmse.items()):
        axes[2].plot(np.asarray(values).mean(axis=1), label=_label(name), **_style(name, i))
    axes[2].set(xlabel="step", ylabel="RMSE vs truth (state units)", title="Rollout error")
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=8)
    steps = len(next(iter(drift.values()))) - 1
    fig.suptitle(f"Free vs conservative CNN emulators over {steps} steps (float64 rollouts)")
    return fig


def rollout_snapshots_figure(
    grid: np.ndarray,
    trajectories: Mapping[str, np.ndarray],
    steps_shown: Sequence[int],
    *,
    dt: float,
    xlabel: str = "x (periodic, length units)",
) -> Figure:
    """One panel per shown step with every model's field of one rollout.

    Parameters
    ----------
    grid:
        Cell centres ``(n,)``.
    trajectories:
        ``{model: (steps + 1, n)}`` from the same initial field.
    steps_shown:
        Steps to draw, e.g. ``[0, 250, 500, 1000]``.
    dt:
        Time step (time units), for the panel titles.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1,
        len(steps_shown),
        figsize=(4.2 * len(steps_shown), 3.6),
        sharey=True,
        layout="constrained",
    )
    for ax, step in zip(np.atleast_1d(axes), steps_shown, strict=True):
        for i, (name, traj) in enumerate(trajectories.items()):
            ax.plot(grid, traj[step], label=_label(name), **_style(name, i))
        ax.set(xlabel=xlabel, title=f"step {step} (t = {step * dt:.3g})")
        ax.grid(alpha=0.3)
    first = np.atleast_1d(axes)[0]
    first.set_ylabel("u (state units)")
    first.legend(fontsize=8)
    fig.suptitle("Autoregressive rollout from a Gaussian bump: truth vs free vs conservative")
    return fig


def unseen_shapes_figure(
    grid: np.ndarray,
    trajectories: Mapping[str, Mapping[str, np.ndarray]],
    drift: Mapping[str, Mapping[str, np.ndarray]],
    *,
    step: int,
    bound: float,
    xlabel: str = "x (periodic, length units)",
) -> Figure:
    """Unseen initial shapes: fields at ``step`` (top) and each model's mass drift (bottom).

    Parameters
    ----------
    trajectories:
        ``{shape: {model: (steps + 1, n)}}``; the truth's step 0 is drawn as the initial field.
    drift:
        ``{shape: {model: (steps + 1,)}}`` relative mass drift.
    step:
        The step shown in the top row.
    bound:
        The drift bound of the acceptance check.
    """
    import matplotlib.pyplot as plt

    shapes = list(trajectories)
    fig, axes = plt.subplots(
        2, len(shapes), figsize=(5 * len(shapes), 7), squeeze=False, layout="constrained"
    )
    for col, shape in enumerate(shapes):
        top, bottom = axes[0, col], axes[1, col]
        runs = trajectories[shape]
        top.plot(grid, runs["truth"][0], color="0.6", lw=1.0, ls=":", label="initial")
        for i, (name, traj) in enumerate(runs.items()):
            top.plot(grid, traj[step], label=_label(name), **_style(name, i))
        top.set(xlabel=xlabel, ylabel="u (state units)", title=f"{shape}: step {step}")
        top.grid(alpha=0.3)
        top.legend(fontsize=7)
        plot_mass_drift(
            bottom,
            drift[shape],
            bound=bound,
            title=f"{shape}: mass drift",
        )
    fig.suptitle("Shapes never seen in training (trained on Gaussian bumps only)")
    return fig
