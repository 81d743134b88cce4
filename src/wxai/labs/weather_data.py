"""Day-1 labs on GRIB forecasts: messages, ICON-EU fields, IFS global maps (course unit U2).

Every lab of U2 reads the offline sample files of :func:`wxai.data.synthetic.samples.write_samples`
(written into the run directory, or taken from ``data_dir``). Observation labs live in
:mod:`wxai.labs.observations`, ICON native grid, radar and cloud-top height in
:mod:`wxai.labs.weather_maps`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import xarray as xr

U2 = "U2 Weather data"
#: Course day of the "Visualising Fields and Observations" lecture and its GRIB/NetCDF lab.
DAY_DATA = 1
#: Course day of the "Radar, SAT and Multimodal Data" lab.
DAY_MULTIMODAL = 2


class SampleLabConfig(LabConfig):
    """Settings shared by the U2 labs: where the sample files come from."""

    data_dir: str | None = Field(
        default=None,
        description="directory with existing sample files (write_samples layout); "
        "None writes fresh samples into the run directory",
    )
    sample_seed: int = Field(default=0, ge=0, description="seed of freshly written samples")
    coast_resolution: str = Field(
        default="auto", description="coastline resolution c, l, i or auto"
    )


def sample_paths(cfg: SampleLabConfig, ctx: LabContext) -> tuple[dict[str, Path], int]:
    """Paths of the sample files and the seed of the synthetic atmosphere they come from."""
    from wxai.core.errors import ConfigError
    from wxai.data.synthetic.samples import SAMPLE_FILES, write_samples

    if cfg.data_dir is None:
        paths = write_samples(ctx.run_dir / "samples", seed=cfg.sample_seed)
        ctx.progress(0.2, "sample files written")
        return paths, cfg.sample_seed
    root = Path(cfg.data_dir)
    paths = {key: root / name for key, (name, _) in SAMPLE_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ConfigError(f"data_dir {root} lacks sample files: {missing}")
    seed = cfg.sample_seed
    manifest = root / "manifest.json"
    if manifest.is_file():
        seed = int(json.loads(manifest.read_text())["generator"]["synthetic_seed"])
    return paths, seed


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


# --------------------------------------------------------------------------- grib-inspect


class GribInspectConfig(SampleLabConfig):
    """Settings of ``grib-inspect``."""

    map_step_hours: int = Field(ge=0, description="lead time of the t2m map [h]")


def _eccodes_decode(path: Path) -> list[tuple[dict, np.ndarray, float]]:
    """(keys, values, quantisation step) of every message, decoded by ecCodes directly.

    The step is the smallest spacing between distinct decoded values: the packing precision.
    """
    import eccodes as ec

    out = []
    with path.open("rb") as f:
        while (h := ec.codes_grib_new_from_file(f)) is not None:
            try:
                keys = {k: ec.codes_get(h, k) for k in ("shortName", "step", "paramId")}
                values = ec.codes_get_values(h)
                steps = np.diff(np.unique(values))
                out.append((keys, values, float(steps.min()) if steps.size else 0.0))
            finally:
                ec.codes_release(h)
    return out


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

    import matplotlib.pyplot as plt

    from wxai.data.formats.grib import list_messages, read_grib
    from wxai.viz.fields import plot_field
    from wxai.viz.gazetteer import label_cities
    from wxai.viz.maps import make_map

    paths, _ = sample_paths(cfg, ctx)
    path = paths["icon_eu"]
    messages = list_messages(path)
    counts = collections.Counter(m["shortName"] for m in messages)
    direct = _eccodes_decode(path)
    datasets = {sn: read_grib(path, filter_by_keys={"shortName": sn}) for sn in counts}
    ctx.progress(0.6, "messages decoded twice")

    worst, worst_64, precision = 0.0, 0.0, []
    for keys, values, prec in direct:
        ds = datasets[keys["shortName"]]
        da = next(iter(ds.data_vars.values()))
        if "lead_time" in da.dims:
            da = da.sel(lead_time=np.timedelta64(int(keys["step"]), "h"))
        ours = np.asarray(da.values).ravel()
        worst = max(worst, float(np.max(np.abs(ours - values.astype(ours.dtype)))))
        worst_64 = max(worst_64, float(np.max(np.abs(ours.astype(float) - values))))
        precision.append(prec)
    tolerance = 0.5 * min(p for p in precision if p > 0)

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
        title=f"{len(messages)} messages in {path.name}\n"
        f"cfgrib vs ecCodes: max |diff| = {worst:g} (float32)",
    )
    ax_bar.invert_yaxis()
    t2m = datasets["2t"]["t2m"].sel(lead_time=np.timedelta64(cfg.map_step_hours, "h"))
    lat, lon = t2m["latitude"].values, t2m["longitude"].values
    extent = (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
    _, ax_map = make_map(
        "PlateCarree", extent, cfg.coast_resolution, ax=sub[1].add_subplot(projection=_plate())
    )
    plot_field(ax_map, t2m)
    label_cities(ax_map, extent, n=8)
    ax_map.set_title(f"2 m temperature (SYNTHETIC ICON-EU-like), {valid_label(t2m)}")
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


def _plate():
    import cartopy.crs as ccrs

    return ccrs.PlateCarree()


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
    import matplotlib.pyplot as plt

    from wxai.data.formats.grib import read_grib
    from wxai.viz.fields import plot_contours, plot_field
    from wxai.viz.maps import make_map

    paths, _ = sample_paths(cfg, ctx)
    path = paths["icon_eu"]
    t2m = read_grib(path, filter_by_keys={"shortName": "2t"})["t2m"]
    msl = read_grib(path, filter_by_keys={"shortName": "msl"})["msl"]
    tp = read_grib(path, filter_by_keys={"shortName": "tp"})["tp"].astype("float64")
    # ECMWF tp is in m of water; 1 m = 1000 kg m-2 = 1000 mm
    to_mm = 1000.0 if tp.attrs.get("units") == "m" else 1.0
    tp = tp * to_mm
    precision = to_mm * max(p for k, _v, p in _eccodes_decode(path) if k["shortName"] == "tp")
    # tp is accumulated since the start (kg m-2 = mm); interval amounts by differencing
    interval = tp.diff("lead_time")
    hours = (tp["lead_time"].diff("lead_time") / np.timedelta64(1, "h")).values
    rate = interval / xr_broadcast(hours)
    closure = float(np.abs(interval.sum("lead_time") - (tp.isel(lead_time=-1) - tp[0])).max())
    min_amount = float(interval.min())
    n_negative = int((interval < 0).sum())
    ctx.progress(0.6, "precipitation differenced")

    lat, lon = t2m["latitude"].values, t2m["longitude"].values
    extent = (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
    leads = [np.timedelta64(h, "h") for h in cfg.lead_hours]
    n = len(leads)
    fig = plt.figure(figsize=(5.2 * n, 8.6), layout="constrained")
    t_range = (float(t2m.min()) - 273.15, float(t2m.max()) - 273.15)
    r_max = float(np.nanpercentile(rate, 99.5)) or 1.0
    for i, lead in enumerate(leads):
        _, ax = make_map(
            "PlateCarree", extent, cfg.coast_resolution,
            ax=fig.add_subplot(2, n, i + 1, projection=_plate()),
        )  # fmt: skip
        field = t2m.sel(lead_time=lead)
        plot_field(ax, field, vmin=t_range[0], vmax=t_range[1])
        plot_contours(ax, msl.sel(lead_time=lead), interval_hpa=5.0)
        ax.set_title(f"2 m temperature, isobars [hPa]\n{valid_label(field)}", fontsize=9)
        _, ax = make_map(
            "PlateCarree", extent, cfg.coast_resolution,
            ax=fig.add_subplot(2, n, n + i + 1, projection=_plate()),
        )  # fmt: skip
        window = rate.sel(lead_time=max(lead, rate["lead_time"].values[0]))
        h_win = int(hours[0])
        mesh = ax.pcolormesh(
            lon, lat, np.ma.masked_less(window.values, 0.05), cmap="YlGnBu", vmin=0,
            vmax=r_max, transform=_plate(), shading="auto",
        )  # fmt: skip
        fig.colorbar(mesh, ax=ax, shrink=0.8, label=f"{h_win}-hourly mean rate [mm/h]")
        ax.set_title(f"precipitation rate over the {h_win} h ending\n{valid_label(window)}")
        ax.title.set_fontsize(9)
    init = np.datetime_as_string(t2m["init_time"].values, "h").replace("T", " ")
    fig.suptitle(
        f"SYNTHETIC ICON-EU-like forecast from {init}"
        f" UTC; rates from differences of accumulated tp (min interval {min_amount:.3g} mm)"
    )
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


def xr_broadcast(hours: np.ndarray):
    """Interval lengths as a DataArray on ``lead_time`` for dividing interval amounts."""
    import xarray as xr

    return xr.DataArray(hours, dims=("lead_time",))


# --------------------------------------------------------------------------- ifs-map


class IfsMapConfig(SampleLabConfig):
    """Settings of ``ifs-map``."""

    lead_hours: int = Field(ge=0, description="lead time shown [h]")
    geostationary_longitude: float = Field(ge=-180, le=180, description="sub-satellite lon")
    t2m_band: tuple[float, float] = Field(description="plausible global mean t2m [K]")
    msl_band_hpa: tuple[float, float] = Field(description="plausible global mean msl [hPa]")


def _area_mean(da: xr.DataArray) -> float:
    weights = np.cos(np.deg2rad(da["latitude"]))
    return float(da.weighted(weights).mean(("latitude", "longitude")))


@lab(
    "ifs-map",
    title="Global IFS-like t2m and msl on PlateCarree and Geostationary maps",
    topic=U2,
    day=DAY_DATA,
    config=IfsMapConfig,
)
def ifs_map(cfg: IfsMapConfig, ctx: LabContext) -> LabOutcome:
    """Plot the IFS-like global fields; check area-weighted global means."""
    import matplotlib.pyplot as plt

    from wxai.data.formats.grib import read_grib
    from wxai.viz.fields import plot_contours, plot_field
    from wxai.viz.maps import get_projection, make_map

    paths, _ = sample_paths(cfg, ctx)
    lead = np.timedelta64(cfg.lead_hours, "h")
    t2m = read_grib(paths["ifs"], filter_by_keys={"shortName": "2t"})["t2m"].sel(lead_time=lead)
    msl = read_grib(paths["ifs"], filter_by_keys={"shortName": "msl"})["msl"].sel(lead_time=lead)
    t_mean, p_mean = _area_mean(t2m), _area_mean(msl) / 100.0
    t_ok = cfg.t2m_band[0] <= t_mean <= cfg.t2m_band[1]
    p_ok = cfg.msl_band_hpa[0] <= p_mean <= cfg.msl_band_hpa[1]

    fig = plt.figure(figsize=(16, 6), layout="constrained")
    _, ax = make_map(
        "PlateCarree", None, cfg.coast_resolution,
        ax=fig.add_subplot(1, 2, 1, projection=_plate()), borders=False,
    )  # fmt: skip
    plot_field(ax, t2m)
    plot_contours(ax, msl, interval_hpa=8.0)
    ax.set_title(f"IFS-like 2 m temperature and msl [hPa], PlateCarree\n{valid_label(t2m)}")
    geo = get_projection("Geostationary", central_longitude=cfg.geostationary_longitude)
    _, ax = make_map(
        "Geostationary", None, cfg.coast_resolution,
        ax=fig.add_subplot(1, 2, 2, projection=geo), borders=False,
    )  # fmt: skip
    plot_field(ax, t2m)
    plot_contours(ax, msl, interval_hpa=8.0)
    ax.set_title(
        f"Geostationary view from {cfg.geostationary_longitude:g}\u00b0E\n{valid_label(t2m)}"
    )
    fig.suptitle(
        f"SYNTHETIC global forecast: area-weighted means t2m {t_mean:.1f} K, msl {p_mean:.1f} hPa"
    )
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
