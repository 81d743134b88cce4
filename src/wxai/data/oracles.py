"""Independent readings of sample files, used as oracles for wxai's readers.

Each function reads a file with the low-level library of its format (ecCodes,
netCDF4, h5py) and none of wxai's decoding, so a lab or test can compare the
result of :func:`~wxai.data.formats.grib.read_grib`,
:func:`~wxai.data.obs.synop.read_synop`, :func:`~wxai.data.formats.odim.read_odim`
or :func:`~wxai.data.obs.feedback.read_feedback` with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "GribComparison",
    "GribMessage",
    "OdimRaw",
    "active_feedback_entries",
    "compare_grib_decoders",
    "eccodes_messages",
    "netcdf_valid_count",
    "odim_mismatches",
    "read_odim_raw",
]


@dataclass(frozen=True)
class GribMessage:
    """One GRIB message decoded by ecCodes directly.

    Attributes
    ----------
    keys
        ``shortName``, ``step`` [h] and ``paramId``.
    values
        Decoded values, shape (n_points,), float64 in the message's units.
    packing_step
        Smallest spacing between distinct decoded values (the packing precision);
        0 for a constant field.
    """

    keys: dict[str, Any]
    values: np.ndarray
    packing_step: float


def eccodes_messages(path: str | Path) -> list[GribMessage]:
    """Every message of a GRIB file, decoded with ``codes_get_values``."""
    import eccodes as ec

    out = []
    with Path(path).open("rb") as f:
        while (h := ec.codes_grib_new_from_file(f)) is not None:
            try:
                keys = {k: ec.codes_get(h, k) for k in ("shortName", "step", "paramId")}
                values = ec.codes_get_values(h)
            finally:
                ec.codes_release(h)
            steps = np.diff(np.unique(values))
            out.append(GribMessage(keys, values, float(steps.min()) if steps.size else 0.0))
    return out


@dataclass(frozen=True)
class GribComparison:
    """:func:`~wxai.data.formats.grib.read_grib_dataset` against ecCodes, per message.

    Attributes
    ----------
    max_abs_diff
        Largest ``|read_grib - ecCodes|`` with ecCodes cast to the dtype of
        read_grib (float32), in the units of each message.
    max_abs_diff_float64
        The same with read_grib's values cast to float64.
    packing_steps
        ``(shortName, packing step)`` of every message, in file order.
    """

    max_abs_diff: float
    max_abs_diff_float64: float
    packing_steps: list[tuple[str, float]]

    @property
    def finest_packing_step(self) -> float:
        """Smallest positive packing step of any message (0 if all fields are constant)."""
        return min((p for _, p in self.packing_steps if p > 0), default=0.0)

    def packing_step(self, short_name: str) -> float:
        """Coarsest packing step of the messages of ``short_name``."""
        return max(p for name, p in self.packing_steps if name == short_name)


def compare_grib_decoders(path: str | Path) -> GribComparison:
    """Decode every message with read_grib_dataset (one shortName at a time) and ecCodes."""
    from wxai.data.formats.grib import read_grib_dataset

    direct = eccodes_messages(path)
    names = sorted({m.keys["shortName"] for m in direct})
    datasets = {sn: read_grib_dataset(path, filter_by_keys={"shortName": sn}) for sn in names}
    worst, worst_64 = 0.0, 0.0
    for message in direct:
        da = next(iter(datasets[message.keys["shortName"]].data_vars.values()))
        if "lead_time" in da.dims:
            da = da.sel(lead_time=np.timedelta64(int(message.keys["step"]), "h"))
        ours = np.asarray(da.values).ravel()
        worst = max(worst, float(np.max(np.abs(ours - message.values.astype(ours.dtype)))))
        worst_64 = max(worst_64, float(np.max(np.abs(ours.astype(float) - message.values))))
    steps = [(m.keys["shortName"], m.packing_step) for m in direct]
    return GribComparison(worst, worst_64, steps)


def netcdf_valid_count(path: str | Path, variable: str) -> tuple[int, int]:
    """(non-missing, total) values of ``variable`` counted by netCDF4's own masking."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        data = np.ma.masked_invalid(nc[variable][:])
        return int(data.count()), int(data.size)


def active_feedback_entries(path: str | Path, obstype: int) -> int:
    """Active body entries of one observation type, from the raw i_body/l_body/state arrays.

    The index base (0 or 1) of ``i_body`` is taken as 1 when every report then
    fits into the body, else 0. Active states are
    :data:`wxai.data.obs.feedback.ACTIVE_STATES`.
    """
    import netCDF4

    from wxai.data.obs.feedback import ACTIVE_STATES

    with netCDF4.Dataset(path) as nc:
        kinds = np.asarray(nc["obstype"][:])
        start, length = np.asarray(nc["i_body"][:]), np.asarray(nc["l_body"][:])
        state = np.asarray(nc["state"][:])
    base = 1 if start.min() >= 1 and (start - 1 + length).max() <= state.size else 0
    total = 0
    for h in np.flatnonzero(kinds == obstype):
        rows = state[start[h] - base : start[h] - base + length[h]]
        total += int(np.isin(rows, ACTIVE_STATES).sum())
    return total


@dataclass(frozen=True)
class OdimRaw:
    """The first dataset of an ODIM_H5 file as stored, and its physical values.

    Attributes
    ----------
    raw
        Stored integers, shape (ny, nx).
    gain, offset
        ``physical = raw * gain + offset`` (dBZ for reflectivity).
    nodata, undetect
        Masks of the two flag values, shape (ny, nx).
    """

    raw: np.ndarray
    gain: float
    offset: float
    nodata: np.ndarray
    undetect: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """Pixels that are neither nodata nor undetect."""
        return ~(self.nodata | self.undetect)

    @property
    def physical(self) -> np.ndarray:
        """``raw * gain + offset`` everywhere, flags included."""
        return self.raw * self.gain + self.offset


def read_odim_raw(path: str | Path) -> OdimRaw:
    """``dataset1/data1`` of an ODIM_H5 file read with h5py."""
    import h5py

    with h5py.File(path, "r") as h5:
        raw = h5["dataset1/data1/data"][()]
        what = dict(h5["dataset1/data1/what"].attrs)
    return OdimRaw(
        raw=raw,
        gain=float(what["gain"]),
        offset=float(what["offset"]),
        nodata=raw == float(what["nodata"]),
        undetect=raw == float(what["undetect"]),
    )


def odim_mismatches(decoded: xr.DataArray, raw: OdimRaw) -> int:
    """Pixels where a decoded ODIM field disagrees with the raw file.

    Counts mask disagreements (``nodata_mask``, ``undetect_mask`` coordinates of
    ``decoded``), valid values off ``raw * gain + offset`` by more than
    ``1e-6 gain``, and finite values on flagged pixels.
    """
    values = decoded.values
    valid = raw.valid
    count = int((decoded["nodata_mask"].values != raw.nodata).sum())
    count += int((decoded["undetect_mask"].values != raw.undetect).sum())
    count += int((np.abs(values[valid] - raw.physical[valid]) > 1e-6 * raw.gain).sum())
    return count + int(np.isfinite(values[~valid]).sum())
