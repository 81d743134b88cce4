"""DWD feedback files (fdbk NetCDF): reading, O-B / O-A statistics and QC.

A feedback file pairs observations with their model equivalents. It has two
layers:

* the header (report) layer, dimension ``d_hdr``: one entry per report with
  ``i_body``, ``l_body``, ``obstype``, ``codetype``, ``lat``, ``lon``, ``time``
  (minutes relative to the global attributes ``verification_ref_date``
  ``YYYYMMDD`` and ``verification_ref_time`` ``HHMM``), ``statid``, ``r_state``...
* the body layer, dimension ``d_body``: one entry per observed value with
  ``varno``, ``level``, ``obs``, ``bcor``, ``e_o``, ``state``, ``flags``,
  ``check`` and ``veri_data(d_veri, d_body)``, the model equivalents H(x) of the
  runs described by ``veri_run_type``, ``veri_forecast_time``,
  ``veri_ens_member``, ``veri_model``... on dimension ``d_veri``.

Conventions chosen here
-----------------------
``i_body`` base
    DWD writes ``i_body`` 1-based (Fortran): the first report starts at 1. Some
    converters write 0-based indices. ``index_base="auto"`` uses 0 when the
    smallest ``i_body`` of the non-empty reports is 0 and 1 otherwise (a 0-based
    body with unused leading entries is ambiguous: pass ``index_base=0``), then checks
    that every report's body slice lies inside ``d_body`` and that no two
    reports share a body entry (:class:`DataFormatError` otherwise). Pass
    ``index_base=0`` or ``1`` to override.
Verification runs (:func:`veri_index`)
    First guess: ``veri_run_type == 1`` (VT_FIRSTGUESS). Analysis: run type 3
    (VT_ANALYSIS), else 4 (initialised analysis), else 2 (preliminary analysis).
    Among several candidates the deterministic run (``veri_ens_member == -1``)
    wins, then the ensemble mean (0), then the lowest index; for the first
    guess a positive ``veri_forecast_time`` is preferred over 0.
Departures
    ``omb = obs - veri_data[fg]`` and ``oma = obs - veri_data[an]``; ``obs`` is
    taken as stored (``bcor`` is carried along but not applied).
QC
    Active (used) observations are those with body ``state`` in
    :data:`ACTIVE_STATES` = {0 ACCEPTED, 1 ACTIVE}; :data:`STATES` names all.
Statistics
    count, mean, std (population, ddof=0) and rms = sqrt(mean(d**2)) of the
    departures, NaN departures excluded.

Tables (:data:`VARNO`, :data:`OBSTYPES`, :data:`RUN_TYPES`, :data:`ENS_MEMBERS`)
follow the DWD/COSMO feedback-file tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import netCDF4
import numpy as np
import pandas as pd
import xarray as xr

from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError
from wxai.data.obs._netcdf import missing_mask, open_netcdf, read_float, read_strings, units_of

__all__ = [
    "ACTIVE_STATES",
    "ENS_MEMBERS",
    "OBSTYPES",
    "RUN_TYPES",
    "STATES",
    "VARNO",
    "add_departures",
    "expand_body_index",
    "filter_active",
    "infer_index_base",
    "innovation_statistics",
    "read_feedback",
    "veri_index",
]

#: varno -> (mnemonic, units, description); DWD feedback-file variable numbers.
VARNO: dict[int, tuple[str, str, str]] = {
    1: ("Z", "m2 s-2", "geopotential"),
    2: ("T", "K", "upper-air temperature"),
    3: ("U", "m s-1", "u-component of wind"),
    4: ("V", "m s-1", "v-component of wind"),
    7: ("Q", "kg kg-1", "specific humidity"),
    8: ("W", "m s-1", "vertical velocity"),
    11: ("TS", "K", "surface temperature"),
    29: ("RH", "1", "relative humidity (0..1)"),
    39: ("T2M", "K", "2 m temperature"),
    40: ("TD2M", "K", "2 m dew point"),
    41: ("U10M", "m s-1", "10 m u-component of wind"),
    42: ("V10M", "m s-1", "10 m v-component of wind"),
    58: ("RH2M", "1", "2 m relative humidity (0..1)"),
    59: ("TD", "K", "upper-air dew point"),
    80: ("RR", "kg m-2", "precipitation amount"),
    91: ("N", "octa", "total cloud amount"),
    110: ("PS", "Pa", "surface pressure"),
    111: ("DD", "degree", "wind direction"),
    112: ("FF", "m s-1", "wind speed"),
    119: ("RAWBT", "K", "brightness temperature"),
    156: ("HEIGHT", "m", "height"),
    157: ("FLEV", "m", "nominal flight level"),
    162: ("BENDANG", "rad", "radio-occultation bending angle"),
    242: ("GUST", "m s-1", "wind gust"),
    251: ("P", "Pa", "pressure"),
}

#: obstype -> name.
OBSTYPES: dict[int, str] = {
    1: "SYNOP",
    2: "AIREP",
    3: "SATOB",
    4: "DRIBU",
    5: "TEMP",
    6: "PILOT",
    7: "SATEM",
    8: "PAOB",
    9: "SCATT",
    10: "RAD",
    11: "GPSRO",
    12: "GPSGB",
    13: "RADAR",
    14: "POWER",
    15: "SOIL",
    16: "OBJECT",
    17: "LIGHTN",
    18: "WLIDAR",
    19: "MWR",
}

#: body/report ``state`` -> name.
STATES: dict[int, str] = {
    0: "accepted",
    1: "active",
    3: "merged",
    5: "passive",
    7: "rejected",
    9: "passive_rejected",
    11: "obs_only",
    13: "dismissed",
}
#: States of observations used by the assimilation.
ACTIVE_STATES: tuple[int, ...] = (0, 1)

#: ``veri_run_type`` -> name.
RUN_TYPES: dict[int, str] = {
    0: "forecast",
    1: "first_guess",
    2: "preliminary_analysis",
    3: "analysis",
    4: "initialised_analysis",
    5: "linear_analysis",
    6: "forecast_sensitivity",
}
#: ``veri_ens_member`` special values -> name (positive values are member numbers).
ENS_MEMBERS: dict[int, str] = {
    0: "ensemble_mean",
    -1: "deterministic",
    -2: "ensemble_spread",
    -3: "background_error",
    -4: "talagrand_index",
    -5: "vqc_weight",
    -6: "member",
    -7: "ensemble_mean_obs_space",
    -8: "bias_correction",
}

_FIRST_GUESS_TYPES = (1,)
_ANALYSIS_TYPES = (3, 4, 2)


# ---------------------------------------------------------------------------
# index expansion


def infer_index_base(i_body: np.ndarray, l_body: np.ndarray, n_body: int) -> int:
    """Guess whether ``i_body`` is 0- or 1-based (see the module docstring).

    Parameters
    ----------
    i_body, l_body:
        Start index and length of each report's body slice, shape (n_reports,).
    n_body:
        Length of the body layer.
    """
    i_body = np.asarray(i_body, dtype=np.int64)
    used = np.asarray(l_body) > 0
    if not used.any():
        return 1
    return 0 if i_body[used].min() == 0 else 1


def expand_body_index(
    i_body: np.ndarray,
    l_body: np.ndarray,
    n_body: int,
    index_base: Literal["auto", 0, 1] = "auto",
) -> tuple[np.ndarray, np.ndarray, int]:
    """Map every body entry of every report to its report, without a Python loop.

    Parameters
    ----------
    i_body:
        Start index of each report's body slice, shape (n_reports,).
    l_body:
        Number of body entries of each report, shape (n_reports,).
    n_body:
        Length of the body layer.
    index_base:
        0, 1 or ``"auto"`` (:func:`infer_index_base`).

    Returns
    -------
    report, body, base:
        ``report[k]`` is the report of the k-th expanded entry and ``body[k]`` its
        0-based body index, both shape (sum(l_body),), reports in order; ``base`` is
        the index base used.

    Raises
    ------
    DataFormatError
        A slice leaves ``[0, n_body)``, lengths are negative or slices overlap.
    """
    i_body = np.asarray(i_body, dtype=np.int64).ravel()
    l_body = np.asarray(l_body, dtype=np.int64).ravel()
    if i_body.shape != l_body.shape:
        raise DataFormatError(f"i_body {i_body.shape} and l_body {l_body.shape} differ in shape")
    if (l_body < 0).any():
        raise DataFormatError("l_body has negative lengths")
    base = infer_index_base(i_body, l_body, n_body) if index_base == "auto" else int(index_base)
    if base not in (0, 1):
        raise DataFormatError(f"index_base must be 0, 1 or 'auto', not {index_base!r}")
    start = i_body - base
    used = l_body > 0
    if used.any() and ((start[used] < 0).any() or (start + l_body)[used].max() > n_body):
        raise DataFormatError(
            f"i_body/l_body (index base {base}) point outside the body layer of length "
            f"{n_body}; try index_base={1 - base}"
        )
    total = int(l_body.sum())
    report = np.repeat(np.arange(i_body.size), l_body)
    offset = np.arange(total) - np.repeat(np.cumsum(l_body) - l_body, l_body)
    body = np.repeat(start, l_body) + offset
    if total and np.bincount(body, minlength=n_body).max() > 1:
        raise DataFormatError("reports share body entries (overlapping i_body/l_body slices)")
    return report, body, base


# ---------------------------------------------------------------------------
# reading


def _read_numeric(var: netCDF4.Variable) -> np.ndarray:
    raw = np.asarray(var[...])
    if raw.dtype.kind in "iu" and not missing_mask(var, raw).any():
        return raw.astype(np.int64)
    return read_float(var)


def _is_char(var: netCDF4.Variable) -> bool:
    return var.dtype is str or np.dtype(var.dtype).kind in "SU"


def _reference_time(nc: netCDF4.Dataset) -> np.datetime64 | None:
    attrs = set(nc.ncattrs())
    if "verification_ref_date" not in attrs:
        return None
    date = int(nc.getncattr("verification_ref_date"))
    hhmm = int(nc.getncattr("verification_ref_time")) if "verification_ref_time" in attrs else 0
    text = f"{date // 10000:04d}-{date // 100 % 100:02d}-{date % 100:02d}"
    ref = np.datetime64(text, "m") + np.timedelta64(hhmm // 100 * 60 + hhmm % 100, "m")
    return ref.astype("datetime64[ns]")


def read_feedback(path: str | Path, index_base: Literal["auto", 0, 1] = "auto") -> xr.Dataset:
    """Read a feedback file into a tidy body-level dataset.

    Parameters
    ----------
    path:
        fdbk NetCDF file.
    index_base:
        Base of ``i_body`` (see the module docstring).

    Returns
    -------
    xarray.Dataset
        Dimension ``body`` (entries covered by some report, in report order) and
        ``veri`` (n_veri). Body variables keep their names (``varno``, ``level``,
        ``obs``, ``bcor``, ``state``, ``flags``, ``check``, ...); every header
        variable on ``d_hdr`` is repeated onto its body entries (``obstype``,
        ``codetype``, ``lat``, ``lon``, ``statid``, ``r_state``, ...; a name clash
        with the body gets the prefix ``hdr_``). ``report`` is the 0-based header
        index, ``body_index`` the 0-based position in the file's body layer.
        ``time`` is datetime64[ns] when the reference date is known, with
        ``time_offset`` (minutes) alongside. ``veri_data`` has dims
        (``veri``, ``body``) and the ``veri_*`` descriptors are coordinates on
        ``veri``. Attrs: global attributes plus ``index_base``, ``n_hdr``,
        ``n_body_file``.

    Raises
    ------
    DataFormatError
        Corrupt or truncated file, missing ``i_body``/``l_body``/``obs``,
        inconsistent indices.
    """
    path = Path(path)
    with open_netcdf(path, "feedback") as nc:
        for name in ("i_body", "l_body", "obs"):
            if name not in nc.variables:
                raise DataFormatError(
                    f"feedback file {path} has no variable {name!r}; found: "
                    f"{', '.join(sorted(nc.variables))}. Is it a DWD fdbk file?"
                )
        hdr_dim = nc.variables["i_body"].dimensions[0]
        body_dim = nc.variables["obs"].dimensions[0]
        n_body = len(nc.dimensions[body_dim])
        i_body = np.asarray(nc.variables["i_body"][...], dtype=np.int64)
        l_body = np.asarray(nc.variables["l_body"][...], dtype=np.int64)
        report, body, base = expand_body_index(i_body, l_body, n_body, index_base)

        data: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = {}
        coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = {}
        veri_dim = None
        if "veri_data" in nc.variables:
            veri_dim = nc.variables["veri_data"].dimensions[0]
        for name, var in nc.variables.items():
            dims = var.dimensions
            attrs = {"units": units_of(var)} if units_of(var) else {}
            if name == "veri_data":
                values = read_float(var)[:, body]
                data[name] = (("veri", "body"), values, attrs)
            elif dims and dims[0] == body_dim and (len(dims) == 1 or _is_char(var)):
                values = read_strings(var) if _is_char(var) else _read_numeric(var)
                data[name] = (("body",), values[body], attrs)
            elif dims and dims[0] == veri_dim and veri_dim is not None:
                values = read_strings(var) if _is_char(var) else _read_numeric(var)
                coords[name] = (("veri",), values, attrs)
        for name, var in nc.variables.items():
            dims = var.dimensions
            if not dims or dims[0] != hdr_dim or (len(dims) > 1 and not _is_char(var)):
                continue
            values = read_strings(var) if _is_char(var) else _read_numeric(var)
            attrs = {"units": units_of(var)} if units_of(var) else {}
            target = f"hdr_{name}" if name in data else name
            data[target] = (("body",), values[report], attrs)
        ref = _reference_time(nc)
        global_attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}

    data["report"] = (("body",), report, {"long_name": "0-based header (report) index"})
    data["body_index"] = (("body",), body, {"long_name": "0-based index in the body layer"})
    if "time" in data and ref is not None:
        _, minutes, _ = data.pop("time")
        data["time_offset"] = (("body",), minutes, {"units": "min"})
        valid = ~np.isnan(np.asarray(minutes, dtype=float))
        times = np.full(minutes.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
        times[valid] = ref + (np.asarray(minutes)[valid] * 60e9).astype("timedelta64[ns]")
        data["time"] = (("body",), times, {"long_name": "observation time"})
    ds = xr.Dataset(data_vars=data, coords=coords)
    ds.attrs = {
        **{k: v for k, v in global_attrs.items() if np.ndim(v) == 0},
        "source_file": str(path),
        "index_base": base,
        "n_hdr": int(i_body.size),
        "n_body_file": int(n_body),
    }
    return ds


# ---------------------------------------------------------------------------
# verification runs, departures, statistics, QC


def _pick(candidates: np.ndarray, members: np.ndarray, fc_time: np.ndarray, fg: bool) -> int:
    order = sorted(
        candidates.tolist(),
        key=lambda i: (
            {-1: 0, 0: 1}.get(int(members[i]), 2),
            0 if not fg or fc_time[i] > 0 else 1,
            i,
        ),
    )
    return int(order[0])


def veri_index(ds: xr.Dataset, kind: Literal["first_guess", "analysis"]) -> int:
    """Index along ``veri`` of the first guess or the analysis (rule in the module doc).

    Raises
    ------
    UnknownNameError
        ``kind`` is not ``"first_guess"`` or ``"analysis"``.
    DataFormatError
        No ``veri_data`` or no run of the requested kind.
    """
    if kind not in ("first_guess", "analysis"):
        raise UnknownNameError("verification kind", kind, ["first_guess", "analysis"])
    if "veri_data" not in ds or "veri_run_type" not in ds.coords:
        raise DataFormatError("feedback data has no veri_data/veri_run_type")
    run_type = np.asarray(ds["veri_run_type"].values)
    n = run_type.size
    members = (
        np.asarray(ds["veri_ens_member"].values) if "veri_ens_member" in ds else np.full(n, -1)
    )
    fc_time = (
        np.asarray(ds["veri_forecast_time"].values) if "veri_forecast_time" in ds else np.zeros(n)
    )
    wanted = _FIRST_GUESS_TYPES if kind == "first_guess" else _ANALYSIS_TYPES
    for rt in wanted:
        candidates = np.flatnonzero(run_type == rt)
        if candidates.size:
            return _pick(candidates, members, fc_time, kind == "first_guess")
    available = ", ".join(
        f"{i}: {RUN_TYPES.get(int(r), r)}/member {int(m)}"
        for i, (r, m) in enumerate(zip(run_type, members, strict=True))
    )
    raise DataFormatError(f"no {kind} run in veri_data; available runs: {available}")


def add_departures(
    ds: xr.Dataset, first_guess: int | None = None, analysis: int | None = None
) -> xr.Dataset:
    """Add ``omb`` (obs - first guess) and ``oma`` (obs - analysis) on ``body``.

    Indices default to :func:`veri_index`; a departure whose run is absent is
    left out (``oma`` when the file holds only a first guess).
    """
    out = ds.copy()
    obs = np.asarray(ds["obs"].values, dtype=float)
    for name, index, kind in (("omb", first_guess, "first_guess"), ("oma", analysis, "analysis")):
        try:
            idx = veri_index(ds, kind) if index is None else int(index)  # type: ignore[arg-type]
        except DataFormatError:
            if index is not None or name == "omb":
                raise
            continue
        veri = np.asarray(ds["veri_data"].values[idx], dtype=float)
        out[name] = ("body", obs - veri, {"long_name": f"observation minus {kind}"})
        out[name].attrs["veri_index"] = idx
    return out


def filter_active(
    ds: xr.Dataset, states: Sequence[int] = ACTIVE_STATES, report_state: bool = False
) -> xr.Dataset:
    """Keep body entries whose ``state`` is in ``states`` (default: used observations).

    With ``report_state=True`` the report's ``r_state`` must be in ``states`` too.
    """
    keep = np.isin(np.asarray(ds["state"].values), list(states))
    if report_state and "r_state" in ds:
        keep &= np.isin(np.asarray(ds["r_state"].values), list(states))
    return ds.isel(body=np.flatnonzero(keep))


def innovation_statistics(
    ds: xr.Dataset,
    by: Sequence[str] = ("obstype", "varno"),
    level_bins: Sequence[float] | np.ndarray | None = None,
    *,
    level: str = "level",
    departures: Sequence[str] = ("omb", "oma"),
    active_only: bool = True,
) -> xr.Dataset:
    """Count, mean, std and rms of departures grouped by ``by`` and level bins.

    Parameters
    ----------
    ds:
        Output of :func:`read_feedback`; departures are added when missing.
    by:
        Body variables to group by (dimensions of the result).
    level_bins:
        Increasing bin edges in the units of ``level`` (Pa for pressure levels);
        bins are ``[edge_i, edge_{i+1})``; entries outside all bins are dropped.
    departures:
        Departure variables to summarise (those present are used).
    active_only:
        Apply :func:`filter_active` first.

    Returns
    -------
    xarray.Dataset
        Dims ``by`` (+ ``level_bin``, coordinate: bin centre, with ``level_lower``
        and ``level_upper``). Variables ``{dep}_count`` (int), ``{dep}_mean``,
        ``{dep}_std`` (ddof=0) and ``{dep}_rms``; NaN where a group is empty.
    """
    if not any(d in ds for d in departures):
        ds = add_departures(ds)
    if active_only:
        ds = filter_active(ds)
    deps = [d for d in departures if d in ds]
    if not deps:
        raise DataFormatError(f"none of the departures {list(departures)} could be computed")
    frame = pd.DataFrame({key: np.asarray(ds[key].values) for key in by})
    keys = list(by)
    edges = None
    if level_bins is not None:
        edges = np.asarray(level_bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or (np.diff(edges) <= 0).any():
            raise ConfigError("level_bins must be at least two strictly increasing edges")
        lev = np.asarray(ds[level].values, dtype=float)
        frame["level_bin"] = np.searchsorted(edges, lev, side="right") - 1
        frame.loc[~((lev >= edges[0]) & (lev < edges[-1])), "level_bin"] = -1
        keys.append("level_bin")
    for d in deps:
        frame[d] = np.asarray(ds[d].values, dtype=float)
        frame[f"{d}_sq"] = frame[d] ** 2
    if edges is not None:
        frame = frame[frame["level_bin"] >= 0]
    grouped = frame.groupby(keys, sort=True)
    stats = {}
    for d in deps:
        stats[f"{d}_count"] = grouped[d].count()
        stats[f"{d}_mean"] = grouped[d].mean()
        stats[f"{d}_std"] = grouped[d].std(ddof=0)
        stats[f"{d}_rms"] = np.sqrt(grouped[f"{d}_sq"].mean())
    table = pd.DataFrame(stats)
    out = xr.Dataset.from_dataframe(table) if len(table) else xr.Dataset()
    if edges is not None:
        out = out.reindex(level_bin=np.arange(edges.size - 1))
        out = out.assign_coords(
            level_lower=("level_bin", edges[:-1]),
            level_upper=("level_bin", edges[1:]),
        ).assign_coords(level_bin=0.5 * (edges[:-1] + edges[1:]))
    for d in deps:
        if f"{d}_count" in out:
            out[f"{d}_count"] = out[f"{d}_count"].fillna(0).astype(np.int64)
    out.attrs = {"std_ddof": 0, "active_only": int(active_only)}
    return out
