"""Figures of lagged causal discovery: scenario series, recovered link graphs, scores.

Links are ``(source, target, lag)`` tuples of plain strings and ints (see
:mod:`wxai.physics.causal`); every quantity is a dimensionless anomaly and time is in steps.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["link_graphs_figure", "precision_recall_figure", "scenario_series_figure"]

Link = tuple[str, str, int]

_COLOURS = {"F": "tab:gray", "P": "tab:blue", "T": "tab:red"}
_CORRECT, _FALSE, _MISSED = "tab:green", "tab:red", "0.6"
_BEND = 0.18  # curvature of the arrows, so that A -> B and B -> A do not overlap


def scenario_series_figure(
    series: Mapping[str, Mapping[str, np.ndarray]],
    lagged_corr: Mapping[str, np.ndarray],
    *,
    titles: Mapping[str, str],
    scatter_lag: int,
    steps: int,
) -> Figure:
    """Per scenario (one row): the series, ``P(t - scatter_lag)`` against ``T(t)``, and the
    lagged ``P``-``T`` correlation.

    Parameters
    ----------
    series:
        Scenario -> variable name (``F``, ``P``, ``T``) -> series ``(time,)``.
    lagged_corr:
        Scenario -> ``corr(P(t - lag), T(t))`` for ``lag = 0 .. L``, shape ``(L + 1,)``.
    titles:
        Scenario -> a one-line description for the row.
    scatter_lag:
        Lag of ``P`` in the scatter plot (steps).
    steps:
        Number of leading time steps drawn in the time-series panel.
    """
    rows = list(series)
    fig, axes = plt.subplots(
        len(rows),
        3,
        figsize=(15, 3.6 * len(rows)),
        layout="constrained",
        gridspec_kw={"width_ratios": [3, 1.2, 1.2]},
        squeeze=False,
    )
    for (ax_series, ax_scatter, ax_corr), name in zip(axes, rows, strict=True):
        for variable, values in series[name].items():
            colour = _COLOURS.get(variable)
            ax_series.plot(values[:steps], lw=1.0, color=colour, label=variable)
        ax_series.set(
            xlabel="time (steps)",
            ylabel="anomaly (dimensionless)",
            title=f"{name}: {titles[name]}",
        )
        ax_series.legend(loc="upper right", ncol=3, fontsize=8)
        p, t = series[name]["P"], series[name]["T"]
        x, y = p[: len(p) - scatter_lag], t[scatter_lag:]
        slope, intercept = np.polyfit(x, y, 1)
        ax_scatter.scatter(x, y, s=3, alpha=0.3, color="tab:purple")
        grid = np.linspace(x.min(), x.max(), 2)
        ax_scatter.plot(grid, slope * grid + intercept, color="k", lw=1.2, label="least squares")
        r = lagged_corr[name][scatter_lag]
        ax_scatter.set(
            xlabel=f"P(t-{scatter_lag}) (dimensionless)",
            ylabel="T(t) (dimensionless)",
            title=f"r = {r:.2f}, slope = {slope:.2f}",
        )
        ax_scatter.legend(loc="upper left", fontsize=8)
        lags = np.arange(len(lagged_corr[name]))
        ax_corr.bar(lags, lagged_corr[name], color="tab:purple")
        ax_corr.set(
            xlabel="lag of P (steps)",
            ylabel="corr(P(t-lag), T(t))",
            ylim=(min(0.0, float(np.min(lagged_corr[name]))) - 0.05, 1.0),
            title="lagged P-T correlation",
        )
        ax_corr.set_xticks(lags)
    return fig


def _node_positions(variables: Sequence[str]) -> dict[str, np.ndarray]:
    """Variables on a circle (a triangle for three), the first at the top."""
    angles = np.pi / 2 + 2 * np.pi * np.arange(len(variables)) / len(variables)
    return {v: np.array([np.cos(a), np.sin(a)]) for v, a in zip(variables, angles, strict=True)}


def _pair_style(found: Mapping[int, int], true_lags: set[int], n_runs: int) -> tuple[str, str]:
    """Colour and line style of one arrow from its found lags (lag -> runs) and true lags."""
    if any(lag not in true_lags for lag in found):
        return _FALSE, "-"
    if true_lags and all(found.get(lag, 0) == n_runs for lag in true_lags):
        return _CORRECT, "-"
    return _MISSED, "--"


def _draw_graph(
    ax: Axes,
    variables: Sequence[str],
    counts: Mapping[Link, int],
    truth: Collection[Link],
    n_runs: int,
) -> None:
    """One directed graph: an arrow per ordered pair with a found or true link."""
    position = _node_positions(variables)
    for name, xy in position.items():
        ax.add_patch(plt.Circle(xy, 0.22, color=_COLOURS.get(name, "tab:gray"), zorder=3))
        ax.text(*xy, name, ha="center", va="center", color="w", fontsize=14, zorder=4)
    pairs = {(s, t) for s, t, _ in (*counts, *truth)}
    for source, target in sorted(pairs):
        found = {lag: n for (s, t, lag), n in counts.items() if (s, t) == (source, target) and n}
        true_lags = {lag for s, t, lag in truth if (s, t) == (source, target)}
        if not found and not true_lags:
            continue
        colour, style = _pair_style(found, true_lags, n_runs)
        start, end = position[source], position[target]
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                connectionstyle=f"arc3,rad={_BEND}",
                arrowstyle="-|>",
                mutation_scale=16,
                shrinkA=22,
                shrinkB=22,
                color=colour,
                linestyle=style,
                lw=2,
            )
        )
        # Midpoint of the quadratic Bezier curve that "arc3" draws: on the arrow itself.
        chord = end - start
        on_arc = (start + end) / 2 + 0.5 * _BEND * np.array([chord[1], -chord[0]])
        label = ",".join(str(lag) for lag in sorted(found or true_lags))
        ax.text(
            *on_arc,
            f"τ={label}",
            ha="center",
            va="center",
            fontsize=8,
            color=colour,
            bbox={"boxstyle": "round,pad=0.15", "fc": "w", "ec": "none"},
            zorder=5,
        )
    ax.set(xlim=(-1.5, 1.5), ylim=(-1.2, 1.45), aspect="equal")
    ax.axis("off")


def link_graphs_figure(
    counts: Mapping[str, Mapping[str, Mapping[Link, int]]],
    truth: Mapping[str, Collection[Link]],
    variables: Sequence[str],
    n_runs: int,
) -> Figure:
    """The true and the recovered cross-link graphs: one row per scenario, one column per
    method (the truth first).

    Parameters
    ----------
    counts:
        Scenario -> method -> link -> number of runs (seeds) that found it.
    truth:
        Scenario -> true cross-links.
    variables:
        Node names in drawing order.
    n_runs:
        Runs per scenario and method. Green: only true links, each found in every run;
        red: a false link in at least one run; grey dashed: a true link missed in a run.
        Labels list the lags found in any run.
    """
    scenarios = list(counts)
    methods = list(next(iter(counts.values())))
    fig, axes = plt.subplots(
        len(scenarios),
        len(methods) + 1,
        figsize=(3.2 * (len(methods) + 1), 3.2 * len(scenarios)),
        layout="constrained",
        squeeze=False,
    )
    for row, scenario in zip(axes, scenarios, strict=True):
        true_counts = dict.fromkeys(truth[scenario], n_runs)
        _draw_graph(row[0], variables, true_counts, truth[scenario], n_runs)
        row[0].set_title(f"{scenario}\ntrue graph", fontsize=10)
        for ax, method in zip(row[1:], methods, strict=True):
            _draw_graph(ax, variables, counts[scenario][method], truth[scenario], n_runs)
            found = sum(counts[scenario][method].values())
            wrong = sum(
                n for link, n in counts[scenario][method].items() if link not in truth[scenario]
            )
            ax.set_title(
                f"{method}\n{found} links in {n_runs} runs, {wrong} of them false", fontsize=10
            )
    fig.suptitle(
        "Cross-links (source -> target, lag τ in steps; self-links not drawn). Green: true links "
        "found in every run, red: false links, grey dashed: true links missed",
        fontsize=10,
    )
    return fig


def precision_recall_figure(scores: Mapping[str, Mapping[str, tuple[float, float]]]) -> Figure:
    """Precision and recall of each method, one panel per scenario.

    ``scores`` maps scenario -> method -> ``(precision, recall)``, each in [0, 1].
    """
    scenarios = list(scores)
    fig, axes = plt.subplots(
        1,
        len(scenarios),
        figsize=(5.5 * len(scenarios), 3.8),
        layout="constrained",
        squeeze=False,
    )
    width = 0.38
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        methods = list(scores[scenario])
        x = np.arange(len(methods))
        for offset, index, label, colour in (
            (-width / 2, 0, "precision", "tab:blue"),
            (width / 2, 1, "recall", "tab:orange"),
        ):
            values = [scores[scenario][m][index] for m in methods]
            bars = ax.bar(x + offset, values, width, label=label, color=colour)
            ax.bar_label(bars, fmt="%.2f", fontsize=8)
        ax.set_xticks(x, methods)
        ax.set(ylim=(0, 1.15), ylabel="score (fraction of links)", title=scenario)
        ax.legend(loc="upper center", ncol=2, fontsize=8)
    return fig
