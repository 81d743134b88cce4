"""Figures of warning regions: conversion checks, cases, scores and warning maps.

Everything takes plain arrays and shapely geometries (this layer does not know the
products that make them). Level colours follow the usual warning palette: yellow,
orange, red, violet for levels 1-4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

__all__ = [
    "LEVEL_COLOURS",
    "round_trip_figure",
    "warning_cases_figure",
    "warning_map",
]

#: Fill colours of warning levels 1, 2, 3, 4 (more levels repeat the last).
LEVEL_COLOURS: tuple[str, ...] = ("#ffe94d", "#ff9f1a", "#e8261f", "#8e1f9e")


def _colours(n: int) -> list[str]:
    return [LEVEL_COLOURS[min(k, len(LEVEL_COLOURS) - 1)] for k in range(n)]


def _extent(lat: np.ndarray, lon: np.ndarray) -> list[float]:
    dlat, dlon = abs(lat[1] - lat[0]) / 2, abs(lon[1] - lon[0]) / 2
    return [lon.min() - dlon, lon.max() + dlon, lat.min() - dlat, lat.max() + dlat]


def _draw_outline(ax, geometry: BaseGeometry | None, **style) -> None:
    if geometry is None or geometry.is_empty:
        return
    for part in getattr(geometry, "geoms", [geometry]):
        for ring in [part.exterior, *part.interiors]:
            x, y = ring.xy
            ax.plot(x, y, **style)


def _mask_image(ax, values: np.ndarray, lat, lon, **kwargs):
    return ax.imshow(
        values, origin="lower" if lat[0] < lat[-1] else "upper", extent=_extent(lat, lon),
        interpolation="nearest", aspect="auto", **kwargs,
    )  # fmt: skip


def round_trip_figure(
    lat: ArrayLike,
    lon: ArrayLike,
    reference_mask: ArrayLike,
    converted_mask: ArrayLike,
    *,
    polygon: BaseGeometry | None = None,
    recovered: BaseGeometry | None = None,
    title: str = "",
) -> Figure:
    """Reference mask, converted mask and their difference, side by side.

    Parameters
    ----------
    lat, lon:
        Grid axes ``(H,)``, ``(W,)`` [degrees].
    reference_mask, converted_mask:
        Boolean ``(H, W)``: the mask of the original polygon and the mask of the
        polygon recovered from it.
    polygon, recovered:
        Outlines drawn over the first two panels [(lon, lat) degrees].
    """
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    ref, conv = np.asarray(reference_mask, bool), np.asarray(converted_mask, bool)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True, sharey=True)
    grey = ListedColormap(["#ffffff", "#4a78b5"])
    _mask_image(axes[0], ref, lat, lon, cmap=grey, vmin=0, vmax=1)
    _draw_outline(axes[0], polygon, color="k", lw=1.0)
    axes[0].set_title("reference mask + original polygon", fontsize=9)
    _mask_image(axes[1], conv, lat, lon, cmap=grey, vmin=0, vmax=1)
    _draw_outline(axes[1], recovered, color="#d62728", lw=1.0)
    axes[1].set_title("converted mask + recovered polygon", fontsize=9)
    diff = conv.astype(int) - ref.astype(int)
    cmap = ListedColormap(["#2166ac", "#ffffff", "#b2182b"])
    _mask_image(axes[2], diff, lat, lon, cmap=cmap, vmin=-1.5, vmax=1.5)
    union = np.count_nonzero(ref | conv)
    score = np.count_nonzero(ref & conv) / union if union else float("nan")
    axes[2].set_title(f"converted - reference (IoU {score:.3f})", fontsize=9)
    axes[2].legend(
        handles=[Patch(color="#b2182b", label="only converted"),
                 Patch(color="#2166ac", label="only reference")],
        loc="lower right", fontsize=7,
    )  # fmt: skip
    for ax in axes:
        ax.set_xlabel("longitude [deg]")
    axes[0].set_ylabel("latitude [deg]")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _top_level(masks: np.ndarray) -> np.ndarray:
    """Highest set level per cell (0 none) of nested masks ``(L, H, W)``."""
    return np.asarray(masks, bool).sum(axis=0)


def warning_cases_figure(
    lat: ArrayLike,
    lon: ArrayLike,
    gust: ArrayLike,
    panels: Mapping[str, ArrayLike],
    level_labels: Sequence[str],
    *,
    outlines: Sequence[Sequence[BaseGeometry]] | None = None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """One row per case: gust input, then the warning levels of each set of masks.

    Parameters
    ----------
    gust:
        ``(N, H, W)`` gust at the valid time [m s-1].
    panels:
        Name -> masks ``(N, L, H, W)`` (e.g. target, learned, baseline).
    level_labels:
        One label per level for the legend.
    outlines:
        Per case, polygons drawn over every mask panel (e.g. the forecaster's).
    titles:
        Per case row label.
    """
    lat, lon, gust = np.asarray(lat, float), np.asarray(lon, float), np.asarray(gust)
    n, names = gust.shape[0], list(panels)
    cols = 1 + len(names)
    fig, axes = plt.subplots(n, cols, figsize=(3.4 * cols, 2.2 * n + 0.8), squeeze=False)
    n_levels = len(level_labels)
    cmap = ListedColormap(["#ffffff", *_colours(n_levels)])
    norm = BoundaryNorm(np.arange(-0.5, n_levels + 1), cmap.N)
    for i in range(n):
        image = _mask_image(axes[i, 0], gust[i], lat, lon, cmap="viridis", vmin=0, vmax=40)
        fig.colorbar(image, ax=axes[i, 0], fraction=0.046, label="gust [m/s]")
        axes[i, 0].set_ylabel(titles[i] if titles else f"case {i}", fontsize=8)
        for j, name in enumerate(names, start=1):
            masks = np.asarray(panels[name])[i]
            _mask_image(axes[i, j], _top_level(masks), lat, lon, cmap=cmap, norm=norm)
            if outlines is not None:
                for geom in outlines[i]:
                    _draw_outline(axes[i, j], geom, color="k", lw=0.5)
            if i == 0:
                axes[i, j].set_title(name, fontsize=9)
        if i == 0:
            axes[i, 0].set_title("gust (input)", fontsize=9)
    for ax in axes.flat:
        ax.tick_params(labelsize=6)
    handles = [
        Patch(color=c, label=t) for c, t in zip(_colours(n_levels), level_labels, strict=True)
    ]
    fig.legend(handles=handles, loc="lower center", ncol=n_levels, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def warning_map(
    polygons: Sequence[BaseGeometry],
    level_labels: Sequence[str],
    *,
    field: ArrayLike | None = None,
    lat: ArrayLike | None = None,
    lon: ArrayLike | None = None,
    field_label: str = "gust [m/s]",
    extent: tuple[float, float, float, float] | None = None,
    title: str = "",
    ax=None,
):
    """Warning polygons by level over a map with coastlines (cartopy, offline).

    Parameters
    ----------
    polygons:
        One geometry per level [(lon, lat) degrees], lowest level first.
    level_labels:
        Legend label per level.
    field, lat, lon:
        Optional background field ``(H, W)`` (e.g. gust) on the grid ``(lat, lon)``.
    extent:
        (lon0, lon1, lat0, lat1) [degrees]; default: the grid or the polygons.

    Returns
    -------
    (fig, ax)
        The figure and its cartopy GeoAxes.
    """
    import cartopy.crs as ccrs

    from wxai.viz.maps import make_map

    if extent is None and lat is not None and lon is not None:
        extent = tuple(_extent(np.asarray(lat, float), np.asarray(lon, float)))
    elif extent is None:
        bounds = [g.bounds for g in polygons if not g.is_empty] or [(-30, 35, 40, 72)]
        b = np.array(bounds)
        extent = (b[:, 0].min() - 2, b[:, 2].max() + 2, b[:, 1].min() - 2, b[:, 3].max() + 2)
    fig, ax = make_map("PlateCarree", extent=extent, ax=ax, title=title or None)
    data_crs = ccrs.PlateCarree()
    if field is not None and lat is not None and lon is not None:
        mesh = ax.pcolormesh(
            np.asarray(lon), np.asarray(lat), np.asarray(field), cmap="Greys", alpha=0.55,
            shading="nearest", transform=data_crs, zorder=0,
        )  # fmt: skip
        fig.colorbar(mesh, ax=ax, shrink=0.7, label=field_label)
    colours = _colours(len(polygons))
    for geom, colour in zip(polygons, colours, strict=True):
        if not geom.is_empty:
            ax.add_geometries(
                [geom], crs=data_crs, facecolor=colour, edgecolor="#333333", linewidth=0.6,
                alpha=0.75, zorder=2,
            )  # fmt: skip
    handles = [Patch(color=c, label=t) for c, t in zip(colours, level_labels, strict=True)]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    return fig, ax
