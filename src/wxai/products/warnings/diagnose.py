"""The public entry point: warnings for model output, and their files.

:func:`diagnose` takes an xarray Dataset with canonical variable names
(:mod:`wxai.vocab`: ``gust``, ``u10``, ``v10``, ``msl``) on a regular
latitude/longitude grid and returns a :class:`WarningResult`: likelihood and masks
per level, polygons, validity period and which diagnoser made them.
:func:`write_warnings` writes them as GeoJSON and CAP 1.2 alerts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from shapely.geometry.base import BaseGeometry

from wxai.core.errors import DataFormatError, WxaiError
from wxai.data.formats import atomic_path
from wxai.products.geometry import grid_spacing, polygons_from_mask
from wxai.products.warnings.baseline import DEFAULT_SIGMA_CELLS, GustThresholdBaseline
from wxai.products.warnings.cap import cap_alert, validate_cap
from wxai.products.warnings.geojson import warning_feature_collection
from wxai.products.warnings.levels import DWD_GUST_LEVELS, WarningLevel
from wxai.products.warnings.scoring import nested

if TYPE_CHECKING:
    from torch import nn

__all__ = ["REGISTERED_MODEL", "TRAIN_HINT", "WarningResult", "diagnose", "write_warnings"]

#: Registry name and alias of the diagnoser trained by the ``warning-polygons`` lab.
REGISTERED_MODEL = "models:/warning-polygons@champion"
TRAIN_HINT = "train one with `wxai lab run warning-polygons` (registers warning-polygons@champion)"
_RENAMES = {"lat": "latitude", "lon": "longitude"}


@dataclass(frozen=True)
class WarningResult:
    """Warnings diagnosed at one valid time.

    Attributes
    ----------
    levels:
        The warning levels, in the order of the level axis.
    masks:
        ``(level, latitude, longitude)`` bool, nested.
    likelihood:
        ``(level, latitude, longitude)`` in [0, 1] from the learned model; None for
        the baseline (which gives masks only).
    polygons:
        One (Multi)Polygon per level [(lon, lat) degrees], simplified.
    onset, expiry:
        Validity period (UTC).
    method:
        ``"unet"`` or ``"baseline"``.
    note:
        What a user should know (e.g. why the baseline was used).
    """

    levels: tuple[WarningLevel, ...]
    masks: xr.DataArray
    likelihood: xr.DataArray | None
    polygons: list[BaseGeometry]
    onset: np.datetime64
    expiry: np.datetime64
    method: str
    note: str = ""

    def geojson(self) -> dict[str, Any]:
        """The polygons as a GeoJSON FeatureCollection (dict)."""
        return warning_feature_collection(
            self.polygons, self.levels, self.onset, self.expiry, method=self.method
        )


def _prepare(ds: xr.Dataset, needed: tuple[str, ...], time: Any) -> xr.Dataset:
    """Canonical dims, longitudes in [-180, 180), latitudes ascending, one time."""
    ds = ds.rename({k: v for k, v in _RENAMES.items() if k in ds.dims or k in ds.coords})
    missing = [name for name in needed if name not in ds.data_vars]
    if missing:
        raise DataFormatError(
            f"the dataset lacks {', '.join(missing)} (has {', '.join(map(str, ds.data_vars))}); "
            "warnings need canonical wxai.vocab names - rename with "
            "wxai.vocab.rename_to_canonical(ds, source) or add the variables"
        )
    if "latitude" not in ds.dims or "longitude" not in ds.dims:
        raise DataFormatError(
            f"warnings need a regular latitude/longitude grid, got dims {tuple(ds.dims)}; "
            "regrid first (e.g. with wxai.data.grids)"
        )
    ds = ds[list(needed)]
    for dim in [d for d in ds.dims if d not in ("latitude", "longitude")]:
        if time is not None and dim in ds.coords and np.issubdtype(ds[dim].dtype, np.datetime64):
            ds = ds.sel({dim: np.datetime64(time, "ns")}, method="nearest")
        else:
            ds = ds.isel({dim: 0})
    if float(ds.longitude.max()) > 180.0:
        ds = ds.assign_coords(longitude=((ds.longitude + 180.0) % 360.0) - 180.0)
    ds = ds.sortby(["latitude", "longitude"])
    grid_spacing(ds.latitude.values, ds.longitude.values)  # regular and monotonic
    return ds


def _valid_time(ds: xr.Dataset) -> np.datetime64:
    for name in ("valid_time", "time"):
        if name in ds.coords and ds[name].size == 1:
            return np.datetime64(ds[name].values.reshape(-1)[0], "s")
    return np.datetime64("now", "s")


def _load_model(model: Any) -> tuple[nn.Module | None, str]:
    """The diagnoser to use and a note; None means: use the baseline."""
    if model == "baseline":
        return None, "gust-threshold baseline as requested"
    if model is None or isinstance(model, (str, Path)):
        from wxai.products.warnings.store import load_diagnoser

        uri = model or REGISTERED_MODEL
        try:
            return load_diagnoser(uri), ""
        except WxaiError as error:
            if model is not None:
                raise WxaiError(f"{error}; {TRAIN_HINT}") from error
            note = f"no trained diagnoser found ({uri}); used the gust-threshold baseline"
            return None, f"{note}; {TRAIN_HINT}"
    return model, ""


def diagnose(
    ds: xr.Dataset,
    model: Any = None,
    *,
    time: Any = None,
    threshold: float = 0.5,
    simplify: float | None = None,
    baseline_sigma: float = DEFAULT_SIGMA_CELLS,
    levels: tuple[WarningLevel, ...] = DWD_GUST_LEVELS,
    window_hours: float = 6.0,
) -> WarningResult:
    """Gust warnings (masks, likelihood, polygons) for the fields of ``ds`` at one time.

    Parameters
    ----------
    ds:
        Canonical ``gust``, ``u10``, ``v10`` [m s-1] and ``msl`` [Pa] on
        (latitude, longitude), optionally with a time dimension (the first time, or
        the one nearest ``time``, is used). The baseline needs only ``gust``.
    model:
        A :class:`~wxai.products.warnings.model.WarningDiagnoser`, a model URI
        (``runs:/...``, ``models:/...``) or checkpoint path, ``"baseline"``, or None: the registered
        :data:`REGISTERED_MODEL`, falling back to the baseline (stated in ``note``).
    threshold:
        Likelihood from which a cell is warned.
    simplify:
        Polygon tolerance [degrees]; default 0.3 grid cells.
    baseline_sigma:
        Smoothing of the baseline [grid cells].
    levels, window_hours:
        Levels and validity period of the baseline (a model brings its own).
    """
    network, note = _load_model(model)
    needed = tuple(network.channels) if network is not None else ("gust",)
    data = _prepare(ds, needed, time)
    lat, lon = data.latitude.values, data.longitude.values
    onset = _valid_time(data)
    if network is not None:
        inputs = np.stack([data[name].values for name in network.channels])[None]
        dlat, _ = grid_spacing(lat, lon)
        if abs(dlat - network.grid_step) > 0.01 * network.grid_step:
            note = (
                f"the model was trained on a {network.grid_step:g} degree grid, the input has "
                f"{dlat:g} degrees; expect poorer warnings"
            )
        likelihood = network.likelihood(inputs.astype(np.float32))[0]
        masks = nested(likelihood >= threshold)
        levels, window, method = network.levels, network.window_hours, "unet"
    else:
        baseline = GustThresholdBaseline(tuple(levels), baseline_sigma)
        masks, likelihood = baseline.masks(data["gust"].values), None
        window, method = window_hours, "baseline"
    tolerance = 0.3 * max(grid_spacing(lat, lon)) if simplify is None else simplify
    polygons = [polygons_from_mask(m, lat, lon, simplify=tolerance) for m in masks]
    coords = {"level": [lv.level for lv in levels], "latitude": lat, "longitude": lon}
    dims = ("level", "latitude", "longitude")
    return WarningResult(
        levels=tuple(levels),
        masks=xr.DataArray(masks, coords=coords, dims=dims, name="warning_mask"),
        likelihood=None
        if likelihood is None
        else xr.DataArray(likelihood, coords=coords, dims=dims, name="warning_likelihood"),
        polygons=polygons,
        onset=onset,
        expiry=onset + np.timedelta64(round(window * 3600), "s"),
        method=method,
        note=note,
    )


def write_warnings(
    result: WarningResult,
    directory: str | Path,
    *,
    name: str = "warnings",
    sender: str = "wxai@localhost",
    sent: np.datetime64 | None = None,
    area_name: str = "model domain",
) -> list[Path]:
    """Write ``<name>.geojson`` and one validated ``<name>-level<k>.cap.xml`` per warned level.

    Every file is written atomically; every CAP document is validated against the
    CAP 1.2 schema before it is written (:class:`DataFormatError` otherwise).

    Returns
    -------
    list of Path
        The GeoJSON file first, then the CAP alerts in level order.
    """
    out = Path(directory)
    sent = np.datetime64("now", "s") if sent is None else sent
    paths = [_write_text(out / f"{name}.geojson", json.dumps(result.geojson(), indent=1) + "\n")]
    stamp = np.datetime_as_string(np.datetime64(result.onset, "m"), unit="m").replace(":", "")
    for geom, level in zip(result.polygons, result.levels, strict=True):
        if geom.is_empty:
            continue
        document = cap_alert(
            geom, level, onset=result.onset, expires=result.expiry, sent=sent,
            identifier=f"wxai-{name}-{stamp}-L{level.level}", sender=sender,
            method=result.method, area_name=area_name,
        )  # fmt: skip
        validate_cap(document)
        paths.append(_write_text(out / f"{name}-level{level.level}.cap.xml", document))
    return paths


def _write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary name (no half-written file)."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return path
