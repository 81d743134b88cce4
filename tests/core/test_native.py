"""Native kernels: build and cache, agreement with NumPy and analytical cases, errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from toolcheck import require_tool
from wxai.core.errors import NativeBuildError
from wxai.core.native import build
from wxai.core.native.kernels import NativeKernels, load_kernels
from wxai.core.native.reference import NumpyKernels, PythonKernels
from wxai.core.settings import reload_settings

LANGUAGES = ["fortran", "cpp"]
COMPILERS = {"fortran": "gfortran", "cpp": "g++"}


def _needs_compiler(language: str) -> None:
    require_tool(COMPILERS[language])


@pytest.fixture(scope="module", params=LANGUAGES)
def native(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> NativeKernels:
    """Each library, built once per module in a wxai home of its own.

    Module-scoped fixtures are set up before the per-test home of conftest.py, so this
    one points ``WXAI_HOME`` at its own directory while building.
    """
    _needs_compiler(request.param)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WXAI_HOME", str(tmp_path_factory.mktemp("native-home")))
        reload_settings()
        kernels = load_kernels(request.param)
    reload_settings()
    return kernels


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def test_kernels_agree_with_numpy(native: NativeKernels, rng: np.random.Generator) -> None:
    ref = NumpyKernels()
    t = rng.uniform(-40.0, 40.0, 10_001)
    x, y = rng.standard_normal(10_001), rng.standard_normal(10_001)
    np.testing.assert_allclose(
        native.saturation_vapour_pressure(t), ref.saturation_vapour_pressure(t), rtol=1e-13
    )
    assert native.dot(x, y) == pytest.approx(ref.dot(x, y), abs=1e-13 * np.sum(np.abs(x * y)))
    np.testing.assert_allclose(native.axpy(-1.5, x, y), ref.axpy(-1.5, x, y), rtol=1e-14)
    np.testing.assert_allclose(
        native.advect_diffuse(x, 0.4, 0.25, 30),
        ref.advect_diffuse(x, 0.4, 0.25, 30),
        rtol=0,
        atol=1e-13,
    )


def test_kernels_agree_with_python_loops(native: NativeKernels, rng: np.random.Generator) -> None:
    loop = PythonKernels()
    u = rng.standard_normal(257)
    np.testing.assert_allclose(
        native.advect_diffuse(u, 0.3, 0.1, 4), loop.advect_diffuse(u, 0.3, 0.1, 4), atol=1e-14
    )
    assert native.dot(u, u) == pytest.approx(loop.dot(u, u), rel=1e-13)
    t = np.linspace(-30.0, 30.0, 61)
    np.testing.assert_allclose(
        native.saturation_vapour_pressure(t), loop.saturation_vapour_pressure(t), rtol=1e-14
    )


def test_analytical_cases(native: NativeKernels) -> None:
    # Magnus: e_s(0 degC) is the coefficient 6.112 hPa; about 23.4 hPa at 20 degC.
    es = native.saturation_vapour_pressure([0.0, 20.0])
    assert es[0] == pytest.approx(6.112, rel=1e-15)
    assert es[1] == pytest.approx(23.37, abs=0.1)
    assert native.dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
    np.testing.assert_array_equal(native.axpy(2.0, [1.0, 2.0], [10.0, 20.0]), [12.0, 24.0])
    # Courant number 1 without diffusion shifts the field by exactly one cell per step.
    u = np.arange(10.0)
    np.testing.assert_array_equal(native.advect_diffuse(u, 1.0, 0.0, 3), np.roll(u, 3))
    # Diffusion conserves the total (periodic grid) and zero steps change nothing.
    blob = np.exp(-0.5 * ((np.arange(100) - 50.0) / 5.0) ** 2)
    assert native.advect_diffuse(blob, 0.5, 0.2, 100).sum() == pytest.approx(blob.sum(), rel=1e-12)
    np.testing.assert_array_equal(native.advect_diffuse(blob, 0.5, 0.2, 0), blob)


def test_inputs_are_converted_and_left_untouched(native: NativeKernels) -> None:
    x = np.arange(20, dtype=np.float32)[::2]  # float32, non-contiguous
    y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # a list of ints
    y_before = list(y)
    out = native.axpy(0.5, x, y)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, 0.5 * np.arange(0, 20, 2) + np.arange(1, 11))
    assert y == y_before
    assert native.dot(x, x) == float(np.sum(np.arange(0, 20, 2) ** 2))
    assert native.saturation_vapour_pressure(np.array([], dtype=np.float64)).shape == (0,)


def test_bad_inputs_raise_value_error(native: NativeKernels) -> None:
    with pytest.raises(ValueError, match=r"same length.*len\(x\) = 3.*len\(y\) = 2"):
        native.dot([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        native.axpy(1.0, np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match="1-D"):
        native.saturation_vapour_pressure(np.ones((2, 3)))
    with pytest.raises(ValueError, match="1-D"):
        native.axpy(1.0, np.ones(4), np.ones((2, 2)))
    with pytest.raises(ValueError, match="float64"):
        native.dot(["a", "b"], [1.0, 2.0])
    with pytest.raises(ValueError, match="unstable"):
        native.advect_diffuse(np.ones(8), 0.8, 0.2)
    with pytest.raises(ValueError, match="courant"):
        native.advect_diffuse(np.ones(8), 1.5, 0.0)
    with pytest.raises(ValueError, match="steps"):
        native.advect_diffuse(np.ones(8), 0.5, 0.1, -1)


def test_build_is_cached_and_rebuilt_when_the_source_changes(tmp_path: Path) -> None:
    _needs_compiler("fortran")
    first = build.build_library("fortran")
    assert not first.cached
    assert first.path.is_file()
    assert first.path.is_relative_to(build.cache_dir())
    stamp = first.path.stat().st_mtime_ns
    second = build.build_library("fortran")
    assert second.cached
    assert second.path == first.path
    assert second.path.stat().st_mtime_ns == stamp  # not recompiled
    assert not list(first.path.parent.glob(".build-*"))  # no temporary left behind

    changed = tmp_path / "wx_kernels.f90"
    changed.write_text(build.kernel_source("fortran").read_text() + "\n! edited\n")
    third = build.build_library("fortran", source=changed)
    assert not third.cached
    assert third.key != first.key
    assert third.path != first.path


def test_library_exports_plain_c_symbols(native: NativeKernels) -> None:
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    symbols = subprocess.run(
        [nm, "-D", "--defined-only", str(native.library.path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("wx_saturation_vapour_pressure", "wx_dot", "wx_axpy", "wx_advect_diffuse"):
        assert f" T {name}\n" in symbols


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_compiler_is_a_clear_error(
    language: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no compilers
    package = COMPILERS[language]
    with pytest.raises(NativeBuildError, match=re.escape(f"'apt-get install {package}'")) as info:
        load_kernels(language)
    assert f"{package!r} was not found on PATH" in str(info.value)


def test_missing_compiler_via_which(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(NativeBuildError, match="apt-get install gfortran"):
        build.build_library("fortran")


def test_compile_error_carries_compiler_output(tmp_path: Path) -> None:
    _needs_compiler("cpp")
    broken = tmp_path / "broken.cpp"
    broken.write_text('extern "C" double wx_dot(const double* x) { return undefined_name; }\n')
    with pytest.raises(NativeBuildError, match="undefined_name") as info:
        build.build_library("cpp", source=broken)
    assert "compiling the cpp kernels failed" in str(info.value)
    assert not list(build.cache_dir().rglob("*.so"))  # nothing half-written left in place


def test_unknown_language_lists_valid_ones() -> None:
    with pytest.raises(KeyError, match="cpp, fortran"):
        build.build_library("rust")  # type: ignore[arg-type]


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    code = (
        "import sys, wxai.core.native, wxai.core.native.build, wxai.core.native.kernels, "
        "wxai.core.native.reference; assert 'torch' not in sys.modules, 'torch imported'"
    )
    home = tmp_path / "untouched-home"
    env = {"PATH": "/usr/bin:/bin", "WXAI_HOME": str(home)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert not home.exists()
