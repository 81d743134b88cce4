"""AIREP (aircraft) diagnostics: sampling density and innovation profiles.

Computations only; figures are drawn by :mod:`wxai.viz`. The functions take
plain arrays (or a feedback dataset through :func:`select_airep`), so they serve
AIREP/AMDAR/ACARS/MODE-S alike.

* :func:`density_by_height` - number of observations per vertical bin
  (pressure in Pa or height in m).
* :func:`innovation_profile` - count, mean and spread (std, ddof=0) of O-B per
  vertical bin.
* :func:`horizontal_density` - counts on a regular latitude/longitude grid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError
from wxai.data.obs.feedback import OBSTYPES, add_departures, filter_active

__all__ = [
    "AIREP_OBSTYPE",
    "density_by_height",
    "horizontal_density",
    "innovation_profile",
    "select_airep",
]

#: ``obstype`` of aircraft reports in feedback files.
AIREP_OBSTYPE = next(k for k, v in OBSTYPES.items() if v == "AIREP")


def _edges(bins: Sequence[float] | np.ndarray) -> np.ndarray:
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or (np.diff(edges) <= 0).any():
        raise ConfigError("bins must be at least two strictly increasing edges")
    return edges


def _bin_coords(edges: np.ndarray, units: str) -> dict[str, tuple[str, np.ndarray, dict]]:
    return {
        "level_bin": ("level_bin", 0.5 * (edges[:-1] + edges[1:]), {"units": units}),
        "level_lower": ("level_bin", edges[:-1], {"units": units}),
        "level_upper": ("level_bin", edges[1:], {"units": units}),
    }


def _bin_index(vertical: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value, ``[e_i, e_{i+1})`` with the last edge included; -1 outside."""
    idx = np.searchsorted(edges, vertical, side="right") - 1
    idx[vertical == edges[-1]] = edges.size - 2
    idx[~((vertical >= edges[0]) & (vertical <= edges[-1]))] = -1
    return idx


def density_by_height(
    vertical: np.ndarray, bins: Sequence[float] | np.ndarray, units: str = "Pa"
) -> xr.DataArray:
    """Number of observations per vertical bin.

    Parameters
    ----------
    vertical:
        Pressure (Pa) or height (m) of each observation, shape (n_obs,); NaN ignored.
    bins:
        Increasing bin edges, shape (n_bins + 1,); bins are ``[e_i, e_{i+1})``, the
        last one closed.
    units:
        Units of ``vertical`` (stored in the coordinates).

    Returns
    -------
    xarray.DataArray
        ``count`` (int64) on dim ``level_bin`` (bin centres) with ``level_lower``
        and ``level_upper``; attrs ``n_outside`` (values outside all bins or NaN).
    """
    edges = _edges(bins)
    vertical = np.asarray(vertical, dtype=float).ravel()
    idx = _bin_index(vertical, edges)
    counts = np.bincount(idx[idx >= 0], minlength=edges.size - 1)
    return xr.DataArray(
        counts.astype(np.int64),
        dims="level_bin",
        coords=_bin_coords(edges, units),
        name="count",
        attrs={"long_name": "number of observations", "n_outside": int((idx < 0).sum())},
    )


