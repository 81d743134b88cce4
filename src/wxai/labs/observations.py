"""Day-1 U2 labs on observations: SYNOP maps, feedback-file statistics, AIREP diagnostics.

Sample files as in :mod:`wxai.labs.weather_data`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.weather_data import DAY_DATA, U2, SampleLabConfig, sample_paths


def _pressure_edges(top_hpa: float, bottom_hpa: float, step_hpa: float) -> np.ndarray:
    """Increasing pressure bin edges [Pa]."""
    return np.arange(top_hpa, bottom_hpa + step_hpa / 2, step_hpa) * 100.0


def _netcdf_valid_count(path: Path, variable: str) -> tuple[int, int]:
    """(non-missing, total) values of ``variable`` counted by netCDF4's own masking."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        data = np.ma.masked_invalid(nc[variable][:])
        return int(data.count()), int(data.size)


# --------------------------------------------------------------------------- synop-map


class SynopMapConfig(SampleLabConfig):
    """Settings of ``synop-map``."""

    hour: int = Field(ge=0, le=24, description="hours after the first report time to map")
    marker_size: float = Field(gt=0, description="station marker size [points^2]")


@lab(
    "synop-map",
    title="SYNOP 2 m temperature on PlateCarree, TransverseMercator and LambertConformal maps",
    topic=U2,
    day=DAY_DATA,
    config=SynopMapConfig,
)
def synop_map(cfg: SynopMapConfig, ctx: LabContext) -> LabOutcome:
    """Read SYNOP NetCDF (missing values kept as NaN) and map one hour on three projections."""
    import matplotlib.pyplot as plt

    from wxai.data.obs.synop import read_synop
    from wxai.viz.maps import get_projection, make_map
    from wxai.viz.points import plot_points

    paths, _ = sample_paths(cfg, ctx)
    ds = read_synop(paths["synop"])
    t2m = ds["t2m"].values
    n_valid = int(np.isfinite(t2m).sum())
    nc_valid, nc_total = _netcdf_valid_count(paths["synop"], "MTDBT")
    sentinels = int((np.abs(t2m[np.isfinite(t2m)]) > 1e3).sum())
    times = ds["time"].values
    when = times.min() + np.timedelta64(cfg.hour, "h")
    pick = times == when
    lat, lon = ds["lat"].values[pick], ds["lon"].values[pick]
    values = t2m[pick] - 273.15
    extent = (
        float(np.floor(lon.min() - 2)), float(np.ceil(lon.max() + 2)),
        float(np.floor(lat.min() - 2)), float(np.ceil(lat.max() + 2)),
    )  # fmt: skip
    finite = values[np.isfinite(values)]
    lim = (float(finite.min()), float(finite.max()))
    fig = plt.figure(figsize=(18, 6.4), layout="constrained")
    for i, name in enumerate(("PlateCarree", "TransverseMercator", "LambertConformal")):
        ax = fig.add_subplot(1, 3, i + 1, projection=get_projection(name, extent))
        make_map(name, extent, cfg.coast_resolution, ax=ax)
        plot_points(
            ax, lat, lon, values, cmap="RdBu_r", vmin=lim[0], vmax=lim[1], size=cfg.marker_size,
            label="2 m temperature [\u00b0C]", colorbar=i == 2,
        )  # fmt: skip
        ax.set_title(name)
    stamp = np.datetime_as_string(when, unit="m").replace("T", " ")
    fig.suptitle(
        f"SYNTHETIC SYNOP 2 m temperature, {stamp} UTC: {int(pick.sum())} stations, "
        f"{int((~np.isfinite(values)).sum())} missing (hollow grey circles)"
    )
    ctx.save_figure(fig, "synop_projections.png")

    return LabOutcome(
        metrics={
            "t2m_valid_count": float(n_valid),
            "t2m_valid_count_netcdf4": float(nc_valid),
            "t2m_missing_fraction": 1.0 - n_valid / t2m.size,
            "t2m_missing_fraction_netcdf4": 1.0 - nc_valid / nc_total,
            "t2m_sentinel_values": float(sentinels),
            "n_reports": float(t2m.size),
            "n_stations_mapped": float(pick.sum()),
        },
        acceptance=Acceptance(
            metric="t2m_valid_count",
            value=float(n_valid),
            comparison="==",
            threshold=float(nc_valid),
            baseline="non-missing MTDBT values counted by netCDF4's _FillValue masking "
            "(read_synop must keep every missing value as NaN, not a fill number)",
            baseline_value=float(nc_valid),
        ),
        summary=f"{n_valid} of {t2m.size} t2m reports present (netCDF4: {nc_valid}).",
    )


# --------------------------------------------------------------------------- feedback-stats


