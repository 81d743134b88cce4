"""Day 1 compute labs: native kernels from Python, matrix-product throughput (course unit U1)."""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, PositiveInt

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    from wxai.core.native.kernels import Kernels, NativeKernels
    from wxai.core.native.reference import NumpyKernels
    from wxai.train.throughput import MatmulTiming

U1 = "U1 Foundations and APIs"

KERNELS = ("saturation_vapour_pressure", "dot", "axpy", "advect_diffuse")
_SHORT = {
    "saturation_vapour_pressure": "svp",
    "dot": "dot",
    "axpy": "axpy",
    "advect_diffuse": "advect",
}
_BACKEND_COLOURS = {"fortran": "C0", "cpp": "C1", "numpy": "C2", "python": "C7"}


class NativeKernelsConfig(LabConfig):
    """Settings of ``native-kernels``."""

    languages: list[Literal["fortran", "cpp"]] = Field(
        min_length=1, description="native libraries to build and compare"
    )
    n: int = Field(ge=16, description="array length for the accuracy check and native/NumPy timing")
    n_python: int = Field(ge=16, description="array length for the (slow) pure-Python loops")
    advect_steps: int = Field(ge=1, description="advection-diffusion steps per kernel call")
    courant: float = Field(ge=0, le=1, description="Courant number U dt / dx")
    diffusion: float = Field(ge=0, le=0.5, description="diffusion number K dt / dx^2")
    repeats: int = Field(ge=1, description="timed calls; the best is reported")
    tolerance: float = Field(gt=0, description="acceptance: max relative error vs NumPy")


