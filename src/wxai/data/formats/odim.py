"""ODIM_H5 radar composites (OPERA): read into xarray with masks and georeference; write.

Decoding: ``value = raw * gain + offset`` from ``datasetN/dataM/what``; raw
``nodata`` (outside the radar coverage) becomes NaN; raw ``undetect`` (inside
coverage, no echo) becomes NaN or a chosen floor value, and both are kept as
boolean masks.

Georeference: pyproj is not a wxai dependency, so longitudes and latitudes are
interpolated bilinearly between the four corner coordinates of the ``where``
group (``LL/UL/UR/LR_lon/lat``, taken as the outer corners of the corner
pixels) at pixel centres. For the usual composite projections (polar
stereographic, LAEA) over a national domain this is accurate to a few pixels,
not to the exact projection; ``projdef`` is kept in the attributes for exact
work with a projection library.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from wxai.core.errors import DataFormatError, UnknownNameError
from wxai.data.formats._common import atomic_path, existing_file, too_large
from wxai.vocab import from_source

__all__ = ["CORNERS", "bilinear_lonlat", "read_odim", "write_odim"]

CORNERS = ("LL", "UL", "UR", "LR")
_UNITS = {"DBZH": "dBZ", "TH": "dBZ", "DBZV": "dBZ", "ACRR": "mm", "RATE": "mm h-1"}


def _text(value: Any) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode(errors="replace").rstrip("\x00")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def bilinear_lonlat(
    corners: dict[str, tuple[float, float]], xsize: int, ysize: int
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of pixel centres, interpolated from the four corners.

    Parameters
    ----------
    corners:
        ``{"LL": (lon, lat), "UL": ..., "UR": ..., "LR": ...}`` [degrees], the
        outer corners of the image; row 0 is the upper (northern) edge.
    xsize, ysize:
        Number of columns and rows.

    Returns
    -------
    lon, lat : np.ndarray, shape (ysize, xsize), degrees
    """
    s = (np.arange(xsize) + 0.5) / xsize  # 0 at the left edge, 1 at the right
    t = (np.arange(ysize) + 0.5) / ysize  # 0 at the upper edge, 1 at the lower
    ss, tt = np.meshgrid(s, t)
    out = []
    for k in (0, 1):
        ul, ur = corners["UL"][k], corners["UR"][k]
        ll, lr = corners["LL"][k], corners["LR"][k]
        top = ul + (ur - ul) * ss
        bottom = ll + (lr - ll) * ss
        out.append(top + (bottom - top) * tt)
    return out[0], out[1]


def read_odim(
    path: str | os.PathLike,
    *,
    dataset: int = 1,
    data: int = 1,
    undetect_value: float | None = None,
) -> xr.DataArray:
    """Read one field of an ODIM_H5 file (e.g. a reflectivity composite).

    Parameters
    ----------
    path:
        ODIM_H5 file (HDF5, root attribute ``Conventions`` = ``ODIM_H5/...``).
    dataset, data:
        Which ``datasetN/dataM`` group to read.
    undetect_value:
        Value for "undetect" pixels (no echo), e.g. -32.5 dBZ; None gives NaN.

    Returns
    -------
    xr.DataArray, dims (y, x)
        Physical values (dBZ for DBZH/TH, mm for ACRR). Coordinates: ``x``,
        ``y`` [m] (pixel centres from the lower-left corner, in the projection
        plane), ``lon``/``lat`` (y, x) [degrees], ``time``, and the boolean
        masks ``nodata_mask`` and ``undetect_mask``. Attributes: quantity,
        units, source, product, projdef, gain, offset, nodata, undetect.
        Named with the canonical variable name where one exists (``dbz``).

    Raises
    ------
    DataFormatError
        For a truncated or non-HDF5 file, or missing ODIM groups/attributes.
    DataTooLargeError
        A :class:`MemoryError` naming the file, when the field does not fit in memory.
    """
    import h5py

    p = existing_file(path)
    try:
        with h5py.File(p, "r") as h5:
            return _decode(h5, p, dataset, data, undetect_value)
    except DataFormatError:
        raise
    except MemoryError as exc:
        hint = "read_odim decodes one field (dataset, data) at a time; free memory and retry"
        raise too_large(p, exc, lazy_hint=hint) from exc
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataFormatError(
            f"{p}: not a readable ODIM_H5 file ({type(exc).__name__}: {exc})"
        ) from exc


