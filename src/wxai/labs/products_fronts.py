"""Weather-products lab ``front-detection`` (course unit U9): a U-Net against the TFP.

Labelled charts come from the synthetic atmosphere (fronts widened to a band, pressure
troughs along them); the thermal front parameter is tuned on the training charts; the
U-Net is trained, tracked and registered; both are scored on held-out charts per class
(IoU and a neighbourhood CSI); the detector is exported to ONNX and checked against
PyTorch; the held-out charts are written as NetCDF masks, GeoJSON lines and a figure.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

__all__ = ["FrontDetectionConfig", "fit_front_detector", "front_cases", "front_detection"]

U9 = "U9 Weather products"


class GridConfig(BaseModel):
    """The chart grid (latitudes north to south)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lat_north: float = Field(description="first latitude [degrees]")
    lon_west: float = Field(description="first longitude [degrees]")
    step: float = Field(gt=0, description="grid spacing [degrees]")
    n_lat: int = Field(ge=8)
    n_lon: int = Field(ge=8)


class CaseSplit(BaseModel):
    """Which synthetic atmospheres (seeds) and hours make each set of charts."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    train_seeds: int = Field(ge=1)
    validation_seeds: int = Field(ge=1)
    test_seeds: int = Field(ge=1)
    hours: list[float] = Field(min_length=1, description="chart times after the start [h]")


class FrontDetectionConfig(LabConfig):
    """Settings of ``front-detection``."""

    grid: GridConfig
    cases: CaseSplit
    n_cyclones: int = Field(ge=1)
    frontal_trough_pa: float = Field(ge=0)
    widen_cells: int = Field(ge=0, description="label band half-width [cells]")
    base_channels: int = Field(ge=2)
    depth: int = Field(ge=1)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    patience: int = Field(ge=1)
    tolerance_cells: float = Field(ge=0, description="neighbourhood radius of the CSI")
    registered_name: str = Field(min_length=1)
    torch_threads: int | None = Field(default=1)


def front_cases(cfg: FrontDetectionConfig, *, with_test: bool = True) -> tuple[Any, Any, Any]:
    """Training, validation and (unless ``with_test`` is False: None) held-out charts."""
    from wxai.products.fronts.cases import ChartGrid, synthetic_cases

    grid = ChartGrid(**cfg.grid.model_dump())
    c = cfg.cases
    kwargs = {
        "n_cyclones": cfg.n_cyclones,
        "frontal_trough": cfg.frontal_trough_pa,
        "widen": cfg.widen_cells,
    }
    hours = list(c.hours)
    offset = [h + 3.0 for h in hours]  # other times of day for held-out charts
    train = synthetic_cases(range(cfg.seed, cfg.seed + c.train_seeds), hours, grid, **kwargs)
    start = 10_000 + cfg.seed
    val = synthetic_cases(range(start, start + c.validation_seeds), offset, grid, **kwargs)
    if not with_test:
        return train, val, None
    start = 20_000 + cfg.seed
    test = synthetic_cases(range(start, start + c.test_seeds), offset, grid, **kwargs)
    return train, val, test


def fit_front_detector(
    cfg: FrontDetectionConfig, train: Any, val: Any, on_epoch: Any = None
) -> Any:
    """:func:`~wxai.products.fronts.training.train_detector` with the lab's settings."""
    from wxai.products.fronts import train_detector
    from wxai.products.fronts.model import DetectorConfig
    from wxai.products.fronts.training import TrainingConfig

    return train_detector(
        train,
        val,
        TrainingConfig(
            epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, patience=cfg.patience,
            seed=cfg.seed,
        ),
        DetectorConfig(base_channels=cfg.base_channels, depth=cfg.depth),
        on_epoch=on_epoch,
    )  # fmt: skip