@lab(
    "native-kernels",
    title="Fortran (ISO_C_BINDING) and C++ (extern C) kernels via ctypes vs NumPy",
    topic=U1,
    day=1,
    config=NativeKernelsConfig,
)
def native_kernels(cfg: NativeKernelsConfig, ctx: LabContext) -> LabOutcome:
    """Build both native libraries, check them against NumPy and time them.

    Relative errors are normwise: ``max |native - numpy| / max |numpy|`` for the array
    kernels and ``|native - numpy| / sum |x_i y_i|`` for the dot product (the scale of
    its rounding error), so values near zero cannot inflate them.
    """

    from wxai.core.native.kernels import load_kernels
    from wxai.core.native.reference import NumpyKernels, PythonKernels
    from wxai.train.throughput import best_time

    natives: dict[str, NativeKernels] = {}
    metrics: dict[str, float] = {}
    for i, language in enumerate(cfg.languages):
        ctx.progress(0.05 + 0.2 * i / len(cfg.languages), f"building the {language} kernels")
        natives[language] = load_kernels(language)  # NativeBuildError if no compiler
        metrics[f"build_seconds_{language}"] = natives[language].library.build_seconds
    numpy_k, python_k = NumpyKernels(), PythonKernels()

    # Accuracy on random inputs: temperatures in degC, standard-normal vectors.
    rng = ctx.rng
    t = rng.uniform(-40.0, 40.0, cfg.n)
    x, y = rng.standard_normal(cfg.n), rng.standard_normal(cfg.n)
    a = float(rng.uniform(-2.0, 2.0))
    args = {
        "saturation_vapour_pressure": (t,),
        "dot": (x, y),
        "axpy": (a, x, y),
        "advect_diffuse": (x, cfg.courant, cfg.diffusion, cfg.advect_steps),
    }
    reference = {name: getattr(numpy_k, name)(*args[name]) for name in KERNELS}
    dot_scale = float(np.sum(np.abs(x * y)))  # error scale of a sum: sum |x_i y_i|
    errors: dict[tuple[str, str], float] = {}
    for language, kernels in natives.items():
        for name in KERNELS:
            result = getattr(kernels, name)(*args[name])
            abs_err, rel_err = _errors(
                result, reference[name], dot_scale if name == "dot" else None
            )
            errors[language, name] = rel_err
            metrics[f"abs_error_{language}_{_SHORT[name]}"] = abs_err
            metrics[f"rel_error_{language}_{_SHORT[name]}"] = rel_err
    max_rel_error = max(errors.values())

    # Cost per element (per element and step for the advection), best of cfg.repeats;
    # the interpreted loops run on the first n_python elements, one advection step.
    ctx.progress(0.3, "timing native, NumPy and Python loops")
    n_python = min(cfg.n_python, cfg.n)
    python_args = {name: _truncate(args[name], n_python) for name in KERNELS}
    python_args["advect_diffuse"] = (*python_args["advect_diffuse"][:3], 1)
    backends: dict[str, Kernels] = {**natives, "numpy": numpy_k, "python": python_k}
    ns_per_element: dict[str, dict[str, float]] = {}
    for b, (backend, kernels) in enumerate(backends.items()):
        interpreted = backend == "python"
        ns_per_element[backend] = {}
        for name in KERNELS:
            inputs = python_args[name] if interpreted else args[name]
            elements = (n_python if interpreted else cfg.n) * (
                inputs[3] if name == "advect_diffuse" else 1
            )
            seconds = best_time(
                partial(getattr(kernels, name), *inputs),
                repeats=1 if interpreted else cfg.repeats,
                warmup=0 if interpreted else 1,
            )
            ns_per_element[backend][name] = seconds / elements * 1e9
            metrics[f"ns_per_element_{backend}_{_SHORT[name]}"] = seconds / elements * 1e9
        ctx.progress(0.3 + 0.6 * (b + 1) / len(backends), f"timed {backend}")
    speedups: dict[tuple[str, str], float] = {}
    for language in natives:
        for name in KERNELS:
            native = ns_per_element[language][name]
            metrics[f"speedup_{language}_vs_numpy_{_SHORT[name]}"] = (
                ns_per_element["numpy"][name] / native
            )
            metrics[f"speedup_{language}_vs_python_{_SHORT[name]}"] = speedups[language, name] = (
                ns_per_element["python"][name] / native
            )
        metrics[f"speedup_{language}_vs_python_geomean"] = math.exp(
            np.mean([math.log(speedups[language, name]) for name in KERNELS])
        )
    metrics["max_rel_error"] = max_rel_error

    _plot_native_timings(ctx, ns_per_element, cfg)
    _plot_native_results(ctx, natives, numpy_k, errors, cfg)
    ctx.progress(1.0, "done")
    geomeans = ", ".join(
        f"{language} {metrics[f'speedup_{language}_vs_python_geomean']:.0f}x"
        for language in natives
    )
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="max_rel_error",
            value=max_rel_error,
            comparison="<=",
            threshold=cfg.tolerance,
            baseline="COURSE_MAP U1: Fortran and C++ kernels agree with NumPy "
            f"(max relative error <= {cfg.tolerance:g})",
        ),
        summary=(
            f"{' and '.join(natives)} kernels agree with NumPy to {max_rel_error:.2e} "
            f"(relative); speed-up over pure-Python loops (geometric mean): {geomeans}."
        ),
    )


def _errors(
    result: np.ndarray | float, reference: np.ndarray | float, scale: float | None
) -> tuple[float, float]:
    """Max absolute error and relative error (to ``scale`` or to max |reference|)."""

    diff = float(np.max(np.abs(np.asarray(result) - np.asarray(reference))))
    if scale is None:
        scale = float(np.max(np.abs(reference)))
    return diff, diff / max(scale, 1e-300)


def _truncate(args: tuple, length: int) -> tuple:
    """The kernel arguments with every array cut to ``length`` elements."""

    return tuple(arg[:length] if isinstance(arg, np.ndarray) else arg for arg in args)


def _plot_native_timings(
    ctx: LabContext, ns: dict[str, dict[str, float]], cfg: NativeKernelsConfig
) -> None:
    import matplotlib.pyplot as plt

    labels = {
        "saturation_vapour_pressure": "saturation vapour\npressure (Magnus)",
        "dot": "dot product",
        "axpy": "axpy (a x + y)",
        "advect_diffuse": "advection-diffusion\n(per step)",
    }
    names = {
        "fortran": "Fortran (ctypes)",
        "cpp": "C++ (ctypes)",
        "numpy": "NumPy",
        "python": "pure-Python loop",
    }
    fig, ax = plt.subplots(figsize=(9, 4.4))
    width = 0.8 / len(ns)
    positions = np.arange(len(KERNELS))
    for j, (backend, per_kernel) in enumerate(ns.items()):
        values = [per_kernel[name] for name in KERNELS]
        bars = ax.bar(
            positions + (j - (len(ns) - 1) / 2) * width,
            values,
            width,
            label=names[backend],
            color=_BACKEND_COLOURS[backend],
        )
        ax.bar_label(bars, labels=[f"{v:.2g}" for v in values], fontsize=7, padding=1)
    ax.set_yscale("log")
    ax.set_xticks(positions, [labels[name] for name in KERNELS])
    ax.set(
        ylabel="time per element [ns] (log scale)",
        title=f"Kernel cost per array element (native/NumPy: n = {cfg.n:,}; "
        f"Python: n = {min(cfg.n_python, cfg.n):,}; best of {cfg.repeats})",
    )
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, ncols=len(ns), loc="upper left")
    ax.margins(y=0.15)
    ctx.save_figure(fig, "native_timings.png")