def innovation_profile(
    vertical: np.ndarray,
    innovation: np.ndarray,
    bins: Sequence[float] | np.ndarray,
    units: str = "Pa",
) -> xr.Dataset:
    """Count, mean and spread of innovations (O-B) per vertical bin.

    Parameters
    ----------
    vertical:
        Pressure (Pa) or height (m), shape (n_obs,).
    innovation:
        O-B departures, shape (n_obs,), in the units of the observed variable;
        NaN entries are ignored.
    bins:
        Increasing bin edges (see :func:`density_by_height`).

    Returns
    -------
    xarray.Dataset
        ``count`` (int64), ``mean``, ``std`` (ddof=0) and ``rms`` on ``level_bin``;
        NaN statistics where a bin is empty.
    """
    edges = _edges(bins)
    vertical = np.asarray(vertical, dtype=float).ravel()
    innovation = np.asarray(innovation, dtype=float).ravel()
    if vertical.shape != innovation.shape:
        raise ConfigError(f"vertical {vertical.shape} and innovation {innovation.shape} differ")
    idx = _bin_index(vertical, edges)
    ok = (idx >= 0) & np.isfinite(innovation)
    nb = edges.size - 1
    count = np.bincount(idx[ok], minlength=nb)
    total = np.bincount(idx[ok], weights=innovation[ok], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        dev = innovation[ok] - mean[idx[ok]]
        var = np.bincount(idx[ok], weights=dev**2, minlength=nb) / np.where(count > 0, count, 1)
        sq = np.bincount(idx[ok], weights=innovation[ok] ** 2, minlength=nb)
    std = np.where(count > 0, np.sqrt(var), np.nan)
    rms = np.where(count > 0, np.sqrt(sq / np.maximum(count, 1)), np.nan)
    return xr.Dataset(
        {
            "count": ("level_bin", count.astype(np.int64)),
            "mean": ("level_bin", mean, {"long_name": "mean O-B"}),
            "std": ("level_bin", std, {"long_name": "standard deviation of O-B (ddof=0)"}),
            "rms": ("level_bin", rms, {"long_name": "root mean square of O-B"}),
        },
        coords=_bin_coords(edges, units),
    )


def horizontal_density(lat: np.ndarray, lon: np.ndarray, resolution: float = 5.0) -> xr.DataArray:
    """Observation counts on a regular latitude/longitude grid.

    Parameters
    ----------
    lat, lon:
        Observation positions in degrees, shape (n_obs,); longitudes are wrapped to
        [-180, 180); NaN positions are ignored.
    resolution:
        Box size in degrees; must divide 180.

    Returns
    -------
    xarray.DataArray
        ``count`` (int64) with dims (``latitude``, ``longitude``), coordinates the
        box centres (degrees_north from -90, degrees_east from -180); attrs
        ``resolution``. Latitude 90 falls in the northernmost box.
    """
    nlat = round(180.0 / resolution)
    if nlat < 1 or abs(nlat * resolution - 180.0) > 1e-9:
        raise ConfigError(f"resolution {resolution} must divide 180 degrees")
    nlon = 2 * nlat
    lat = np.asarray(lat, dtype=float).ravel()
    lon = (np.asarray(lon, dtype=float).ravel() + 180.0) % 360.0 - 180.0
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
    i = np.clip(np.floor((lat[ok] + 90.0) / resolution).astype(int), 0, nlat - 1)
    j = np.clip(np.floor((lon[ok] + 180.0) / resolution).astype(int), 0, nlon - 1)
    counts = np.bincount(i * nlon + j, minlength=nlat * nlon).reshape(nlat, nlon)
    return xr.DataArray(
        counts.astype(np.int64),
        dims=("latitude", "longitude"),
        coords={
            "latitude": (
                "latitude",
                -90.0 + resolution * (np.arange(nlat) + 0.5),
                {"units": "degrees_north"},
            ),
            "longitude": (
                "longitude",
                -180.0 + resolution * (np.arange(nlon) + 0.5),
                {"units": "degrees_east"},
            ),
        },
        name="count",
        attrs={"long_name": "number of observations", "resolution": resolution},
    )


def select_airep(ds: xr.Dataset, varno: int | None = None, active_only: bool = True) -> xr.Dataset:
    """Aircraft body entries of a :func:`~wxai.data.obs.feedback.read_feedback` dataset.

    Keeps ``obstype == 2`` (and ``varno`` when given), optionally only active
    observations, and adds ``omb``/``oma`` departures.
    """
    keep = np.asarray(ds["obstype"].values) == AIREP_OBSTYPE
    if varno is not None:
        keep &= np.asarray(ds["varno"].values) == varno
    out = ds.isel(body=np.flatnonzero(keep))
    if active_only:
        out = filter_active(out)
    if "omb" not in out and "veri_data" in out:
        out = add_departures(out)
    return out