@lab(
    "front-detection",
    title="Front detection: a U-Net against the thermal front parameter, exported to ONNX",
    topic=U9,
    day=3,
    config=FrontDetectionConfig,
)
def front_detection(cfg: FrontDetectionConfig, ctx: LabContext) -> LabOutcome:
    """Train the U-Net front detector, beat the TFP baseline per class, ship it as ONNX."""
    import numpy as np
    import torch

    from wxai.core.paths import home_dir
    from wxai.products.fronts import (
        chart_fields,
        detect_fronts,
        front_lines,
        predict_labels,
        save_detector,
        tune_tfp,
        write_front_masks,
        write_geojson,
    )
    from wxai.products.fronts.cases import FRONT_CLASSES, channel_array
    from wxai.products.fronts.model import models_dir
    from wxai.products.fronts.onnx import export_onnx, onnx_parity
    from wxai.verify.masks import class_iou, neighbourhood_scores
    from wxai.viz.fronts import plot_front_charts
    from wxai.viz.verification import plot_class_scores

    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    train, val, test = front_cases(cfg)
    ctx.progress(0.1, f"{train.sizes['case']} training charts")
    tfp, tfp_train_iou = tune_tfp(train)
    ctx.log_metrics({"tfp_train_iou": tfp_train_iou})
    ctx.progress(0.2, "TFP baseline tuned")
    fit = fit_front_detector(
        cfg, train, val, on_epoch=lambda epoch, metrics: ctx.log_metrics(metrics, step=epoch)
    )
    detector = fit.detector
    ctx.progress(0.7, f"U-Net trained ({len(fit.val_loss)} epochs, best {fit.best_epoch + 1})")

    truth = test["front"].values
    predicted, baseline = predict_labels(detector, test), tfp.predict(test)
    iou_unet, iou_tfp = class_iou(predicted, truth, 4), class_iou(baseline, truth, 4)
    rows, metrics = [], {}
    for k, name in FRONT_CLASSES.items():
        if k == 0:
            continue
        csi = [
            neighbourhood_scores(p, truth, k, cfg.tolerance_cells).csi
            for p in (predicted, baseline)
        ]
        base_iou = 0.0 if np.isnan(iou_tfp[k]) else float(iou_tfp[k])
        metrics |= {f"iou_{name}": float(iou_unet[k]), f"tfp_iou_{name}": base_iou,
                    f"csi_{name}": csi[0], f"tfp_csi_{name}": csi[1]}  # fmt: skip
        rows.append((name, float(iou_unet[k]), base_iou, csi[0], csi[1]))
    gain = min(unet - base for _, unet, base, _, _ in rows)

    # ONNX: export, parity and speed on the held-out charts
    x = channel_array(test)
    onnx_path = export_onnx(detector, ctx.run_dir / "front-detector.onnx", torch.from_numpy(x[:1]))
    parity = onnx_parity(detector, onnx_path, x)
    metrics |= {
        "onnx_max_abs_logit_difference": parity.max_abs_logit_difference,
        "onnx_same_class_fraction": parity.same_class_fraction,
        "torch_ms_per_chart": parity.torch_ms,
        "onnx_ms_per_chart": parity.onnx_ms,
    }
    ctx.log_metrics(metrics)

    # the detector for the CLI and the cockpit, and in the registry
    meta = {"grid_step": cfg.grid.step, "lab_run": ctx.run_dir.name, "iou": metrics}
    save_detector(detector, ctx.run_dir / "front-detector.pt", meta)
    save_detector(detector, models_dir(home_dir()) / ctx.run_dir.name / "front-detector.pt", meta)
    model_uri = ctx.tracker.log_torch_model(
        detector, input_example=x[:1], registered_name=cfg.registered_name, alias="champion"
    )

    # products of one held-out atmosphere: masks, lines, chart
    first = test.isel(case=test["seed"].values == test["seed"].values[0])
    charts = chart_fields(first.drop_vars(["front", "seed"]).swap_dims(case="time"))
    fronts = detect_fronts(charts, detector)
    write_front_masks(fronts, ctx.run_dir / "fronts.nc")
    lines = [
        front_lines(fronts["front"].values[i], fronts["latitude"].values,
                    fronts["longitude"].values, time=fronts["time"].values[i])
        for i in range(fronts.sizes["time"])
    ]  # fmt: skip
    write_geojson([line for per_time in lines for line in per_time], ctx.run_dir / "fronts.geojson")
    fig = plot_front_charts(
        fronts["msl"].values, fronts["front"].values, fronts["latitude"].values,
        fronts["longitude"].values, fronts["time"].values, lines=lines,
        truth=first["front"].values, title="U-Net fronts on a held-out synthetic atmosphere",
    )  # fmt: skip
    ctx.save_figure(fig, "front_charts.png")
    labels = ("IoU U-Net", "IoU TFP", f"CSI U-Net ({cfg.tolerance_cells:g} cells)", "CSI TFP")
    fig = plot_class_scores(
        [r[0] for r in rows], {label: [r[i + 1] for r in rows] for i, label in enumerate(labels)},
        title="Held-out charts, per front class",
    )  # fmt: skip
    ctx.save_figure(fig, "front_scores.png")
    (ctx.run_dir / "scores.json").write_text(json.dumps(metrics, indent=1))

    table = ", ".join(f"{n} {u:.2f}/{b:.2f}" for n, u, b, _, _ in rows)
    return LabOutcome(
        metrics=metrics | {"min_iou_gain": gain, "best_epoch": float(fit.best_epoch)},
        acceptance=Acceptance(
            metric="min_iou_gain",
            value=gain,
            comparison=">",
            threshold=0.0,
            baseline="U-Net IoU above the tuned thermal front parameter for every front class",
        ),
        model_uri=model_uri,
        summary=(
            f"IoU U-Net/TFP on {test.sizes['case']} held-out charts: {table}; {parity.describe()}."
        ),
    )
