"""Front charts: detected fronts over mean-sea-level pressure, one panel per time.

Colours follow the analysts' convention: warm fronts red, cold fronts blue, occluded
fronts violet. Front masks are shaded, front lines (when given) drawn on top; isobars
every 4 hPa, labelled. The figure is not attached to pyplot: nothing needs closing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wxai.core.errors import ConfigError
from wxai.viz.maps import make_map

__all__ = ["FRONT_COLOURS", "plot_front_charts"]

#: Front kind -> colour.
FRONT_COLOURS: dict[str, str] = {"warm": "#d62728", "cold": "#1f5fd6", "occluded": "#8e3fbf"}
_KINDS = ("warm", "cold", "occluded")


def _time_label(value: Any) -> str:
    t = np.datetime64(value, "m")
    return "" if np.isnat(t) else f"{str(t).replace('T', ' ')} UTC"


def plot_front_charts(
    msl: np.ndarray,
    labels: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    times: Sequence[Any],
    *,
    lines: Sequence[Sequence[Any]] | None = None,
    truth: np.ndarray | None = None,
    ncols: int = 2,
    title: str | None = None,
) -> Figure:
    """Panels of isobars and fronts at successive times.

    Parameters
    ----------
    msl:
        Mean-sea-level pressure (T, H, W) [Pa].
    labels:
        Front labels (T, H, W): 0 none, 1 warm, 2 cold, 3 occluded.
    lat, lon:
        Grid (H,) and (W,) [degrees].
    times:
        T valid times (datetime64) for the panel titles.
    lines:
        Per time, objects with ``kind`` and ``points`` ((n, 2) latitude, longitude).
    truth:
        Optional true labels (T, H, W), outlined in black for comparison.
    """
    msl, labels = np.asarray(msl), np.asarray(labels)
    if msl.shape != labels.shape or msl.ndim != 3:
        raise ConfigError(f"msl and labels must both be (T, H, W), got {msl.shape}, {labels.shape}")
    n = msl.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    extent = (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
    fig = Figure(figsize=(5.6 * ncols, 3.9 * nrows), layout="constrained")
    cmap = ListedColormap([FRONT_COLOURS[k] for k in _KINDS])
    for i in range(n):
        ax = fig.add_subplot(nrows, ncols, i + 1, projection=_projection(extent))
        make_map(ax=ax, extent=extent, projection="LambertConformal", gridlines=False)
        import cartopy.crs as ccrs

        data = ccrs.PlateCarree()
        hpa = msl[i] / 100.0
        levels = np.arange(np.floor(hpa.min() / 4) * 4, hpa.max() + 4, 4)
        iso = ax.contour(
            lon, lat, hpa, levels=levels, colors="0.25", linewidths=0.7, transform=data
        )
        ax.clabel(iso, fmt="%d", fontsize=6, inline=True)
        shaded = np.ma.masked_equal(labels[i], 0)
        ax.pcolormesh(
            lon,
            lat,
            shaded,
            cmap=cmap,
            vmin=0.5,
            vmax=3.5,
            alpha=0.45,
            transform=data,
            shading="nearest",
        )
        if truth is not None:
            ax.contour(
                lon,
                lat,
                (np.asarray(truth[i]) > 0).astype(float),
                levels=[0.5],
                colors="k",
                linewidths=0.5,
                transform=data,
            )
        for line in lines[i] if lines is not None else ():
            pts = np.asarray(line.points)
            ax.plot(pts[:, 1], pts[:, 0], color=FRONT_COLOURS[line.kind], lw=2.2, transform=data)
        ax.set_title(_time_label(times[i]), fontsize=9)
    handles = [Line2D([], [], color=FRONT_COLOURS[k], lw=3, label=f"{k} front") for k in _KINDS]
    handles.append(Line2D([], [], color="0.25", lw=0.8, label="isobars (4 hPa)"))
    if truth is not None:
        handles.append(Line2D([], [], color="k", lw=0.6, label="true fronts"))
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def _projection(extent: tuple[float, float, float, float]) -> Any:
    from wxai.viz.maps import get_projection

    return get_projection("LambertConformal", extent)
