"""Fixed-extent, fixed-scale PNGs of radar and cloud-top height for a vision model to read.

A model that reads a picture can only compare colours with a colour bar, so every
image is drawn the same way: the same map extent (Germany, :data:`GERMANY_EXTENT`),
the same pixel size, coastlines and borders from the packaged data
(:func:`wxai.viz.maps.make_map`), and one colour scale per product whatever the data:

- radar reflectivity: 0-40 dBZ in eight 5-dBZ classes, values above 40 dBZ drawn in
  the top class (clipped; the colour bar says so), below 0 dBZ (no echo) white, no
  radar data light grey;
- cloud-top height: 0-12 km above MSL in 1-km classes (turbo colours), above 12 km in
  the top class, cloud-free white.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap

from wxai.core.errors import ConfigError
from wxai.viz.maps import make_map

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CTH_LEVELS_KM",
    "DBZ_LEVELS_AI",
    "GERMANY_EXTENT",
    "ai_readable_figure",
    "render_ai_readable_png",
]

GERMANY_EXTENT = (3.0, 17.0, 46.0, 56.0)
"""(lon0, lon1, lat0, lat1) [degrees] of every AI-readable map."""
DBZ_LEVELS_AI = np.arange(0.0, 40.1, 5.0)
"""Reflectivity classes [dBZ]: 0, 5, ..., 40."""
CTH_LEVELS_KM = np.arange(0.0, 12.1, 1.0)
"""Cloud-top height classes [km above MSL]: 0, 1, ..., 12."""
FIGSIZE = (9.0, 6.4)
DPI = 100
"""Every PNG is FIGSIZE * DPI = 900 x 640 pixels."""

# 0-5 dBZ pale, then the usual cyan-blue-green-yellow-red reflectivity ramp
_DBZ_COLORS = (
    "#c8f0f0", "#04e9e7", "#019ff4", "#0300f4", "#02fd02", "#008e00", "#fdf802", "#fd9500",
)  # fmt: skip
_NODATA_GREY = "#d9d9d9"
Kind = Literal["radar", "cth"]


def _lonlat(field: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    lon = next((field.coords[n] for n in ("lon", "longitude") if n in field.coords), None)
    lat = next((field.coords[n] for n in ("lat", "latitude") if n in field.coords), None)
    if lon is None or lat is None:
        raise ConfigError(
            f"field {field.name!r} has no lon/lat (or longitude/latitude) coordinates to map"
        )
    return np.asarray(lon, float), np.asarray(lat, float)


def _radar(ax, field: xr.DataArray, lon: np.ndarray, lat: np.ndarray):
    import cartopy.crs as ccrs

    values = np.asarray(field.values, float)
    nodata = np.where(np.isnan(values), 1.0, np.nan)
    ax.pcolormesh(
        lon, lat, nodata, cmap=ListedColormap([_NODATA_GREY]), vmin=0, vmax=1,
        transform=ccrs.PlateCarree(), shading="auto",
    )  # fmt: skip
    cmap = ListedColormap(_DBZ_COLORS, name="wxai_dbz_0_40").with_extremes(
        under=(1, 1, 1, 0), bad=(1, 1, 1, 0), over=_DBZ_COLORS[-1]
    )
    shown = np.ma.masked_invalid(np.clip(values, None, DBZ_LEVELS_AI[-1] - 1e-6))
    mesh = ax.pcolormesh(
        lon, lat, shown, cmap=cmap, norm=BoundaryNorm(DBZ_LEVELS_AI, cmap.N),
        transform=ccrs.PlateCarree(), shading="auto",
    )  # fmt: skip
    label = "radar reflectivity [dBZ], fixed scale 0-40 (>= 40 drawn as 35-40)"
    return mesh, DBZ_LEVELS_AI, label, "white: no echo (< 0 dBZ), grey: no radar data"


def _cth(ax, field: xr.DataArray, lon: np.ndarray, lat: np.ndarray):
    import cartopy.crs as ccrs

    values = np.asarray(field.values, float)
    if field.attrs.get("units", "m") == "m":
        values = values / 1000.0
    colours = colormaps["turbo"](np.linspace(0.05, 0.95, len(CTH_LEVELS_KM) - 1))
    cmap = ListedColormap(colours, name="wxai_cth_0_12").with_extremes(bad=(1, 1, 1, 0))
    shown = np.ma.masked_invalid(np.clip(values, 0.0, CTH_LEVELS_KM[-1] - 1e-6))
    mesh = ax.pcolormesh(
        lon, lat, shown, cmap=cmap, norm=BoundaryNorm(CTH_LEVELS_KM, cmap.N),
        transform=ccrs.PlateCarree(), shading="auto",
    )  # fmt: skip
    label = "cloud-top height above MSL [km], fixed scale 0-12 (>= 12 drawn as 11-12)"
    return mesh, CTH_LEVELS_KM, label, "white: cloud-free"


def ai_readable_figure(field: xr.DataArray, kind: Kind, *, title: str | None = None) -> Figure:
    """The fixed-extent, fixed-scale map of a radar or cloud-top height field.

    Parameters
    ----------
    field:
        ``kind="radar"``: reflectivity [dBZ], NaN = no radar data, with 2-D
        ``lon``/``lat`` (as :func:`~wxai.data.formats.odim.read_odim` returns) or 1-D
        ``longitude``/``latitude`` [degrees]. ``kind="cth"``: cloud-top height
        above MSL [m, or km when ``units`` is ``"km"``], NaN = cloud-free.
    kind:
        ``"radar"`` or ``"cth"``.
    title:
        First title line; default names the product and its time.

    Raises
    ------
    ConfigError
        Unknown ``kind`` or a field without longitude/latitude coordinates.
    """
    draw = {"radar": _radar, "cth": _cth}.get(kind)
    if draw is None:
        raise ConfigError(f"kind must be 'radar' or 'cth'; got {kind!r}")
    lon, lat = _lonlat(field)
    fig, ax = make_map("PlateCarree", GERMANY_EXTENT, "l", figsize=FIGSIZE)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.06, top=0.9)
    mesh, ticks, label, legend = draw(ax, field, lon, lat)
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.85, pad=0.03, ticks=ticks, extend="max")
    cbar.set_label(label, fontsize=9)
    if title is None:
        product = "Radar reflectivity" if kind == "radar" else "Cloud-top height"
        title = product
        if "time" in field.coords and field["time"].size == 1:
            stamp = np.datetime_as_string(field["time"].values, unit="m").replace("T", " ")
            title += f", {stamp} UTC"
    ax.set_title(f"{title}\n{legend}", fontsize=10)
    return fig


def render_ai_readable_png(field: xr.DataArray, kind: Kind, *, title: str | None = None) -> bytes:
    """PNG bytes (900 x 640 pixels) of :func:`ai_readable_figure`; the figure is closed."""
    import matplotlib.pyplot as plt

    fig = ai_readable_figure(field, kind, title=title)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return buffer.getvalue()
