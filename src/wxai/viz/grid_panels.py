"""The four-panel figure of an ICON native-grid field and its remap to latitude-longitude."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from wxai.viz.fields import plot_field, plot_unstructured
from wxai.viz.forecast_panels import plate_carree, valid_label
from wxai.viz.maps import make_map

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from wxai.data.grids.icon import IconGrid, IconTriangulation

__all__ = ["native_grid_figure"]


def _globe(fig: Figure, index: int, coast_resolution: str) -> Axes:
    _, ax = make_map(
        "PlateCarree", None, coast_resolution,
        ax=fig.add_subplot(2, 2, index, projection=plate_carree()), borders=False,
    )  # fmt: skip
    return ax


def native_grid_figure(
    grid: IconGrid,
    raw: IconTriangulation,
    field: xr.DataArray,
    remapped: xr.DataArray,
    truth: xr.DataArray,
    *,
    method: str,
    resolution: float,
    rmse_k: float,
    wrapped_after_mending: int,
    coast_resolution: str = "auto",
) -> Figure:
    """Unmended triangles, the native field, its remap and the remap error against truth.

    Parameters
    ----------
    grid
        The ICON grid of ``field``.
    raw
        Triangulation of ``grid`` without dateline mending (wrapped triangles drawn red).
    field
        Native-grid 2 m temperature [K], (cell,).
    remapped, truth
        Remapped field and the true field [K] on the same (latitude, longitude) grid.
    method, resolution
        Remapping method and target grid spacing [degrees], for the titles.
    rmse_k, wrapped_after_mending
        RMSE of ``remapped`` against ``truth`` [K] and the triangles still spanning
        more than 180 degrees after mending, for the titles.
    coast_resolution
        Coastline resolution c, l, i or auto.
    """
    from matplotlib.tri import Triangulation

    wrapped_mask = raw.spans() > 180
    remapped = remapped.transpose("latitude", "longitude")
    truth = truth.transpose("latitude", "longitude")
    diff = remapped - truth
    spread = float(truth.std())

    fig = plt.figure(figsize=(16, 9.5), layout="constrained")
    ax = _globe(fig, 1, coast_resolution)
    tri = raw.triangulation
    ax.triplot(tri, color="0.6", lw=0.15, transform=plate_carree())
    wrapped = Triangulation(tri.x, tri.y, tri.triangles[wrapped_mask])
    ax.triplot(wrapped, color="C3", lw=0.6, transform=plate_carree())
    ax.set_title(
        f"ICON cells without dateline mending: {int(wrapped_mask.sum())} triangles (red) "
        f"span > 180\u00b0\nand smear across the map; after mending: {wrapped_after_mending}",
        fontsize=9,
    )
    ax = _globe(fig, 2, coast_resolution)
    plot_unstructured(ax, grid, field)
    ax.set_title(
        f"native t2m on {grid.n_cells} triangles (dateline mended), {valid_label(field)}",
        fontsize=9,
    )
    ax = _globe(fig, 3, coast_resolution)
    plot_field(ax, remapped)
    ax.set_title(f"{method} remap to {resolution:g}\u00b0 lat/lon", fontsize=9)
    ax = _globe(fig, 4, coast_resolution)
    lim = float(np.nanmax(np.abs(diff)))
    mesh = ax.pcolormesh(
        truth["longitude"].values, truth["latitude"].values, diff.values, cmap="RdBu_r",
        vmin=-lim, vmax=lim, transform=plate_carree(),
    )  # fmt: skip
    fig.colorbar(mesh, ax=ax, shrink=0.8, label="remapped - truth [K]")
    ax.set_title(
        f"error vs the synthetic atmosphere on the target grid: RMSE {rmse_k:.2f} K "
        f"(field std {spread:.1f} K)", fontsize=9,
    )  # fmt: skip
    fig.suptitle("SYNTHETIC ICON native-grid 2 m temperature")
    return fig
