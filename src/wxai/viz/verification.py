"""Figures of verification: error growth with lead time, scorecards, spectra, class scores.

Each function builds a matplotlib :class:`~matplotlib.figure.Figure` (not attached to
pyplot, so nothing needs closing), saves it as PNG when given a path, and returns it.
The scores come from :mod:`wxai.verify.fields`, :mod:`wxai.verify.ensemble` and
:mod:`wxai.verify.spectra`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["plot_class_scores", "plot_error_growth", "plot_scorecard", "plot_spectra"]

PathLike = str | os.PathLike[str]


def _save(fig: Figure, path: PathLike | None) -> Figure:
    if path is not None:
        from wxai.data.formats._common import atomic_path

        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    return fig


def plot_error_growth(
    leads_hours: ArrayLike,
    scores: Mapping[str, ArrayLike],
    variable: str,
    units: str,
    *,
    score: str = "RMSE",
    title: str | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Error against lead time, one curve per forecasting system.

    Parameters
    ----------
    leads_hours
        Lead times [h], shape (L,).
    scores
        ``{system: score per lead (L,)}``, e.g. emulator, persistence, climatology.
    variable, units
        Name of the variable and units of the score, for the axis label.
    score
        Name of the score on the y axis.
    title
        Figure title (default: ``"<score> of <variable>"``).
    path
        PNG file to write, if any.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one line per system, in the order of ``scores``.
    """
    leads = np.asarray(leads_hours, dtype=float)
    if leads.ndim != 1 or not scores:
        raise ConfigError(
            f"plot_error_growth needs leads (L,) and at least one system, got leads "
            f"{leads.shape} and {len(scores)} systems"
        )
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for system, values in scores.items():
        curve = np.asarray(values, dtype=float)
        if curve.shape != leads.shape:
            raise ConfigError(
                f"scores of {system!r} have shape {curve.shape}, the leads {leads.shape}"
            )
        ax.plot(leads, curve, marker="o", markersize=3, label=system)
    ax.set(
        xlabel="lead time [h]",
        ylabel=f"{score} [{units}]",
        title=title if title is not None else f"{score} of {variable}",
    )
    if leads.size and leads.max() >= 48:
        step = 24 if leads.max() <= 240 else 48
        ax.set_xticks(np.arange(0.0, leads.max() + 1e-9, step))
    ax.set_ylim(bottom=0.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_scorecard(
    table: ArrayLike,
    leads: Sequence[object],
    variables: Sequence[str],
    *,
    lower_is_better: bool = True,
    label: str = "RMSE ratio emulator / persistence",
    lead_label: str = "lead time [h]",
    title: str = "Scorecard",
    path: PathLike | None = None,
) -> Figure:
    """A coloured grid of relative skill per variable and lead time, centred at 1.

    The colour is ``log(ratio)`` on a symmetric scale, so that 0.5 and 2 are equally
    strong; blue marks the better system (ratio below 1 when ``lower_is_better``, as
    for an RMSE ratio; above 1 otherwise, as for an ACC ratio), red the worse. Each
    cell is annotated with its ratio, ``-`` where it is NaN.

    Parameters
    ----------
    table
        Ratios, shape (n_variables, n_leads), positive.
    leads
        Column labels (e.g. lead times in hours), length n_leads.
    variables
        Row labels, length n_variables.
    lower_is_better
        Whether a ratio below 1 means the first system is better.
    label
        Colour bar label: what the ratio is.
    lead_label
        Label of the lead axis.
    title
        Figure title.
    path
        PNG file to write, if any.

    Returns
    -------
    matplotlib.figure.Figure
        The grid axes (one ``QuadMesh`` of n_variables * n_leads cells) and a colour bar.
    """
    ratios = np.asarray(table, dtype=float)
    if ratios.shape != (len(variables), len(leads)) or ratios.size == 0:
        raise ConfigError(
            f"plot_scorecard needs a table (n_variables, n_leads) = ({len(variables)}, "
            f"{len(leads)}), got {ratios.shape}"
        )
    if np.any(ratios[np.isfinite(ratios)] <= 0.0):
        raise ConfigError("plot_scorecard needs positive ratios (a score over a reference)")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(ratios)
    finite = np.isfinite(log_ratio)
    limit = max(float(np.abs(log_ratio[finite]).max()) if finite.any() else 0.0, np.log(1.1))
    fig = Figure(
        figsize=(1.2 + 0.6 * len(leads), 1.2 + 0.45 * len(variables)), layout="constrained"
    )
    ax = fig.add_subplot()
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(log_ratio),
        cmap="RdBu_r" if lower_is_better else "RdBu",
        norm=Normalize(-limit, limit),
        edgecolors="white",
        linewidth=0.5,
    )
    for (row, col), ratio in np.ndenumerate(ratios):
        strong = np.isfinite(ratio) and abs(np.log(ratio)) > 0.6 * limit
        ax.text(
            col + 0.5,
            row + 0.5,
            f"{ratio:.2f}" if np.isfinite(ratio) else "-",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if strong else "black",
        )
    ax.set_xticks(np.arange(len(leads)) + 0.5, [str(lead) for lead in leads])
    ax.set_yticks(np.arange(len(variables)) + 0.5, list(variables))
    ax.invert_yaxis()
    ax.set(xlabel=lead_label, title=title)
    if limit > np.log(1.3):
        ticks = np.array([0.25, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 4.0])
    else:
        ticks = np.array([0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25])
    ticks = ticks[np.abs(np.log(ticks)) <= limit + 1e-12]
    bar = fig.colorbar(mesh, ax=ax, ticks=np.log(ticks))
    bar.ax.set_yticklabels([f"{t:g}" for t in ticks])
    bar.set_label(label, fontsize=8)
    return _save(fig, path)


