"""Reference implementations of the native kernels: vectorised NumPy and plain Python.

:class:`NumpyKernels` is the oracle the compiled kernels are checked against; it
evaluates the same formulas in the same operation order. :class:`PythonKernels`
runs the same loops as the Fortran and C++ code, one element at a time in the
interpreter, to show what compiling a loop buys. Both satisfy the
:class:`wxai.core.native.kernels.Kernels` Protocol; see
:class:`wxai.core.native.kernels.NativeKernels` for the meaning and units of each kernel.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from wxai.core.native.kernels import as_vector, check_advection, check_same_length

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

#: Magnus coefficients over water (Sonntag 1990): hPa, dimensionless, degC.
MAGNUS_A, MAGNUS_B, MAGNUS_C = 6.112, 17.62, 243.12


class NumpyKernels:
    """The kernels as vectorised NumPy expressions."""

    name = "numpy"

    def saturation_vapour_pressure(self, t_celsius: ArrayLike) -> np.ndarray:
        """Saturation vapour pressure [hPa], shape ``(n,)``, of temperatures [degC]."""
        t = as_vector("t_celsius", t_celsius)
        return MAGNUS_A * np.exp(MAGNUS_B * t / (MAGNUS_C + t))

    def dot(self, x: ArrayLike, y: ArrayLike) -> float:
        """Inner product of two vectors of equal length (``numpy.dot``)."""
        xv, yv = as_vector("x", x), as_vector("y", y)
        check_same_length(x=xv, y=yv)
        return float(np.dot(xv, yv))

    def axpy(self, a: float, x: ArrayLike, y: ArrayLike) -> np.ndarray:
        """``a x + y`` as a new array of shape ``(n,)``."""
        xv, yv = as_vector("x", x), as_vector("y", y)
        check_same_length(x=xv, y=yv)
        return float(a) * xv + yv

    def advect_diffuse(
        self, u: ArrayLike, courant: float, diffusion: float, steps: int = 1
    ) -> np.ndarray:
        """``steps`` periodic upwind-advection plus diffusion steps of ``u``, shape ``(n,)``."""
        out = as_vector("u", u).copy()
        courant, diffusion, steps = check_advection(courant, diffusion, steps)
        for _ in range(steps):
            left, right = np.roll(out, 1), np.roll(out, -1)
            out = out - courant * (out - left) + diffusion * (right - 2.0 * out + left)
        return out


class PythonKernels:
    """The kernels as element-by-element loops in the Python interpreter."""

    name = "python"

    def saturation_vapour_pressure(self, t_celsius: ArrayLike) -> np.ndarray:
        """Saturation vapour pressure [hPa], shape ``(n,)``, of temperatures [degC]."""
        t = as_vector("t_celsius", t_celsius).tolist()
        es = [MAGNUS_A * math.exp(MAGNUS_B * ti / (MAGNUS_C + ti)) for ti in t]
        return np.asarray(es, dtype=np.float64)

    def dot(self, x: ArrayLike, y: ArrayLike) -> float:
        """Inner product accumulated in index order."""
        xv, yv = as_vector("x", x), as_vector("y", y)
        check_same_length(x=xv, y=yv)
        total = 0.0
        for xi, yi in zip(xv.tolist(), yv.tolist(), strict=True):
            total += xi * yi
        return total

    def axpy(self, a: float, x: ArrayLike, y: ArrayLike) -> np.ndarray:
        """``a x + y`` as a new array of shape ``(n,)``."""
        xv, yv = as_vector("x", x), as_vector("y", y)
        check_same_length(x=xv, y=yv)
        a = float(a)
        out = [a * xi + yi for xi, yi in zip(xv.tolist(), yv.tolist(), strict=True)]
        return np.asarray(out, dtype=np.float64)

    def advect_diffuse(
        self, u: ArrayLike, courant: float, diffusion: float, steps: int = 1
    ) -> np.ndarray:
        """``steps`` periodic upwind-advection plus diffusion steps of ``u``, shape ``(n,)``."""
        out = as_vector("u", u).tolist()
        courant, diffusion, steps = check_advection(courant, diffusion, steps)
        n = len(out)
        for _ in range(steps):
            work = out[:]
            for i in range(n):
                left, right = work[i - 1], work[(i + 1) % n]
                out[i] = (
                    work[i]
                    - courant * (work[i] - left)
                    + diffusion * (right - 2.0 * work[i] + left)
                )
        return np.asarray(out, dtype=np.float64)
