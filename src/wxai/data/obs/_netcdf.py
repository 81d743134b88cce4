"""Small NetCDF helpers shared by the observation readers (private).

Missing values are turned into NaN from every indicator a BUFR-to-NetCDF
conversion may leave behind: ``_FillValue``, ``missing_value``, the NetCDF
default fill of the variable's type, ecCodes/BUFR missing integers and huge
float sentinels (``abs(x) >= 1e30``, which covers 9.96921e36 and -1e100).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import netCDF4
import numpy as np

from wxai.core.errors import DataFormatError
from wxai.data.formats import MissingFileError

#: Integer values used as "missing" by BUFR decoders (ecCodes, DWD tools).
BUFR_MISSING_INTS = (2147483647, -2147483647, -2147483648)
#: Floats whose magnitude reaches this are treated as missing.
HUGE_FLOAT = 1.0e30

_READ_ERRORS = (OSError, RuntimeError, ValueError, IndexError, KeyError, TypeError)


@contextmanager
def open_netcdf(path: str | Path, what: str) -> Iterator[netCDF4.Dataset]:
    """Open ``path`` read-only; a corrupt or truncated file raises DataFormatError.

    Errors raised while the ``with`` body reads data are converted as well.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{what} file not found: {path}; check the path")
    try:
        ds = netCDF4.Dataset(path, "r")
    except _READ_ERRORS as exc:
        raise DataFormatError(
            f"cannot open {what} file {path}: {exc}. The file is corrupt, truncated or not "
            "NetCDF; fetch it again."
        ) from exc
    try:
        ds.set_auto_maskandscale(False)
        yield ds
    except DataFormatError:
        raise
    except _READ_ERRORS as exc:
        raise DataFormatError(
            f"cannot read {what} file {path}: {exc}. The file is corrupt or truncated; "
            "fetch it again."
        ) from exc
    finally:
        ds.close()


def missing_mask(var: netCDF4.Variable, raw: np.ndarray) -> np.ndarray:
    """Boolean mask of missing entries of ``raw`` (data of ``var`` read unscaled)."""
    raw = np.asarray(raw)
    mask = np.zeros(raw.shape, dtype=bool)
    attrs = set(var.ncattrs())
    candidates: list[float] = []
    for name in ("_FillValue", "missing_value"):
        if name in attrs:
            candidates.extend(np.atleast_1d(var.getncattr(name)).tolist())
    key = raw.dtype.str[1:]
    if key in netCDF4.default_fillvals and "_FillValue" not in attrs:
        candidates.append(netCDF4.default_fillvals[key])
    if raw.dtype.kind in "iu":
        candidates.extend(BUFR_MISSING_INTS)
    for value in candidates:
        mask |= raw == value
    if raw.dtype.kind == "f":
        mask |= ~np.isfinite(raw) | (np.abs(raw) >= HUGE_FLOAT)
    return mask


def read_float(var: netCDF4.Variable) -> np.ndarray:
    """Variable as float64 with scale/offset applied and every missing indicator as NaN."""
    raw = np.asarray(var[...])
    mask = missing_mask(var, raw)
    out = raw.astype(np.float64)
    attrs = set(var.ncattrs())
    if "scale_factor" in attrs:
        out = out * float(var.getncattr("scale_factor"))
    if "add_offset" in attrs:
        out = out + float(var.getncattr("add_offset"))
    out[mask] = np.nan
    return out


def read_strings(var: netCDF4.Variable) -> np.ndarray:
    """Character variable (``(n, strlen)`` chars or vlen strings) as an array of str."""
    raw = var[...]
    if var.dtype is str or np.asarray(raw).dtype.kind in "OU":
        return np.asarray([str(s).strip() for s in np.asarray(raw).ravel()]).reshape(np.shape(raw))
    arr = np.asarray(raw)
    if arr.dtype.kind == "S" and arr.ndim >= 2:
        joined = netCDF4.chartostring(arr, encoding="latin-1")
        return np.char.strip(np.asarray(joined, dtype=str))
    if arr.dtype.kind == "S":
        return np.char.strip(np.char.decode(arr, "latin-1"))
    raise DataFormatError(f"variable {var.name!r} is not a character variable ({arr.dtype})")


def units_of(var: netCDF4.Variable) -> str:
    """The ``units`` attribute of ``var`` or ``""``."""
    return str(var.getncattr("units")) if "units" in var.ncattrs() else ""
