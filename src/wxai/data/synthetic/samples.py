"""Offline sample files, all generated from one :class:`SyntheticAtmosphere`.

:func:`write_samples` writes realistic-looking files in the formats wxai reads,
each clearly marked synthetic:

* GRIB2: every message has ``generatingProcessIdentifier =``
  :data:`SYNTHETIC_GENERATING_PROCESS` and ``productionStatusOfProcessedData =
  2`` (research product, not operational);
* NetCDF (SYNOP, feedback, cloud-top height) and the ICON grid file: global
  attributes ``synthetic = "true"`` and a title starting with ``SYNTHETIC``;
* ODIM_H5: root ``how/synthetic = "true"`` and ``what/source`` ``ORG:wxai-synthetic``;
* ``manifest.json`` lists every file with its description and ``synthetic: true``.

All GRIB files use ECMWF parameter encoding (``centre = ecmf``): the wxai
writer maps canonical names to IFS paramIds, which DWD's local tables would
decode as other parameters. They are "ICON-like" in grid, steps and variables.
Multi-level GRIB files (2 m and 10 m fields together) are read with a
``filter_by_keys`` such as ``{"typeOfLevel": "heightAboveGround", "level": 2}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from wxai.data.formats._common import atomic_path
from wxai.data.formats.grib import UnstructuredGrid, write_grib
from wxai.data.formats.netcdf import write_netcdf
from wxai.data.synthetic._obs_samples import write_cth, write_feedback, write_radar, write_synop
from wxai.data.synthetic.atmosphere import SyntheticAtmosphere

__all__ = [
    "SAMPLE_FILES",
    "SYNTHETIC_GENERATING_PROCESS",
    "find_samples",
    "is_synthetic_grib",
    "mark_grib_synthetic",
    "write_samples",
    "write_synthetic_forecast",
]

#: ``generatingProcessIdentifier`` of every synthetic GRIB message (centre-defined code).
SYNTHETIC_GENERATING_PROCESS = 254
#: GRIB keys set on every synthetic message.
GRIB_MARK = {
    "generatingProcessIdentifier": SYNTHETIC_GENERATING_PROCESS,
    "productionStatusOfProcessedData": 2,
}

#: Sample key -> (file name, description).
SAMPLE_FILES: dict[str, tuple[str, str]] = {
    "icon_eu": (
        "icon-eu_synthetic_regular-lat-lon.grib2",
        "ICON-EU-like regional forecast, 0.25 deg over Europe, lead times 0-24 h every 3 h: "
        "t2m, rh2m, u10, v10, gust, msl, tp (accumulated)",
    ),
    "ifs": (
        "ifs_synthetic_global_2deg.grib2",
        "IFS-like global forecast, 2 deg, lead times 0-24 h every 6 h: 2t, msl, 10u, 10v, tp",
    ),
    "icon_native": (
        "icon_synthetic_native_R01B04.grib2",
        "ICON native-grid forecast (GRIB2 template 3.101), lead times 0-24 h every 6 h",
    ),
    "icon_grid": ("icon_grid_synthetic_R01B04.nc", "ICON-like grid file of icon_native"),
    "synop": ("synop_synthetic.nc", "SYNOP reports (BUFR-derived NetCDF layout), hourly"),
    "feedback": ("fdbk_synthetic_airep_temp.nc", "feedback file with AIREP and TEMP reports"),
    "radar": ("radar_synthetic_composite.h5", "ODIM_H5 reflectivity composite (DBZH)"),
    "cth": ("cth_synthetic.nc", "cloud-top height (CTH) field"),
}

_ICON_EU = {"lat": (35.0, 72.0, 0.25), "lon": (-15.0, 35.0, 0.25), "steps": range(0, 25, 3)}
#: Grids of :func:`write_synthetic_forecast`: (lat0, lat1, dlat), (lon0, lon1, dlon) [degrees].
_FORECAST_GRIDS = {
    "icon-eu": ((29.5, 70.5, 0.25), (-23.5, 45.0, 0.25)),  # the ICON-EU domain, coarser
    "ifs": ((-90.0, 90.0, 1.5), (-180.0, 178.5, 1.5)),
}
_ICOSAHEDRAL_LEVEL = 4


def is_synthetic_grib(path: str | os.PathLike) -> bool:
    """Whether the first message of a GRIB2 file carries :data:`GRIB_MARK`."""
    import eccodes as ec

    with Path(path).open("rb") as src:
        h = ec.codes_grib_new_from_file(src)
        if h is None:
            return False
        try:
            return all(
                ec.codes_is_defined(h, key) and ec.codes_get_long(h, key) == value
                for key, value in GRIB_MARK.items()
            )
        finally:
            ec.codes_release(h)


def mark_grib_synthetic(path: str | os.PathLike) -> Path:
    """Set :data:`GRIB_MARK` on every message of a GRIB2 file (rewritten atomically)."""
    import eccodes as ec

    path = Path(path)
    with atomic_path(path) as tmp, path.open("rb") as src, tmp.open("wb") as out:
        while (h := ec.codes_grib_new_from_file(src)) is not None:
            try:
                for key, value in GRIB_MARK.items():
                    ec.codes_set(h, key, value)
                ec.codes_write(h, out)
            finally:
                ec.codes_release(h)
    return path


def _forecast(ds: xr.Dataset, names: list[str], init: np.datetime64) -> xr.Dataset:
    out = ds[names].rename({"time": "lead_time"})
    out = out.assign_coords(lead_time=out["lead_time"].values - init, init_time=init)
    for name in out.data_vars:
        out[name].attrs = {}
    return out


def _write_grib(ds, path, **kwargs) -> Path:
    write_grib(ds, path, packing="grid_ccsds", bits_per_value=16, **kwargs)
    return mark_grib_synthetic(path)


def write_samples(
    out_dir: str | os.PathLike, *, seed: int = 0, n_cyclones: int = 2
) -> dict[str, Path]:
    """Write the sample files of :data:`SAMPLE_FILES` and ``manifest.json``.

    Parameters
    ----------
    out_dir:
        Target directory (created).
    seed, n_cyclones:
        Of the :class:`SyntheticAtmosphere` all files are drawn from.

    Returns
    -------
    dict
        Sample key -> path, plus ``"manifest"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atmos = SyntheticAtmosphere(seed=seed, n_cyclones=n_cyclones)
    init = atmos.start
    paths = {key: out / name for key, (name, _) in SAMPLE_FILES.items()}

    # ICON-EU-like regional GRIB2
    (la0, la1, dla), (lo0, lo1, dlo) = _ICON_EU["lat"], _ICON_EU["lon"]
    lat = np.round(np.arange(la0, la1 + dla / 2, dla), 6)
    lon = np.round(np.arange(lo0, lo1 + dlo / 2, dlo), 6)
    steps = np.array(list(_ICON_EU["steps"]), dtype="timedelta64[h]")
    eu = atmos.fields(lat, lon, init + steps)
    names = ["t2m", "rh2m", "u10", "v10", "gust", "msl", "tp"]
    _write_grib(_forecast(eu, names, init), paths["icon_eu"])

    # IFS-like global GRIB2 (north to south, 0..358 E as in ECMWF open data)
    glat, glon = np.arange(90.0, -90.1, -2.0), np.arange(0.0, 359.0, 2.0)
    gsteps = np.arange(0, 25, 6).astype("timedelta64[h]")
    glob = atmos.fields(glat, glon, init + gsteps)
    _write_grib(_forecast(glob, ["t2m", "msl", "u10", "v10", "tp"], init), paths["ifs"])

    # ICON native grid + grid file
    from wxai.data.grids.icosahedral import icosahedral_grid, write_icon_grid

    grid = icosahedral_grid(_ICOSAHEDRAL_LEVEL)
    write_icon_grid(grid, paths["icon_grid"])
    cells = atmos.fields_at_points(grid.clat, grid.clon, init + gsteps, dim="cell")
    native = _forecast(cells, ["t2m", "msl", "u10", "v10", "tp"], init)
    native = native.drop_vars(["latitude", "longitude"])
    ugrid = UnstructuredGrid(
        number_of_grid_used=int(grid.number_of_grid_used or 0),
        number_of_grid_in_reference=1,
        uuid=grid.uuid,
    )
    _write_grib(native, paths["icon_native"], grid=ugrid)

    # observations and remote-sensing products
    write_synop(atmos, paths["synop"], seed=seed)
    write_feedback(atmos, paths["feedback"], seed=seed)
    write_radar(atmos, paths["radar"], time=init + np.timedelta64(12, "h"))
    write_cth(atmos, paths["cth"], time=init + np.timedelta64(12, "h"), writer=write_netcdf)

    manifest = {
        "synthetic": True,
        "description": "wxai sample files drawn from one synthetic atmosphere; not real data",
        "generator": atmos.metadata(),
        "marking": {
            "grib": GRIB_MARK,
            "netcdf": {"synthetic": "true", "title": "SYNTHETIC ..."},
            "odim": {"how/synthetic": "true", "what/source": "ORG:wxai-synthetic"},
        },
        "files": {
            key: {
                "path": paths[key].name,
                "description": SAMPLE_FILES[key][1],
                "bytes": paths[key].stat().st_size,
                "synthetic": True,
            }
            for key in SAMPLE_FILES
        },
    }
    paths["manifest"] = out / "manifest.json"
    with atomic_path(paths["manifest"]) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return paths


