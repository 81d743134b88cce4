"""Per-element kernel timings and the matrix-product sweep with its skips."""

from __future__ import annotations

import math

import numpy as np

from wxai.train.throughput import matmul_sweep, time_per_element


class _Kernels:
    def fill(self, n: int) -> np.ndarray:
        return np.ones(n)

    def slow_fill(self, n: int) -> list[float]:
        return [1.0 for _ in range(n)]


def test_time_per_element_divides_by_the_element_count_and_ranks_loops_slower():
    k = _Kernels()
    ns = time_per_element(
        k, {"fill": ((100_000,), 100_000), "slow_fill": ((100_000,), 100_000)}, repeats=3
    )
    assert set(ns) == {"fill", "slow_fill"}
    assert all(math.isfinite(v) and v > 0 for v in ns.values())
    assert ns["slow_fill"] > 3 * ns["fill"]  # an interpreted loop vs one vectorised call


def test_matmul_sweep_times_skips_unsupported_dtypes_and_reports_progress():
    seen: list[float] = []
    sweep = matmul_sweep(
        ["cpu"],
        ["float32", "float16"],
        [64, 32, 32],
        repeats=2,
        warmup=0,
        seed=0,
        budget=5.0,
        progress=lambda fraction, message: seen.append(fraction),
    )
    assert [(t.dtype, t.n) for t in sweep.timings] == [("float32", 32), ("float32", 64)]
    assert all(t.tflops > 0 and t.rel_error < 1e-5 for t in sweep.timings)
    assert list(sweep.skipped) == ["cpu/float16"]
    assert seen == [0.0, 0.0]


def test_matmul_sweep_skips_sizes_predicted_beyond_the_budget():
    sweep = matmul_sweep(["cpu"], ["float32"], [16, 4096], repeats=1, warmup=0, seed=0, budget=1e-9)
    assert [t.n for t in sweep.timings] == [16]
    assert list(sweep.skipped) == ["cpu/float32/n>=4096"]
