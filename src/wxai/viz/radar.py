"""Radar reflectivity (dBZ) with a discrete colour map and transparent no-echo."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap

from wxai.core.errors import ConfigError

__all__ = ["DBZ_LEVELS", "plot_radar", "radar_cmap"]

DBZ_LEVELS: np.ndarray = np.arange(5.0, 75.0, 5.0)
"""Class boundaries [dBZ]: 5, 10, ..., 70 (13 classes; >= 70 drawn in the last)."""

# NWS-style reflectivity colours, one per 5 dBZ class from 5 dBZ upwards
_DBZ_COLORS = (
    "#04e9e7", "#019ff4", "#0300f4", "#02fd02", "#01c501", "#008e00", "#fdf802",
    "#e5bc00", "#fd9500", "#fd0000", "#d40000", "#bc0000", "#f800fd",
)  # fmt: skip


def radar_cmap() -> tuple[ListedColormap, BoundaryNorm]:
    """The reflectivity colour map and its norm; below 5 dBZ and NaN are transparent."""
    cmap = ListedColormap(_DBZ_COLORS, name="wxai_dbz").with_extremes(
        under=(0, 0, 0, 0), bad=(0, 0, 0, 0), over="#9854c6"
    )
    return cmap, BoundaryNorm(DBZ_LEVELS, cmap.N)


def plot_radar(ax: Axes, da_dbz: xr.DataArray, *, colorbar: bool = True, **kwargs: Any) -> Any:
    """Reflectivity on a map: 5 dBZ classes from 5 to 70 dBZ, no echo transparent.

    Parameters
    ----------
    da_dbz:
        Reflectivity [dBZ], dims (y, x) with 2D ``lon``/``lat`` coordinates
        [degrees] (as from :func:`wxai.data.formats.odim.read_odim`), or 1D
        ``latitude``/``longitude``; values < 5 dBZ or NaN are not drawn.

    Returns
    -------
    The QuadMesh.
    """
    import cartopy.crs as ccrs

    lon = next((da_dbz.coords[n] for n in ("lon", "longitude") if n in da_dbz.coords), None)
    lat = next((da_dbz.coords[n] for n in ("lat", "latitude") if n in da_dbz.coords), None)
    if lon is None or lat is None:
        raise ConfigError(f"radar field {da_dbz.name!r} has no lon/lat coordinates")
    da = da_dbz.isel({d: 0 for d in da_dbz.dims if d not in set(lon.dims) | set(lat.dims)})
    values = np.ma.masked_invalid(np.asarray(da.values, dtype=float))
    values = np.ma.masked_less(values, DBZ_LEVELS[0])
    cmap, norm = radar_cmap()
    artist = ax.pcolormesh(
        np.asarray(lon), np.asarray(lat), values, cmap=cmap, norm=norm,
        transform=ccrs.PlateCarree(), shading="auto", **kwargs,
    )  # fmt: skip
    if colorbar:
        cbar = ax.figure.colorbar(
            artist, ax=ax, shrink=0.8, pad=0.03, aspect=30, extend="max", ticks=DBZ_LEVELS
        )
        cbar.set_label("radar reflectivity [dBZ]", fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    return artist
