"""U2 labs on non-regular data: ICON native grid, radar composite, cloud-top height.

``icon-native-grid`` belongs to the day-1 GRIB/NetCDF lab, ``radar-map`` and ``cth-map`` to
the day-2 "Radar, SAT and Multimodal Data" lab. Sample files as in :mod:`wxai.labs.weather_data`.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.weather_data import DAY_DATA, DAY_MULTIMODAL, U2, SampleLabConfig, sample_paths

# --------------------------------------------------------------------------- icon-native-grid


class IconNativeGridConfig(SampleLabConfig):
    """Settings of ``icon-native-grid``."""

    lead_hours: int = Field(ge=0, description="lead time shown and checked [h]")
    resolution: float = Field(gt=0, le=10, description="target lat/lon grid spacing [deg]")
    method: str = Field(default="linear", description="remapping: nearest or linear")
    max_rmse_fraction: float = Field(gt=0, description="RMSE bound as a fraction of field std")


@lab(
    "icon-native-grid",
    title="ICON native triangles: triangulate across the dateline, plot, remap to lat/lon",
    topic=U2,
    day=DAY_DATA,
    config=IconNativeGridConfig,
)
def icon_native_grid(cfg: IconNativeGridConfig, ctx: LabContext) -> LabOutcome:
    """Remap native-grid t2m and compare with the synthetic atmosphere on the target grid."""
    from wxai.core.errors import ConfigError
    from wxai.data.formats.grib import read_grib
    from wxai.data.grids.icon import read_icon_grid, regular_latlon, remap_to_latlon, triangulation
    from wxai.data.synthetic.atmosphere import SyntheticAtmosphere
    from wxai.verify.metrics import rmse
    from wxai.viz.grid_panels import native_grid_figure

    if cfg.method not in ("nearest", "linear"):
        raise ConfigError(f"method must be nearest or linear, got {cfg.method!r}")
    paths, seed = sample_paths(cfg, ctx)
    grid = read_icon_grid(paths["icon_grid"])
    lead = np.timedelta64(cfg.lead_hours, "h")
    t2m = read_grib(paths["icon_native"], filter_by_keys={"shortName": "2t"})["t2m"]
    t2m = t2m.sel(lead_time=lead)
    raw = triangulation(grid, dateline="none")
    n_wrapped = int((raw.spans() > 180).sum())
    n_wrapped_mended = int((triangulation(grid, dateline="mend").spans() > 180).sum())
    lat, lon = regular_latlon(cfg.resolution)
    remapped = remap_to_latlon(grid, t2m, lat, lon, method=cfg.method)  # type: ignore[arg-type]
    ctx.progress(0.6, "remapped")
    truth = SyntheticAtmosphere(seed=seed).fields(lat, lon, t2m["valid_time"].values)["t2m"]
    truth = truth.isel(time=0).transpose("latitude", "longitude")
    error = rmse(remapped.transpose("latitude", "longitude").values, truth.values)
    spread = float(truth.std())

    fig = native_grid_figure(
        grid, raw, t2m, remapped, truth, method=cfg.method, resolution=cfg.resolution,
        rmse_k=error, wrapped_after_mending=n_wrapped_mended,
        coast_resolution=cfg.coast_resolution,
    )  # fmt: skip
    ctx.save_figure(fig, "icon_native.png")

    return LabOutcome(
        metrics={
            "rmse_vs_truth_K": error,
            "truth_std_K": spread,
            "rmse_fraction_of_std": error / spread,
            "n_cells": float(grid.n_cells),
            "wrapped_triangles_unmended": float(n_wrapped),
            "wrapped_triangles_mended": float(n_wrapped_mended),
        },
        acceptance=Acceptance(
            metric="rmse_fraction_of_std",
            value=error / spread,
            comparison="<",
            threshold=cfg.max_rmse_fraction,
            baseline="SyntheticAtmosphere (same seed) evaluated directly on the lat/lon grid; "
            "RMSE / std of that field (a constant field scores 1)",
            baseline_value=1.0,
        ),
        summary=f"{cfg.method} remap RMSE {error:.2f} K = {error / spread:.3f} x field std; "
        f"{n_wrapped} dateline triangles mended.",
    )


# --------------------------------------------------------------------------- radar-map


class RadarMapConfig(SampleLabConfig):
    """Settings of ``radar-map``."""

    n_cities: int = Field(ge=0, description="cities labelled on the map")


@lab(
    "radar-map",
    title="ODIM_H5 reflectivity composite: gain/offset, nodata/undetect masks, map",
    topic=U2,
    day=DAY_MULTIMODAL,
    config=RadarMapConfig,
)
def radar_map(cfg: RadarMapConfig, ctx: LabContext) -> LabOutcome:
    """Decode the composite with wxai and check it pixel by pixel against raw HDF5."""
    from wxai.data.formats.odim import read_odim
    from wxai.data.oracles import odim_mismatches, read_odim_raw
    from wxai.viz.remote_sensing_panels import radar_composite_figure

    paths, _ = sample_paths(cfg, ctx)
    dbz = read_odim(paths["radar"])
    raw = read_odim_raw(paths["radar"])
    gain, offset, nodata, undetect = raw.gain, raw.offset, raw.nodata, raw.undetect
    decoded, valid = dbz.values, raw.valid
    mismatch = odim_mismatches(dbz, raw)
    lo, hi = offset + gain * 1, offset + gain * 254  # raw 0 and 255 are the flags
    in_range = bool(np.all((decoded[valid] >= lo) & (decoded[valid] <= hi)))

    fig = radar_composite_figure(
        dbz, nodata, n_cities=cfg.n_cities, coast_resolution=cfg.coast_resolution,
        subtitle=f"grey: nodata ({nodata.mean():.0%}), clear: undetect "
        f"({undetect.mean():.0%}); raw vs decoded mismatches: {mismatch}",
    )  # fmt: skip
    ctx.save_figure(fig, "radar_composite.png")

    return LabOutcome(
        metrics={
            "mask_value_mismatch_count": float(mismatch),
            "dbz_in_range": float(in_range),
            "dbz_min": float(np.nanmin(decoded)),
            "dbz_max": float(np.nanmax(decoded)),
            "nodata_fraction": float(nodata.mean()),
            "undetect_fraction": float(undetect.mean()),
            "gain": gain,
            "offset": offset,
        },
        acceptance=Acceptance(
            metric="mask_value_mismatch_count",
            value=float(mismatch),
            comparison="==",
            threshold=0.0,
            baseline="raw h5py array: masks from what/nodata and what/undetect, values "
            "raw*gain+offset elsewhere, NaN on flagged pixels",
        ),
        summary=f"dBZ {np.nanmin(decoded):.1f}..{np.nanmax(decoded):.1f} "
        f"(range {lo:g}..{hi:g}), {mismatch} mismatches against raw HDF5.",
    )


# --------------------------------------------------------------------------- cth-map


class CthMapConfig(SampleLabConfig):
    """Settings of ``cth-map``."""

    rain_threshold_mm_h: float = Field(gt=0, description="'raining' in the synthetic truth")
    n_cities: int = Field(ge=0, description="cities labelled on the map")


@lab(
    "cth-map",
    title="Cloud-top height on a map, checked against the synthetic rain field",
    topic=U2,
    day=DAY_MULTIMODAL,
    config=CthMapConfig,
)
def cth_map(cfg: CthMapConfig, ctx: LabContext) -> LabOutcome:
    """Map CTH; where the synthetic atmosphere rains, clouds must be more frequent."""

    from wxai.data.sources.dwd_cth import open_cth
    from wxai.data.synthetic.atmosphere import SyntheticAtmosphere
    from wxai.viz.remote_sensing_panels import cloud_top_figure

    paths, seed = sample_paths(cfg, ctx)
    cth = open_cth(paths["cth"])["CTH"]
    lat, lon = cth["latitude"].values, cth["longitude"].values
    truth = SyntheticAtmosphere(seed=seed).fields(lat, lon, cth["time"].values).isel(time=0)
    rain = truth["rr"].values * 3600.0 > cfg.rain_threshold_mm_h
    cloudy = np.isfinite(cth.values)
    km = cth.values / 1000.0
    in_range = bool(np.all((km[cloudy] >= 0.0) & (km[cloudy] <= 20.0)))
    frac_rain = float(cloudy[rain].mean()) if rain.any() else float("nan")
    frac_dry = float(cloudy[~rain].mean())

    fig = cloud_top_figure(
        cth, rain, n_cities=cfg.n_cities, coast_resolution=cfg.coast_resolution,
        subtitle=f"blue line: synthetic rain > {cfg.rain_threshold_mm_h:g} mm/h; cloudy there "
        f"{frac_rain:.0%}, elsewhere {frac_dry:.0%}",
    )  # fmt: skip
    ctx.save_figure(fig, "cth_map.png")

    return LabOutcome(
        metrics={
            "cloudy_fraction_raining": frac_rain,
            "cloudy_fraction_elsewhere": frac_dry,
            "cth_in_0_20_km": float(in_range),
            "cth_max_km": float(np.nanmax(km)),
            "cth_min_km": float(np.nanmin(km)),
            "raining_fraction": float(rain.mean()),
        },
        acceptance=Acceptance(
            metric="cloudy_fraction_raining",
            value=frac_rain if in_range else float("nan"),
            comparison=">",
            threshold=frac_dry,
            baseline="cloudy fraction outside the synthetic atmosphere's rain areas "
            "(same seed); CTH must also lie within 0..20 km (NaN otherwise)",
            baseline_value=frac_dry,
        ),
        summary=f"CTH {np.nanmin(km):.1f}..{np.nanmax(km):.1f} km; cloudy {frac_rain:.0%} "
        f"where it rains vs {frac_dry:.0%} elsewhere.",
    )
