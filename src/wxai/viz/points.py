"""Point observations (stations) on maps."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from wxai.core.errors import ConfigError

__all__ = ["plot_points"]


def plot_points(
    ax: Axes,
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    *,
    cmap: str = "viridis",
    size: float = 25.0,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    label: str = "",
    **kwargs: Any,
) -> Any:
    """Scatter observations coloured by value, with a colour bar.

    Parameters
    ----------
    lat, lon:
        Station coordinates [degrees north/east], shape (n,).
    values:
        Observed values, shape (n,); NaN values are drawn as hollow grey circles.
    label:
        Colour bar label, e.g. ``"2 m temperature [°C]"``.

    Returns
    -------
    The PathCollection of the valid points.
    """
    import cartopy.crs as ccrs

    lat, lon, values = (np.asarray(a, dtype=float).ravel() for a in (lat, lon, values))
    if not (lat.shape == lon.shape == values.shape):
        raise ConfigError(
            f"lat, lon, values differ in length: {lat.size}, {lon.size}, {values.size}"
        )
    ok = np.isfinite(values)
    plate = ccrs.PlateCarree()
    if (~ok).any():
        ax.scatter(
            lon[~ok], lat[~ok], s=size, facecolors="none", edgecolors="0.5", linewidths=0.5,
            transform=plate, zorder=4,
        )  # fmt: skip
    artist = ax.scatter(
        lon[ok], lat[ok], c=values[ok], s=size, cmap=cmap, vmin=vmin, vmax=vmax,
        edgecolors="k", linewidths=0.3, transform=plate, zorder=5, **kwargs,
    )  # fmt: skip
    if colorbar:
        cbar = ax.figure.colorbar(artist, ax=ax, shrink=0.8, pad=0.03, aspect=30)
        cbar.set_label(label, fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    return artist
