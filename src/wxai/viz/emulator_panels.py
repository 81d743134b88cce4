"""Figures of emulator datasets and training: fields on any cell list, zonal means, skill.

Cells are given as flat ``latitudes``/``longitudes`` (degrees, shape ``(N,)``), so the same
functions draw a Gaussian, a regular or an ICON-style dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_cell_fields(
    latitudes: np.ndarray,
    longitudes: np.ndarray,
    fields: Mapping[str, np.ndarray],
    *,
    ncols: int = 2,
    cmaps: Mapping[str, str] | None = None,
    limits: Mapping[str, tuple[float, float]] | None = None,
    suptitle: str | None = None,
) -> Figure:
    """One global Robinson map per entry of ``fields`` (title -> values ``(N,)``), as dots.

    Dots are sized to the mean cell spacing, so any grid's cells tile the map.
    ``cmaps`` and ``limits`` (colour range ``(vmin, vmax)``) by title; by default
    viridis over the data's range.
    """
    import cartopy.crs as ccrs
    import matplotlib.pyplot as plt

    from wxai.viz.maps import add_coastlines

    nrows = -(-len(fields) // ncols)
    figure = plt.figure(figsize=(5.2 * ncols, 3.0 * nrows), layout="constrained")
    size = 7.0e4 / len(latitudes)  # points^2 that tile a 5 inch wide globe without gaps
    for k, (title, values) in enumerate(fields.items()):
        ax = figure.add_subplot(nrows, ncols, k + 1, projection=ccrs.Robinson())
        ax.set_global()
        artist = ax.scatter(
            longitudes,
            latitudes,
            c=values,
            s=size,
            marker="s",
            linewidths=0,
            cmap=(cmaps or {}).get(title, "viridis"),
            vmin=(limits or {}).get(title, (None, None))[0],
            vmax=(limits or {}).get(title, (None, None))[1],
            transform=ccrs.PlateCarree(),
        )
        add_coastlines(ax, with_borders=False)
        ax.set_title(title, fontsize=9)
        figure.colorbar(artist, ax=ax, shrink=0.75, pad=0.02)
    if suptitle:
        figure.suptitle(suptitle)
    return figure


def zonal_mean(latitudes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` over the cells of each distinct latitude (rounded to 0.01 degree).

    Returns
    -------
    Latitudes ``(L,)`` ascending and the means ``(L,)``; for grids without latitude rows
    (ICON) use bands instead.
    """
    rows, inverse = np.unique(np.round(latitudes, 2), return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(rows))
    return rows, sums / np.bincount(inverse, minlength=len(rows))


def plot_zonal_means(
    ax: Axes, latitudes: np.ndarray, profiles: Mapping[str, np.ndarray], *, ylabel: str
) -> None:
    """Zonal means of several fields ``(N,)`` against latitude (e.g. u on each level: the jets)."""
    for label, values in profiles.items():
        rows, means = zonal_mean(latitudes, values)
        ax.plot(rows, means, label=label)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set(xlabel="latitude [deg]", ylabel=ylabel, xlim=(-90, 90))
    ax.legend(fontsize=8)


def plot_skill_against_persistence(
    ax: Axes, names: Sequence[str], rmse: Sequence[float], persistence: Sequence[float]
) -> None:
    """Bars of RMSE / persistence RMSE per variable; below the line at 1 beats persistence."""
    ratio = np.asarray(rmse, float) / np.asarray(persistence, float)
    colours = ["C2" if r < 1 else "C3" for r in ratio]
    ax.bar(np.arange(len(names)), ratio, color=colours)
    ax.axhline(1.0, color="k", lw=1, ls="--", label="persistence")
    ax.set_xticks(np.arange(len(names)), names, rotation=60, fontsize=8)
    ax.set(ylabel="RMSE / persistence RMSE", title="Validation, one step (6 h)")
    ax.legend(fontsize=8)
