"""A forecast field around a place, with the place marked: the weather agent's figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import xarray as xr

from wxai.data.formats._common import atomic_path
from wxai.viz.fields import plot_field
from wxai.viz.maps import make_map

__all__ = ["place_map"]


def _extent(
    field: xr.DataArray, latitude: float | None, longitude: float | None, half_width: float
) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) [degrees]: around the place, inside the field's grid."""
    lats = field["latitude"].values
    lons = ((field["longitude"].values + 180.0) % 360.0) - 180.0
    lat0, lat1, lon0, lon1 = lats.min(), lats.max(), lons.min(), lons.max()
    if latitude is None or longitude is None:
        if lon1 - lon0 > 300:  # global grid: show Europe
            return (-25.0, 45.0, 30.0, 72.0)
        return (float(lon0), float(lon1), float(lat0), float(lat1))
    half_lat = half_width * 0.65
    return (
        float(max(lon0, longitude - half_width)),
        float(min(lon1, longitude + half_width)),
        float(max(lat0, latitude - half_lat)),
        float(min(lat1, latitude + half_lat)),
    )


def place_map(
    field: xr.DataArray,
    path: str | Path,
    *,
    title: str,
    latitude: float | None = None,
    longitude: float | None = None,
    place: str = "",
    value_text: str = "",
    half_width: float = 8.0,
) -> Path:
    """Draw ``field`` on a map around a place, mark and label the place, save a PNG.

    Parameters
    ----------
    field:
        2D field on 1D ``latitude``/``longitude`` [degrees] (length-1 extra dims
        allowed), in the units it should be shown in (its ``units`` attribute).
    path:
        PNG file to write (atomically).
    title:
        Figure title (model, run, lead and valid time).
    latitude, longitude:
        The place [degrees]; None draws the whole grid (Europe for a global one).
    place, value_text:
        Label next to the marker (``Frankfurt am Main: 6.5 °C``).
    half_width:
        Half the map's longitude span around the place [degrees].

    Returns
    -------
    Path
        The PNG written.
    """
    extent = _extent(field, latitude, longitude, half_width)
    fig, ax = make_map("PlateCarree", extent=extent, title=title, figsize=(8.0, 6.0))
    try:
        lon = ((field["longitude"] + 180.0) % 360.0) - 180.0
        shown = field.assign_coords(longitude=lon).sortby("longitude")
        sub = shown.sel(
            longitude=slice(extent[0] - 1.0, extent[1] + 1.0),
            latitude=slice(extent[3] + 1.0, extent[2] - 1.0)
            if shown["latitude"].values[0] > shown["latitude"].values[-1]
            else slice(extent[2] - 1.0, extent[3] + 1.0),
        )
        plot_field(ax, sub if sub.size else shown, kind="pcolormesh", alpha=0.9)
        if latitude is not None and longitude is not None:
            import cartopy.crs as ccrs

            ax.plot(
                [longitude], [latitude], marker="o", markersize=8, color="black",
                markerfacecolor="yellow", transform=ccrs.PlateCarree(), zorder=5,
            )  # fmt: skip
            label = f"{place}: {value_text}" if value_text else place
            if label:
                ax.annotate(
                    label,
                    (longitude, latitude),
                    xytext=(8, 8),
                    textcoords="offset points",
                    fontsize=9,
                    fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "alpha": 0.85},
                    transform=ccrs.PlateCarree(),
                    zorder=6,
                )
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
        return out
    finally:
        plt.close(fig)
