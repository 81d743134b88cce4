"""Throughput measurements: wall-clock timing of a call and matrix-product TFLOP/s.

:func:`best_time` times any callable (native kernels, NumPy, torch ops);
:func:`matmul_tflops` times square matrix products on a torch device in a given
dtype and checks the product against NumPy in float64, so a fast but wrong result
(e.g. reduced-precision TF32 where float32 was asked for) is visible next to its
speed.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from wxai.core.errors import ConfigError

if TYPE_CHECKING:
    import torch

#: dtype names accepted by :func:`matmul_tflops`.
MATMUL_DTYPES = ("float32", "float16", "bfloat16")


def best_time(
    func: Callable[[], Any],
    *,
    repeats: int = 5,
    warmup: int = 1,
    min_time: float = 1e-3,
    sync: Callable[[], None] | None = None,
    budget: float | None = None,
) -> float:
    """Best (minimum) wall time of one call of ``func``, in seconds.

    Calls shorter than ``min_time`` are looped ``k`` times per measurement (``k``
    calibrated from the first call) so that the clock resolution does not dominate;
    the reported time is per call.

    Parameters
    ----------
    func:
        The work to time, called without arguments.
    repeats:
        Number of measurements; the minimum is returned.
    warmup:
        Untimed calls before measuring (caches, lazy initialisation, JIT, autotuning).
    min_time:
        Target duration of one measurement in seconds.
    sync:
        Called after the work of each measurement, before the clock is read (e.g.
        ``torch.cuda.synchronize``), so asynchronous devices are timed correctly.
    budget:
        Seconds of measuring after which no further repeat is started (at least one
        measurement is always taken); ``None`` for no limit.

    Returns
    -------
    float
        Seconds per call (best of ``repeats``).
    """
    if repeats < 1:
        raise ConfigError(f"repeats must be >= 1, got {repeats}")
    finish = sync or _no_sync
    for _ in range(max(warmup, 0)):
        func()
    finish()
    start = time.perf_counter()
    func()
    finish()
    first = time.perf_counter() - start
    inner = 1 if first >= min_time else min(math.ceil(min_time / max(first, 1e-9)), 1_000_000)
    best = first if inner == 1 else math.inf
    spent = first
    for _ in range(repeats if inner > 1 else repeats - 1):
        if budget is not None and spent >= budget and math.isfinite(best):
            break
        start = time.perf_counter()
        for _ in range(inner):
            func()
        finish()
        elapsed = time.perf_counter() - start
        spent += elapsed
        best = min(best, elapsed / inner)
    return best


@dataclass(frozen=True)
class MatmulTiming:
    """Throughput of ``C = A @ B`` for square ``n x n`` matrices.

    Attributes
    ----------
    device, dtype, n:
        Where, in what precision and at what size the product ran.
    seconds:
        Best wall time of one product in seconds.
    tflops:
        ``2 n**3 / seconds / 1e12``, in TFLOP/s.
    rel_error:
        ``max |C - C_ref| / max |C_ref|`` against NumPy's float64 product of the same
        (dtype-rounded) matrices, over the checked rows; NaN when not checked.
    """

    device: str
    dtype: str
    n: int
    seconds: float
    tflops: float
    rel_error: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-ready)."""
        return asdict(self)


def matmul_skip_reason(device: str, dtype: str) -> str | None:
    """Why ``device`` cannot run a ``dtype`` matrix product, or ``None`` if it can.

    CPU runs float32 and bfloat16 (float16 has no fast CPU path and is skipped);
    CUDA runs float16, and bfloat16 where the GPU supports it (compute capability
    8.0+); MPS runs float32 and float16, and bfloat16 where a probe product succeeds.
    """
    import torch

    if dtype not in MATMUL_DTYPES:
        raise ConfigError(f"unknown matmul dtype {dtype!r}; valid: {', '.join(MATMUL_DTYPES)}")
    dev = torch.device(device)
    if dtype == "float32":
        return None
    if dev.type == "cpu":
        return "float16 matmul has no fast CPU path" if dtype == "float16" else None
    if dev.type == "cuda":
        if dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
            return "this GPU has no bfloat16 support (needs compute capability >= 8.0)"
        return None
    try:  # other backends (mps, ...): probe
        probe = torch.ones(2, 2, device=dev, dtype=getattr(torch, dtype))
        _ = (probe @ probe).cpu()
    except (RuntimeError, TypeError) as exc:
        return f"{dtype} matmul failed on {device}: {exc}"
    return None


