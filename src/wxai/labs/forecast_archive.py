"""Forecast archive in Zarr: chunked store, town series, and a CNN forecast (course unit U11)."""

from __future__ import annotations

import itertools
import math

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U11 = "U11 Forecast archive in Zarr"

#: CNN state inputs, in channel order; the target is the first one a step later.
INPUTS = ("t2m", "u10", "v10", "msl")
ARCHIVED = ("t2m", "u10", "v10", "msl", "tp")
#: Known (not forecast) inputs the CNN may also see: cos/sin of the local solar time
#: and the static land fraction, which together set the diurnal cycle of t2m.
FORCINGS = ("local_time", "land_fraction")


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
    import cartopy.crs as ccrs
    import dask.array
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from matplotlib.patches import Rectangle
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.core.errors import ConfigError
    from wxai.data.archive import extract_points, town_table
    from wxai.data.formats.zarr_store import ChunkPolicy, read_zarr, write_zarr
    from wxai.data.synthetic import Domain, SyntheticAtmosphere
    from wxai.nn.conv import ConvBlock2d
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse
    from wxai.viz import find_place, label_cities, make_map, plot_field

    unknown = sorted(set(cfg.forcings) - set(FORCINGS))
    if unknown:
        raise ConfigError(f"unknown forcings {unknown}; choose from {list(FORCINGS)}")
    if cfg.map_place not in cfg.places:
        raise ConfigError(f"map_place {cfg.map_place!r} must be one of places {cfg.places}")

    # 1. A synthetic forecast over Europe, written to Zarr with fixed chunks.
    lat = np.arange(cfg.lat_min, cfg.lat_max + 1e-9, cfg.resolution)
    lon = np.arange(cfg.lon_min, cfg.lon_max + 1e-9, cfg.resolution)
    if min(lat.size, lon.size) < cfg.patch:
        raise ConfigError(f"grid {lat.size}x{lon.size} smaller than patch {cfg.patch}")
    atmosphere = SyntheticAtmosphere(
        seed=cfg.seed,
        n_cyclones=cfg.n_cyclones,
        domain=Domain(cfg.lat_min, cfg.lat_max, cfg.lon_min - 15.0, cfg.lon_max),
    )
    lead = np.arange(0, cfg.lead_hours + 1, cfg.step_hours)
    times = atmosphere.start + lead * np.timedelta64(1, "h")
    forecast = atmosphere.fields(lat, lon, times)[[*ARCHIVED, "frland"]].astype("float32")
    forecast.attrs.update(atmosphere.metadata())
    t_chunk, lat_chunk, lon_chunk = cfg.chunks
    store = write_zarr(
        forecast,
        ctx.run_dir / "forecast.zarr",
        chunks=ChunkPolicy(time=t_chunk, latitude=lat_chunk, longitude=lon_chunk),
        zarr_format=2,
    )
    ctx.tracker.log_artifact(store / ".zmetadata", subdir="archive")
    ctx.progress(0.15, "archive written")

    # 2. Lazy open: nothing is read until values are needed.
    archive = read_zarr(store)
    lazy = all(isinstance(archive[name].data, dask.array.Array) for name in ARCHIVED)
    if not lazy:
        raise RuntimeError("the Zarr archive did not open lazily (no dask arrays)")
    store_chunks = tuple(archive["t2m"].encoding["chunks"])
    n_chunks = math.prod(len(c) for c in archive["t2m"].chunks)
    n_steps_store = len(archive["t2m"].chunks[0]) if t_chunk == 1 else 1
    store_mb = sum(f.stat().st_size for f in store.rglob("*") if f.is_file()) / 2**20

    # 3. Towns: nearest grid point, a time-series table with wind speed.
    towns = {name: (find_place(name).lat, find_place(name).lon) for name in cfg.places}
    points = extract_points(archive, towns)
    table = town_table(points)
    table_path = ctx.run_dir / "town_series.csv"
    table.to_csv(table_path, index=False, float_format="%.3f")
    ctx.tracker.log_artifact(table_path, subdir="tables")
    ctx.progress(0.25, "town table written")

    # 4. Local map of one town's surroundings at the last lead time.
    here = towns[cfg.map_place]
    w = cfg.map_half_width
    extent = (here[1] - w, here[1] + w, here[0] - 0.75 * w, here[0] + 0.75 * w)
    local = archive.sel(
        latitude=slice(extent[2] - cfg.resolution, extent[3] + cfg.resolution),
        longitude=slice(extent[0] - cfg.resolution, extent[1] + cfg.resolution),
    ).isel(time=-1)
    fig, ax = make_map("PlateCarree", extent=extent, figsize=(8, 6.5))
    plot_field(ax, local["t2m"])
    isobars = ax.contour(
        local["longitude"],
        local["latitude"],
        local["msl"] / 100.0,
        levels=np.arange(940, 1060, 2),
        colors="k",
        linewidths=0.8,
        transform=ccrs.PlateCarree(),
    )
    ax.clabel(isobars, fontsize=7, fmt="%d")
    step = max(local.sizes["longitude"] // 12, 1)
    thin = local.isel(latitude=slice(None, None, step), longitude=slice(None, None, step))
    ax.quiver(
        thin["longitude"],
        thin["latitude"],
        thin["u10"],
        thin["v10"],
        transform=ccrs.PlateCarree(),
        scale=250,
        width=0.003,
        color="0.15",
    )
    label_cities(ax, extent, n=8)
    node = points.sel(place=cfg.map_place)
    ax.plot(*here[::-1], "*", ms=14, color="gold", mec="k", transform=ccrs.PlateCarree())
    ax.plot(
        float(node["longitude"]),
        float(node["latitude"]),
        "s",
        ms=9,
        mfc="none",
        mec="magenta",
        mew=2,
        transform=ccrs.PlateCarree(),
        label=f"nearest grid point ({float(node['distance_km']):.0f} km)",
    )
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(
        f"Around {cfg.map_place}, +{lead[-1]} h: t2m, isobars [hPa], 10 m wind (synthetic)"
    )
    ctx.save_figure(fig, "local_map.png")

    # 5. Chunk layout over the domain.
    fig, ax = make_map(
        "PlateCarree",
        extent=(cfg.lon_min, cfg.lon_max, cfg.lat_min, cfg.lat_max),
        figsize=(9, 7),
    )
    plot_field(ax, archive["t2m"].isel(time=0), alpha=0.8)
    half = 0.5 * cfg.resolution
    for i0 in range(0, lat.size, lat_chunk):
        for j0 in range(0, lon.size, lon_chunk):
            i1, j1 = min(i0 + lat_chunk, lat.size) - 1, min(j0 + lon_chunk, lon.size) - 1
            ax.add_patch(
                Rectangle(
                    (lon[j0] - half, lat[i0] - half),
                    lon[j1] - lon[j0] + 2 * half,
                    lat[i1] - lat[i0] + 2 * half,
                    fill=False,
                    ec="k",
                    lw=2.0,
                    transform=ccrs.PlateCarree(),
                    zorder=7,
                )
            )
            ax.text(
                lon[j0] + 0.5,
                lat[i1] - 0.5,
                f"chunk ({i0 // lat_chunk}, {j0 // lon_chunk})\n{i1 - i0 + 1}x{j1 - j0 + 1}",
                ha="left",
                va="top",
                fontsize=9,
                transform=ccrs.PlateCarree(),
                bbox={"fc": "white", "alpha": 0.7, "lw": 0},
                zorder=8,
            )
    for name, (p_lat, p_lon) in towns.items():
        ax.plot(p_lon, p_lat, "o", ms=5, color="gold", mec="k", transform=ccrs.PlateCarree())
        ax.text(p_lon + 0.3, p_lat + 0.3, name, fontsize=7, transform=ccrs.PlateCarree())
    ax.set_title(
        f"Zarr chunks {store_chunks} (time, lat, lon): {n_chunks // max(n_steps_store, 1)} "
        f"per map x {n_steps_store} times = {n_chunks} per variable, {store_mb:.1f} MiB"
    )
    ctx.save_figure(fig, "chunks.png")
    ctx.progress(0.35, "maps drawn")

    # 6. Training data: normalised X(t) = [t2m, u10, v10, msl] -> t2m(t+1).
    fields = np.stack([archive[name].values for name in INPUTS], axis=1)  # (time, var, y, x)
    n_steps = fields.shape[0]
    n_train = round(cfg.train_fraction * (n_steps - 1))
    if n_train < 1 or n_train > n_steps - 2:
        raise ConfigError(f"{n_steps} times leave no training or no held-out step pairs")
    mean = fields[: n_train + 1].mean(axis=(0, 2, 3), keepdims=True)
    std = fields[: n_train + 1].std(axis=(0, 2, 3), keepdims=True)
    norm = ((fields - mean) / std).astype("float32")
    t_std, t_mean = float(std[0, 0, 0, 0]), float(mean[0, 0, 0, 0])
    extra = []
    if "local_time" in cfg.forcings:
        utc = (times - times.astype("datetime64[D]")) / np.timedelta64(1, "h")
        angle = 2 * np.pi * (utc[:, None, None] + lon[None, None, :] / 15.0) / 24.0
        angle = np.broadcast_to(angle, (n_steps, lat.size, lon.size))
        extra += [np.cos(angle), np.sin(angle)]
    if "land_fraction" in cfg.forcings:
        land = archive["frland"].values
        land = (land - land.mean()) / (land.std() + 1e-6)
        extra.append(np.broadcast_to(land, (n_steps, lat.size, lon.size)))
    if extra:
        norm = np.concatenate([norm, np.stack(extra, axis=1).astype("float32")], axis=1)

    origin_t = ctx.rng.integers(0, n_train, cfg.n_patches)
    origin_y = ctx.rng.integers(0, lat.size - cfg.patch + 1, cfg.n_patches)
    origin_x = ctx.rng.integers(0, lon.size - cfg.patch + 1, cfg.n_patches)
    window = np.arange(cfg.patch)
    rows = (origin_y[:, None] + window)[:, :, None]
    cols = (origin_x[:, None] + window)[:, None, :]
    x_patch = norm[origin_t[:, None, None], :, rows, cols].transpose(0, 3, 1, 2)
    # The network learns the change over one step; the forecast adds it to t2m(t).
    dy_patch = (
        norm[origin_t[:, None, None] + 1, 0, rows, cols]
        - norm[origin_t[:, None, None], 0, rows, cols]
    )
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x_patch), torch.from_numpy(dy_patch[:, None])),
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    torch.manual_seed(cfg.seed)
    widths = [norm.shape[1]] + [cfg.hidden] * (cfg.n_layers - 1)
    layers = [
        ConvBlock2d(a, b, cfg.kernel_size, padding_mode="replicate", act="gelu")
        for a, b in itertools.pairwise(widths)
    ]
    model = nn.Sequential(
        *layers, ConvBlock2d(widths[-1], 1, cfg.kernel_size, padding_mode="replicate", act=None)
    )
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(
            model, loader, epochs=cfg.epochs, lr=cfg.lr, span=(0.35, 0.8), log_points=25
        )

        def step(state: np.ndarray) -> np.ndarray:
            """t2m(t+1) [normalised] from the normalised fields at t, whole domain."""
            change = predict(model, torch.from_numpy(state), ctx.device).numpy()[:, 0]
            return state[:, 0] + change

        # 7. Held-out one-step RMSE [K] against persistence.
        held_out = np.arange(n_train, n_steps - 1)
        forecast_t2m = step(norm[held_out]) * t_std + t_mean
        truth_t2m = fields[held_out + 1, 0]
        rmse_cnn = rmse(forecast_t2m, truth_t2m)
        rmse_persistence = rmse(fields[held_out, 0], truth_t2m)

        # 8. Rollout from the first held-out time: t2m fed back, wind and pressure from
        #    the archive (the network forecasts t2m only).
        n_roll = min(cfg.rollout_steps, n_steps - 1 - n_train)
        state = norm[n_train : n_train + 1].copy()
        rolled = [fields[n_train, 0]]
        for k in range(1, n_roll + 1):
            next_t2m = step(state)
            rolled.append(next_t2m[0] * t_std + t_mean)
            state = norm[n_train + k : n_train + k + 1].copy()  # known inputs at t+k
            state[:, 0] = next_t2m
    rolled = np.stack(rolled)  # (n_roll + 1, y, x) [K]
    roll_truth = fields[n_train : n_train + n_roll + 1, 0]
    rollout_cnn = [rmse(rolled[k], roll_truth[k]) for k in range(1, n_roll + 1)]
    rollout_persistence = [rmse(roll_truth[0], roll_truth[k]) for k in range(1, n_roll + 1)]
    for k, (a, b) in enumerate(zip(rollout_cnn, rollout_persistence, strict=True), start=1):
        ctx.log_metrics({"rollout_rmse_cnn": a, "rollout_rmse_persistence": b}, step=k)
    ctx.progress(0.85, "forecasts verified")

    # 9. Town forecasts: CNN rollout vs truth vs persistence at the towns' grid points.
    roll_hours = lead[n_train : n_train + n_roll + 1]
    i_lat = [int(np.argmin(np.abs(lat - float(points["latitude"].sel(place=n))))) for n in towns]
    i_lon = [int(np.argmin(np.abs(lon - float(points["longitude"].sel(place=n))))) for n in towns]
    n_cols = min(len(towns), 3)
    n_rows = math.ceil(len(towns) / n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.6 * n_cols, 3.3 * n_rows), squeeze=False, layout="constrained"
    )
    for ax, name, i, j in zip(axes.flat, towns, i_lat, i_lon, strict=False):
        ax.plot(lead, fields[:, 0, i, j] - 273.15, color="0.7", lw=1, label="archive (all leads)")
        ax.plot(roll_hours, roll_truth[:, i, j] - 273.15, "k-o", ms=3, label="truth")
        ax.plot(roll_hours, rolled[:, i, j] - 273.15, "C1-s", ms=3, label="CNN rollout")
        ax.plot(
            roll_hours,
            np.full(roll_hours.size, roll_truth[0, i, j]) - 273.15,
            "C0--",
            label="persistence",
        )
        ax.axvspan(lead[0], lead[n_train], color="C2", alpha=0.08, lw=0)
        ax.set(title=name, xlabel="lead time [h]", ylabel="t2m [\u00b0C]")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(towns) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"t2m at the towns: {n_roll}-step CNN rollout from +{roll_hours[0]} h "
        "(green: training period)"
    )
    ctx.save_figure(fig, "town_forecasts.png")

    fig, (ax_roll, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    steps_h = roll_hours[1:] - roll_hours[0]
    ax_roll.plot(steps_h, rollout_cnn, "C1-s", label="CNN rollout")
    ax_roll.plot(steps_h, rollout_persistence, "C0--o", label="persistence")
    ax_roll.set(
        xlabel="hours after the initial state",
        ylabel="t2m RMSE over the domain [K]",
        title=f"Rollout error (one-step held-out: CNN {rmse_cnn:.3f} K, "
        f"persistence {rmse_persistence:.3f} K)",
    )
    ax_roll.title.set_fontsize(9)
    ax_roll.legend()
    ax_roll.grid(alpha=0.3)
    ax_loss.semilogy(range(1, cfg.epochs + 1), history.train_loss, "C0")
    ax_loss.set(xlabel="epoch", ylabel="training MSE (normalised)", title="Training loss")
    ax_loss.grid(alpha=0.3)
    ctx.save_figure(fig, "rollout_rmse.png")
    ctx.progress(1.0, "figures saved")

    return LabOutcome(
        metrics={
            "rmse_cnn": rmse_cnn,
            "rmse_persistence": rmse_persistence,
            "skill_vs_persistence": 1.0 - rmse_cnn / rmse_persistence,
            "rollout_rmse_cnn_last": rollout_cnn[-1],
            "rollout_rmse_persistence_last": rollout_persistence[-1],
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
            f"{n_steps} times on a {lat.size}x{lon.size} grid archived in chunks "
            f"{store_chunks}; held-out t2m(t+{cfg.step_hours} h) RMSE: CNN {rmse_cnn:.3f} K vs "
            f"persistence {rmse_persistence:.3f} K."
        ),
    )
