"""Figures of gridded forecast samples: GRIB inventory, t2m and precipitation panels, globes.

Each function draws one complete figure from decoded fields and returns it; saving
is up to the caller. Fields are :class:`xarray.DataArray` with ``latitude`` and
``longitude`` coordinates (and ``valid_time``/``lead_time`` where labelled).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from wxai.viz.fields import plot_contours, plot_field
from wxai.viz.gazetteer import label_cities
from wxai.viz.maps import get_projection, make_map

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = [
    "field_extent",
    "global_maps_figure",
    "grib_inventory_figure",
    "plate_carree",
    "t2m_precip_figure",
    "valid_label",
]


def plate_carree() -> Any:
    """The plain ``cartopy.crs.PlateCarree()`` of lon/lat data (for ``transform=``)."""
    import cartopy.crs as ccrs

    return ccrs.PlateCarree()


def valid_label(da: xr.DataArray) -> str:
    """``valid 2024-01-15 06 UTC (+6 h)`` for a field with valid_time/lead_time coords."""
    text = ""
    if "valid_time" in da.coords:
        stamp = np.datetime_as_string(da["valid_time"].values, unit="h").replace("T", " ")
        text = f"valid {stamp} UTC"
    if "lead_time" in da.coords:
        hours = int(da["lead_time"].values / np.timedelta64(1, "h"))
        text += f" (+{hours} h)"
    return text


def field_extent(da: xr.DataArray) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) [degrees] spanned by a field's coordinates."""
    lat, lon = da["latitude"].values, da["longitude"].values
    return float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max())


def grib_inventory_figure(
    messages: Sequence[dict[str, Any]],
    t2m: xr.DataArray,
    *,
    file_name: str,
    max_abs_diff: float,
    coast_resolution: str = "auto",
) -> Figure:
    """Messages per shortName (bars, with units, level type and steps) beside a t2m map.

    Parameters
    ----------
    messages
        Header dicts of :func:`wxai.data.formats.grib.list_messages`.
    t2m
        2 m temperature [K] at one lead time, (latitude, longitude).
    file_name, max_abs_diff
        Shown in the bar chart's title (the decoder check of the caller).
    coast_resolution
        Coastline resolution c, l, i or auto.
    """
    counts = collections.Counter(m["shortName"] for m in messages)
    fig = plt.figure(figsize=(14, 5.6), layout="constrained")
    sub = fig.subfigures(1, 2, width_ratios=[1, 1.6])
    ax_bar = sub[0].subplots()
    names = sorted(counts)
    ax_bar.barh(range(len(names)), [counts[n] for n in names], color="C0")
    labels = []
    for i, n in enumerate(names):
        first = next(m for m in messages if m["shortName"] == n)
        labels.append(f"{n}: {first['name'][:34]}\n[{first['units']}] {first['typeOfLevel']}")
        steps = sorted({int(m["step"]) for m in messages if m["shortName"] == n})
        ax_bar.text(counts[n], i, f" {counts[n]} (steps {steps[0]}-{steps[-1]} h)", va="center")
    ax_bar.set_yticks(range(len(names)), labels, fontsize=7)
    ax_bar.set(
        xlabel="number of messages",
        xlim=(0, max(counts.values()) * 1.9),
        title=f"{len(messages)} messages in {file_name}\n"
        f"cfgrib vs ecCodes: max |diff| = {max_abs_diff:g} (float32)",
    )
    ax_bar.invert_yaxis()
    extent = field_extent(t2m)
    _, ax_map = make_map(
        "PlateCarree", extent, coast_resolution, ax=sub[1].add_subplot(projection=plate_carree())
    )
    plot_field(ax_map, t2m)
    label_cities(ax_map, extent, n=8)
    ax_map.set_title(f"2 m temperature (SYNTHETIC ICON-EU-like), {valid_label(t2m)}")
    return fig


