"""Fronts on any chart wxai can read: fields from a GRIB/NetCDF file -> labelled masks.

:func:`chart_fields` finds the six channels in a file's dataset by their canonical
names (:mod:`wxai.vocab`; 2 m relative humidity may come from the dew point), puts
them in canonical units and on (time, latitude, longitude) with latitudes north to
south, as the detector was trained. :func:`detect_fronts` pads the charts to the
U-Net's multiple, runs the detector and returns labels and class probabilities;
:func:`write_front_masks` writes them as CF NetCDF.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from wxai.atmos.humidity import saturation_vapour_pressure
from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.fields import find_variable, on_time_lat_lon
from wxai.data.formats.netcdf import write_netcdf
from wxai.products.fronts.cases import CHANNELS, FRONT_CLASSES, channel_array
from wxai.products.fronts.model import FrontDetector

__all__ = ["chart_fields", "detect_fronts", "land_fraction", "median_spacing", "write_front_masks"]


def _canonical_units(name: str, da: xr.DataArray) -> xr.DataArray:
    """Pressure in Pa, temperature in K, humidity in %, from the usual alternatives."""
    values = da
    finite = np.asarray(da.values, float)
    finite = finite[np.isfinite(finite)]
    typical = float(np.median(finite)) if finite.size else 0.0
    if name == "msl" and typical < 2000.0:  # hPa
        values = da * 100.0
    elif name == "t2m" and typical < 150.0:  # degC
        values = da + 273.15
    elif name == "rh2m" and typical <= 1.5:  # fraction
        values = da * 100.0
    return values


def median_spacing(values: np.ndarray) -> float:
    """Median absolute spacing of a 1D coordinate [its units]; 0 for a single value.

    Tolerant of Gaussian latitudes, which are not evenly spaced.
    """
    values = np.asarray(values, float)
    return float(np.median(np.abs(np.diff(values)))) if values.size > 1 else 0.0


def land_fraction(lat: np.ndarray, lon: np.ndarray, samples: int = 3) -> np.ndarray:
    """Land fraction (H, W) of the cells of a lat/lon grid from the packaged GSHHS shores.

    Each cell is sampled at ``samples`` x ``samples`` points; lakes count as water.
    """
    from wxai.viz.coastlines import is_land

    dlat, dlon = median_spacing(lat) or 1.0, median_spacing(lon) or 1.0
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    sub_lat = (lat[:, None] + dlat * offsets[None, :]).ravel()
    sub_lon = (lon[:, None] + dlon * offsets[None, :]).ravel()
    land = is_land(sub_lon[None, :], sub_lat[:, None])
    return land.reshape(lat.size, samples, lon.size, samples).mean(axis=(1, 3))


def chart_fields(ds: xr.Dataset, where: str = "the file") -> xr.Dataset:
    """The detector's six channels from ``ds``: dims (time, latitude, longitude).

    A missing land fraction is computed from the packaged coastlines (and said so in
    the ``land_fraction_source`` attribute); every other channel must be there.

    Raises
    ------
    ConfigError
        A channel is missing; the message names every missing channel.
    """
    found: dict[str, xr.DataArray] = {}
    missing: list[str] = []
    for name in CHANNELS:
        try:
            found[name] = find_variable(ds, name, where)
        except ConfigError:
            missing.append(name)
    if "rh2m" in missing and "t2m" in found:
        try:
            td = _canonical_units("t2m", find_variable(ds, "td2m", where))
            t = _canonical_units("t2m", found["t2m"])
            ratio = saturation_vapour_pressure(td - 273.15) / saturation_vapour_pressure(t - 273.15)
            found["rh2m"] = t.copy(data=np.clip(100.0 * ratio, 0.0, 100.0))
            missing.remove("rh2m")
        except ConfigError:
            pass
    land_source = "the file"
    if "frland" in missing and "msl" in found:
        msl = on_time_lat_lon(found["msl"], "msl")
        lat, lon = msl["latitude"].values, msl["longitude"].values
        found["frland"] = xr.DataArray(
            land_fraction(lat, lon), coords={"latitude": lat, "longitude": lon},
            dims=("latitude", "longitude"),
        )  # fmt: skip
        missing.remove("frland")
        land_source = "GSHHS coastlines (wxai.viz.coastlines), the file has no land fraction"
    if missing:
        raise ConfigError(
            f"{where} lacks {missing} for front detection; it needs "
            f"{list(CHANNELS)} (2 m dew point can stand in for relative humidity); "
            f"it has {sorted(map(str, ds.data_vars))}"
        )
    fields = {n: on_time_lat_lon(_canonical_units(n, da), n) for n, da in found.items()}
    with_time = [da for da in fields.values() if "time" in da.dims]
    if not with_time:
        fields = {n: da.expand_dims(time=[np.datetime64("NaT", "ns")]) for n, da in fields.items()}
    charts = xr.Dataset(
        {n: da.drop_vars([c for c in da.coords if c not in da.dims]) for n, da in fields.items()}
    )
    charts = charts.transpose("time", "latitude", "longitude")
    charts = charts.sortby("latitude", ascending=False).sortby("longitude")
    for name in CHANNELS:
        if "time" not in fields[name].dims:
            charts[name] = charts[name].broadcast_like(charts["msl"])
    charts = charts.astype(np.float32)
    charts.attrs["land_fraction_source"] = land_source
    return charts


def _padded(x: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)], mode="edge")
    return x, (h, w)


@torch.no_grad()
def detect_fronts(charts: xr.Dataset, detector: FrontDetector) -> xr.Dataset:
    """Front labels and class probabilities on ``charts`` (see :func:`chart_fields`).

    Returns
    -------
    xr.Dataset
        ``front`` (time, latitude, longitude) uint8 (0 none, 1 warm, 2 cold, 3 occluded,
        CF flags) and ``front_probability`` (time, front_class, latitude, longitude);
        ``msl`` [Pa] is passed on for charts.
    """
    x = channel_array(charts)
    if not np.isfinite(x).all():
        raise DataFormatError("the charts hold NaNs or infinities; fronts need complete fields")
    padded, (h, w) = _padded(x, detector.multiple)
    probs = detector(torch.from_numpy(padded)).softmax(dim=1)[..., :h, :w].numpy()
    labels = probs.argmax(axis=1).astype(np.uint8)
    dims = ("time", "latitude", "longitude")
    out = xr.Dataset(
        {
            "front": (
                dims,
                labels,
                {
                    "long_name": "front type",
                    "flag_values": np.arange(len(FRONT_CLASSES), dtype=np.uint8),
                    "flag_meanings": " ".join(FRONT_CLASSES.values()),
                },
            ),
            "front_probability": (
                ("time", "front_class", "latitude", "longitude"),
                probs.astype(np.float32),
                {"long_name": "probability of each front class", "units": "1"},
            ),
            "msl": charts["msl"].assign_attrs(units="Pa", long_name="mean sea level pressure"),
        },
        coords={
            "time": charts["time"].values,
            "latitude": ("latitude", charts["latitude"].values, {"units": "degrees_north"}),
            "longitude": ("longitude", charts["longitude"].values, {"units": "degrees_east"}),
            "front_class": ("front_class", list(FRONT_CLASSES.values())),
        },
    )
    out.attrs = {"title": "fronts detected by the wxai U-Net front detector"}
    return out


def write_front_masks(fronts: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write the labels (and probabilities) of :func:`detect_fronts` as CF NetCDF."""
    keep = fronts.drop_vars([v for v in ("msl",) if v in fronts])
    return write_netcdf(keep, path)
