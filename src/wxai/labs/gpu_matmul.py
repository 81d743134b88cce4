"""Day 1 compute lab: matrix-product throughput per device and precision (course unit U1)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, PositiveInt

from wxai.labs.compute import U1
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext


class GpuMatmulConfig(LabConfig):
    """Settings of ``gpu-matmul``."""

    sizes: list[PositiveInt] = Field(min_length=1, description="square matrix sizes n")
    dtypes: list[Literal["float32", "float16", "bfloat16"]] = Field(
        min_length=1, description="precisions to time; unsupported ones are skipped"
    )
    repeats: int = Field(ge=1, description="timed products per point; the best is reported")
    warmup: int = Field(ge=0, description="untimed products before timing")
    time_budget_s: float = Field(
        gt=0,
        description="seconds per (device, dtype, size) point: repeats stop when it is spent, "
        "and larger sizes whose predicted cost exceeds it are skipped",
    )
    tolerance: float = Field(gt=0, description="acceptance: float32 max relative error vs NumPy")


@lab(
    "gpu-matmul",
    title="Matrix-product throughput (TFLOP/s) per device and precision",
    topic=U1,
    day=1,
    config=GpuMatmulConfig,
)
def gpu_matmul(cfg: GpuMatmulConfig, ctx: LabContext) -> LabOutcome:
    """Time square matrix products on every available device in each precision.

    ``device=auto`` measures every device of :func:`wxai.core.device.available_devices`;
    naming one (``device=cpu``) measures only that one. dtypes a device cannot run, and
    sizes whose predicted cost exceeds ``time_budget_s``, are skipped and reported.
    """
    from wxai.core.device import available_devices
    from wxai.train.throughput import matmul_sweep
    from wxai.viz.benchmarks import matmul_figure

    devices = available_devices() if cfg.device == "auto" else [str(ctx.device)]
    sweep = matmul_sweep(
        devices,
        cfg.dtypes,
        cfg.sizes,
        repeats=cfg.repeats,
        warmup=cfg.warmup,
        seed=cfg.seed,
        budget=cfg.time_budget_s,
        progress=lambda fraction, message: ctx.progress(0.05 + 0.85 * fraction, message),
    )
    timings, skipped = sweep.timings, sweep.skipped
    metrics: dict[str, float] = {}
    for timing in timings:
        key = f"{_metric_device(timing.device)}_{timing.dtype}_n{timing.n}"
        metrics[f"tflops_{key}"] = timing.tflops
        metrics[f"rel_error_{key}"] = timing.rel_error
    peaks: dict[str, list[float]] = {}
    for timing in timings:
        peaks.setdefault(f"{_metric_device(timing.device)}_{timing.dtype}", []).append(
            timing.tflops
        )
    metrics.update({f"peak_tflops_{pair}": max(values) for pair, values in peaks.items()})
    metrics["n_skipped"] = float(len(skipped))
    if skipped:
        ctx.tracker.set_tags({"wxai.skipped": "; ".join(f"{k}: {v}" for k, v in skipped.items())})

    first = [t for t in timings if t.device == devices[0] and t.dtype == "float32"]
    if first:
        fp32_error = max(t.rel_error for t in first)
        if not all(t.tflops > 0 and math.isfinite(t.tflops) for t in first):
            fp32_error = math.nan  # a non-positive throughput fails the acceptance
        fp32_peak = max(t.tflops for t in first)
    else:
        fp32_error, fp32_peak = math.nan, math.nan  # float32 not requested: cannot pass
    metrics["fp32_max_rel_error"] = fp32_error

    fig = matmul_figure(
        timings, sizes=cfg.sizes, repeats=cfg.repeats, tolerance=cfg.tolerance, skipped=skipped
    )
    ctx.save_figure(fig, "matmul_tflops.png")
    ctx.progress(1.0, "done")
    skipped_text = "; skipped: " + ", ".join(skipped) if skipped else ""
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="fp32_max_rel_error",
            value=fp32_error,
            comparison="<=",
            threshold=cfg.tolerance,
            baseline=f"float32 matmul on {devices[0]} matches NumPy float64 "
            f"(max |C - C_ref| / max |C_ref| <= {cfg.tolerance:g}) at positive TFLOP/s",
        ),
        summary=(
            f"float32 peak {fp32_peak:.3g} TFLOP/s on {devices[0]} (max relative error "
            f"{fp32_error:.1e}); {len(timings)} points on {', '.join(devices)}{skipped_text}."
        ),
    )


def _metric_device(device: str) -> str:
    """A device name usable in an MLflow metric key (``cuda:0`` -> ``cuda0``)."""
    return device.replace(":", "")
