"""Day-1 labs on GRIB forecasts: messages, ICON-EU fields, IFS global maps (course unit U2).

Every lab of U2 reads the offline sample files of :func:`wxai.data.synthetic.samples.write_samples`
(written into the run directory, or taken from ``data_dir``). Observation labs live in
:mod:`wxai.labs.observations`, ICON native grid, radar and cloud-top height in
:mod:`wxai.labs.weather_maps`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U2 = "U2 Weather data"
#: Course day of the "Visualising Fields and Observations" lecture and its GRIB/NetCDF lab.
DAY_DATA = 1
#: Course day of the "Radar, SAT and Multimodal Data" lab.
DAY_MULTIMODAL = 2


class SampleFilesConfig(LabConfig):
    """Settings of a lab that reads the sample files: where they come from."""

    data_dir: str | None = Field(
        default=None,
        description="directory with existing sample files (write_samples layout); "
        "None writes fresh samples into the run directory",
    )
    sample_seed: int = Field(default=0, ge=0, description="seed of freshly written samples")


class SampleLabConfig(SampleFilesConfig):
    """Settings shared by the U2 labs: the sample files and the coastline resolution."""

    coast_resolution: str = Field(
        default="auto", description="coastline resolution c, l, i or auto"
    )


def sample_paths(cfg: SampleFilesConfig, ctx: LabContext) -> tuple[dict[str, Path], int]:
    """Paths of the sample files and the seed of the synthetic atmosphere they come from."""
    from wxai.data.synthetic.samples import find_samples, write_samples

    if cfg.data_dir is None:
        paths = write_samples(ctx.run_dir / "samples", seed=cfg.sample_seed)
        ctx.progress(0.2, "sample files written")
        return paths, cfg.sample_seed
    return find_samples(cfg.data_dir, default_seed=cfg.sample_seed)


# --------------------------------------------------------------------------- grib-inspect


class GribInspectConfig(SampleLabConfig):
    """Settings of ``grib-inspect``."""

    map_step_hours: int = Field(ge=0, description="lead time of the t2m map [h]")


@lab(
    "grib-inspect",
    title="List GRIB messages and check the xarray decode against ecCodes",
    topic=U2,
    day=DAY_DATA,
    config=GribInspectConfig,
)
def grib_inspect(cfg: GribInspectConfig, ctx: LabContext) -> LabOutcome:
    """List the ICON-EU-like sample's messages; decode each via cfgrib and via ecCodes."""
    import collections

    from wxai.data.formats.grib import list_messages, read_grib
    from wxai.data.oracles import compare_grib_decoders
    from wxai.viz.forecast_panels import grib_inventory_figure

    paths, _ = sample_paths(cfg, ctx)
    path = paths["icon_eu"]
    messages = list_messages(path)
    counts = collections.Counter(m["shortName"] for m in messages)
    check = compare_grib_decoders(path)
    worst, worst_64 = check.max_abs_diff, check.max_abs_diff_float64
    tolerance = 0.5 * check.finest_packing_step
    ctx.progress(0.6, "messages decoded twice")

    t2m = read_grib(path, filter_by_keys={"shortName": "2t"})["t2m"]
    t2m = t2m.sel(lead_time=np.timedelta64(cfg.map_step_hours, "h"))
    fig = grib_inventory_figure(
        messages, t2m, file_name=path.name, max_abs_diff=worst,
        coast_resolution=cfg.coast_resolution,
    )  # fmt: skip
    ctx.save_figure(fig, "grib_messages.png")

    return LabOutcome(
        metrics={
            "n_messages": float(len(messages)),
            "n_short_names": float(len(counts)),
            "max_abs_diff_vs_eccodes": worst,
            "max_abs_diff_vs_eccodes_float64": worst_64,
            "packing_precision_min": 2 * tolerance,
        },
        acceptance=Acceptance(
            metric="max_abs_diff_vs_eccodes",
            value=worst,
            comparison="<=",
            threshold=tolerance,
            baseline="values decoded by ecCodes directly (codes_get_values), cast to the "
            "float32 of cfgrib; bound: half the finest packing step of any message",
            baseline_value=0.0,
        ),
        summary=f"{len(messages)} messages ({dict(counts)}); max |cfgrib - ecCodes| = {worst:g}.",
    )


# --------------------------------------------------------------------------- icon-eu-t2m


class IconEuT2mConfig(SampleLabConfig):
    """Settings of ``icon-eu-t2m``."""

    lead_hours: list[int] = Field(min_length=1, description="lead times of the t2m panels [h]")


