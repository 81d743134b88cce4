"""The U1 compute labs reach their acceptance figures in the smoke preset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolcheck import require_tool
from wxai.core.errors import ConfigError, NativeBuildError
from wxai.labs.framework.runner import run_lab


def test_native_kernels_smoke_passes() -> None:
    for compiler in ("gfortran", "g++"):
        require_tool(compiler)
    result = run_lab("native-kernels", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.acceptance.metric == "max_rel_error"
    assert result.acceptance.value <= 1e-10
    for language in ("fortran", "cpp"):
        for kernel in ("svp", "dot", "axpy", "advect"):
            assert result.metrics[f"rel_error_{language}_{kernel}"] <= 1e-12
        # compiled loops beat interpreted ones by orders of magnitude; 5x is a loose floor
        assert result.metrics[f"speedup_{language}_vs_python_geomean"] > 5
    assert {Path(p).name for p in result.figures} == {"native_timings.png", "native_results.png"}
    assert all(Path(p).stat().st_size > 10_000 for p in result.figures)


def test_native_kernels_without_compiler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which

    def which(name: str, *args, **kwargs):
        return None if name in ("gfortran", "g++") else real_which(name, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which)
    with pytest.raises(NativeBuildError, match=r"'g\+\+' was not found.*apt-get install g\+\+"):
        run_lab("native-kernels", ["preset=smoke", "languages=[cpp,fortran]"])


def test_gpu_matmul_smoke_passes() -> None:
    result = run_lab("gpu-matmul", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.acceptance.metric == "fp32_max_rel_error"
    assert result.acceptance.value <= 1e-4
    assert result.metrics["tflops_cpu_float32_n256"] > 0
    assert result.metrics["rel_error_cpu_bfloat16_n256"] < 2e-2  # 8-bit mantissa
    assert "tflops_cpu_float16_n256" not in result.metrics  # skipped on CPU
    assert result.metrics["n_skipped"] >= 1
    assert "skipped: " in result.summary
    assert [Path(p).name for p in result.figures] == ["matmul_tflops.png"]


@pytest.mark.parametrize("override", ["sizes=[0,64]", "dtypes=[float64]", "repeats=0"])
def test_gpu_matmul_rejects_invalid_config(override: str) -> None:
    with pytest.raises(ConfigError):
        run_lab("gpu-matmul", ["preset=smoke", override])


def test_gpu_matmul_skips_sizes_beyond_the_time_budget() -> None:
    result = run_lab(
        "gpu-matmul", ["preset=smoke", "sizes=[64,4096]", "dtypes=[float32]", "time_budget_s=0.5"]
    )
    assert result.passed, result.acceptance.describe()
    assert "tflops_cpu_float32_n64" in result.metrics
    assert "tflops_cpu_float32_n4096" not in result.metrics  # ~2.7 s predicted at >= 5 us (n=64)
    assert "cpu/float32/n>=4096" in result.summary