def _decode(h5, p: Path, dataset: int, data: int, undetect_value: float | None) -> xr.DataArray:
    conventions = _text(h5.attrs.get("Conventions", b""))
    if not conventions.startswith("ODIM_H5"):
        raise DataFormatError(f"{p}: Conventions is {conventions!r}, not ODIM_H5")
    group = f"dataset{dataset}/data{data}"
    if group not in h5:
        found = sorted(k for k in h5 if k.startswith("dataset"))
        raise DataFormatError(f"{p}: no group {group!r} (datasets present: {found})")
    what = dict(h5["what"].attrs)
    dwhat = {**dict(h5[f"dataset{dataset}/what"].attrs), **dict(h5[f"{group}/what"].attrs)}
    where = dict(h5["where"].attrs)
    raw = h5[f"{group}/data"][()]
    gain, offset = float(dwhat.get("gain", 1.0)), float(dwhat.get("offset", 0.0))
    nodata, undetect = float(dwhat.get("nodata", np.nan)), float(dwhat.get("undetect", np.nan))
    quantity = _text(dwhat["quantity"])
    nodata_mask = raw == nodata
    undetect_mask = raw == undetect
    values = raw.astype(np.float64) * gain + offset
    values[nodata_mask] = np.nan
    values[undetect_mask] = np.nan if undetect_value is None else undetect_value
    ysize, xsize = raw.shape
    if "xsize" in where and (int(where["xsize"]), int(where["ysize"])) != (xsize, ysize):
        raise DataFormatError(f"{p}: where/xsize, ysize do not match the data shape {raw.shape}")
    corners = {c: (float(where[f"{c}_lon"]), float(where[f"{c}_lat"])) for c in CORNERS}
    lon, lat = bilinear_lonlat(corners, xsize, ysize)
    xscale, yscale = float(where.get("xscale", 1.0)), float(where.get("yscale", 1.0))
    date = _text(dwhat.get("startdate", what["date"]))
    time = _text(dwhat.get("starttime", what["time"]))
    stamp = np.datetime64(datetime.strptime(date + time, "%Y%m%d%H%M%S"), "ns")
    try:
        name = from_source("odim", quantity).name
    except UnknownNameError:
        name = quantity
    return xr.DataArray(
        values,
        dims=("y", "x"),
        name=name,
        coords={
            "x": ("x", (np.arange(xsize) + 0.5) * xscale, {"units": "m"}),
            "y": ("y", (ysize - np.arange(ysize) - 0.5) * yscale, {"units": "m"}),
            "lon": (("y", "x"), lon, {"units": "degrees_east", "standard_name": "longitude"}),
            "lat": (("y", "x"), lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "time": stamp,
            "nodata_mask": (("y", "x"), nodata_mask),
            "undetect_mask": (("y", "x"), undetect_mask),
        },
        attrs={
            "quantity": quantity,
            "units": _UNITS.get(quantity, ""),
            "source": _text(what.get("source", "")),
            "product": _text(dwhat.get("product", "")),
            "projdef": _text(where.get("projdef", "")),
            "gain": gain,
            "offset": offset,
            "nodata": nodata,
            "undetect": undetect,
            "lonlat_method": "bilinear interpolation of the four corners",
        },
    )


def write_odim(
    path: str | os.PathLike,
    values: np.ndarray,
    *,
    quantity: str,
    time: np.datetime64 | datetime,
    corners: dict[str, tuple[float, float]],
    projdef: str,
    xscale: float,
    yscale: float,
    gain: float = 0.5,
    offset: float = -32.0,
    nodata: int = 255,
    undetect: int = 0,
    undetect_mask: np.ndarray | None = None,
    source: str = "ORG:wxai",
    product: str = "COMP",
    dtype: str = "uint8",
    extra_attrs: dict[str, str] | None = None,
) -> Path:
    """Write a single-field ODIM_H5 composite (``dataset1/data1``) atomically.

    Parameters
    ----------
    path:
        Output ``.h5`` file.
    values:
        Physical values, shape (ysize, xsize), row 0 = northern edge; NaN is
        written as ``nodata``. Values are packed as
        ``raw = round((value - offset) / gain)`` and clipped to the codes
        between ``undetect`` and ``nodata``.
    quantity:
        ODIM quantity (``DBZH``, ``TH``, ``ACRR``, ...).
    time:
        Nominal time (UTC).
    corners:
        ``{"LL"|"UL"|"UR"|"LR": (lon, lat)}`` [degrees], outer image corners.
    projdef, xscale, yscale:
        PROJ string and pixel size [m].
    gain, offset, nodata, undetect, dtype:
        Packing (defaults: the OPERA 8-bit reflectivity convention).
    undetect_mask:
        Boolean (ysize, xsize): pixels written as ``undetect``.
    source, product:
        ``what/source`` and ``dataset1/what/product``.
    extra_attrs:
        Extra root ``how`` attributes (e.g. ``{"comment": "synthetic"}``).
    """
    import h5py

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise DataFormatError(f"ODIM values must be 2D (y, x), got shape {values.shape}")
    info = np.iinfo(dtype)
    low, high = sorted((undetect, nodata))
    raw = np.round((np.nan_to_num(values, nan=offset) - offset) / gain)
    raw = np.clip(raw, low + 1, high - 1).astype(dtype)
    if not (info.min <= low and high <= info.max):
        raise DataFormatError(f"nodata/undetect codes do not fit in {dtype}")
    raw[np.isnan(values)] = nodata
    if undetect_mask is not None:
        raw[np.asarray(undetect_mask, dtype=bool)] = undetect
    stamp = np.datetime64(time, "s").astype(datetime)
    date, hms = stamp.strftime("%Y%m%d"), stamp.strftime("%H%M%S")
    ysize, xsize = values.shape
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs["Conventions"] = np.bytes_("ODIM_H5/V2_4")
        _attrs(
            h5.create_group("what"),
            object="COMP",
            version="H5rad 2.4",
            date=date,
            time=hms,
            source=source,
        )
        where = {
            "projdef": projdef,
            "xsize": xsize,
            "ysize": ysize,
            "xscale": xscale,
            "yscale": yscale,
        }
        for c in CORNERS:
            where[f"{c}_lon"], where[f"{c}_lat"] = (float(v) for v in corners[c])
        _attrs(h5.create_group("where"), **where)
        _attrs(h5.create_group("how"), **(extra_attrs or {}))
        ds = h5.create_group("dataset1")
        _attrs(
            ds.create_group("what"),
            product=product,
            startdate=date,
            starttime=hms,
            enddate=date,
            endtime=hms,
        )
        d1 = ds.create_group("data1")
        d1.create_dataset("data", data=raw, compression="gzip", compression_opts=6)
        _attrs(
            d1.create_group("what"),
            quantity=quantity,
            gain=gain,
            offset=offset,
            nodata=float(nodata),
            undetect=float(undetect),
        )
    return Path(path)


def _attrs(group, **attrs: Any) -> None:
    for key, value in attrs.items():
        group.attrs[key] = np.bytes_(value) if isinstance(value, str) else value