def matmul_tflops(
    device: str | torch.device,
    dtype: str,
    n: int,
    repeats: int = 5,
    *,
    warmup: int = 2,
    seed: int = 0,
    check: bool = True,
    check_rows: int = 256,
    budget: float | None = None,
) -> MatmulTiming:
    """Time the product of two random ``n x n`` matrices on ``device`` in ``dtype``.

    The matrices are drawn from a standard normal distribution (NumPy generator
    seeded with ``seed``), rounded to ``dtype`` and moved to ``device``. float32
    products run at full float32 precision (TF32 is switched off for the duration).
    CUDA and MPS are synchronised before each clock reading.

    Parameters
    ----------
    device:
        Torch device, e.g. ``"cpu"``, ``"cuda:0"``, ``"mps"``.
    dtype:
        ``"float32"``, ``"float16"`` or ``"bfloat16"``.
    n:
        Matrix size (rows = columns).
    repeats:
        Timed products; the best is reported.
    warmup:
        Untimed products before timing.
    seed:
        Seed of the random matrices.
    check:
        Compare the product with NumPy's float64 product (``rel_error``).
    check_rows:
        Rows of the product compared (all rows when ``n <= check_rows``, else a seeded
        random sample), which keeps the float64 reference cheap for large ``n``.
    budget:
        Seconds after which no further timed repeat is started (see :func:`best_time`).

    Returns
    -------
    MatmulTiming
        Best time, TFLOP/s and the relative error of the product.

    Raises
    ------
    ConfigError
        If ``n < 1`` or ``dtype`` is unknown or not supported on ``device``.
    """
    import torch

    if n < 1:
        raise ConfigError(f"matrix size must be >= 1, got {n}")
    dev = torch.device(device)
    reason = matmul_skip_reason(str(dev), dtype)
    if reason is not None:
        raise ConfigError(f"cannot time a {dtype} matmul on {dev}: {reason}")
    torch_dtype = getattr(torch, dtype)
    rng = np.random.default_rng(seed)
    a = torch.from_numpy(rng.standard_normal((n, n))).to(dev, torch_dtype)
    b = torch.from_numpy(rng.standard_normal((n, n))).to(dev, torch_dtype)
    sync = _synchronizer(dev)
    with _full_fp32_precision():
        seconds = best_time(
            lambda: torch.matmul(a, b), repeats=repeats, warmup=warmup, sync=sync, budget=budget
        )
        rel_error = math.nan
        if check:
            rows = np.arange(n)
            if n > check_rows:
                rows = np.sort(rng.choice(n, size=check_rows, replace=False))
            index = torch.from_numpy(rows).to(dev)
            product = torch.matmul(a, b)[index].double().cpu().numpy()
            reference = a[index].double().cpu().numpy() @ b.double().cpu().numpy()
            scale = float(np.max(np.abs(reference)))
            rel_error = float(np.max(np.abs(product - reference)) / max(scale, 1e-300))
    return MatmulTiming(
        device=str(dev),
        dtype=dtype,
        n=n,
        seconds=seconds,
        tflops=2.0 * n**3 / seconds / 1e12,
        rel_error=rel_error,
    )


def time_per_element(
    kernels: object,
    calls: Mapping[str, tuple[tuple, int]],
    *,
    repeats: int = 5,
    warmup: int = 1,
) -> dict[str, float]:
    """Best time per element [ns] of methods of ``kernels``, one timing per call.

    Parameters
    ----------
    kernels:
        Any object with the named methods (a native library, NumPy, Python loops).
    calls:
        ``{method name: (arguments, elements)}``: the method is called with the
        arguments, and its best time (:func:`best_time`) is divided by ``elements``
        (array length, or length x steps for a time-stepping kernel).
    """
    return {
        name: best_time(partial(getattr(kernels, name), *args), repeats=repeats, warmup=warmup)
        / elements
        * 1e9
        for name, (args, elements) in calls.items()
    }


@dataclass
class MatmulSweep:
    """Timings of :func:`matmul_sweep` and what it skipped (``{what: why}``)."""

    timings: list[MatmulTiming] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def matmul_sweep(
    devices: Sequence[str],
    dtypes: Sequence[str],
    sizes: Sequence[int],
    *,
    repeats: int,
    warmup: int,
    seed: int,
    budget: float,
    progress: Callable[[float, str], None] | None = None,
) -> MatmulSweep:
    """Time square matrix products for every (device, dtype) over increasing sizes.

    A dtype the device cannot run (:func:`matmul_skip_reason`) is skipped, and so are
    the sizes from the first one whose predicted cost, ``(warmup + 1)`` products scaled
    as ``n^3`` from the previous size, exceeds ``budget`` seconds. ``budget`` also
    limits the repeats of each point (see :func:`matmul_tflops`).
    """
    sizes = sorted(set(sizes))
    plan = [(dev, dtype) for dev in devices for dtype in dtypes]
    sweep = MatmulSweep()
    for k, (dev, dtype) in enumerate(plan):
        reason = matmul_skip_reason(dev, dtype)
        if reason is not None:
            sweep.skipped[f"{dev}/{dtype}"] = reason
            continue
        previous: MatmulTiming | None = None
        for n in sizes:
            if previous is not None:  # products cost ~ n^3: skip sizes beyond the budget
                predicted = previous.seconds * (n / previous.n) ** 3 * (warmup + 1)
                if predicted > budget:
                    sweep.skipped[f"{dev}/{dtype}/n>={n}"] = (
                        f"predicted {predicted:.0f} s > budget {budget:g} s"
                    )
                    break
            if progress is not None:
                progress(k / len(plan), f"{dtype} matmul n={n} on {dev}")
            previous = matmul_tflops(
                dev, dtype, n, repeats, warmup=warmup, seed=seed, budget=budget
            )
            sweep.timings.append(previous)
    return sweep


def _no_sync() -> None:
    """Nothing to wait for (synchronous devices)."""


def _synchronizer(device: torch.device) -> Callable[[], None]:
    import torch

    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":
        return torch.mps.synchronize
    return _no_sync


@contextmanager
def _full_fp32_precision() -> Iterator[None]:
    """Run float32 matmuls in full precision (no TF32), restoring the setting after."""
    import torch

    with warnings.catch_warnings():  # newer torch may warn that this API is legacy
        warnings.simplefilter("ignore", UserWarning)
        previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            torch.set_float32_matmul_precision(previous)
