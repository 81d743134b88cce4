"""Maps of remote-sensing samples: a radar composite with its flags, cloud-top height."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from wxai.viz.forecast_panels import plate_carree
from wxai.viz.gazetteer import label_cities
from wxai.viz.maps import make_map
from wxai.viz.radar import plot_radar

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["cloud_top_figure", "radar_composite_figure"]


def radar_composite_figure(
    dbz: xr.DataArray,
    nodata: np.ndarray,
    *,
    subtitle: str,
    n_cities: int = 0,
    coast_resolution: str = "auto",
) -> Figure:
    """Reflectivity [dBZ] on a map, nodata pixels grey, the largest cities labelled.

    Parameters
    ----------
    dbz
        Decoded composite with 2-D ``lon``/``lat`` coordinates [degrees], a ``time``
        coordinate and a ``quantity`` attribute, shape (ny, nx).
    nodata
        Pixels outside radar coverage, shape (ny, nx).
    subtitle
        Second title line (e.g. flag fractions and the decoder check).
    n_cities, coast_resolution
        Cities labelled; coastline resolution c, l, i or auto.
    """
    lon, lat = dbz["lon"].values, dbz["lat"].values
    extent = (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
    fig, ax = make_map("PlateCarree", extent, coast_resolution, figsize=(9, 8))
    ax.pcolormesh(
        lon, lat, np.where(nodata, 1.0, np.nan), cmap="Greys", vmin=0, vmax=4,
        transform=plate_carree(), shading="auto",
    )  # fmt: skip
    plot_radar(ax, dbz)
    label_cities(ax, extent, n=n_cities)
    stamp = np.datetime_as_string(dbz["time"].values, unit="m").replace("T", " ")
    ax.set_title(
        f"SYNTHETIC radar composite {dbz.attrs['quantity']} [dBZ], {stamp} UTC\n{subtitle}",
        fontsize=9,
    )
    return fig


def cloud_top_figure(
    cth: xr.DataArray,
    rain: np.ndarray,
    *,
    subtitle: str,
    n_cities: int = 0,
    coast_resolution: str = "auto",
) -> Figure:
    """Cloud-top height [km] on a map (cloud-free white) with the outline of a rain mask.

    Parameters
    ----------
    cth
        Cloud-top height above mean sea level [m], NaN where cloud-free, on 1-D
        ``latitude``/``longitude`` coordinates, with a ``time`` coordinate.
    rain
        Raining pixels, shape of ``cth``; outlined in blue.
    subtitle
        Second title line.
    n_cities, coast_resolution
        Cities labelled; coastline resolution c, l, i or auto.
    """
    lat, lon = cth["latitude"].values, cth["longitude"].values
    extent = (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
    fig, ax = make_map("PlateCarree", extent, coast_resolution, figsize=(9, 7.5))
    mesh = ax.pcolormesh(
        lon, lat, np.ma.masked_invalid(cth.values / 1000.0), cmap="cubehelix_r", vmin=0,
        vmax=12, transform=plate_carree(), shading="auto",
    )  # fmt: skip
    fig.colorbar(mesh, ax=ax, shrink=0.8, label="cloud-top height above MSL [km]")
    ax.contour(
        lon, lat, rain.astype(float), levels=[0.5], colors="C0", linewidths=1.2,
        transform=plate_carree(),
    )  # fmt: skip
    label_cities(ax, extent, n=n_cities)
    stamp = np.datetime_as_string(cth["time"].values, unit="m").replace("T", " ")
    ax.set_title(
        f"SYNTHETIC cloud-top height, {stamp} UTC (white: cloud-free)\n{subtitle}", fontsize=9
    )
    return fig
