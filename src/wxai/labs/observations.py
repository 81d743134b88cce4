"""Day-1 U2 labs on observations: SYNOP maps, feedback-file statistics, AIREP diagnostics.

Sample files as in :mod:`wxai.labs.weather_data`.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.weather_data import DAY_DATA, U2, SampleLabConfig, sample_paths

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
    from wxai.data.obs.synop import read_synop
    from wxai.data.oracles import netcdf_valid_count
    from wxai.viz.obs_panels import station_projections_figure

    paths, _ = sample_paths(cfg, ctx)
    ds = read_synop(paths["synop"])
    t2m = ds["t2m"].values
    n_valid = int(np.isfinite(t2m).sum())
    nc_valid, nc_total = netcdf_valid_count(paths["synop"], "MTDBT")
    sentinels = int((np.abs(t2m[np.isfinite(t2m)]) > 1e3).sum())
    times = ds["time"].values
    when = times.min() + np.timedelta64(cfg.hour, "h")
    pick = times == when
    values = t2m[pick] - 273.15
    stamp = np.datetime_as_string(when, unit="m").replace("T", " ")
    fig = station_projections_figure(
        ds["lat"].values[pick], ds["lon"].values[pick], values,
        projections=("PlateCarree", "TransverseMercator", "LambertConformal"),
        label="2 m temperature [\u00b0C]", marker_size=cfg.marker_size,
        coast_resolution=cfg.coast_resolution,
        title=f"SYNTHETIC SYNOP 2 m temperature, {stamp} UTC: {int(pick.sum())} stations, "
        f"{int((~np.isfinite(values)).sum())} missing (hollow grey circles)",
    )  # fmt: skip
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
    from wxai.data.obs.feedback import OBSTYPES, VARNO, innovation_statistics, read_feedback
    from wxai.data.obs.levels import pressure_bin_edges
    from wxai.viz.obs_panels import departure_profiles_figure

    paths, _ = sample_paths(cfg, ctx)
    ds = read_feedback(paths["feedback"])
    edges = pressure_bin_edges(cfg.top_hpa, cfg.bottom_hpa, cfg.bin_hpa)
    profiles = innovation_statistics(ds, by=("obstype", "varno"), level_bins=edges)
    totals = innovation_statistics(ds, by=("obstype", "varno"))
    ratio = (totals["oma_rms"] / totals["omb_rms"]).values
    worst = float(np.nanmax(ratio))

    def names(obstype: int, varno: int) -> tuple[str, str, str]:
        short, units, _ = VARNO.get(varno, (str(varno), "", ""))
        return str(OBSTYPES.get(obstype, obstype)), short, units

    fig = departure_profiles_figure(
        profiles, totals, 0.5 * (edges[:-1] + edges[1:]) / 100.0, names=names,
        title=f"SYNTHETIC feedback file, active data, {cfg.bin_hpa:g} hPa bins: "
        f"worst rms(O-A)/rms(O-B) = {worst:.2f}",
    )  # fmt: skip
    ctx.save_figure(fig, "feedback_profiles.png")

    obstypes = [int(v) for v in profiles["obstype"].values]
    varnos = [int(v) for v in profiles["varno"].values]
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


@lab(
    "airep-diagnostics",
    title="AIREP diagnostics: density by height, innovation profile, horizontal density",
    topic=U2,
    day=DAY_DATA,
    config=AirepDiagnosticsConfig,
)
def airep_diagnostics(cfg: AirepDiagnosticsConfig, ctx: LabContext) -> LabOutcome:
    """Aircraft observation counts and O-B statistics from the feedback sample."""
    from wxai.data.obs.airep import (
        AIREP_OBSTYPE,
        density_by_height,
        horizontal_density,
        innovation_profile,
        select_airep,
    )
    from wxai.data.obs.feedback import VARNO, read_feedback
    from wxai.data.obs.levels import pressure_bin_edges
    from wxai.data.oracles import active_feedback_entries
    from wxai.viz.obs_panels import airep_figure

    paths, _ = sample_paths(cfg, ctx)
    airep = select_airep(read_feedback(paths["feedback"]))
    edges = pressure_bin_edges(cfg.top_hpa, cfg.bottom_hpa, cfg.bin_hpa)
    density = density_by_height(airep["level"].values, edges)
    counted = int(density.sum())
    reference = active_feedback_entries(paths["feedback"], AIREP_OBSTYPE)
    one = airep.isel(body=np.flatnonzero(airep["varno"].values == cfg.varno))
    profile = innovation_profile(one["level"].values, one["omb"].values, edges)
    boxes = horizontal_density(airep["lat"].values, airep["lon"].values, cfg.map_resolution)
    short, units, _ = VARNO.get(cfg.varno, (str(cfg.varno), "", ""))

    fig = airep_figure(
        0.5 * (edges[:-1] + edges[1:]) / 100.0, density.values, profile, boxes,
        lat=airep["lat"].values, lon=airep["lon"].values, bin_hpa=cfg.bin_hpa,
        variable=(short, units), box_deg=cfg.map_resolution,
        density_title=f"density vs height: {counted} counted, {reference} in the file",
        coast_resolution=cfg.coast_resolution,
    )  # fmt: skip
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