class FeedbackStatsConfig(SampleLabConfig):
    """Settings of ``feedback-stats``."""

    top_hpa: float = Field(gt=0, description="upper edge of the level bins [hPa]")
    bottom_hpa: float = Field(gt=0, description="lower edge of the level bins [hPa]")
    bin_hpa: float = Field(gt=0, description="bin width [hPa]")


@lab(
    "feedback-stats",
    title="Feedback file: O-B and O-A statistics by observation type and level",
    topic=U2,
    day=DAY_DATA,
    config=FeedbackStatsConfig,
)
def feedback_stats(cfg: FeedbackStatsConfig, ctx: LabContext) -> LabOutcome:
    """Departure profiles per obs type and variable; the analysis must fit the obs better."""
    import matplotlib.pyplot as plt

    from wxai.data.obs.feedback import OBSTYPES, VARNO, innovation_statistics, read_feedback

    paths, _ = sample_paths(cfg, ctx)
    ds = read_feedback(paths["feedback"])
    edges = _pressure_edges(cfg.top_hpa, cfg.bottom_hpa, cfg.bin_hpa)
    profiles = innovation_statistics(ds, by=("obstype", "varno"), level_bins=edges)
    totals = innovation_statistics(ds, by=("obstype", "varno"))
    ratio = (totals["oma_rms"] / totals["omb_rms"]).values
    worst = float(np.nanmax(ratio))
    centres = 0.5 * (edges[:-1] + edges[1:]) / 100.0

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
            short, units, _ = VARNO.get(varno, (str(varno), "", ""))
            tot = totals.sel(obstype=obstype, varno=varno)
            if not int(np.nan_to_num(tot["omb_count"])):
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no active {OBSTYPES.get(obstype, obstype)} {short}",
                        ha="center", transform=ax.transAxes)  # fmt: skip
                continue
            for dep, colour, label in (("omb", "C0", "O-B"), ("oma", "C3", "O-A")):
                mean, std = sel[f"{dep}_mean"].values, sel[f"{dep}_std"].values
                ax.plot(mean, centres, "-o", color=colour, ms=3, label=f"{label} mean")
                ax.plot(std, centres, "--", color=colour, label=f"{label} std")
            ax.axvline(0, color="k", lw=0.5)
            ax.set_title(
                f"{OBSTYPES.get(obstype, obstype)} {short} (n={int(tot['omb_count'])})\n"
                f"rms O-B {float(tot['omb_rms']):.3g}, O-A {float(tot['oma_rms']):.3g}",
                fontsize=9,
            )
            ax.set_xlabel(f"departure [{units}]")
            ax.grid(alpha=0.3)
            if c == 0:
                ax.set_ylabel("pressure [hPa]")
    axes[0, 0].invert_yaxis()
    axes[-1, -1].legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"SYNTHETIC feedback file, active data, {cfg.bin_hpa:g} hPa bins: "
        f"worst rms(O-A)/rms(O-B) = {worst:.2f}"
    )
    ctx.save_figure(fig, "feedback_profiles.png")

    n_active = float(np.nansum(totals["omb_count"].values))
    metrics = {"max_oma_to_omb_rms_ratio": worst, "n_active": n_active}
    for obstype in obstypes:
        for varno in varnos:
            tot = totals.sel(obstype=obstype, varno=varno)
            if not np.isfinite(float(tot["omb_rms"])):
                continue
            key = f"{OBSTYPES.get(obstype, obstype)}_{VARNO.get(varno, (varno,))[0]}".lower()
            metrics[f"omb_rms_{key}"] = float(tot["omb_rms"])
            metrics[f"oma_rms_{key}"] = float(tot["oma_rms"])
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="max_oma_to_omb_rms_ratio",
            value=worst,
            comparison="<",
            threshold=1.0,
            baseline="per obs type and variable, rms(O-A) < rms(O-B): the analysis is "
            "closer to the active observations than the first guess",
            baseline_value=1.0,
        ),
        summary=f"{int(metrics['n_active'])} active observations; "
        f"worst rms(O-A)/rms(O-B) {worst:.2f}.",
    )


# --------------------------------------------------------------------------- airep-diagnostics


class AirepDiagnosticsConfig(SampleLabConfig):
    """Settings of ``airep-diagnostics``."""

    top_hpa: float = Field(gt=0, description="upper edge of the level bins [hPa]")
    bottom_hpa: float = Field(gt=0, description="lower edge of the level bins [hPa]")
    bin_hpa: float = Field(gt=0, description="bin width [hPa]")
    map_resolution: float = Field(gt=0, description="horizontal density box size [deg]")
    varno: int = Field(default=2, description="variable of the innovation profile (2 = T)")


