"""Weather-products lab ``warning-polygons`` (course unit U9): CBCF-style gust warnings.

A U-Net learns the warning polygons a (synthetic) forecaster draws from gust, wind
and pressure fields, and is scored against smoothed gust thresholding. Every
computation is a library call (:mod:`wxai.products`); figures come from
:mod:`wxai.viz.warnings`.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

__all__ = ["WarningPolygonsConfig", "warning_polygons"]

U9 = "U9 Weather products"


class GridConfig(BaseModel):
    """The regular model grid (sizes multiples of 4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat_min: float = 35.0
    lon_min: float = -30.0
    n_lat: int = Field(default=72, ge=4)
    n_lon: int = Field(default=136, ge=4)
    step: float = Field(default=0.5, gt=0, description="grid spacing [degrees]")


class StyleConfig(BaseModel):
    """The synthetic forecaster's habits (see wxai.products.warnings.forecaster)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    smoothing_km: float = Field(default=50.0, ge=0)
    buffer_km: tuple[float, float] = (25.0, 60.0)
    simplify_km: float = Field(default=20.0, ge=0)
    min_area_km2: float = Field(default=25_000.0, ge=0)
    min_hole_km2: float = Field(default=50_000.0, ge=0)


class WarningPolygonsConfig(LabConfig):
    """Settings of ``warning-polygons``."""

    grid: GridConfig = GridConfig()
    style: StyleConfig = StyleConfig()
    n_train_seeds: int = Field(ge=1, description="atmospheres for training")
    n_val_seeds: int = Field(ge=1, description="atmospheres for early stopping")
    n_test_seeds: int = Field(ge=1, description="held-out atmospheres for scoring")
    times_per_seed: int = Field(default=3, ge=1)
    n_cyclones: int = Field(default=3, ge=1)
    window_hours: float = Field(default=6.0, ge=0, description="validity period [h]")
    base_channels: int = Field(default=16, ge=2)
    epochs: int = Field(ge=1)
    batch_size: int = Field(default=8, ge=1)
    lr: float = Field(default=2e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    patience: int = Field(default=6, ge=1)
    n_roundtrip_shapes: int = Field(default=300, ge=3)
    simplify_cells: float = Field(default=0.3, ge=0, description="polygon tolerance [cells]")
    registered_name: str = Field(default="warning-polygons", min_length=1)
    torch_threads: int | None = Field(default=1, ge=1)


def _settings(cfg: WarningPolygonsConfig):
    from wxai.products.warnings import CaseSettings, ForecasterStyle, GridSpec

    return CaseSettings(
        grid=GridSpec(**cfg.grid.model_dump()),
        style=ForecasterStyle(**cfg.style.model_dump()),
        n_cyclones=cfg.n_cyclones,
        times_per_seed=cfg.times_per_seed,
        window_hours=cfg.window_hours,
    )


@lab(
    "warning-polygons",
    title="Gust warning polygons: a U-Net learns forecaster polygons, CAP and GeoJSON out",
    topic=U9,
    day=3,
    config=WarningPolygonsConfig,
)
def warning_polygons(cfg: WarningPolygonsConfig, ctx: LabContext) -> LabOutcome:
    """Round-trip check, cases, baseline, U-Net, scores, exports, figures."""
    from wxai.core.device import torch_threads
    from wxai.products.roundtrip import random_shapes, round_trip, round_trip_scores
    from wxai.products.warnings import (
        ChannelStats,
        build_cases,
        diagnose,
        level_iou,
        tune_smoothing,
        write_warnings,
    )
    from wxai.products.warnings.model import WarningDiagnoser
    from wxai.products.warnings.store import log_diagnoser
    from wxai.products.warnings.training import TrainSettings, train_diagnoser
    from wxai.viz.verification import plot_class_scores
    from wxai.viz.warnings import round_trip_figure, warning_cases_figure, warning_map

    settings = _settings(cfg)
    lat, lon = settings.grid.lat, settings.grid.lon
    tolerance = cfg.simplify_cells * cfg.grid.step

    # 1. Polygon <-> mask round trip on random shapes (north-to-south grid, as in GRIB).
    shapes = random_shapes(ctx.rng, cfg.n_roundtrip_shapes, lat[::-1], lon)
    trip = round_trip_scores(shapes, lat[::-1], lon, simplify=tolerance)
    holed = next(g for kind, g in shapes if kind == "holed")
    example = round_trip(holed, lat[::-1], lon, simplify=tolerance)
    ctx.save_figure(
        round_trip_figure(
            lat[::-1], lon, example.reference_mask, example.converted_mask, polygon=holed,
            recovered=example.recovered, title="polygon -> mask -> polygon -> mask",
        ),
        "round_trip.png",
    )  # fmt: skip
    ctx.progress(0.1, "round trip checked")

    # 2. Cases from disjoint atmosphere seeds; 3. the baseline's smoothing tuned on train.
    seeds = cfg.seed * 10_000 + np.arange(cfg.n_train_seeds + cfg.n_val_seeds + cfg.n_test_seeds)
    n_tv = cfg.n_train_seeds + cfg.n_val_seeds
    train = build_cases(settings, seeds[: cfg.n_train_seeds], time_seed=cfg.seed)
    val = build_cases(settings, seeds[cfg.n_train_seeds : n_tv], time_seed=cfg.seed + 1)
    test = build_cases(settings, seeds[n_tv:], time_seed=cfg.seed + 2)
    baseline, sigma_scores = tune_smoothing(train.channel("gust"), train.masks, settings.levels)
    ctx.progress(0.3, f"{len(train)} training cases")

    # 4. The U-Net diagnoser: AdamW, early stopping on validation, tracked.
    model = WarningDiagnoser(
        train.channels, settings.levels, ChannelStats.fit(train.inputs),
        grid_step=cfg.grid.step, window_hours=cfg.window_hours, base_channels=cfg.base_channels,
    )  # fmt: skip
    train_settings = TrainSettings(
        epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
        weight_decay=cfg.weight_decay, patience=cfg.patience, seed=cfg.seed,
    )  # fmt: skip
    with torch_threads(cfg.torch_threads):
        history = train_diagnoser(
            model, train, val, train_settings, log=ctx.log_metrics,
            progress=lambda f, m="": ctx.progress(0.3 + 0.5 * f, m),
        )  # fmt: skip
        learned_masks = model.masks(test.inputs)

    # 5. IoU per level on held-out cases.
    learned = level_iou(learned_masks, test.masks)
    base_masks = baseline.masks(test.channel("gust"))
    base = level_iou(base_masks, test.masks)
    learned_mean, base_mean = float(np.nanmean(learned)), float(np.nanmean(base))
    metrics = {
        "learned_mean_iou": learned_mean,
        "baseline_mean_iou": base_mean,
        "baseline_sigma_cells": baseline.sigma,
        "roundtrip_mask_iou_mean": float(trip["mask_iou"].mean()),
        "roundtrip_mask_iou_min": float(trip["mask_iou"].min()),
        "roundtrip_area_iou_mean": float(trip["area_iou"].mean()),
        "best_epoch": float(history.best_epoch),
        "epochs_run": float(len(history.train_loss)),
    }
    for level, a, b in zip(settings.levels, learned, base, strict=True):
        metrics[f"learned_iou_level{level.level}"] = float(a)
        metrics[f"baseline_iou_level{level.level}"] = float(b)
    ctx.tracker.log_metrics(metrics)
    ctx.tracker.log_params({"baseline_sigma_scores": sigma_scores})

    # 6. Register; 7. diagnose one held-out case through the public entry point, export.
    model_uri = log_diagnoser(
        ctx.tracker, model, test.inputs[:1, :, :16, :16], registered_name=cfg.registered_name
    )
    case = int(np.argmax(test.masks[:, -1].sum(axis=(1, 2))))
    fields = {name: (("latitude", "longitude"), test.inputs[case, k])
              for k, name in enumerate(test.channels)}  # fmt: skip
    import xarray as xr

    ds = xr.Dataset(fields, coords={"latitude": lat, "longitude": lon,
                                    "time": test.valid_times[case]})  # fmt: skip
    result = diagnose(ds, model=model, simplify=tolerance)
    files = write_warnings(result, ctx.run_dir / "products", sent=test.valid_times[case])
    for path in files:
        ctx.tracker.log_artifact(path, subdir="products")
    labels = [lv.label for lv in settings.levels]
    ctx.save_figure(
        warning_map(result.polygons, labels, field=test.channel("gust")[case], lat=lat, lon=lon,
                    title=f"U-Net warnings, onset {result.onset}")[0],
        "warning_map.png",
    )  # fmt: skip
    shown = slice(0, min(3, len(test)))
    ctx.save_figure(
        warning_cases_figure(
            lat, lon, test.channel("gust")[shown],
            {"forecaster": test.masks[shown], "U-Net": learned_masks[shown],
             f"baseline (sigma {baseline.sigma:g})": base_masks[shown]},
            labels, outlines=test.polygons[shown],
        ),
        "cases.png",
    )  # fmt: skip
    ctx.save_figure(
        plot_class_scores(labels, {"U-Net": learned, "baseline": base},
                          ylabel="IoU against forecaster polygons",
                          title="IoU per level on held-out cases"),
        "level_iou.png",
    )  # fmt: skip

    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="learned_mean_iou",
            value=learned_mean,
            comparison=">",
            threshold=base_mean,
            baseline=(
                "mean over warning levels of the IoU against held-out forecaster polygons, "
                f"above smoothed gust thresholding (sigma {baseline.sigma:g} cells, tuned)"
            ),
            baseline_value=base_mean,
        ),
        model_uri=model_uri,
        summary=(
            f"U-Net mean IoU {learned_mean:.3f} vs baseline {base_mean:.3f} over "
            f"{len(settings.levels)} levels on {len(test)} held-out cases; polygon round "
            f"trip mask IoU min {trip['mask_iou'].min():.3f} over {len(shapes)} shapes; "
            f"{len(files) - 1} CAP alerts and GeoJSON written."
        ),
    )