def t2m_precip_figure(
    t2m: xr.DataArray,
    msl: xr.DataArray,
    rate: xr.DataArray,
    leads: Sequence[np.timedelta64],
    *,
    window_hours: int,
    title: str,
    coast_resolution: str = "auto",
) -> Figure:
    """Per lead time: t2m with isobars (top row) and the precipitation rate ending then.

    Parameters
    ----------
    t2m, msl
        2 m temperature [K] and mean sea-level pressure [Pa], (lead_time, latitude,
        longitude).
    rate
        Mean precipitation rate [mm/h] of each interval, labelled by the lead time
        ending it, (lead_time, latitude, longitude); all intervals equally long.
    leads
        Lead times of the columns; before the first interval the first one is shown.
    window_hours
        Length of the intervals [h].
    title
        Figure title.
    """
    extent = field_extent(t2m)
    lat, lon = t2m["latitude"].values, t2m["longitude"].values
    n = len(leads)
    fig = plt.figure(figsize=(5.2 * n, 8.6), layout="constrained")
    t_range = (float(t2m.min()) - 273.15, float(t2m.max()) - 273.15)
    r_max = float(np.nanpercentile(rate, 99.5)) or 1.0
    rate_leads = rate["lead_time"].values
    h_win = window_hours
    for i, lead in enumerate(leads):
        _, ax = make_map(
            "PlateCarree", extent, coast_resolution,
            ax=fig.add_subplot(2, n, i + 1, projection=plate_carree()),
        )  # fmt: skip
        field = t2m.sel(lead_time=lead)
        plot_field(ax, field, vmin=t_range[0], vmax=t_range[1])
        plot_contours(ax, msl.sel(lead_time=lead), interval_hpa=5.0)
        ax.set_title(f"2 m temperature, isobars [hPa]\n{valid_label(field)}", fontsize=9)
        _, ax = make_map(
            "PlateCarree", extent, coast_resolution,
            ax=fig.add_subplot(2, n, n + i + 1, projection=plate_carree()),
        )  # fmt: skip
        window = rate.sel(lead_time=max(lead, rate_leads[0]))
        mesh = ax.pcolormesh(
            lon, lat, np.ma.masked_less(window.values, 0.05), cmap="YlGnBu", vmin=0,
            vmax=r_max, transform=plate_carree(), shading="auto",
        )  # fmt: skip
        fig.colorbar(mesh, ax=ax, shrink=0.8, label=f"{h_win}-hourly mean rate [mm/h]")
        ax.set_title(f"precipitation rate over the {h_win} h ending\n{valid_label(window)}")
        ax.title.set_fontsize(9)
    fig.suptitle(title)
    return fig


def global_maps_figure(
    t2m: xr.DataArray,
    msl: xr.DataArray,
    *,
    geostationary_longitude: float,
    title: str,
    coast_resolution: str = "auto",
) -> Figure:
    """Global t2m [K] with msl [Pa] isobars on PlateCarree and a Geostationary disk."""
    fig = plt.figure(figsize=(16, 6), layout="constrained")
    _, ax = make_map(
        "PlateCarree", None, coast_resolution,
        ax=fig.add_subplot(1, 2, 1, projection=plate_carree()), borders=False,
    )  # fmt: skip
    plot_field(ax, t2m)
    plot_contours(ax, msl, interval_hpa=8.0)
    ax.set_title(f"IFS-like 2 m temperature and msl [hPa], PlateCarree\n{valid_label(t2m)}")
    geo = get_projection("Geostationary", central_longitude=geostationary_longitude)
    _, ax = make_map(
        "Geostationary", None, coast_resolution,
        ax=fig.add_subplot(1, 2, 2, projection=geo), borders=False,
    )  # fmt: skip
    plot_field(ax, t2m)
    plot_contours(ax, msl, interval_hpa=8.0)
    ax.set_title(f"Geostationary view from {geostationary_longitude:g}\u00b0E\n{valid_label(t2m)}")
    fig.suptitle(title)
    return fig
