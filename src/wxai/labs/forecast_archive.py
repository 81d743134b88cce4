"""Forecast archive in Zarr: chunked store, town series, and a CNN forecast (course unit U11)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    from pathlib import Path

    import xarray as xr

    from wxai.data.archive_samples import TrainingFields
    from wxai.train.loop import FitHistory

U11 = "U11 Forecast archive in Zarr"

#: CNN state inputs, in channel order; the target is the first one a step later.
INPUTS = ("t2m", "u10", "v10", "msl")
ARCHIVED = ("t2m", "u10", "v10", "msl", "tp")
#: Known (not forecast) inputs the CNN may also see: cos/sin of the local solar time
#: and the static land fraction, which together set the diurnal cycle of t2m.
FORCINGS = ("local_time", "land_fraction")  # = wxai.data.archive_samples.FORCINGS


class ForecastArchiveConfig(LabConfig):
    """Settings of ``forecast-archive``."""

    lat_min: float = Field(default=35.0, ge=-90, le=90)
    lat_max: float = Field(default=72.0, ge=-90, le=90)
    lon_min: float = Field(default=-15.0, ge=-180, le=360)
    lon_max: float = Field(default=35.0, ge=-180, le=360)
    resolution: float = Field(gt=0, le=5, description="grid spacing [degrees]")
    lead_hours: int = Field(ge=6, description="last lead time [h]")
    step_hours: int = Field(default=3, ge=1, description="archive time step [h]")
    n_cyclones: int = Field(default=3, ge=0, le=10)
    chunks: list[int] = Field(
        default=[1, 60, 60], min_length=3, max_length=3, description="(time, lat, lon) chunks"
    )
    places: list[str] = Field(min_length=1, description="gazetteer names of the towns")
    map_place: str = Field(description="town whose surroundings are mapped")
    map_half_width: float = Field(default=4.0, gt=0, description="local map half width [deg]")
    patch: int = Field(ge=8, description="side of the square training patches [grid points]")
    n_patches: int = Field(ge=8, description="random training patches")
    train_fraction: float = Field(
        default=0.7, gt=0, lt=1, description="leading fraction of steps used for training"
    )
    hidden: int = Field(ge=1, description="channels of the hidden conv layers")
    n_layers: int = Field(ge=2, description="conv layers")
    kernel_size: int = Field(default=3, ge=1)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    rollout_steps: int = Field(ge=1, description="autoregressive steps from one initial state")
    forcings: list[str] = Field(
        default=list(FORCINGS),
        description="extra known inputs: local_time (cos, sin), land_fraction; [] for none",
    )
    torch_threads: int | None = Field(
        default=1, ge=1, description="intra-op threads while training (None: torch default)"
    )


@lab(
    "forecast-archive",
    title="A chunked Zarr forecast archive: town series, chunk layouts and a CNN forecast",
    topic=U11,
    day=4,
    config=ForecastArchiveConfig,
)
def forecast_archive(cfg: ForecastArchiveConfig, ctx: LabContext) -> LabOutcome:
    """Archive a synthetic forecast in Zarr, extract towns, and beat persistence with a CNN."""
    import dask.array

    from wxai.core.errors import ConfigError, InternalError
    from wxai.data.archive import extract_points, town_table
    from wxai.data.archive_samples import training_fields
    from wxai.data.formats.zarr_store import read_zarr
    from wxai.viz import find_place

    unknown = sorted(set(cfg.forcings) - set(FORCINGS))
    if unknown:
        raise ConfigError(f"unknown forcings {unknown}; choose from {list(FORCINGS)}")
    if cfg.map_place not in cfg.places:
        raise ConfigError(f"map_place {cfg.map_place!r} must be one of places {cfg.places}")

    # 1. A synthetic forecast over Europe, written to Zarr with fixed chunks; lazy open.
    store = _write_archive(cfg, ctx)
    archive = read_zarr(store)
    lazy = all(isinstance(archive[name].data, dask.array.Array) for name in ARCHIVED)
    if not lazy:
        raise InternalError(
            "the Zarr archive did not open lazily (no dask arrays); check that the installed "
            "xarray, zarr and dask meet wxai's requirements, else report this bug"
        )
    store_chunks = tuple(archive["t2m"].encoding["chunks"])
    n_chunks = math.prod(len(c) for c in archive["t2m"].chunks)
    store_mb = sum(f.stat().st_size for f in store.rglob("*") if f.is_file()) / 2**20

    # 2. Towns: nearest grid point, a time-series table with wind speed.
    towns = {name: (find_place(name).lat, find_place(name).lon) for name in cfg.places}
    points = extract_points(archive, towns)
    table_path = ctx.run_dir / "town_series.csv"
    town_table(points).to_csv(table_path, index=False, float_format="%.3f")
    ctx.tracker.log_artifact(table_path, subdir="tables")
    ctx.progress(0.25, "town table written")
    _archive_maps(cfg, ctx, archive, points, towns, n_chunks=n_chunks, store_mb=store_mb)
    ctx.progress(0.35, "maps drawn")

    # 3. Normalised X(t) = [t2m, u10, v10, msl, forcings] -> t2m(t+1); train, verify, roll out.
    data = training_fields(
        archive, INPUTS, train_fraction=cfg.train_fraction, forcings=cfg.forcings
    )
    history, verification = _train_and_verify(cfg, ctx, data)
    ctx.progress(0.85, "forecasts verified")
    _forecast_figures(cfg, ctx, data, points, verification, archive=archive, history=history)
    ctx.progress(1.0, "figures saved")

    rmse_cnn, rmse_persistence = verification["rmse_cnn"], verification["rmse_persistence"]
    n_steps, n_lat, n_lon = data.fields.shape[0], *data.fields.shape[2:]
    return LabOutcome(
        metrics={
            "rmse_cnn": rmse_cnn,
            "rmse_persistence": rmse_persistence,
            "skill_vs_persistence": 1.0 - rmse_cnn / rmse_persistence,
            "rollout_rmse_cnn_last": verification["rollout_cnn"][-1],
            "rollout_rmse_persistence_last": verification["rollout_persistence"][-1],
            "n_times": float(n_steps),
            "n_chunks_per_variable": float(n_chunks),
            "store_mib": store_mb,
            "lazy_open": float(lazy),
            "max_town_distance_km": float(points["distance_km"].max()),
            "final_train_loss": history.train_loss[-1],
        },
        acceptance=Acceptance(
            metric="rmse_cnn",
            value=rmse_cnn,
            comparison="<",
            threshold=rmse_persistence,
            baseline="COURSE_MAP U11: held-out one-step t2m RMSE rmse_cnn < rmse_persistence",
            baseline_value=rmse_persistence,
        ),
        summary=(
            f"{n_steps} times on a {n_lat}x{n_lon} grid archived in chunks "
            f"{store_chunks}; held-out t2m(t+{cfg.step_hours} h) RMSE: CNN {rmse_cnn:.3f} K vs "
            f"persistence {rmse_persistence:.3f} K."
        ),
    )


def _write_archive(cfg: ForecastArchiveConfig, ctx: LabContext) -> Path:
    """The synthetic forecast written to ``forecast.zarr`` in the configured chunks."""
    import numpy as np

    from wxai.core.errors import ConfigError
    from wxai.data.formats.zarr_store import ChunkPolicy, write_zarr
    from wxai.data.synthetic import Domain, SyntheticAtmosphere

    lat = np.arange(cfg.lat_min, cfg.lat_max + 1e-9, cfg.resolution)
    lon = np.arange(cfg.lon_min, cfg.lon_max + 1e-9, cfg.resolution)
    if min(lat.size, lon.size) < cfg.patch:
        raise ConfigError(f"grid {lat.size}x{lon.size} smaller than patch {cfg.patch}")
    domain = Domain(cfg.lat_min, cfg.lat_max, cfg.lon_min - 15.0, cfg.lon_max)
    atmosphere = SyntheticAtmosphere(seed=cfg.seed, n_cyclones=cfg.n_cyclones, domain=domain)
    lead = np.arange(0, cfg.lead_hours + 1, cfg.step_hours)
    times = atmosphere.start + lead * np.timedelta64(1, "h")
    forecast = atmosphere.fields(lat, lon, times)[[*ARCHIVED, "frland"]].astype("float32")
    forecast.attrs.update(atmosphere.metadata())
    t_chunk, lat_chunk, lon_chunk = cfg.chunks
    chunks = ChunkPolicy(time=t_chunk, latitude=lat_chunk, longitude=lon_chunk)
    store = write_zarr(forecast, ctx.run_dir / "forecast.zarr", chunks=chunks, zarr_format=2)
    ctx.tracker.log_artifact(store / ".zmetadata", subdir="archive")
    ctx.progress(0.15, "archive written")
    return store


def _archive_maps(
    cfg: ForecastArchiveConfig,
    ctx: LabContext,
    archive: xr.Dataset,
    points: xr.Dataset,
    towns: dict[str, tuple[float, float]],
    *,
    n_chunks: int,
    store_mb: float,
) -> None:
    """A local map of one town at the last lead time, and the chunk layout."""
    import numpy as np

    from wxai.viz.archive_figures import chunk_layout_figure, local_map_figure

    here, w = towns[cfg.map_place], cfg.map_half_width
    extent = (here[1] - w, here[1] + w, here[0] - 0.75 * w, here[0] + 0.75 * w)
    local = archive.sel(
        latitude=slice(extent[2] - cfg.resolution, extent[3] + cfg.resolution),
        longitude=slice(extent[0] - cfg.resolution, extent[1] + cfg.resolution),
    ).isel(time=-1)
    node = points.sel(place=cfg.map_place)
    hours = (archive["time"].values[-1] - archive["time"].values[0]) // np.timedelta64(1, "h")
    fig = local_map_figure(
        local,
        here,
        (float(node["latitude"]), float(node["longitude"])),
        extent=extent,
        title=f"Around {cfg.map_place}, +{hours} h: t2m, isobars [hPa], 10 m wind (synthetic)",
        distance_km=float(node["distance_km"]),
    )
    ctx.save_figure(fig, "local_map.png")

    t_chunk, lat_chunk, lon_chunk = cfg.chunks
    n_times = len(archive["t2m"].chunks[0]) if t_chunk == 1 else 1
    fig = chunk_layout_figure(
        archive["t2m"].isel(time=0),
        (lat_chunk, lon_chunk),
        towns,
        title=f"Zarr chunks {tuple(archive['t2m'].encoding['chunks'])} (time, lat, lon): "
        f"{n_chunks // max(n_times, 1)} per map x {n_times} times = {n_chunks} per variable, "
        f"{store_mb:.1f} MiB",
    )
    ctx.save_figure(fig, "chunks.png")


def _train_and_verify(
    cfg: ForecastArchiveConfig, ctx: LabContext, data: TrainingFields
) -> tuple[FitHistory, dict]:
    """Train the patch CNN on the change of t2m; one-step and rollout errors [K]."""
    import numpy as np
    import torch

    from wxai.data.archive_samples import random_patches
    from wxai.nn.conv import ConvNet2d
    from wxai.train.batches import tensor_loader
    from wxai.train.rollout import residual_step, rollout
    from wxai.verify.metrics import rmse

    x_patch, dy_patch = random_patches(
        ctx.rng, data.inputs, n_train=data.n_train, patch=cfg.patch, n_patches=cfg.n_patches
    )
    loader = tensor_loader(x_patch, dy_patch, batch_size=cfg.batch_size, seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    channels = [data.inputs.shape[1]] + [cfg.hidden] * (cfg.n_layers - 1) + [1]
    model = ConvNet2d(channels, cfg.kernel_size, padding_mode="replicate", act="gelu")
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(
            model, loader, epochs=cfg.epochs, lr=cfg.lr, span=(0.35, 0.8), log_points=25
        )
        step = residual_step(model, ctx.device)
        # Held-out one-step RMSE [K] against persistence.
        n_train, fields = data.n_train, data.fields
        held_out = np.arange(n_train, fields.shape[0] - 1)
        truth = fields[held_out + 1, 0]
        rmse_cnn = rmse(data.to_units(step(data.inputs[held_out])), truth)
        rmse_persistence = rmse(fields[held_out, 0], truth)
        # Rollout from the first held-out time: t2m fed back, wind, pressure and forcings
        # from the archive (the network forecasts t2m only).
        n_roll = min(cfg.rollout_steps, fields.shape[0] - 1 - n_train)
        rolled = data.to_units(rollout(step, data.inputs, n_train, n_roll))
    roll_truth = fields[n_train : n_train + n_roll + 1, 0]
    rollout_cnn = [rmse(rolled[k - 1], roll_truth[k]) for k in range(1, n_roll + 1)]
    rollout_persistence = [rmse(roll_truth[0], roll_truth[k]) for k in range(1, n_roll + 1)]
    for k, (a, b) in enumerate(zip(rollout_cnn, rollout_persistence, strict=True), start=1):
        ctx.log_metrics({"rollout_rmse_cnn": a, "rollout_rmse_persistence": b}, step=k)
    return history, {
        "rmse_cnn": rmse_cnn,
        "rmse_persistence": rmse_persistence,
        "rolled": np.concatenate([roll_truth[:1], rolled]),  # (n_roll + 1, lat, lon) [K]
        "rollout_cnn": rollout_cnn,
        "rollout_persistence": rollout_persistence,
    }


def _forecast_figures(
    cfg: ForecastArchiveConfig,
    ctx: LabContext,
    data: TrainingFields,
    points: xr.Dataset,
    verification: dict,
    *,
    archive: xr.Dataset,
    history: FitHistory,
) -> None:
    """Rollouts at the towns, rollout error by lead time and the training loss."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.data.archive import nearest_index
    from wxai.viz.archive_figures import plot_lead_time_errors, town_forecasts_figure
    from wxai.viz.training import plot_loss_curves

    lead = np.arange(0, cfg.lead_hours + 1, cfg.step_hours)
    n_train, rolled = data.n_train, verification["rolled"]
    roll_hours = lead[n_train : n_train + len(rolled)]
    lat, lon = points["latitude"].values, points["longitude"].values
    series, truth, forecasts = {}, {}, {}
    grid_lat, grid_lon = archive["latitude"].values, archive["longitude"].values
    for k, name in enumerate(cfg.places):
        i, j = nearest_index(grid_lat, float(lat[k])), nearest_index(grid_lon, float(lon[k]))
        series[name] = data.fields[:, 0, i, j] - 273.15
        truth[name] = data.fields[n_train : n_train + len(rolled), 0, i, j] - 273.15
        forecasts[name] = rolled[:, i, j] - 273.15
    fig = town_forecasts_figure(
        lead, series, roll_hours, truth, forecasts,
        training_hours=lead[n_train],
        title=f"t2m at the towns: {len(rolled) - 1}-step CNN rollout from +{roll_hours[0]} h "
        "(green: training period)",
    )  # fmt: skip
    ctx.save_figure(fig, "town_forecasts.png")

    fig, (ax_roll, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    plot_lead_time_errors(
        ax_roll,
        roll_hours[1:] - roll_hours[0],
        {
            "CNN rollout": (verification["rollout_cnn"], "C1-s"),
            "persistence": (verification["rollout_persistence"], "C0--o"),
        },
        ylabel="t2m RMSE over the domain [K]",
        title=f"Rollout error (one-step held-out: CNN {verification['rmse_cnn']:.3f} K, "
        f"persistence {verification['rmse_persistence']:.3f} K)",
    )
    plot_loss_curves(ax_loss, {"training": history.train_loss}, ylabel="training MSE (normalised)")
    ctx.save_figure(fig, "rollout_rmse.png")