def plot_spectra(
    wavenumbers: ArrayLike,
    spectra: Mapping[str, ArrayLike],
    *,
    units: str = "",
    title: str = "Zonal power spectrum",
    path: PathLike | None = None,
) -> Figure:
    """Power spectra on log-log axes, one line per entry of ``spectra``.

    Wavenumber 0 (the zonal mean) has no place on a log axis and is left out.

    Parameters
    ----------
    wavenumbers
        Zonal wavenumbers, shape (K,), as from
        :func:`wxai.verify.spectra.zonal_power_spectrum`.
    spectra
        ``{name: power (K,)}``, e.g. truth and the forecast at several leads.
    units
        Units of the field; the power is in their square.
    title
        Figure title.
    path
        PNG file to write, if any.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one line per spectrum.
    """
    k = np.asarray(wavenumbers, dtype=float)
    if k.ndim != 1 or not spectra:
        raise ConfigError(
            f"plot_spectra needs wavenumbers (K,) and at least one spectrum, got "
            f"{k.shape} and {len(spectra)} spectra"
        )
    positive = k > 0
    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for name, values in spectra.items():
        power = np.asarray(values, dtype=float)
        if power.shape != k.shape:
            raise ConfigError(
                f"spectrum {name!r} has shape {power.shape}, the wavenumbers {k.shape}"
            )
        ax.loglog(k[positive], power[positive], label=name)
    compound = any(c in units for c in " /*^")
    unit = f" [({units})\u00b2]" if compound else f" [{units}\u00b2]" if units else ""
    ax.set(xlabel="zonal wavenumber", ylabel=f"power{unit}", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_class_scores(
    classes: Sequence[str],
    scores: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "score (1 = perfect)",
    title: str | None = None,
) -> Figure:
    """Grouped bars of scores in [0, 1]: one group per class (front type, warning level),
    one bar per named score (e.g. the IoU of a model and of its baseline).

    ``scores`` maps a label to one value per class (NaN draws no bar).
    """
    fig = Figure(figsize=(1.6 + 1.4 * len(classes), 3.4), layout="constrained")
    ax = fig.subplots()
    n = len(scores)
    width = 0.8 / max(n, 1)
    x = np.arange(len(classes))
    for i, (label, values) in enumerate(scores.items()):
        bars = ax.bar(x + (i - (n - 1) / 2) * width, np.asarray(values, float), width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x, list(classes))
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, ncols=min(n, 4))
    if title:
        ax.set_title(title, fontsize=10)
    return fig