def find_samples(root: str | os.PathLike, *, default_seed: int = 0) -> tuple[dict[str, Path], int]:
    """Paths of existing sample files in ``root`` and the seed they were drawn with.

    Parameters
    ----------
    root:
        Directory in the layout of :func:`write_samples`.
    default_seed:
        Seed reported when ``root`` has no ``manifest.json``.

    Returns
    -------
    tuple
        (sample key -> path for every key of :data:`SAMPLE_FILES`, synthetic seed).

    Raises
    ------
    ConfigError
        If a sample file is missing.
    """
    from wxai.core.errors import ConfigError

    folder = Path(root)
    paths = {key: folder / name for key, (name, _) in SAMPLE_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ConfigError(f"data_dir {folder} lacks sample files: {missing}")
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return paths, default_seed
    return paths, int(json.loads(manifest.read_text())["generator"]["synthetic_seed"])


def write_synthetic_forecast(
    path: str | os.PathLike,
    *,
    grid: str,
    run: np.datetime64 | str,
    steps: list[int],
    names: list[str],
    seed: int = 0,
) -> Path:
    """One GRIB2 file of a synthetic forecast run, marked synthetic like the samples.

    The atmosphere starts at ``run`` so that valid times are the ones asked for;
    used by the weather agent when no real data can be had (offline, empty cache).

    Parameters
    ----------
    path:
        Output file (written atomically).
    grid:
        ``"icon-eu"`` (0.25 deg over the ICON-EU domain) or ``"ifs"`` (1.5 deg global).
    run:
        Run (initial) time, UTC.
    steps:
        Lead times [h].
    names:
        Canonical names among t2m, rh2m, u10, v10, gust, msl, tp, tcc.

    Raises
    ------
    ConfigError
        For an unknown grid or variable.
    """
    from wxai.core.errors import ConfigError

    if grid not in _FORECAST_GRIDS:
        raise ConfigError(f"synthetic forecast grid {grid!r}; use one of {sorted(_FORECAST_GRIDS)}")
    known = {"t2m", "rh2m", "u10", "v10", "gust", "msl", "tp", "tcc"}
    if unknown := sorted(set(names) - known):
        raise ConfigError(f"no synthetic field for {unknown}; available: {sorted(known)}")
    (la0, la1, dla), (lo0, lo1, dlo) = _FORECAST_GRIDS[grid]
    lat = np.round(np.arange(la1, la0 - dla / 2, -dla), 6)
    lon = np.round(np.arange(lo0, lo1 + dlo / 2, dlo), 6)
    init = np.datetime64(np.datetime64(run, "ns"), "ns")
    atmos = SyntheticAtmosphere(seed=seed, start=init)
    lead = np.array(sorted(set(steps)), dtype="timedelta64[h]")
    ds = atmos.fields(lat, lon, init + lead)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        _write_grib(_forecast(ds, list(names), init), tmp)
    return out