def _active_airep_entries(path: Path) -> int:
    """Active AIREP body entries, counted from the raw i_body/l_body layout with netCDF4."""
    import netCDF4

    from wxai.data.obs.airep import AIREP_OBSTYPE
    from wxai.data.obs.feedback import ACTIVE_STATES

    with netCDF4.Dataset(path) as nc:
        obstype = np.asarray(nc["obstype"][:])
        start, length = np.asarray(nc["i_body"][:]), np.asarray(nc["l_body"][:])
        state = np.asarray(nc["state"][:])
    base = 1 if start.min() >= 1 and (start - 1 + length).max() <= state.size else 0
    total = 0
    for h in np.flatnonzero(obstype == AIREP_OBSTYPE):
        rows = state[start[h] - base : start[h] - base + length[h]]
        total += int(np.isin(rows, ACTIVE_STATES).sum())
    return total


@lab(
    "airep-diagnostics",
    title="AIREP diagnostics: density by height, innovation profile, horizontal density",
    topic=U2,
    day=DAY_DATA,
    config=AirepDiagnosticsConfig,
)
def airep_diagnostics(cfg: AirepDiagnosticsConfig, ctx: LabContext) -> LabOutcome:
    """Aircraft observation counts and O-B statistics from the feedback sample."""
    import matplotlib.pyplot as plt

    from wxai.data.obs.airep import (
        density_by_height,
        horizontal_density,
        innovation_profile,
        select_airep,
    )
    from wxai.data.obs.feedback import VARNO, read_feedback
    from wxai.viz.maps import get_projection, make_map

    paths, _ = sample_paths(cfg, ctx)
    airep = select_airep(read_feedback(paths["feedback"]))
    edges = _pressure_edges(cfg.top_hpa, cfg.bottom_hpa, cfg.bin_hpa)
    level = airep["level"].values
    density = density_by_height(level, edges)
    counted = int(density.sum())
    reference = _active_airep_entries(paths["feedback"])
    one = airep.isel(body=np.flatnonzero(airep["varno"].values == cfg.varno))
    profile = innovation_profile(one["level"].values, one["omb"].values, edges)
    boxes = horizontal_density(airep["lat"].values, airep["lon"].values, cfg.map_resolution)
    centres = 0.5 * (edges[:-1] + edges[1:]) / 100.0
    short, units, _ = VARNO.get(cfg.varno, (str(cfg.varno), "", ""))

    fig = plt.figure(figsize=(16, 5.6), layout="constrained")
    ax = fig.add_subplot(1, 3, 1)
    ax.barh(centres, density.values, height=0.8 * cfg.bin_hpa, color="C0")
    ax.set(
        xlabel="active AIREP observations per bin", ylabel="pressure [hPa]",
        title=f"density vs height: {counted} counted, {reference} in the file",
    )  # fmt: skip
    ax.invert_yaxis()
    ax = fig.add_subplot(1, 3, 2, sharey=ax)
    mean, std = profile["mean"].values, profile["std"].values
    ax.fill_betweenx(
        centres, mean - std, mean + std, color="C1", alpha=0.3, label="mean \u00b1 std"
    )
    ax.plot(mean, centres, "-o", color="C1", ms=3, label="mean O-B")
    ax.axvline(0, color="k", lw=0.5)
    ax.set(xlabel=f"O-B {short} [{units}]", title=f"AIREP {short} innovation by height")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    lat, lon = airep["lat"].values, airep["lon"].values
    extent = (
        float(lon.min() - 5),
        float(lon.max() + 5),
        float(lat.min() - 5),
        float(lat.max() + 5),
    )
    ax = fig.add_subplot(1, 3, 3, projection=get_projection("PlateCarree", extent))
    make_map("PlateCarree", extent, cfg.coast_resolution, ax=ax)
    counts = boxes.where(boxes > 0)
    mesh = ax.pcolormesh(
        boxes["longitude"], boxes["latitude"], counts, cmap="viridis",
        transform=get_projection("PlateCarree"), shading="auto",
    )  # fmt: skip
    fig.colorbar(
        mesh, ax=ax, shrink=0.8, label=f"observations per {cfg.map_resolution:g}\u00b0 box"
    )
    ax.set_title("horizontal density of active AIREP observations")
    fig.suptitle("SYNTHETIC feedback file: aircraft (AIREP) diagnostics")
    ctx.save_figure(fig, "airep_diagnostics.png")

    return LabOutcome(
        metrics={
            "airep_counted": float(counted),
            "airep_active_in_file": float(reference),
            "airep_in_map": float(boxes.sum()),
            "omb_mean_overall": float(np.nanmean(one["omb"].values)),
            "omb_std_overall": float(np.nanstd(one["omb"].values)),
        },
        acceptance=Acceptance(
            metric="airep_counted",
            value=float(counted),
            comparison="==",
            threshold=float(reference),
            baseline="active AIREP body entries counted from the raw i_body/l_body/state "
            "arrays with netCDF4 (no observation lost or double-counted by the binning)",
            baseline_value=float(reference),
        ),
        summary=f"{counted} AIREP observations binned; {reference} active in the file.",
    )
