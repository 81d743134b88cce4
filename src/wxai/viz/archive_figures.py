"""Figures of a gridded forecast archive: a town's surroundings, the chunk layout of the
store, and forecasts at towns against the archive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from wxai.viz.fields import plot_field
from wxai.viz.gazetteer import label_cities
from wxai.viz.maps import make_map

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Extent = tuple[float, float, float, float]


def local_map_figure(
    local: xr.Dataset,
    place: tuple[float, float],
    grid_point: tuple[float, float],
    *,
    extent: Extent,
    title: str,
    distance_km: float,
) -> Figure:
    """2 m temperature, isobars and 10 m wind around a place, its nearest grid point marked.

    Parameters
    ----------
    local:
        One time of the archive around the place, with ``t2m``, ``msl`` [Pa], ``u10``,
        ``v10`` on ``(latitude, longitude)``.
    place, grid_point:
        ``(lat, lon)`` of the place (a gold star) and of its nearest grid point (a square).
    extent:
        ``(lon_min, lon_max, lat_min, lat_max)`` of the map.
    """
    import cartopy.crs as ccrs

    fig, ax = make_map("PlateCarree", extent=extent, figsize=(8, 6.5))
    plot_field(ax, local["t2m"])
    isobars = ax.contour(
        local["longitude"],
        local["latitude"],
        local["msl"] / 100.0,
        levels=np.arange(940, 1060, 2),
        colors="k",
        linewidths=0.8,
        transform=ccrs.PlateCarree(),
    )
    ax.clabel(isobars, fontsize=7, fmt="%d")
    step = max(local.sizes["longitude"] // 12, 1)
    thin = local.isel(latitude=slice(None, None, step), longitude=slice(None, None, step))
    ax.quiver(
        thin["longitude"], thin["latitude"], thin["u10"], thin["v10"],
        transform=ccrs.PlateCarree(), scale=250, width=0.003, color="0.15",
    )  # fmt: skip
    label_cities(ax, extent, n=8)
    ax.plot(place[1], place[0], "*", ms=14, color="gold", mec="k", transform=ccrs.PlateCarree())
    ax.plot(
        grid_point[1], grid_point[0], "s", ms=9, mfc="none", mec="magenta", mew=2,
        transform=ccrs.PlateCarree(), label=f"nearest grid point ({distance_km:.0f} km)",
    )  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title)
    return fig


def chunk_layout_figure(
    field: xr.DataArray,
    chunks: tuple[int, int],
    places: Mapping[str, tuple[float, float]],
    *,
    title: str,
) -> Figure:
    """A map of one field with the outline and size of every (lat, lon) chunk of a store.

    Parameters
    ----------
    field:
        ``(latitude, longitude)`` field on a regular grid (e.g. the first time).
    chunks:
        ``(lat_chunk, lon_chunk)`` grid points per chunk.
    places:
        ``{name: (lat, lon)}`` marked and labelled on the map.
    """
    import cartopy.crs as ccrs
    from matplotlib.patches import Rectangle

    lat, lon = field["latitude"].values, field["longitude"].values
    lat_chunk, lon_chunk = chunks
    extent = (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
    fig, ax = make_map("PlateCarree", extent=extent, figsize=(9, 7))
    plot_field(ax, field, alpha=0.8)
    half = 0.5 * abs(float(lat[1] - lat[0]))
    plate = ccrs.PlateCarree()
    for i0 in range(0, lat.size, lat_chunk):
        for j0 in range(0, lon.size, lon_chunk):
            i1, j1 = min(i0 + lat_chunk, lat.size) - 1, min(j0 + lon_chunk, lon.size) - 1
            ax.add_patch(
                Rectangle(
                    (lon[j0] - half, lat[i0] - half),
                    lon[j1] - lon[j0] + 2 * half,
                    lat[i1] - lat[i0] + 2 * half,
                    fill=False,
                    ec="k",
                    lw=2.0,
                    transform=plate,
                    zorder=7,
                )
            )
            ax.text(
                lon[j0] + 0.5, lat[i1] - 0.5,
                f"chunk ({i0 // lat_chunk}, {j0 // lon_chunk})\n{i1 - i0 + 1}x{j1 - j0 + 1}",
                ha="left", va="top", fontsize=9, transform=plate,
                bbox={"fc": "white", "alpha": 0.7, "lw": 0}, zorder=8,
            )  # fmt: skip
    for name, (p_lat, p_lon) in places.items():
        ax.plot(p_lon, p_lat, "o", ms=5, color="gold", mec="k", transform=plate)
        ax.text(p_lon + 0.3, p_lat + 0.3, name, fontsize=7, transform=plate)
    ax.set_title(title)
    return fig


def town_forecasts_figure(
    lead: np.ndarray,
    series: Mapping[str, np.ndarray],
    forecast_hours: np.ndarray,
    truth: Mapping[str, np.ndarray],
    forecasts: Mapping[str, np.ndarray],
    *,
    training_hours: float,
    title: str,
    ylabel: str = "t2m [\u00b0C]",
) -> Figure:
    """One panel per town: the archived series, the truth, a forecast and persistence.

    Parameters
    ----------
    lead:
        Lead times [h] of the whole archive.
    series:
        ``{town: values at every lead}``, drawn in grey.
    forecast_hours:
        Lead times [h] of the forecast, its initial time first.
    truth, forecasts:
        ``{town: values at forecast_hours}``; persistence repeats ``truth[town][0]``.
    training_hours:
        End of the training period, shaded from ``lead[0]``.
    """
    import matplotlib.pyplot as plt

    n_cols = min(len(series), 3)
    n_rows = math.ceil(len(series) / n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.6 * n_cols, 3.3 * n_rows), squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes.flat, series, strict=False):
        ax.plot(lead, series[name], color="0.7", lw=1, label="archive (all leads)")
        ax.plot(forecast_hours, truth[name], "k-o", ms=3, label="truth")
        ax.plot(forecast_hours, forecasts[name], "C1-s", ms=3, label="CNN rollout")
        persistence = np.full(forecast_hours.size, truth[name][0])
        ax.plot(forecast_hours, persistence, "C0--", label="persistence")
        ax.axvspan(lead[0], training_hours, color="C2", alpha=0.08, lw=0)
        ax.set(title=name, xlabel="lead time [h]", ylabel=ylabel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(series) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    return fig


def plot_lead_time_errors(
    ax: Axes,
    hours: np.ndarray,
    errors: Mapping[str, tuple[list[float], str]],
    *,
    ylabel: str = "RMSE",
    title: str = "",
) -> None:
    """Errors against hours after the initial state, ``{label: (errors, format)}``."""
    for label, (values, style) in errors.items():
        ax.plot(hours, values, style, label=label)
    ax.set(xlabel="hours after the initial state", ylabel=ylabel, title=title)
    ax.title.set_fontsize(9)
    ax.legend()
    ax.grid(alpha=0.3)
