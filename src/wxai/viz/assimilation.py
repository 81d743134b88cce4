"""Figures of assimilation experiments: 1D analyses, benchmarks, sections and mesh fields.

Every function takes plain arrays (the viz layer does not know :mod:`wxai.da` types)
and either draws on given axes or returns a new :class:`~matplotlib.figure.Figure`
that the caller saves and closes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "figure_analysis_1d",
    "figure_benchmark",
    "figure_field_forecast",
    "figure_mesh_case",
    "figure_obs2obs_training",
    "figure_profiles",
    "figure_rmse_per_case",
    "figure_sections",
    "figure_unseen_cases",
    "plot_analysis_1d",
    "plot_mesh_field",
    "plot_section",
]


def plot_analysis_1d(
    ax_state: Axes,
    ax_inc: Axes,
    grid: np.ndarray,
    *,
    truth: np.ndarray,
    background: np.ndarray,
    obs_index: np.ndarray,
    y: np.ndarray,
    analyses: Mapping[str, np.ndarray],
) -> None:
    """Truth, background, observations and analyses (``ax_state``) and increments (``ax_inc``).

    Parameters
    ----------
    grid, truth, background:
        Positions [rad] and fields, shape ``(n,)``.
    obs_index, y:
        Observed grid points and their values, shape ``(m,)``.
    analyses:
        Name -> analysis ``(n,)``; the first is drawn solid, the others dotted.
    """
    ax_state.plot(grid, truth, "k-", lw=1.5, label="truth")
    ax_state.plot(grid, background, "C0--", lw=1.2, label="background")
    ax_state.scatter(grid[obs_index], y, c="C3", s=14, zorder=3, label="obs")
    for i, (name, xa) in enumerate(analyses.items()):
        style = "-" if i == 0 else ":"
        ax_state.plot(grid, xa, f"C{i + 1}", lw=1.2, ls=style, label=name)
        ax_inc.plot(grid, xa - background, f"C{i + 1}", ls=style, label=name)
    innovation = y - background[obs_index]
    ax_inc.scatter(grid[obs_index], innovation, c="C3", s=12, label="obs - background")
    ax_inc.axhline(0, color="0.6", lw=0.8)
    ax_state.set(ylabel="state")
    ax_inc.set(xlabel="x [rad]", ylabel="increment")
    ax_state.legend(fontsize=7, ncol=3)
    ax_inc.legend(fontsize=7)


def figure_analysis_1d(
    grid: np.ndarray,
    *,
    truth: np.ndarray,
    background: np.ndarray,
    obs_index: np.ndarray,
    y: np.ndarray,
    analyses: Mapping[str, np.ndarray],
    title: str,
    loss: Sequence[float] | None = None,
) -> Figure:
    """One 1D analysis (see :func:`plot_analysis_1d`), with the training cost below if given.

    Parameters
    ----------
    loss:
        Cost per optimizer step, drawn on a log axis in a third row.
    """
    import matplotlib.pyplot as plt

    if loss is None:
        fig, (ax_state, ax_inc) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    else:
        fig, (ax_state, ax_inc, ax_loss) = plt.subplots(
            3, 1, figsize=(9, 8), height_ratios=[2, 1.3, 1]
        )
        ax_loss.semilogy(loss)
        ax_loss.set(xlabel="step", ylabel="J")
    plot_analysis_1d(
        ax_state,
        ax_inc,
        grid,
        truth=truth,
        background=background,
        obs_index=obs_index,
        y=y,
        analyses=analyses,
    )
    ax_state.set_title(title)
    return fig


def figure_unseen_cases(
    grid: np.ndarray,
    *,
    truth: np.ndarray,
    background: np.ndarray,
    reference: np.ndarray,
    learned: np.ndarray,
    obs: Sequence[tuple[np.ndarray, np.ndarray]],
    loss: Sequence[float],
    names: tuple[str, str] = ("3D-Var", "AI-Var"),
) -> Figure:
    """Four test cases, the training cost and the per-case RMSE of two analyses.

    Parameters
    ----------
    grid:
        Positions [rad], ``(n,)``.
    truth, background, reference, learned:
        Fields of the test cases, ``(cases, n)`` with ``cases >= 4``.
    obs:
        Per case, the observed grid indices and values ``((m_k,), (m_k,))``.
    loss:
        Mean training cost per epoch.
    names:
        Labels of ``reference`` and ``learned``.
    """
    import matplotlib.pyplot as plt

    if truth.shape[0] < 4 or len(obs) < 4:
        raise ConfigError(f"figure_unseen_cases draws 4 cases, got {truth.shape[0]}")
    fig, axes = plt.subplots(3, 2, figsize=(12, 8))
    for k, ax in enumerate(axes.flat[:4]):
        index, values = obs[k]
        ax.plot(grid, truth[k], "k-", lw=1.2, label="truth")
        ax.plot(grid, background[k], "C0--", lw=1, label="background")
        ax.plot(grid, reference[k], "C1", lw=1.2, label=names[0])
        ax.plot(grid, learned[k], "C2:", lw=1.5, label=names[1])
        ax.scatter(grid[index], values, c="C3", s=8, label="obs")
        ax.set_title(f"unseen case {k}", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    axes[2, 0].semilogy(loss)
    axes[2, 0].set(xlabel="epoch", ylabel="mean J")
    err_ref = np.sqrt(np.mean((reference - truth) ** 2, axis=1))
    err_learned = np.sqrt(np.mean((learned - truth) ** 2, axis=1))
    axes[2, 1].scatter(err_ref, err_learned, s=6)
    lim = float(max(err_ref.max(), err_learned.max()))
    axes[2, 1].plot([0, lim], [0, lim], "k--", lw=0.8)
    axes[2, 1].set(xlabel=f"{names[0]} RMSE", ylabel=f"{names[1]} RMSE", title="unseen cases")
    fig.tight_layout()
    return fig


def figure_benchmark(
    series: Mapping[str, tuple[np.ndarray, np.ndarray, float]],
    rmse: Mapping[str, float],
    reference: Mapping[str, float],
    *,
    burn_in: float,
    title: str,
    reference_name: str = "DAPPER",
) -> Figure:
    """Analysis RMSE over the cycles of one run per method, and time means against a reference.

    Parameters
    ----------
    series:
        Method -> (times ``(K,)``, analysis RMSE ``(K,)``, its time-mean score).
    rmse, reference:
        Method -> time-mean RMSE measured here and by the reference.
    burn_in:
        End of the burn-in (model time units), marked by a dashed line.
    """
    import matplotlib.pyplot as plt

    fig, (ax_rmse, ax_bar) = plt.subplots(1, 2, figsize=(13, 4), width_ratios=[2, 1])
    for i, (label, (times, rmse_a, score)) in enumerate(series.items()):
        ax_rmse.semilogy(times, rmse_a, f"C{i}", lw=0.7, label=f"{label} ({score:.2f})")
    ax_rmse.axvline(burn_in, color="k", ls="--", lw=0.8)
    ax_rmse.set(xlabel="time", ylabel="analysis RMSE", title=title)
    ax_rmse.legend(fontsize=7)
    labels = list(rmse)
    x = np.arange(len(labels))
    ax_bar.bar(x - 0.2, [rmse[k] for k in labels], 0.4, label="wxai")
    ax_bar.bar(x + 0.2, [reference[k] for k in labels], 0.4, label=reference_name)
    ax_bar.set_xticks(x, labels, rotation=30, fontsize=7)
    ax_bar.set(ylabel="time-mean RMSE", title=f"vs {reference_name}")
    ax_bar.legend(fontsize=7)
    return fig


def plot_section(
    ax: Axes,
    field: np.ndarray,
    extent: tuple[float, float, float, float],
    title: str,
    *,
    vmin: float,
    vmax: float,
    diverging: bool = False,
) -> Any:
    """A vertical section ``(nz, nx)`` as an image with its colour bar; returns the image.

    ``diverging`` selects a red-blue map for differences and increments.
    """
    im = ax.imshow(
        field,
        origin="lower",
        extent=extent,
        aspect="auto",
        cmap="RdBu_r" if diverging else "viridis",
        vmin=vmin,
        vmax=vmax,
    )
    ax.set_title(title, fontsize=9)
    ax.figure.colorbar(im, ax=ax, fraction=0.04)
    return im


def figure_sections(
    fields: Mapping[str, np.ndarray],
    extent: tuple[float, float, float, float],
    *,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = "",
    ncols: int = 2,
) -> Figure:
    """Panels of vertical sections ``(nz, nx)``, e.g. truth, background, analyses, increments.

    Fields whose name contains ``"increment"`` are drawn with a red-blue map symmetric
    about 0, scaled by the first of them; the others share the colour range of the
    first field.

    Parameters
    ----------
    extent:
        ``(x0, x1, z0, z1)`` in domain units.
    points:
        Observation positions ``(x, z)``, each ``(m,)``, marked in white on every panel.
    """
    import matplotlib.pyplot as plt

    names = list(fields)
    first = fields[names[0]]
    increments = [name for name in names if "increment" in name]
    lim = float(np.abs(fields[increments[0]]).max()) if increments else 1.0
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(6 * ncols, 8 / 3 * nrows), sharex=True, sharey=True, squeeze=False
    )
    for ax, name in zip(axes.flat, names, strict=False):
        inc = name in increments
        plot_section(
            ax,
            fields[name],
            extent,
            name,
            vmin=-lim if inc else float(first.min()),
            vmax=lim if inc else float(first.max()),
            diverging=inc,
        )
        if points is not None:
            ax.scatter(*points, s=3, c="w")
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


def plot_mesh_field(
    ax: Axes,
    lon: np.ndarray,
    lat: np.ndarray,
    faces: np.ndarray,
    values: np.ndarray,
    *,
    title: str,
    vmin: float,
    vmax: float,
    cmap: str = "viridis",
) -> Any:
    """Node values on a triangular sphere mesh in longitude/latitude; returns the artist.

    Parameters
    ----------
    lon, lat:
        Node coordinates [degrees], ``(n,)``.
    faces:
        Node indices of the triangles, ``(f, 3)``; triangles spanning 180 degrees or more
        of longitude (across the date line) are dropped.
    values:
        ``(n,)``.
    """
    import matplotlib.tri as mtri

    span = np.ptp(lon[faces], axis=1)
    tri = mtri.Triangulation(lon, lat, faces[span < 180.0])
    im = ax.tripcolor(tri, values, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=9)
    ax.set(xlim=(-180, 180), ylim=(-90, 90))
    return im


def figure_mesh_case(
    lon: np.ndarray,
    lat: np.ndarray,
    faces: np.ndarray,
    fields: Mapping[str, np.ndarray],
    *,
    y_grid: np.ndarray,
    mask: np.ndarray,
    title: str,
) -> Figure:
    """One case on a sphere mesh: truth, background, observations, two analyses, difference.

    Parameters
    ----------
    lon, lat, faces:
        The mesh, see :func:`plot_mesh_field`.
    fields:
        Five panels in order: truth, background, analysis A, analysis B, then ``A - B``
        (drawn red-blue, symmetric about 0), each ``(n,)``; keys are the panel titles.
    y_grid, mask:
        Observations at the nodes and the 0/1 mask, ``(n,)``; the observations take the
        third panel and are marked on every panel but the truth.
    """
    import matplotlib.pyplot as plt

    if len(fields) != 5:
        raise ConfigError(f"figure_mesh_case draws 5 fields, got {len(fields)}")
    titles = list(fields)
    truth = fields[titles[0]]
    lo, hi = float(truth.min()), float(truth.max())
    obs = mask > 0
    panels = [*titles[:2], None, *titles[2:]]
    fig, axes = plt.subplots(2, 3, figsize=(14, 6.5), sharex=True, sharey=True)
    for i, (ax, name) in enumerate(zip(axes.flat, panels, strict=True)):
        if name is None:
            ax.set_facecolor("0.92")
            im = ax.scatter(lon[obs], lat[obs], c=y_grid[obs], s=30, vmin=lo, vmax=hi)
            ax.set_title(f"{int(obs.sum())} observations", fontsize=9)
        elif i == len(panels) - 1:
            lim = max(float(np.abs(fields[name]).max()), 1e-6)
            im = plot_mesh_field(
                ax, lon, lat, faces, fields[name], title=name, vmin=-lim, vmax=lim, cmap="RdBu_r"
            )
        else:
            im = plot_mesh_field(ax, lon, lat, faces, fields[name], title=name, vmin=lo, vmax=hi)
        if name is not None and i > 0:
            ax.scatter(lon[obs], lat[obs], s=6, c="k", marker="x", lw=0.6)
        fig.colorbar(im, ax=ax, fraction=0.04)
    for ax in axes[:, 0]:
        ax.set_ylabel("latitude")
    for ax in axes[1]:
        ax.set_xlabel("longitude")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def figure_rmse_per_case(
    per_case: Mapping[str, np.ndarray], loss: Sequence[float], *, sort_by: str
) -> Figure:
    """RMSE of every test case for several analyses, and the training cost per epoch.

    Parameters
    ----------
    per_case:
        Name -> RMSE per case ``(cases,)``; at most three entries (styles ``.``, ``o``, ``x``).
    sort_by:
        The entry whose RMSE orders the cases.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    order = np.argsort(per_case[sort_by])
    for (name, values), style in zip(per_case.items(), ("C0.", "C1o", "C2x"), strict=False):
        axes[0].plot(values[order], style, ms=4, label=name)
    axes[0].set(
        xlabel=f"test case (sorted by {sort_by} RMSE)", ylabel="RMSE", title="RMSE per case"
    )
    axes[0].legend(fontsize=8)
    axes[1].semilogy(loss)
    axes[1].set(xlabel="epoch", ylabel="mean J (training)", title="variational training cost")
    fig.tight_layout()
    return fig


