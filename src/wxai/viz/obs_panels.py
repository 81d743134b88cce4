"""Figures of observations: station maps, departure profiles, aircraft diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from wxai.viz.maps import get_projection, make_map
from wxai.viz.points import plot_points

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["airep_figure", "departure_profiles_figure", "station_projections_figure"]

Extent = tuple[float, float, float, float]


def station_projections_figure(
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    *,
    projections: Sequence[str],
    label: str,
    title: str,
    marker_size: float = 40.0,
    coast_resolution: str = "auto",
) -> Figure:
    """The same station values on one map per projection (missing values hollow grey).

    Parameters
    ----------
    lat, lon
        Station positions [degrees], shape (n,).
    values
        Values at the stations, NaN where missing, shape (n,).
    projections
        Names of :data:`wxai.viz.maps.PROJECTIONS`, one panel each.
    label, title
        Colour-bar label (with units) and figure title.
    marker_size, coast_resolution
        Marker area [points^2]; coastline resolution c, l, i or auto.
    """
    extent = (
        float(np.floor(lon.min() - 2)), float(np.ceil(lon.max() + 2)),
        float(np.floor(lat.min() - 2)), float(np.ceil(lat.max() + 2)),
    )  # fmt: skip
    finite = values[np.isfinite(values)]
    lim = (float(finite.min()), float(finite.max()))
    n = len(projections)
    fig = plt.figure(figsize=(6 * n, 6.4), layout="constrained")
    for i, name in enumerate(projections):
        ax = fig.add_subplot(1, n, i + 1, projection=get_projection(name, extent))
        make_map(name, extent, coast_resolution, ax=ax)
        plot_points(
            ax, lat, lon, values, cmap="RdBu_r", vmin=lim[0], vmax=lim[1], size=marker_size,
            label=label, colorbar=i == n - 1,
        )  # fmt: skip
        ax.set_title(name)
    fig.suptitle(title)
    return fig


def departure_profiles_figure(
    profiles: xr.Dataset,
    totals: xr.Dataset,
    centres_hpa: np.ndarray,
    *,
    names: Callable[[int, int], tuple[str, str, str]],
    title: str,
) -> Figure:
    """O-B and O-A mean and standard deviation against pressure, per obs type and variable.

    Parameters
    ----------
    profiles
        Binned statistics of :func:`wxai.data.obs.feedback.innovation_statistics`
        with dims (obstype, varno, level bin): ``omb_mean``, ``omb_std``,
        ``oma_mean``, ``oma_std``.
    totals
        Unbinned statistics with dims (obstype, varno): ``omb_count``, ``omb_rms``,
        ``oma_rms``.
    centres_hpa
        Bin centres [hPa], shape (n_bins,).
    names
        ``(obstype, varno) -> (obs type name, variable name, units)``.
    title
        Figure title.
    """
    obstypes = [int(v) for v in profiles["obstype"].values]
    varnos = [int(v) for v in profiles["varno"].values]
    fig, axes = plt.subplots(
        len(obstypes), len(varnos), figsize=(3.4 * len(varnos), 4.2 * len(obstypes)),
        sharey=True, layout="constrained", squeeze=False,
    )  # fmt: skip
    for r, obstype in enumerate(obstypes):
        for c, varno in enumerate(varnos):
            ax = axes[r, c]
            sel = profiles.sel(obstype=obstype, varno=varno)
            kind, short, units = names(obstype, varno)
            tot = totals.sel(obstype=obstype, varno=varno)
            if not int(np.nan_to_num(tot["omb_count"])):
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no active {kind} {short}", ha="center",
                        transform=ax.transAxes)  # fmt: skip
                continue
            for dep, colour, label in (("omb", "C0", "O-B"), ("oma", "C3", "O-A")):
                mean, std = sel[f"{dep}_mean"].values, sel[f"{dep}_std"].values
                ax.plot(mean, centres_hpa, "-o", color=colour, ms=3, label=f"{label} mean")
                ax.plot(std, centres_hpa, "--", color=colour, label=f"{label} std")
            ax.axvline(0, color="k", lw=0.5)
            ax.set_title(
                f"{kind} {short} (n={int(tot['omb_count'])})\n"
                f"rms O-B {float(tot['omb_rms']):.3g}, O-A {float(tot['oma_rms']):.3g}",
                fontsize=9,
            )
            ax.set_xlabel(f"departure [{units}]")
            ax.grid(alpha=0.3)
            if c == 0:
                ax.set_ylabel("pressure [hPa]")
    axes[0, 0].invert_yaxis()
    axes[-1, -1].legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    return fig


def airep_figure(
    centres_hpa: np.ndarray,
    density: np.ndarray,
    profile: xr.Dataset,
    boxes: xr.DataArray,
    *,
    lat: np.ndarray,
    lon: np.ndarray,
    bin_hpa: float,
    variable: tuple[str, str],
    density_title: str,
    box_deg: float,
    coast_resolution: str = "auto",
) -> Figure:
    """Counts by pressure, the O-B profile (mean +- std) and a map of counts per box.

    Parameters
    ----------
    centres_hpa, density
        Bin centres [hPa] and observation counts per bin, shape (n_bins,).
    profile
        ``mean`` and ``std`` of O-B per bin, dim of length n_bins.
    boxes
        Counts per horizontal box, (latitude, longitude) with box-centre coordinates.
    lat, lon
        Observation positions [degrees] (for the map extent).
    bin_hpa, variable, density_title, box_deg
        Bin width [hPa], (short name, units) of the profile's variable, title of the
        count panel, box size [degrees].
    coast_resolution
        Coastline resolution c, l, i or auto.
    """
    short, units = variable
    fig = plt.figure(figsize=(16, 5.6), layout="constrained")
    ax = fig.add_subplot(1, 3, 1)
    ax.barh(centres_hpa, density, height=0.8 * bin_hpa, color="C0")
    ax.set(xlabel="active AIREP observations per bin", ylabel="pressure [hPa]",
           title=density_title)  # fmt: skip
    ax.invert_yaxis()
    ax = fig.add_subplot(1, 3, 2, sharey=ax)
    mean, std = profile["mean"].values, profile["std"].values
    ax.fill_betweenx(
        centres_hpa, mean - std, mean + std, color="C1", alpha=0.3, label="mean \u00b1 std"
    )
    ax.plot(mean, centres_hpa, "-o", color="C1", ms=3, label="mean O-B")
    ax.axvline(0, color="k", lw=0.5)
    ax.set(xlabel=f"O-B {short} [{units}]", title=f"AIREP {short} innovation by height")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    extent: Extent = (
        float(lon.min() - 5),
        float(lon.max() + 5),
        float(lat.min() - 5),
        float(lat.max() + 5),
    )
    ax = fig.add_subplot(1, 3, 3, projection=get_projection("PlateCarree", extent))
    make_map("PlateCarree", extent, coast_resolution, ax=ax)
    mesh = ax.pcolormesh(
        boxes["longitude"], boxes["latitude"], boxes.where(boxes > 0), cmap="viridis",
        transform=get_projection("PlateCarree"), shading="auto",
    )  # fmt: skip
    fig.colorbar(mesh, ax=ax, shrink=0.8, label=f"observations per {box_deg:g}\u00b0 box")
    ax.set_title("horizontal density of active AIREP observations")
    fig.suptitle("SYNTHETIC feedback file: aircraft (AIREP) diagnostics")
    return fig