@lab(
    "icon-eu-t2m",
    title="ICON-EU-like t2m at several lead times and precipitation from accumulated tp",
    topic=U2,
    day=DAY_DATA,
    config=IconEuT2mConfig,
)
def icon_eu_t2m(cfg: IconEuT2mConfig, ctx: LabContext) -> LabOutcome:
    """Map t2m at lead times; difference accumulated tp into interval amounts."""
    from wxai.atmos.accumulation import interval_amounts, mean_rates
    from wxai.data.formats.grib import read_grib
    from wxai.data.oracles import compare_grib_decoders
    from wxai.viz.forecast_panels import t2m_precip_figure

    paths, _ = sample_paths(cfg, ctx)
    path = paths["icon_eu"]
    t2m = read_grib(path, filter_by_keys={"shortName": "2t"})["t2m"]
    msl = read_grib(path, filter_by_keys={"shortName": "msl"})["msl"]
    tp = read_grib(path, filter_by_keys={"shortName": "tp"})["tp"].astype("float64")
    # ECMWF tp is in m of water; 1 m = 1000 kg m-2 = 1000 mm
    to_mm = 1000.0 if tp.attrs.get("units") == "m" else 1.0
    tp = tp * to_mm
    precision = to_mm * compare_grib_decoders(path).packing_step("tp")
    # tp is accumulated since the start (kg m-2 = mm): interval amounts by differencing,
    # raw (no clipping) so that the packing noise shows in the acceptance metric
    axis = tp.get_axis_num("lead_time")
    lead_hours = tp["lead_time"].values / np.timedelta64(1, "h")
    hours = np.diff(lead_hours)
    interval = tp.isel(lead_time=slice(1, None))
    rate = interval.copy(data=mean_rates(tp.values, lead_hours, axis=axis))
    interval = interval.copy(data=interval_amounts(tp.values, axis=axis))
    closure = float(np.abs(interval.sum("lead_time") - (tp.isel(lead_time=-1) - tp[0])).max())
    min_amount = float(interval.min())
    n_negative = int((interval < 0).sum())
    ctx.progress(0.6, "precipitation differenced")

    init = np.datetime_as_string(t2m["init_time"].values, "h").replace("T", " ")
    fig = t2m_precip_figure(
        t2m, msl, rate, [np.timedelta64(h, "h") for h in cfg.lead_hours],
        window_hours=int(hours[0]), coast_resolution=cfg.coast_resolution,
        title=f"SYNTHETIC ICON-EU-like forecast from {init} UTC; rates from differences "
        f"of accumulated tp (min interval {min_amount:.3g} mm)",
    )  # fmt: skip
    ctx.save_figure(fig, "icon_eu_t2m_precip.png")

    return LabOutcome(
        metrics={
            "min_interval_amount_mm": min_amount,
            "negative_interval_count": float(n_negative),
            "accumulation_closure_max_abs_diff": closure,
            "tp_packing_precision": precision,
            "max_rate_mm_per_h": float(rate.max()),
            "step_hours": float(hours[0]),
        },
        acceptance=Acceptance(
            metric="min_interval_amount_mm",
            value=min_amount,
            comparison=">=",
            threshold=-2 * precision,
            baseline="interval amounts tp(t+dt) - tp(t) must be non-negative up to the "
            "GRIB packing step of two decoded accumulations",
            baseline_value=0.0,
        ),
        summary=f"{len(cfg.lead_hours)} lead times; {int(hours[0])}-hourly precipitation, "
        f"min interval amount {min_amount:.3g} mm, closure {closure:.2g} mm.",
    )


# --------------------------------------------------------------------------- ifs-map


class IfsMapConfig(SampleLabConfig):
    """Settings of ``ifs-map``."""

    lead_hours: int = Field(ge=0, description="lead time shown [h]")
    geostationary_longitude: float = Field(ge=-180, le=180, description="sub-satellite lon")
    t2m_band: tuple[float, float] = Field(description="plausible global mean t2m [K]")
    msl_band_hpa: tuple[float, float] = Field(description="plausible global mean msl [hPa]")


@lab(
    "ifs-map",
    title="Global IFS-like t2m and msl on PlateCarree and Geostationary maps",
    topic=U2,
    day=DAY_DATA,
    config=IfsMapConfig,
)
def ifs_map(cfg: IfsMapConfig, ctx: LabContext) -> LabOutcome:
    """Plot the IFS-like global fields; check area-weighted global means."""
    from wxai.data.formats.grib import read_grib
    from wxai.verify.spatial import area_mean
    from wxai.viz.forecast_panels import global_maps_figure

    paths, _ = sample_paths(cfg, ctx)
    lead = np.timedelta64(cfg.lead_hours, "h")
    t2m = read_grib(paths["ifs"], filter_by_keys={"shortName": "2t"})["t2m"].sel(lead_time=lead)
    msl = read_grib(paths["ifs"], filter_by_keys={"shortName": "msl"})["msl"].sel(lead_time=lead)
    lat = t2m["latitude"].values
    t_mean = area_mean(t2m.transpose("latitude", "longitude").values, lat)
    p_mean = area_mean(msl.transpose("latitude", "longitude").values, lat) / 100.0
    t_ok = cfg.t2m_band[0] <= t_mean <= cfg.t2m_band[1]
    p_ok = cfg.msl_band_hpa[0] <= p_mean <= cfg.msl_band_hpa[1]

    fig = global_maps_figure(
        t2m, msl, geostationary_longitude=cfg.geostationary_longitude,
        coast_resolution=cfg.coast_resolution,
        title=f"SYNTHETIC global forecast: area-weighted means t2m {t_mean:.1f} K, "
        f"msl {p_mean:.1f} hPa",
    )  # fmt: skip
    ctx.save_figure(fig, "ifs_global.png")

    return LabOutcome(
        metrics={
            "global_mean_t2m_K": t_mean,
            "global_mean_msl_hPa": p_mean,
            "t2m_in_band": float(t_ok),
            "msl_in_band": float(p_ok),
            "both_in_band": float(t_ok and p_ok),
        },
        acceptance=Acceptance(
            metric="both_in_band",
            value=float(t_ok and p_ok),
            comparison="==",
            threshold=1.0,
            baseline=f"cos(lat)-weighted global means: t2m in {list(cfg.t2m_band)} K and "
            f"msl in {list(cfg.msl_band_hpa)} hPa (Earth: about 288 K, 1013 hPa)",
        ),
        summary=f"global mean t2m {t_mean:.1f} K, msl {p_mean:.1f} hPa.",
    )