def _plot_native_results(
    ctx: LabContext,
    natives: dict[str, NativeKernels],
    numpy_k: NumpyKernels,
    errors: dict[tuple[str, str], float],
    cfg: NativeKernelsConfig,
) -> None:
    import matplotlib.pyplot as plt

    fig, (ax_svp, ax_adv, ax_err) = plt.subplots(1, 3, figsize=(15, 4.2))
    temperature = np.linspace(-40.0, 40.0, 161)
    ax_svp.plot(
        temperature, numpy_k.saturation_vapour_pressure(temperature), "k-", lw=2, label="NumPy"
    )
    markers = {"fortran": "o", "cpp": "x"}
    names = {"fortran": "Fortran", "cpp": "C++"}
    for language, kernels in natives.items():
        ax_svp.plot(
            temperature[::8],
            kernels.saturation_vapour_pressure(temperature)[::8],
            markers[language],
            color=_BACKEND_COLOURS[language],
            ms=6,
            mfc="none",
            label=names[language],
        )
    ax_svp.set_yscale("log")
    ax_svp.set(
        xlabel="air temperature [\u00b0C]",
        ylabel="saturation vapour pressure [hPa]",
        title="Magnus formula over water",
    )
    ax_svp.grid(alpha=0.3, which="both")
    ax_svp.legend(fontsize=8)

    grid = np.arange(200)
    blob = np.exp(-0.5 * ((grid - 40.0) / 6.0) ** 2)
    steps = 200
    ax_adv.plot(grid, blob, color="0.6", lw=1.5, label="initial")
    ax_adv.plot(
        grid,
        numpy_k.advect_diffuse(blob, cfg.courant, cfg.diffusion, steps),
        "k-",
        lw=2,
        label=f"NumPy, {steps} steps",
    )
    for language, kernels in natives.items():
        ax_adv.plot(
            grid[::5],
            kernels.advect_diffuse(blob, cfg.courant, cfg.diffusion, steps)[::5],
            markers[language],
            color=_BACKEND_COLOURS[language],
            ms=6,
            mfc="none",
            label=names[language],
        )
    ax_adv.set(
        xlabel="grid index (periodic)",
        ylabel="tracer [arbitrary units]",
        title=f"Advection-diffusion (c = {cfg.courant:g}, d = {cfg.diffusion:g})",
    )
    ax_adv.grid(alpha=0.3)
    ax_adv.legend(fontsize=8)

    floor = 1e-18
    positions = np.arange(len(KERNELS))
    width = 0.8 / len(natives)
    for j, language in enumerate(natives):
        values = [errors[language, name] for name in KERNELS]
        bars = ax_err.bar(
            positions + (j - (len(natives) - 1) / 2) * width,
            [max(v, floor) for v in values],
            width,
            label=names[language],
            color=_BACKEND_COLOURS[language],
        )
        ax_err.bar_label(
            bars, labels=["0" if v == 0 else f"{v:.0e}" for v in values], fontsize=7, padding=1
        )
    ax_err.axhline(cfg.tolerance, color="C3", ls="--", label=f"tolerance {cfg.tolerance:g}")
    ax_err.set_yscale("log")
    ax_err.set_ylim(floor / 2, max(cfg.tolerance * 100, 1e-8))
    ax_err.set_xticks(positions, [_SHORT[name] for name in KERNELS])
    ax_err.set(
        ylabel="relative error vs NumPy (0 drawn at 1e-18)",
        title=f"Agreement with NumPy (n = {cfg.n:,})",
    )
    ax_err.grid(axis="y", alpha=0.3)
    ax_err.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    ctx.save_figure(fig, "native_results.png")


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
    from wxai.train.throughput import matmul_skip_reason, matmul_tflops

    devices = available_devices() if cfg.device == "auto" else [str(ctx.device)]
    sizes = sorted(set(cfg.sizes))
    plan = [(dev, dtype) for dev in devices for dtype in cfg.dtypes]
    skipped: dict[str, str] = {}
    timings: list[MatmulTiming] = []
    metrics: dict[str, float] = {}
    for k, (dev, dtype) in enumerate(plan):
        reason = matmul_skip_reason(dev, dtype)
        if reason is not None:
            skipped[f"{dev}/{dtype}"] = reason
            continue
        previous: MatmulTiming | None = None
        for n in sizes:
            if previous is not None:  # products cost ~ n^3: skip sizes beyond the budget
                predicted = previous.seconds * (n / previous.n) ** 3 * (cfg.warmup + 1)
                if predicted > cfg.time_budget_s:
                    skipped[f"{dev}/{dtype}/n>={n}"] = (
                        f"predicted {predicted:.0f} s > budget {cfg.time_budget_s:g} s"
                    )
                    break
            ctx.progress(0.05 + 0.85 * k / len(plan), f"{dtype} matmul n={n} on {dev}")
            timing = matmul_tflops(
                dev,
                dtype,
                n,
                cfg.repeats,
                warmup=cfg.warmup,
                seed=cfg.seed,
                budget=cfg.time_budget_s,
            )
            timings.append(timing)
            previous = timing
            key = f"{_metric_device(dev)}_{dtype}_n{n}"
            metrics[f"tflops_{key}"] = timing.tflops
            metrics[f"rel_error_{key}"] = timing.rel_error
        peak = max(t.tflops for t in timings if t.device == dev and t.dtype == dtype)
        metrics[f"peak_tflops_{_metric_device(dev)}_{dtype}"] = peak
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

    _plot_matmul(ctx, timings, skipped, cfg)
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


