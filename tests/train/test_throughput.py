"""Timing helpers and matrix-product throughput."""

from __future__ import annotations

import time

import pytest
import torch

from wxai.core.errors import ConfigError
from wxai.train.throughput import best_time, matmul_skip_reason, matmul_tflops


def test_best_time_measures_one_call() -> None:
    assert best_time(lambda: time.sleep(0.005), repeats=2, warmup=0) == pytest.approx(
        0.005, abs=0.004
    )


def test_best_time_loops_short_calls_and_synchronises() -> None:
    calls: list[str] = []
    seconds = best_time(
        lambda: calls.append("f"), repeats=3, warmup=2, sync=lambda: calls.append("sync")
    )
    assert 0 < seconds < 1e-4
    assert calls.count("f") > 10  # short calls are looped within one measurement
    assert calls[-1] == "sync"
    with pytest.raises(ValueError, match="repeats"):
        best_time(lambda: None, repeats=0)


def test_matmul_tflops_cpu_float32_matches_numpy() -> None:
    timing = matmul_tflops("cpu", "float32", 96, repeats=2, warmup=1)
    assert timing.device == "cpu" and timing.dtype == "float32" and timing.n == 96
    assert timing.rel_error < 1e-5
    assert timing.seconds > 0
    assert timing.tflops == pytest.approx(2 * 96**3 / timing.seconds / 1e12)


def test_matmul_tflops_bfloat16_is_less_accurate() -> None:
    timing = matmul_tflops("cpu", "bfloat16", 64, repeats=1, warmup=0)
    assert 1e-4 < timing.rel_error < 2e-2


def test_fp32_precision_setting_is_restored() -> None:
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        matmul_tflops("cpu", "float32", 16, repeats=1, warmup=0, check=False)
        assert torch.get_float32_matmul_precision() == "medium"
    finally:
        torch.set_float32_matmul_precision(before)


def test_unsupported_and_unknown_dtypes() -> None:
    assert matmul_skip_reason("cpu", "float32") is None
    assert matmul_skip_reason("cpu", "bfloat16") is None
    assert "float16" in (matmul_skip_reason("cpu", "float16") or "")
    with pytest.raises(ConfigError, match="cannot time a float16 matmul on cpu"):
        matmul_tflops("cpu", "float16", 8)
    with pytest.raises(ConfigError, match="valid: float32, float16, bfloat16"):
        matmul_skip_reason("cpu", "float64")
    with pytest.raises(ConfigError, match="matrix size"):
        matmul_tflops("cpu", "float32", 0)


def test_best_time_stops_repeating_when_the_budget_is_spent() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        time.sleep(0.01)

    best_time(work, repeats=50, warmup=0, budget=0.03)
    assert 2 <= len(calls) <= 6  # stops after ~30 ms, not after 50 repeats
