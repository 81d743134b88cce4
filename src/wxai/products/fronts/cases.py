"""Labelled cases for front detection from the synthetic atmosphere.

A case is one weather chart on a regular latitude/longitude grid: the six input
channels of :data:`CHANNELS` and the ``front`` labels of :data:`FRONT_CLASSES`. The
synthetic atmosphere knows where its fronts are; here its labels are widened to a
band a few grid cells across (as analysts draw them and as the fields show them) and
its pressure gets troughs along the fronts, so isobars kink there as on real charts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from wxai.core.errors import ConfigError
from wxai.data.synthetic import SyntheticAtmosphere
from wxai.data.synthetic.atmosphere import FRONT_LABELS

__all__ = [
    "CHANNELS",
    "FRONT_CLASSES",
    "ChartGrid",
    "channel_array",
    "synthetic_cases",
    "widen_labels",
]

#: Input channels (canonical :mod:`wxai.vocab` names): mean-sea-level pressure [Pa],
#: 2 m temperature [K], 2 m relative humidity [%], 10 m wind [m s-1], land fraction [1].
CHANNELS: tuple[str, ...] = ("msl", "t2m", "rh2m", "u10", "v10", "frland")
#: Class index -> name (0 none, 1 warm, 2 cold, 3 occluded).
FRONT_CLASSES: dict[int, str] = dict(FRONT_LABELS)


@dataclass(frozen=True)
class ChartGrid:
    """A regular grid: latitudes north to south and longitudes west to east [degrees]."""

    lat_north: float = 70.5
    lon_west: float = -40.0
    step: float = 0.5
    n_lat: int = 80
    n_lon: int = 128

    @property
    def latitudes(self) -> np.ndarray:
        """(n_lat,) degrees, decreasing."""
        return self.lat_north - self.step * np.arange(self.n_lat)

    @property
    def longitudes(self) -> np.ndarray:
        """(n_lon,) degrees, increasing."""
        return self.lon_west + self.step * np.arange(self.n_lon)


def widen_labels(labels: np.ndarray, cells: int) -> np.ndarray:
    """Front labels ``(..., H, W)`` dilated by ``cells`` grid cells (cross-shaped steps).

    Where widened bands of two classes meet, the class with the higher number wins
    (occluded over cold over warm), as the synthetic atmosphere orders them.
    """
    if cells < 0:
        raise ConfigError(f"cells must be >= 0, got {cells}")
    out = np.array(labels, copy=True)
    if cells == 0:
        return out
    structure = ndimage.generate_binary_structure(2, 1)
    structure = structure.reshape((1,) * (labels.ndim - 2) + structure.shape)
    for label in sorted(FRONT_CLASSES)[1:]:
        grown = ndimage.binary_dilation(labels == label, structure=structure, iterations=cells)
        out[grown] = label
    return out


def synthetic_cases(
    seeds: list[int] | range,
    hours: list[float],
    grid: ChartGrid,
    *,
    n_cyclones: int = 3,
    frontal_trough: float = 300.0,
    widen: int = 1,
) -> xr.Dataset:
    """Charts of the synthetic atmosphere, one per seed and hour.

    Returns
    -------
    xr.Dataset
        Dims (case, latitude, longitude): the :data:`CHANNELS` (float32) and ``front``
        (uint8 labels); coordinates ``seed`` and ``time`` per case.
    """
    if not len(seeds) or not len(hours):
        raise ConfigError("synthetic_cases needs at least one seed and one hour")
    lat, lon = grid.latitudes, grid.longitudes
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    charts, case_seed, case_time = [], [], []
    for seed in seeds:
        atmosphere = SyntheticAtmosphere(
            seed=int(seed), n_cyclones=n_cyclones, frontal_trough=frontal_trough
        )
        times = atmosphere.start + (np.asarray(hours, float) * 3600).astype("timedelta64[s]")
        flat = atmosphere.fields_at_points(la.ravel(), lo.ravel(), times, with_tp=False)
        for t in range(len(times)):
            chart = {
                name: (flat[name].values if flat[name].ndim == 1 else flat[name].values[t]).reshape(
                    la.shape
                )
                for name in (*CHANNELS, "front")
            }
            charts.append(chart)
            case_seed.append(int(seed))
            case_time.append(times[t])
    dims = ("case", "latitude", "longitude")
    data = {
        name: (dims, np.stack([c[name] for c in charts]).astype(np.float32)) for name in CHANNELS
    }
    labels = np.stack([c["front"] for c in charts]).astype(np.uint8)
    data["front"] = (
        dims,
        widen_labels(labels, widen),
        {"flag_values": np.arange(4, dtype=np.uint8), "flag_meanings": "none warm cold occluded"},
    )
    return xr.Dataset(
        data,
        coords={
            "latitude": ("latitude", lat, {"units": "degrees_north"}),
            "longitude": ("longitude", lon, {"units": "degrees_east"}),
            "seed": ("case", np.array(case_seed)),
            "time": ("case", np.array(case_time, dtype="datetime64[ns]")),
        },
        attrs={"synthetic": "true", "frontal_trough_pa": frontal_trough, "widen_cells": widen},
    )


def channel_array(charts: xr.Dataset) -> np.ndarray:
    """The :data:`CHANNELS` of ``charts`` stacked as float32 ``(case|time, 6, H, W)``."""
    return np.stack([charts[name].values for name in CHANNELS], axis=1).astype(np.float32)
