"""Warnings for a forecast file, with every product written: the entry point of
``wxai products warnings`` and of the assistant's warning tool.

The gust, 10 m wind and pressure fields are found by their canonical names
(:mod:`wxai.vocab`: IFS, ICON and CF names work too); the warnings are diagnosed at
each chosen valid time and written as GeoJSON, CAP 1.2 alerts (one per level that is
warned) and a map per time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError
from wxai.data.fields import find_variable, on_time_lat_lon
from wxai.products.geometry import grid_spacing
from wxai.products.warnings.diagnose import diagnose, write_warnings

__all__ = [
    "WARNING_FIELDS",
    "WarningProducts",
    "warning_fields",
    "warnings_for_fields",
    "warnings_for_file",
]

#: What the diagnoser reads (canonical names).
WARNING_FIELDS = ("gust", "u10", "v10", "msl")


@dataclass
class WarningProducts:
    """What a warning diagnosis wrote and found, per valid time."""

    source: str
    method: str
    times: list[str]
    warned_km2: list[dict[str, float]]
    note: str = ""
    paths: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        rows = []
        for time, areas in zip(self.times, self.warned_km2, strict=True):
            warned = ", ".join(f"{k} {v:,.0f} km2" for k, v in areas.items() if v > 0)
            rows.append(f"  {time}: {warned or 'no warning'}")
        note = f"\n{self.note}" if self.note else ""
        return (
            f"warnings from {self.source} by the {self.method} diagnoser:\n"
            + "\n".join(rows)
            + f"{note}\nwritten: {', '.join(str(p) for p in self.paths)}"
        )


def warning_fields(ds: xr.Dataset, where: str = "the file") -> xr.Dataset:
    """:data:`WARNING_FIELDS` of ``ds`` on (time, latitude, longitude), canonical names.

    Raises
    ------
    ConfigError
        A field is missing (all missing ones are named).
    """
    found, missing = {}, []
    for name in WARNING_FIELDS:
        try:
            found[name] = on_time_lat_lon(find_variable(ds, name, where), name)
        except ConfigError:
            missing.append(name)
    if missing:
        raise ConfigError(
            f"{where} lacks {missing} for warnings; it needs {list(WARNING_FIELDS)} "
            f"(10 m gust, wind components, mean-sea-level pressure); "
            f"it has {sorted(map(str, ds.data_vars))}"
        )
    fields = {
        n: da.drop_vars([c for c in da.coords if c not in da.dims]) for n, da in found.items()
    }
    out = xr.Dataset(fields)
    if "time" not in out.dims:
        out = out.expand_dims(time=[np.datetime64("now", "s").astype("datetime64[ns]")])
    return out


def _area_km2(mask: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> float:
    """Area [km2] of the cells of ``mask`` (H, W) on a regular lat/lon grid."""
    dlat, dlon = np.deg2rad(grid_spacing(lat, lon))
    cell = 6371.0**2 * dlat * dlon * np.cos(np.deg2rad(lat))[:, None]
    return float((cell * mask).sum())


def warnings_for_fields(
    fields: xr.Dataset,
    out_dir: str | os.PathLike,
    *,
    model: Any = None,
    source: str = "fields",
    max_times: int = 4,
    area_name: str = "model domain",
) -> WarningProducts:
    """Diagnose warnings at up to ``max_times`` valid times of ``fields`` and write them."""
    import matplotlib.pyplot as plt

    from wxai.viz.warnings import warning_map

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = fields.sizes["time"]
    chosen = np.unique(np.linspace(0, n - 1, min(max_times, n)).round().astype(int))
    times, areas, paths, method, note = [], [], [], "", ""
    for i in chosen:
        one = fields.isel(time=[int(i)])
        result = diagnose(one, model=model)
        method, note = result.method, result.note
        stamp = str(np.datetime64(result.onset, "m"))
        name = "warnings-" + stamp.replace(":", "").replace("-", "")
        paths += write_warnings(result, out, name=name, area_name=area_name)
        lat, lon = result.masks["latitude"].values, result.masks["longitude"].values
        areas.append(
            {
                level.event: _area_km2(result.masks.values[k], lat, lon)
                for k, level in enumerate(result.levels)
            }
        )
        times.append(stamp)
        fig, _ = warning_map(
            result.polygons,
            [f"{lv.level}: {lv.event} (gusts >= {lv.threshold:g} m/s)" for lv in result.levels],
            field=one["gust"].sortby("latitude").values[0],
            lat=np.sort(one["latitude"].values),
            lon=one["longitude"].values,
            title=f"Wind warnings {stamp} UTC ({result.method})",
        )
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)
        paths.append(out / f"{name}.png")
    return WarningProducts(source, method, times, areas, note, paths)


def warnings_for_file(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    model: Any = None,
    max_times: int = 4,
) -> WarningProducts:
    """Warnings for a GRIB or NetCDF forecast (see :func:`warnings_for_fields`)."""
    from wxai.data.fields import open_fields

    path = Path(path)
    fields = warning_fields(open_fields(path), str(path))
    return warnings_for_fields(fields, out_dir, model=model, source=path.name, max_times=max_times)
