"""Cartopy maps with packaged coastlines, borders and labelled gridlines (offline).

Nothing here calls cartopy's Natural Earth features (``ax.coastlines()``,
``cfeature.COASTLINE``), which download on first use; coastlines and borders come
from :mod:`wxai.viz.coastlines`.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from shapely.geometry.base import BaseGeometry

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.viz.coastlines import borders, choose_resolution, clip_to_extent, coastlines

__all__ = [
    "PROJECTIONS",
    "STYLE",
    "add_coastlines",
    "get_projection",
    "make_map",
    "project_lines",
]

PROJECTIONS: tuple[str, ...] = (
    "PlateCarree",
    "Geostationary",
    "TransverseMercator",
    "LambertConformal",
)

Extent = tuple[float, float, float, float]

STYLE: dict[str, dict[str, Any]] = {
    "coastline": {"edgecolor": "#1a1a1a", "linewidth": 0.7, "zorder": 3},
    "border": {"edgecolor": "#555555", "linewidth": 0.5, "linestyle": (0, (4, 2)), "zorder": 3},
    "gridline": {"color": "#888888", "linewidth": 0.4, "alpha": 0.6, "linestyle": ":"},
    "label": {"size": 7, "color": "#333333"},
}

GEOSTATIONARY_HEIGHT_M = 35_786_023.0


def _centre(extent: Extent | None) -> tuple[float, float]:
    if extent is None:
        return 0.0, 0.0
    lon0, lon1, lat0, lat1 = extent
    return 0.5 * (lon0 + lon1), 0.5 * (lat0 + lat1)


def get_projection(name: str, extent: Extent | None = None, **kwargs: Any):
    """A cartopy CRS by name, centred on ``extent`` (lon0, lon1, lat0, lat1) by default.

    Parameters
    ----------
    name:
        One of :data:`PROJECTIONS`.
    extent:
        Map extent [degrees]; sets default central longitude/latitude (and the
        standard parallels of LambertConformal at 1/3 and 2/3 of the latitude range).
    **kwargs:
        Passed to the cartopy CRS, overriding the defaults.

    Raises
    ------
    UnknownNameError
        For a name not in :data:`PROJECTIONS`.
    """
    import cartopy.crs as ccrs

    if name not in PROJECTIONS:
        raise UnknownNameError("projection", name, PROJECTIONS)
    lon_c, lat_c = _centre(extent)
    if name == "PlateCarree":
        return ccrs.PlateCarree(**kwargs)
    if name == "Geostationary":
        defaults: dict[str, Any] = {
            "central_longitude": 0.0,
            "satellite_height": GEOSTATIONARY_HEIGHT_M,
        }
        return ccrs.Geostationary(**{**defaults, **kwargs})
    if name == "TransverseMercator":
        defaults = {"central_longitude": lon_c, "central_latitude": lat_c, "approx": False}
        return ccrs.TransverseMercator(**{**defaults, **kwargs})
    if extent is not None:
        lat0, lat1 = extent[2], extent[3]
        parallels = (lat0 + (lat1 - lat0) / 3.0, lat0 + 2.0 * (lat1 - lat0) / 3.0)
    else:
        parallels = (33.0, 45.0)
    defaults = {
        "central_longitude": lon_c,
        "central_latitude": lat_c if extent is not None else 39.0,
        "standard_parallels": parallels,
    }
    return ccrs.LambertConformal(**{**defaults, **kwargs})


def project_lines(geometry: BaseGeometry, crs: Any) -> list[np.ndarray]:
    """Project lon/lat lines into ``crs``, split where points are invisible or jump.

    Cartopy's own line projection drops long lines that leave a Geostationary disk,
    and is slow for thousands of lines; this projects all points in one call.

    Returns
    -------
    list of (n, 2) arrays in the projection's coordinates [m or degrees].
    """
    import cartopy.crs as ccrs

    lines = [np.asarray(g.coords)[:, :2] for g in getattr(geometry, "geoms", [geometry])]
    lines = [a for a in lines if len(a) > 1]
    if not lines:
        return []
    sep = np.full((1, 2), np.nan)
    stacked = np.concatenate([part for a in lines for part in (a, sep)])
    xy = crs.transform_points(ccrs.PlateCarree(), stacked[:, 0], stacked[:, 1])[:, :2]
    finite = np.isfinite(xy).all(axis=1)
    x0, x1 = crs.x_limits
    jump = np.zeros(len(xy), dtype=bool)
    with np.errstate(invalid="ignore"):
        jump[1:] = np.hypot(*np.diff(xy, axis=0).T) > 0.25 * abs(x1 - x0)
    starts = ~finite | jump
    pieces = np.split(xy, np.flatnonzero(starts))
    return [p[np.isfinite(p).all(axis=1)] for p in pieces if np.isfinite(p).all(axis=1).sum() > 1]


def _add_lines(ax: Axes, geometry: BaseGeometry, style: dict[str, Any], gid: str) -> Any:
    from matplotlib.collections import LineCollection

    style = dict(style)
    collection = LineCollection(
        project_lines(geometry, ax.projection),
        colors=style.pop("edgecolor"),
        linewidths=style.pop("linewidth"),
        linestyles=style.pop("linestyle", "solid"),
        transform=ax.transData,
        **style,
    )
    collection.set_gid(gid)
    collection.set_label(gid)
    ax.add_collection(collection, autolim=False)
    return collection


def add_coastlines(
    ax: Axes,
    extent: Extent | None = None,
    resolution: str = "auto",
    *,
    with_borders: bool = True,
) -> list[Any]:
    """Draw packaged coastlines (and borders) on a cartopy GeoAxes.

    Parameters
    ----------
    ax:
        A cartopy ``GeoAxes``.
    extent:
        (lon0, lon1, lat0, lat1) [degrees] used to pick the resolution; None: the
        whole globe. Geometries are clipped to the visible lon/lat box of ``ax``.
    resolution:
        ``"c"``, ``"l"``, ``"i"`` or ``"auto"`` (from the extent).
    with_borders:
        Also draw the political boundaries (dashed grey).

    Returns
    -------
    list of the added ``LineCollection`` artists (gid ``"coastlines"``, ``"borders"``).
    """
    import cartopy.crs as ccrs

    res = choose_resolution(extent) if resolution == "auto" else resolution
    try:
        visible = tuple(ax.get_extent(crs=ccrs.PlateCarree()))
    except ValueError:  # e.g. a view that cannot be expressed in lon/lat
        visible = None
    artists = [
        _add_lines(ax, clip_to_extent(coastlines(res), visible), STYLE["coastline"], "coastlines")
    ]
    if with_borders:
        artists.append(
            _add_lines(ax, clip_to_extent(borders(res), visible), STYLE["border"], "borders")
        )
    return artists


def _gridlines(ax: Axes, projection: str) -> Any:
    import cartopy.crs as ccrs

    labels: bool | str = projection != "Geostationary"
    gl = ax.gridlines(crs=ccrs.PlateCarree(), draw_labels=labels, **STYLE["gridline"])
    if labels:
        gl.top_labels = False
        gl.right_labels = False
        gl.xlabel_style = dict(STYLE["label"])
        gl.ylabel_style = dict(STYLE["label"])
        gl.rotate_labels = False
        gl.x_inline = False
        gl.y_inline = False
    return gl


def make_map(
    projection: str = "PlateCarree",
    extent: Extent | None = None,
    resolution: str = "auto",
    ax: Axes | None = None,
    figsize: tuple[float, float] = (9.0, 6.5),
    *,
    borders: bool = True,
    gridlines: bool = True,
    title: str | None = None,
    **projection_kwargs: Any,
) -> tuple[Figure, Axes]:
    """A map with coastlines, borders and labelled gridlines, drawn offline.

    Parameters
    ----------
    projection:
        One of :data:`PROJECTIONS`.
    extent:
        (lon0, lon1, lat0, lat1) [degrees]; None: the whole globe (the full disk for
        Geostationary).
    resolution:
        Coastline resolution ``"c"``, ``"l"``, ``"i"`` or ``"auto"`` (by extent).
    ax:
        An existing cartopy GeoAxes to draw into (its projection is kept); None
        creates a new figure.
    figsize:
        Figure size [inches] for a new figure.
    borders, gridlines:
        Draw political boundaries / labelled gridlines.
    title:
        Axes title.
    **projection_kwargs:
        Passed to the cartopy CRS (e.g. ``central_longitude``).

    Returns
    -------
    (fig, ax):
        The matplotlib Figure and cartopy GeoAxes.

    Raises
    ------
    UnknownNameError
        For an unknown projection; the message lists the valid ones.
    ConfigError
        For an extent with lat0 >= lat1 or latitudes outside [-90, 90].
    """
    import cartopy.crs as ccrs

    if extent is not None:
        extent = tuple(float(v) for v in extent)  # type: ignore[assignment]
        if len(extent) != 4 or not (-90 <= extent[2] < extent[3] <= 90):
            raise ConfigError(
                f"extent {extent!r} must be (lon0, lon1, lat0, lat1) with -90 <= lat0 < lat1 <= 90"
            )
    crs = get_projection(projection, extent, **projection_kwargs)
    if ax is None:
        fig = plt.figure(figsize=figsize)
        ax = fig.add_subplot(1, 1, 1, projection=crs)
    else:
        fig = ax.figure
    if extent is None:
        ax.set_global()
    else:
        ax.set_extent(extent, crs=ccrs.PlateCarree())
    ax.set_facecolor("white")
    ax.spines["geo"].set_linewidth(0.8)
    ax.spines["geo"].set_edgecolor("#333333")
    add_coastlines(ax, extent, resolution, with_borders=borders)
    if gridlines:
        _gridlines(ax, projection)
    if title:
        ax.set_title(title, fontsize=10)
    return fig, ax
