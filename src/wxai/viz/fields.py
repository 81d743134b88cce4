"""Gridded fields on maps: lat/lon DataArrays, mean-sea-level isobars, ICON grids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.data.grids.icon import IconGrid, triangulation

__all__ = [
    "FIELD_KINDS",
    "FieldStyle",
    "field_style",
    "plot_contours",
    "plot_field",
    "plot_unstructured",
]

FIELD_KINDS: tuple[str, ...] = ("pcolormesh", "contourf", "contour")

# default colour map per variable base name (wxai.vocab ``Variable.base``)
_CMAPS: dict[str, str] = {
    "t": "RdBu_r",
    "t2m": "RdBu_r",
    "td2m": "RdBu_r",
    "msl": "viridis",
    "sp": "viridis",
    "z": "viridis",
    "u": "PuOr_r",
    "v": "PuOr_r",
    "u10": "PuOr_r",
    "v10": "PuOr_r",
    "gust": "YlOrRd",
    "q": "YlGnBu",
    "r": "BrBG",
    "rh2m": "BrBG",
    "tp": "YlGnBu",
    "rr": "YlGnBu",
    "tcc": "Greys_r",
    "cth": "cividis",
}
_DIVERGING = {"PuOr_r", "RdBu_r"}
_LAT_NAMES = ("latitude", "lat", "nav_lat")
_LON_NAMES = ("longitude", "lon", "nav_lon")


@dataclass(frozen=True)
class FieldStyle:
    """How a variable is drawn: values converted to ``units``, colour map, label."""

    label: str
    units: str
    cmap: str
    offset: float = 0.0
    scale: float = 1.0
    diverging: bool = False


def field_style(da: xr.DataArray, *, celsius: bool = True) -> FieldStyle:
    """Label, units, colour map (and a unit conversion) for ``da`` from :mod:`wxai.vocab`.

    Temperatures in K are shown in degC when ``celsius`` (and labelled so); pressures
    in Pa are shown in hPa. Unknown variables fall back to ``long_name``/``units``
    attributes and the ``viridis`` colour map.
    """
    from wxai.vocab import get_variable

    name = str(da.name) if da.name is not None else ""
    units = str(da.attrs.get("units", ""))
    long_name = str(da.attrs.get("long_name", name))
    base = name
    try:
        var = get_variable(name)
    except (UnknownNameError, KeyError):
        var = None
    if var is not None:
        long_name, base = var.long_name, var.base
        units = units or var.units
    cmap = _CMAPS.get(base, "viridis")
    offset, scale = 0.0, 1.0
    if units == "K" and celsius and base in {"t", "t2m", "td2m"}:
        units, offset = "°C", -273.15
    elif units == "Pa":
        units, scale = "hPa", 0.01
    label = f"{long_name} [{units}]" if units else long_name
    return FieldStyle(label, units, cmap, offset, scale, diverging=cmap in _DIVERGING)


def _coord(da: xr.DataArray, names: tuple[str, ...]) -> xr.DataArray:
    for n in names:
        if n in da.coords:
            return da.coords[n]
    raise ConfigError(
        f"DataArray {da.name!r} has no latitude/longitude coordinate (looked for "
        f"{', '.join(names)}); its coordinates are {list(da.coords)}"
    )


def _horizontal(da: xr.DataArray) -> xr.DataArray:
    """Reduce ``da`` to its two horizontal dims by taking index 0 of any other dim."""
    lat = _coord(da, _LAT_NAMES)
    lon = _coord(da, _LON_NAMES)
    keep = set(lat.dims) | set(lon.dims)
    extra = {d: 0 for d in da.dims if d not in keep}
    out = da.isel(extra) if extra else da
    if out.ndim != 2:
        raise ConfigError(f"DataArray {da.name!r}: expected 2 horizontal dims, got {out.dims}")
    return out


def _levels(values: np.ndarray, n: int = 16, diverging: bool = False) -> np.ndarray:
    from matplotlib.ticker import MaxNLocator

    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.linspace(0, 1, n)
    lo, hi = float(finite.min()), float(finite.max())
    if diverging and lo < 0 < hi:
        lim = max(-lo, hi)
        lo, hi = -lim, lim
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return MaxNLocator(n, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)


def plot_field(
    ax: Axes,
    da: xr.DataArray,
    kind: str = "pcolormesh",
    *,
    cmap: str | None = None,
    levels: np.ndarray | int | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    celsius: bool = True,
    **kwargs: Any,
) -> Any:
    """Draw a lat/lon field on a cartopy GeoAxes, with a colour bar labelled from vocab.

    Parameters
    ----------
    ax:
        A cartopy GeoAxes (see :func:`wxai.viz.maps.make_map`).
    da:
        DataArray with ``latitude``/``longitude`` (or ``lat``/``lon``) coordinates,
        1D (regular grid) or 2D (curvilinear) [degrees]; other dims (time, step,
        level) are reduced to their first index.
    kind:
        ``"pcolormesh"``, ``"contourf"`` or ``"contour"``.
    cmap:
        Colour map; default per variable (temperature ``RdBu_r``, precipitation
        ``YlGnBu``, ...).
    levels:
        Contour levels (array or count); default about 12 "nice" levels.
    vmin, vmax:
        Colour limits (pcolormesh).
    colorbar:
        Add a colour bar labelled ``long name [units]``.
    celsius:
        Show temperatures given in K in degC (labelled degC).
    **kwargs:
        Passed to the matplotlib plotting function.

    Returns
    -------
    The matplotlib artist (QuadMesh or ContourSet).
    """
    import cartopy.crs as ccrs

    if kind not in FIELD_KINDS:
        raise UnknownNameError("plot kind", kind, FIELD_KINDS)
    field = _horizontal(da)
    style = field_style(da, celsius=celsius)
    lat = np.asarray(_coord(field, _LAT_NAMES))
    lon = np.asarray(_coord(field, _LON_NAMES))
    lat_dims = _coord(field, _LAT_NAMES).dims
    values = (np.asarray(field.values, dtype=float) + style.offset) * style.scale
    if lat.ndim == 1 and lat_dims[0] != field.dims[0]:
        values = values.T  # (lon, lat) order -> (lat, lon)
    values = np.ma.masked_invalid(values)
    cmap = cmap or style.cmap
    transform = kwargs.pop("transform", ccrs.PlateCarree())
    if kind == "pcolormesh":
        if vmin is None and vmax is None and style.diverging:
            lim = float(np.nanmax(np.abs(values))) if values.count() else 1.0
            if float(values.min()) < 0 < float(values.max()):
                vmin, vmax = -lim, lim
        artist = ax.pcolormesh(
            lon, lat, values, cmap=cmap, vmin=vmin, vmax=vmax, transform=transform,
            shading="auto", **kwargs,
        )  # fmt: skip
    else:
        lv = (
            levels
            if levels is not None
            else _levels(values.filled(np.nan), diverging=style.diverging)
        )
        func = ax.contourf if kind == "contourf" else ax.contour
        artist = func(lon, lat, values, levels=lv, cmap=cmap, transform=transform, **kwargs)
        if kind == "contour":
            ax.clabel(artist, fontsize=6, fmt="%g")
    if colorbar:
        _colorbar(ax, artist, style.label)
    return artist


def _colorbar(ax: Axes, artist: Any, label: str, **kwargs: Any) -> Any:
    cbar = ax.figure.colorbar(
        artist, ax=ax, orientation="vertical", shrink=0.8, pad=0.03, aspect=30, **kwargs
    )
    cbar.set_label(label, fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    return cbar


def plot_contours(
    ax: Axes,
    msl_da: xr.DataArray,
    interval_hpa: float = 4.0,
    *,
    colors: str = "k",
    linewidths: float = 0.8,
    labels: bool = True,
) -> Any:
    """Isobars of mean-sea-level pressure every ``interval_hpa`` hPa, labelled.

    ``msl_da`` in Pa (converted) or hPa (values below 2000 are taken as hPa).
    Returns the ContourSet.
    """
    import cartopy.crs as ccrs

    if interval_hpa <= 0:
        raise ConfigError(f"interval_hpa must be > 0, got {interval_hpa}")
    field = _horizontal(msl_da)
    values = np.asarray(field.values, dtype=float)
    units = str(msl_da.attrs.get("units", ""))
    if units == "Pa" or (units != "hPa" and np.nanmedian(values) > 2000):
        values = values / 100.0
    lat = np.asarray(_coord(field, _LAT_NAMES))
    lon = np.asarray(_coord(field, _LON_NAMES))
    if lat.ndim == 1 and _coord(field, _LAT_NAMES).dims[0] != field.dims[0]:
        values = values.T
    lo = np.floor(np.nanmin(values) / interval_hpa) * interval_hpa
    hi = np.ceil(np.nanmax(values) / interval_hpa) * interval_hpa
    levels = np.arange(lo, hi + interval_hpa / 2, interval_hpa)
    cs = ax.contour(
        lon, lat, values, levels=levels, colors=colors, linewidths=linewidths,
        transform=ccrs.PlateCarree(),
    )  # fmt: skip
    if labels:
        ax.clabel(cs, fontsize=6, fmt="%.0f", inline=True)
    return cs


def plot_unstructured(
    ax: Axes,
    grid: IconGrid,
    values: np.ndarray,
    *,
    name: str | None = None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    label: str | None = None,
    **kwargs: Any,
) -> Any:
    """Cell values of an ICON grid as flat-shaded triangles (dateline-mended).

    Parameters
    ----------
    grid:
        The ICON grid.
    values:
        Shape (n_cells,), or an ``xr.DataArray`` with a ``cell`` dim (its name and
        attributes then give the label and colour map).
    name:
        Canonical variable name for the label/colour map when ``values`` is an array.
    """
    import cartopy.crs as ccrs

    if isinstance(values, xr.DataArray):
        da = values
        extra = {d: 0 for d in da.dims if d != "cell"}
        da = da.isel(extra) if extra else da
    else:
        da = xr.DataArray(np.asarray(values), dims=("cell",), name=name)
    if da.shape != (grid.n_cells,):
        raise ConfigError(f"values have shape {da.shape}, expected ({grid.n_cells},) cells")
    style = field_style(da)
    data = (np.asarray(da.values, dtype=float) + style.offset) * style.scale
    tri = triangulation(grid, dateline="mend")
    artist = ax.tripcolor(
        tri.triangulation, facecolors=tri.face_values(data), cmap=cmap or style.cmap,
        vmin=vmin, vmax=vmax, transform=ccrs.PlateCarree(), **kwargs,
    )  # fmt: skip
    if colorbar:
        _colorbar(ax, artist, label or style.label)
    return artist
