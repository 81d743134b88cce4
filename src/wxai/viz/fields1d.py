"""Figures of fields on a line or a ring of nodes: forecasts against truth, the hidden
feature maps of a 1D CNN, and a ring graph coloured by a field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_forecast_case(
    ax: Axes,
    x: np.ndarray,
    now: np.ndarray,
    truth: np.ndarray,
    forecast: np.ndarray,
    *,
    title: str = "",
    xlabel: str = "x (periodic)",
) -> None:
    """One field at ``t`` (= the persistence forecast), the truth at ``t + 1`` and a forecast."""
    ax.plot(x, now, color="0.6", lw=1.2, label="input f(t) = persistence")
    ax.plot(x, truth, "k-", lw=1.8, label="truth f(t+1)")
    ax.plot(x, forecast, "C1--", lw=1.8, label="CNN forecast")
    ax.set(xlabel=xlabel, ylabel="f", title=title)


def forecast_cases_figure(
    x: np.ndarray,
    now: np.ndarray,
    truth: np.ndarray,
    forecast: np.ndarray,
    losses: list[float],
    *,
    title: str,
) -> Figure:
    """Forecasts of the first three cases against truth and persistence, and the loss curve.

    ``now``, ``truth`` and ``forecast`` are ``(cases, n)`` on the grid ``x`` ``(n,)``.
    """
    import matplotlib.pyplot as plt

    from wxai.viz.training import plot_loss_curves

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6), layout="constrained")
    for k, ax in enumerate(axes[:3]):
        plot_forecast_case(ax, x, now[k], truth[k], forecast[k], title=f"test case {k + 1}")
    axes[0].legend(fontsize=7, loc="upper left")
    plot_loss_curves(axes[3], {"training": losses})
    fig.suptitle(title)
    return fig


def feature_maps_figure(
    x: np.ndarray,
    now: np.ndarray,
    truth: np.ndarray,
    maps: Mapping[str, np.ndarray],
    *,
    activation: str = "relu",
) -> Figure:
    """An input field and hidden feature maps of a 1D CNN below it, on one x axis.

    Parameters
    ----------
    x:
        Grid ``(n,)``, equally spaced.
    now, truth:
        Input field and the truth one step later, ``(n,)``.
    maps:
        ``{layer name: (channels, n) activations}``, one panel each.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1 + len(maps), 1, figsize=(10, 8), sharex=True, layout="constrained",
        gridspec_kw={"height_ratios": [1] + [2] * len(maps)},
    )  # fmt: skip
    axes[0].plot(x, now, "k-", label="input f(t)")
    axes[0].plot(x, truth, "C1--", label="truth f(t+1)")
    axes[0].set(ylabel="f", title="Input field")
    axes[0].legend(fontsize=8)
    step = x[1] - x[0]
    for ax, (name, values) in zip(axes[1:], maps.items(), strict=True):
        image = ax.imshow(
            values, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest",
            extent=(x[0] - step / 2, x[-1] + step / 2, -0.5, values.shape[0] - 0.5),
        )  # fmt: skip
        ax.set(ylabel="channel", title=f"{name} hidden layer: {values.shape[0]} feature maps")
        fig.colorbar(image, ax=ax, label=f"{activation} activation")
    axes[-1].set_xlabel("x (periodic)")
    return fig


def plot_ring_graph(ax: Axes, values: np.ndarray, *, label: str = "field") -> None:
    """Nodes on a circle joined to their neighbours, coloured by ``values`` ``(n,)``."""
    n = len(values)
    angle = 2 * np.pi * np.arange(n) / n
    for i in range(n):
        j = (i + 1) % n
        ax.plot(
            [np.cos(angle[i]), np.cos(angle[j])], [np.sin(angle[i]), np.sin(angle[j])], "k-", lw=0.6
        )
    dots = ax.scatter(np.cos(angle), np.sin(angle), c=values, cmap="coolwarm", s=40, zorder=3)
    ax.figure.colorbar(dots, ax=ax, shrink=0.7, label=label)
    ax.set(
        aspect="equal",
        xticks=[],
        yticks=[],
        title=f"Periodic ring, {n} nodes,\nedges to both neighbours",
    )


def plot_reconstruction(
    ax: Axes,
    x: np.ndarray,
    truth: np.ndarray,
    observed: np.ndarray,
    predictions: Mapping[str, tuple[np.ndarray, str]],
    *,
    title: str = "",
    shade: tuple[float, float] | None = None,
) -> None:
    """A field, its observed points and reconstructions from them.

    Parameters
    ----------
    x, truth:
        Node coordinates and true values ``(n,)``.
    observed:
        ``(n,)`` bool mask of the observed nodes.
    predictions:
        ``{label: (values (n,), matplotlib format)}``.
    shade:
        ``(x0, x1)`` of a shaded band labelled "training domain".
    """
    ax.plot(x, truth, "k-", lw=1.5, label="truth")
    ax.scatter(x[observed], truth[observed], c="k", s=18, zorder=3, label="observed")
    for label, (values, style) in predictions.items():
        ax.plot(x, values, style, lw=1.5, label=label)
    if shade is not None:
        ax.axvspan(*shade, color="C0", alpha=0.08, label="training domain")
    ax.set(xlabel="x [rad]", ylabel="f(x)", title=title)
    ax.legend(fontsize=7, loc="lower left", ncol=2)


def plot_error_bars(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    colours: Sequence[str],
    *,
    reference: tuple[float, str] | None = None,
    ylabel: str = "RMSE",
    title: str = "",
) -> None:
    """Bars of errors with an optional dotted reference line (e.g. a zero predictor)."""
    ax.bar(list(labels), list(values), color=list(colours))
    if reference is not None:
        ax.axhline(reference[0], color="C7", ls=":", label=reference[1])
        ax.legend(fontsize=8)
    ax.set(ylabel=ylabel, title=title)