def figure_profiles(
    z: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    predicted: Mapping[str, np.ndarray],
    titles: Sequence[str],
    *,
    suptitle: str = "",
) -> Figure:
    """Vertical profiles of one column: state at ``t``, truth and predictions at ``t + 1``.

    Parameters
    ----------
    z:
        Heights (domain units), ``(nz,)``.
    before, after:
        True profiles at ``t`` (the persistence forecast) and ``t + 1``, ``(k, nz)``.
    predicted:
        Row label -> predicted profiles at ``t + 1``, ``(k, nz)``; one row each.
    titles:
        One title per column of panels (``k``).
    """
    import matplotlib.pyplot as plt

    rows = len(predicted)
    fig, axes = plt.subplots(rows, len(titles), figsize=(12, 4 * rows), squeeze=False)
    for ax_row, (label, pred) in zip(axes, predicted.items(), strict=True):
        for k, (ax, title) in enumerate(zip(ax_row, titles, strict=True)):
            ax.plot(before[k], z, "0.6", ls="--", label="truth t (persistence)")
            ax.plot(after[k], z, "k-", lw=1.5, label="truth t+1")
            ax.plot(pred[k], z, "C3", lw=1.3, label="predicted t+1")
            ax.set_title(title, fontsize=9)
            ax.set(xlabel="phi", ylabel="z")
        ax_row[0].legend(fontsize=7)
        ax_row[0].set_ylabel(f"{label}: z")
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def figure_field_forecast(
    before: np.ndarray,
    after: np.ndarray,
    predicted: np.ndarray,
    extent: tuple[float, float, float, float],
    *,
    station_x: np.ndarray,
    column_x: float,
    title: str = "",
    vmin: float | None = None,
) -> Figure:
    """Sections ``(nz, nx)``: truth at ``t`` and ``t + 1``, the prediction and its error.

    Parameters
    ----------
    extent:
        ``(x0, x1, z0, z1)`` in domain units.
    station_x:
        Positions of the observed columns, dotted white lines.
    column_x:
        Position of a highlighted (e.g. unobserved) column, a red line.
    vmin:
        Lower colour limit of the state panels (default: their minimum); the upper is
        the maximum of ``before`` and ``after``.
    """
    import matplotlib.pyplot as plt

    panels = {
        "truth t": before,
        "truth t+1": after,
        "predicted t+1": predicted,
        "predicted - truth (t+1)": predicted - after,
    }
    lo = float(min(before.min(), after.min())) if vmin is None else vmin
    hi = float(max(before.max(), after.max()))
    lim = float(np.abs(predicted - after).max())
    fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex=True, sharey=True)
    for ax, (name, field) in zip(axes.flat, panels.items(), strict=True):
        diff = name.startswith("predicted -")
        plot_section(
            ax,
            field,
            extent,
            name,
            vmin=-lim if diff else lo,
            vmax=lim if diff else hi,
            diverging=diff,
        )
        for x in station_x:
            ax.axvline(x, color="w", lw=0.6, ls=":")
        ax.axvline(column_x, color="C3", lw=0.8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def figure_obs2obs_training(
    losses: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    z: np.ndarray,
    weights: np.ndarray,
) -> Figure:
    """The two terms of the joint obs-to-obs loss per epoch, and the channel weights.

    Parameters
    ----------
    losses:
        Label -> (satellite loss, radiosonde loss) per epoch.
    z, weights:
        Heights ``(nz,)`` and vertical weighting functions ``(channels, nz)``.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
    for label, (loss_sat, loss_rs) in losses.items():
        axes[0].semilogy(loss_sat, label=f"{label}: L_sat")
        axes[0].semilogy(loss_rs, ls="--", label=f"{label}: L_rs")
    axes[0].set(xlabel="epoch", ylabel="loss (normalised)", title="joint loss")
    axes[0].legend(fontsize=7)
    for c, w in enumerate(weights):
        axes[1].plot(w, z, label=f"channel {c}")
    axes[1].set(xlabel="weight", ylabel="z", title="satellite weighting functions")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig
