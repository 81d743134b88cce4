"""Native compute kernels: Fortran (ISO_C_BINDING) and C++ (``extern "C"``) via ctypes.

The kernel sources ship in ``kernels/``. :mod:`wxai.core.native.build` compiles them
into cached shared libraries under the wxai home, :mod:`wxai.core.native.kernels`
loads them with :mod:`ctypes` behind checked Python wrappers, and
:mod:`wxai.core.native.reference` holds the NumPy and pure-Python versions they are
compared with. Importing this package compiles and loads nothing.

Example
-------
>>> from wxai.core.native.kernels import load_kernels
>>> fortran = load_kernels("fortran")  # doctest: +SKIP
>>> fortran.saturation_vapour_pressure([0.0, 20.0])  # doctest: +SKIP
array([ 6.112     , 23.37...])
"""
