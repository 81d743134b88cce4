"""Python wrappers around the compiled kernels, loaded with :mod:`ctypes`.

Both libraries (Fortran through ISO_C_BINDING, C++ through ``extern "C"``) export
the same four C symbols, so one wrapper class, :class:`NativeKernels`, drives either.
Each symbol gets explicit ``argtypes``/``restype``: arrays travel as pointers to
contiguous float64 data (checked by :func:`numpy.ctypeslib.ndpointer`), lengths as
``int64``, scalars by value. The wrappers convert their inputs (dtype, contiguity),
check shapes and lengths, and allocate the outputs, so a wrong call raises a
``ValueError`` instead of letting native code read past the end of an array.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from wxai.core.errors import ConfigError, NativeBuildError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from wxai.core.native.build import BuiltLibrary, Language

#: ``ctypes`` argument type of a 1-D, C-contiguous float64 array.
DoubleArray = np.ctypeslib.ndpointer(dtype=np.float64, ndim=1, flags="C_CONTIGUOUS")

_LOADED: dict[Path, ctypes.CDLL] = {}


@runtime_checkable
class Kernels(Protocol):
    """The kernel set, whatever implements it (native library, NumPy, Python loops)."""

    name: str

    def saturation_vapour_pressure(self, t_celsius: ArrayLike) -> np.ndarray: ...

    def dot(self, x: ArrayLike, y: ArrayLike) -> float: ...

    def axpy(self, a: float, x: ArrayLike, y: ArrayLike) -> np.ndarray: ...

    def advect_diffuse(
        self, u: ArrayLike, courant: float, diffusion: float, steps: int = 1
    ) -> np.ndarray: ...


@dataclass
class NativeKernels:
    """The kernels of one compiled shared library.

    Use :func:`load_kernels` to build (if needed) and load a library.

    Attributes
    ----------
    name:
        ``"fortran"`` or ``"cpp"``.
    library:
        The build that was loaded.
    """

    name: str
    library: BuiltLibrary
    _lib: ctypes.CDLL = field(repr=False)

    def saturation_vapour_pressure(self, t_celsius: ArrayLike) -> np.ndarray:
        """Saturation vapour pressure over water by the Magnus formula.

        ``e_s = 6.112 hPa * exp(17.62 t / (243.12 degC + t))``, the coefficients of
        Sonntag (1990) that the WMO recommends for water between -45 and +60 degC.

        Parameters
        ----------
        t_celsius:
            Air temperature, shape ``(n,)``, in degC (must stay above -243.12 degC).

        Returns
        -------
        numpy.ndarray
            Saturation vapour pressure, shape ``(n,)``, float64, in hPa.
        """
        t = as_vector("t_celsius", t_celsius)
        es = np.empty_like(t)
        self._lib.wx_saturation_vapour_pressure(t, es, t.size)
        return es

    def dot(self, x: ArrayLike, y: ArrayLike) -> float:
        """Inner product ``sum_i x_i y_i``, accumulated in index order.

        Parameters
        ----------
        x, y:
            Vectors of equal length ``n`` (any units; the result has their product's).

        Returns
        -------
        float
            The inner product.
        """
        xv = as_vector("x", x)
        yv = as_vector("y", y)
        check_same_length(x=xv, y=yv)
        return float(self._lib.wx_dot(xv, yv, xv.size))

    def axpy(self, a: float, x: ArrayLike, y: ArrayLike) -> np.ndarray:
        """``a x + y`` (the BLAS ``axpy``), returned as a new array; ``y`` is not modified.

        Parameters
        ----------
        a:
            Scalar factor (units of ``y`` per unit of ``x``).
        x, y:
            Vectors of equal length ``n``.

        Returns
        -------
        numpy.ndarray
            ``a * x + y``, shape ``(n,)``, float64, in the units of ``y``.
        """
        xv = as_vector("x", x)
        out = np.array(y, dtype=np.float64, order="C", copy=True)
        if out.ndim != 1:
            raise ConfigError(f"y must be 1-D, got shape {out.shape}")
        check_same_length(x=xv, y=out)
        self._lib.wx_axpy(float(a), xv, out, xv.size)
        return out

    def advect_diffuse(
        self, u: ArrayLike, courant: float, diffusion: float, steps: int = 1
    ) -> np.ndarray:
        """Time steps of 1-D advection-diffusion on a periodic grid.

        Each step is ``u_i <- u_i - c (u_i - u_{i-1}) + d (u_{i+1} - 2 u_i + u_{i-1})``:
        first-order upwind advection towards increasing index with Courant number
        ``c = U dt / dx`` and centred diffusion with diffusion number
        ``d = K dt / dx**2``. The step is stable and monotone for ``c + 2 d <= 1``.

        Parameters
        ----------
        u:
            Initial field, shape ``(n,)`` (any units, e.g. K or kg kg-1).
        courant:
            Courant number ``c`` (dimensionless), ``0 <= c <= 1``.
        diffusion:
            Diffusion number ``d`` (dimensionless), ``d >= 0`` and ``c + 2 d <= 1``.
        steps:
            Number of time steps (>= 0).

        Returns
        -------
        numpy.ndarray
            The field after ``steps`` steps, shape ``(n,)``, float64, units of ``u``.
        """
        uv = as_vector("u", u)
        courant, diffusion, steps = check_advection(courant, diffusion, steps)
        out = np.empty_like(uv)
        self._lib.wx_advect_diffuse(uv, out, uv.size, courant, diffusion, steps)
        return out


def load_kernels(language: Language, *, force_build: bool = False) -> NativeKernels:
    """Build (or reuse from the cache) and load the kernels of ``language``.

    Parameters
    ----------
    language:
        ``"fortran"`` or ``"cpp"``.
    force_build:
        Recompile even if a cached library exists.

    Raises
    ------
    NativeBuildError
        If the compiler is missing, compilation fails or the library cannot be loaded.
    """
    from wxai.core.native.build import build_library

    built = build_library(language, force=force_build)
    return NativeKernels(language, built, load_library(built.path))


def load_library(path: Path) -> ctypes.CDLL:
    """Load the shared library at ``path`` and declare its kernel signatures.

    A library is loaded once per process and path.

    Raises
    ------
    NativeBuildError
        If the file cannot be loaded or lacks one of the kernel symbols.
    """
    path = Path(path).resolve()
    if path in _LOADED:
        return _LOADED[path]
    try:
        lib = ctypes.CDLL(str(path))
        _declare(lib)
    except (OSError, AttributeError) as exc:
        raise NativeBuildError(f"cannot load native kernels from {path}: {exc}") from exc
    _LOADED[path] = lib
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    i64, f64 = ctypes.c_int64, ctypes.c_double
    lib.wx_saturation_vapour_pressure.argtypes = [DoubleArray, DoubleArray, i64]
    lib.wx_saturation_vapour_pressure.restype = None
    lib.wx_dot.argtypes = [DoubleArray, DoubleArray, i64]
    lib.wx_dot.restype = f64
    lib.wx_axpy.argtypes = [f64, DoubleArray, DoubleArray, i64]
    lib.wx_axpy.restype = None
    lib.wx_advect_diffuse.argtypes = [DoubleArray, DoubleArray, i64, f64, f64, i64]
    lib.wx_advect_diffuse.restype = None


def as_vector(name: str, values: ArrayLike) -> np.ndarray:
    """``values`` as a 1-D, C-contiguous float64 array (no copy when it already is one).

    Raises
    ------
    ValueError
        If ``values`` is not one-dimensional or not convertible to float64.
    """
    try:
        array = np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be convertible to a float64 array: {exc}") from exc
    if array.ndim != 1:
        raise ConfigError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def check_same_length(**arrays: np.ndarray) -> None:
    """Raise ``ValueError`` unless all ``arrays`` have the same length."""
    lengths = {name: array.size for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"len({name}) = {size}" for name, size in lengths.items())
        raise ConfigError(f"arrays must have the same length, got {listed}")


def check_advection(courant: float, diffusion: float, steps: int) -> tuple[float, float, int]:
    """Validate the advection-diffusion parameters; return them as ``(float, float, int)``.

    Raises
    ------
    ValueError
        If ``courant`` is outside [0, 1], ``diffusion`` is negative, the step is
        unstable (``courant + 2 diffusion > 1``) or ``steps`` is negative.
    """
    courant, diffusion = float(courant), float(diffusion)
    if not 0.0 <= courant <= 1.0:
        raise ConfigError(f"courant must lie in [0, 1], got {courant}")
    if diffusion < 0.0:
        raise ConfigError(f"diffusion must be >= 0, got {diffusion}")
    if courant + 2.0 * diffusion > 1.0:
        raise ConfigError(
            f"unstable step: courant + 2 * diffusion = {courant + 2 * diffusion:.3g} > 1; "
            "reduce the time step"
        )
    if int(steps) != steps or steps < 0:
        raise ConfigError(f"steps must be a non-negative integer, got {steps}")
    return courant, diffusion, int(steps)