def _plot_matmul(
    ctx: LabContext, timings: list[MatmulTiming], skipped: dict[str, str], cfg: GpuMatmulConfig
) -> None:
    import matplotlib.pyplot as plt

    fig, (ax_rate, ax_err) = plt.subplots(1, 2, figsize=(12, 4.4))
    styles = {"float32": "o-", "float16": "s--", "bfloat16": "^-."}
    series: dict[tuple[str, str], list[MatmulTiming]] = {}
    for timing in timings:
        series.setdefault((timing.device, timing.dtype), []).append(timing)
    devices = list(dict.fromkeys(device for device, _ in series))
    for (device, dtype), points in series.items():
        colour = f"C{devices.index(device)}"
        sizes = [p.n for p in points]
        label = f"{device} {dtype}"
        ax_rate.plot(sizes, [p.tflops for p in points], styles[dtype], color=colour, label=label)
        ax_err.plot(sizes, [p.rel_error for p in points], styles[dtype], color=colour, label=label)
    for ax in (ax_rate, ax_err):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sorted(set(cfg.sizes)), [str(n) for n in sorted(set(cfg.sizes))])
        ax.minorticks_off()
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("matrix size n (n x n times n x n)")
    ax_rate.set(
        ylabel="throughput [TFLOP/s] = 2 n\u00b3 / t / 1e12",
        title=f"Matrix-product throughput (best of {cfg.repeats})",
    )
    ax_err.axhline(
        cfg.tolerance, color="C3", lw=1, ls=":", label=f"float32 tolerance {cfg.tolerance:g}"
    )
    ax_err.set(
        ylabel="max |C - C_ref| / max |C_ref|",
        title="Error vs NumPy float64 product of the same matrices",
    )
    ax_rate.legend(fontsize=8)
    ax_err.legend(fontsize=8)
    if skipped:
        note = "skipped: " + "; ".join(f"{k} ({v})" for k, v in skipped.items())
        fig.text(0.01, -0.02, note, fontsize=8, color="0.35", ha="left", va="top", wrap=True)
    fig.tight_layout()
    ctx.save_figure(fig, "matmul_tflops.png")
