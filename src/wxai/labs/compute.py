"""Day 1 compute lab: native kernels from Python (course unit U1).

The matrix-product throughput lab is in :mod:`wxai.labs.gpu_matmul`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from wxai.core.native.kernels import Kernels, NativeKernels

U1 = "U1 Foundations and APIs"

KERNELS = ("saturation_vapour_pressure", "dot", "axpy", "advect_diffuse")
_SHORT = {
    "saturation_vapour_pressure": "svp",
    "dot": "dot",
    "axpy": "axpy",
    "advect_diffuse": "advect",
}
_BACKEND_COLOURS = {"fortran": "C0", "cpp": "C1", "numpy": "C2", "python": "C7"}
_BACKEND_NAMES = {
    "fortran": "Fortran (ctypes)",
    "cpp": "C++ (ctypes)",
    "numpy": "NumPy",
    "python": "pure-Python loop",
}
_NAMES = {"fortran": "Fortran", "cpp": "C++"}
_MARKERS = {"fortran": "o", "cpp": "x"}
_LABELS = {
    "saturation_vapour_pressure": "saturation vapour\npressure (Magnus)",
    "dot": "dot product",
    "axpy": "axpy (a x + y)",
    "advect_diffuse": "advection-diffusion\n(per step)",
}


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
    from wxai.train.throughput import time_per_element

    natives: dict[str, NativeKernels] = {}
    metrics: dict[str, float] = {}
    for i, language in enumerate(cfg.languages):
        ctx.progress(0.05 + 0.2 * i / len(cfg.languages), f"building the {language} kernels")
        natives[language] = load_kernels(language)  # NativeBuildError if no compiler
        metrics[f"build_seconds_{language}"] = natives[language].library.build_seconds
    numpy_k, python_k = NumpyKernels(), PythonKernels()

    args = _kernel_arguments(ctx.rng, cfg)
    errors = _accuracy(natives, args, metrics)

    # Cost per element (per element and step for the advection), best of cfg.repeats;
    # the interpreted loops run on the first n_python elements, one advection step.
    ctx.progress(0.3, "timing native, NumPy and Python loops")
    n_python = min(cfg.n_python, cfg.n)
    compiled = {name: (args[name], cfg.n * _steps(args[name], name)) for name in KERNELS}
    interpreted = {name: _truncate(args[name], n_python, name) for name in KERNELS}
    interpreted = {name: (a, n_python * _steps(a, name)) for name, a in interpreted.items()}
    backends: dict[str, Kernels] = {**natives, "numpy": numpy_k, "python": python_k}
    ns_per_element: dict[str, dict[str, float]] = {}
    for b, (backend, kernels) in enumerate(backends.items()):
        if backend == "python":
            ns_per_element[backend] = time_per_element(kernels, interpreted, repeats=1, warmup=0)
        else:
            ns_per_element[backend] = time_per_element(kernels, compiled, repeats=cfg.repeats)
        for name, ns in ns_per_element[backend].items():
            metrics[f"ns_per_element_{backend}_{_SHORT[name]}"] = ns
        ctx.progress(0.3 + 0.6 * (b + 1) / len(backends), f"timed {backend}")
    metrics.update(_speedups(ns_per_element, natives))
    metrics["max_rel_error"] = max_rel_error = max(errors.values())

    _native_figures(ctx, cfg, ns_per_element, natives, errors)
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


def _kernel_arguments(rng: np.random.Generator, cfg: NativeKernelsConfig) -> dict[str, tuple]:
    """Random inputs of every kernel: temperatures in degC, standard-normal vectors."""
    t = rng.uniform(-40.0, 40.0, cfg.n)
    x, y = rng.standard_normal(cfg.n), rng.standard_normal(cfg.n)
    a = float(rng.uniform(-2.0, 2.0))
    return {
        "saturation_vapour_pressure": (t,),
        "dot": (x, y),
        "axpy": (a, x, y),
        "advect_diffuse": (x, cfg.courant, cfg.diffusion, cfg.advect_steps),
    }


def _accuracy(
    natives: dict[str, NativeKernels], args: dict[str, tuple], metrics: dict[str, float]
) -> dict[tuple[str, str], float]:
    """Relative error of every native kernel against NumPy; also adds them to ``metrics``.

    Normwise: ``max |native - numpy| / max |numpy|``, and for the dot product relative
    to ``sum |x_i y_i|``, the scale of its rounding error.
    """
    from wxai.core.native.reference import NumpyKernels
    from wxai.verify.metrics import normwise_error

    numpy_k = NumpyKernels()
    reference = {name: getattr(numpy_k, name)(*args[name]) for name in KERNELS}
    x, y = args["dot"]
    dot_scale = float(np.sum(np.abs(x * y)))
    errors: dict[tuple[str, str], float] = {}
    for language, kernels in natives.items():
        for name in KERNELS:
            abs_err, rel_err = normwise_error(
                getattr(kernels, name)(*args[name]),
                reference[name],
                dot_scale if name == "dot" else None,
            )
            errors[language, name] = rel_err
            metrics[f"abs_error_{language}_{_SHORT[name]}"] = abs_err
            metrics[f"rel_error_{language}_{_SHORT[name]}"] = rel_err
    return errors


def _steps(args: tuple, name: str) -> int:
    """Time steps of one call: the last argument of the advection, else 1."""
    return args[3] if name == "advect_diffuse" else 1


def _truncate(args: tuple, length: int, name: str) -> tuple:
    """The kernel arguments with every array cut to ``length`` elements (one advection step)."""
    cut = tuple(arg[:length] if isinstance(arg, np.ndarray) else arg for arg in args)
    return (*cut[:3], 1) if name == "advect_diffuse" else cut


def _speedups(ns: dict[str, dict[str, float]], natives: dict) -> dict[str, float]:
    """Speed-ups of the native kernels over NumPy and Python, and their geometric mean."""
    metrics: dict[str, float] = {}
    for language in natives:
        native = ns[language]
        for name in KERNELS:
            short = _SHORT[name]
            metrics[f"speedup_{language}_vs_numpy_{short}"] = ns["numpy"][name] / native[name]
            metrics[f"speedup_{language}_vs_python_{short}"] = ns["python"][name] / native[name]
        metrics[f"speedup_{language}_vs_python_geomean"] = math.exp(
            np.mean([math.log(ns["python"][name] / native[name]) for name in KERNELS])
        )
    return metrics


def _native_figures(
    ctx: LabContext,
    cfg: NativeKernelsConfig,
    ns: dict[str, dict[str, float]],
    natives: dict[str, NativeKernels],
    errors: dict[tuple[str, str], float],
) -> None:
    """Cost per element of every backend; the native results against NumPy's."""
    import matplotlib.pyplot as plt

    from wxai.core.native.reference import NumpyKernels
    from wxai.viz.benchmarks import plot_backend_curves, plot_grouped_bars

    fig, ax = plt.subplots(figsize=(9, 4.4))
    plot_grouped_bars(
        ax,
        [_LABELS[name] for name in KERNELS],
        {backend: [per[name] for name in KERNELS] for backend, per in ns.items()},
        colours=_BACKEND_COLOURS,
        names=_BACKEND_NAMES,
    )
    ax.set_yscale("log")
    ax.set(
        ylabel="time per element [ns] (log scale)",
        title=f"Kernel cost per array element (native/NumPy: n = {cfg.n:,}; "
        f"Python: n = {min(cfg.n_python, cfg.n):,}; best of {cfg.repeats})",
    )
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, ncols=len(ns), loc="upper left")
    ax.margins(y=0.15)
    ctx.save_figure(fig, "native_timings.png")

    numpy_k = NumpyKernels()
    fig, (ax_svp, ax_adv, ax_err) = plt.subplots(1, 3, figsize=(15, 4.2))
    style = {
        "colours": {_NAMES[k]: _BACKEND_COLOURS[k] for k in natives},
        "markers": {_NAMES[k]: _MARKERS[k] for k in natives},
    }
    temperature = np.linspace(-40.0, 40.0, 161)
    svp = {
        _NAMES[k]: kernels.saturation_vapour_pressure(temperature) for k, kernels in natives.items()
    }
    plot_backend_curves(
        ax_svp, temperature, numpy_k.saturation_vapour_pressure(temperature), svp, **style
    )
    ax_svp.set_yscale("log")
    ax_svp.set(
        xlabel="air temperature [\u00b0C]",
        ylabel="saturation vapour pressure [hPa]",
        title="Magnus formula over water",
    )
    grid = np.arange(200)
    blob = np.exp(-0.5 * ((grid - 40.0) / 6.0) ** 2)
    moved = {
        _NAMES[k]: kernels.advect_diffuse(blob, cfg.courant, cfg.diffusion, 200)
        for k, kernels in natives.items()
    }
    ax_adv.plot(grid, blob, color="0.6", lw=1.5, label="initial")
    plot_backend_curves(
        ax_adv, grid, numpy_k.advect_diffuse(blob, cfg.courant, cfg.diffusion, 200), moved,
        every=5, reference_label="NumPy, 200 steps", **style,
    )  # fmt: skip
    ax_adv.set(
        xlabel="grid index (periodic)",
        ylabel="tracer [arbitrary units]",
        title=f"Advection-diffusion (c = {cfg.courant:g}, d = {cfg.diffusion:g})",
    )
    _plot_errors(ax_err, cfg, natives, errors)
    fig.tight_layout()
    ctx.save_figure(fig, "native_results.png")


def _plot_errors(
    ax: Axes, cfg: NativeKernelsConfig, natives: dict, errors: dict[tuple[str, str], float]
) -> None:
    """Relative errors of the native kernels (zeros drawn at 1e-18) and the tolerance."""
    from wxai.viz.benchmarks import plot_grouped_bars

    floor = 1e-18
    values = {language: [errors[language, name] for name in KERNELS] for language in natives}
    plot_grouped_bars(
        ax,
        [_SHORT[name] for name in KERNELS],
        values,
        colours=_BACKEND_COLOURS,
        names=_NAMES,
        floor=floor,
        bar_labels={k: ["0" if v == 0 else f"{v:.0e}" for v in vs] for k, vs in values.items()},
    )
    ax.axhline(cfg.tolerance, color="C3", ls="--", label=f"tolerance {cfg.tolerance:g}")
    ax.set_yscale("log")
    ax.set_ylim(floor / 2, max(cfg.tolerance * 100, 1e-8))
    ax.set(
        ylabel="relative error vs NumPy (0 drawn at 1e-18)",
        title=f"Agreement with NumPy (n = {cfg.n:,})",
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
