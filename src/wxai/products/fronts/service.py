"""Fronts for a forecast file or dataset, with every product written: the entry point
of ``wxai products fronts`` and of the assistant's front tool.

Charts are moved onto the detector's training grid spacing first (linear
interpolation) when theirs differs by more than a quarter: a U-Net has learned how
wide fronts are in grid cells. Outputs: ``fronts.nc`` (labels and probabilities,
CF flags), ``fronts.geojson`` (lines per valid time) and ``fronts.png`` (fronts over
isobars at up to ``max_times`` valid times).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError
from wxai.products.fronts.detect import (
    chart_fields,
    detect_fronts,
    median_spacing,
    write_front_masks,
)
from wxai.products.fronts.lines import FrontLine, front_lines, write_geojson
from wxai.products.fronts.model import MODEL_ENV, find_front_model, load_detector

__all__ = ["FrontProducts", "NoFrontModel", "fronts_for_charts", "fronts_for_file"]

HOW_TO_GET_ONE = (
    "train one with `wxai lab run front-detection` (full preset) or "
    f"`wxai lab run front-detection preset=smoke`, or name a detector file in {MODEL_ENV}"
)


class NoFrontModel(ConfigError):
    """No trained front detector is available."""


@dataclass
class FrontProducts:
    """What a front detection wrote and found."""

    source: str
    model: str
    times: list[str]
    lines: dict[str, int]
    paths: dict[str, Path] = field(default_factory=dict)
    grid_note: str = ""

    def describe(self) -> str:
        found = ", ".join(f"{n} {k}" for k, n in self.lines.items() if n) or "no fronts"
        files = ", ".join(str(p) for p in self.paths.values())
        note = f" {self.grid_note}" if self.grid_note else ""
        return (
            f"fronts on {len(self.times)} chart(s) of {self.source} "
            f"({self.times[0]} to {self.times[-1]}): {found} lines.{note}\n"
            f"model {self.model}\nwritten: {files}"
        )


def _on_model_spacing(charts: xr.Dataset, step: float | None) -> tuple[xr.Dataset, str]:
    here = median_spacing(charts["latitude"].values)
    if not step or not here or abs(here - step) / step <= 0.25:
        return charts, ""
    lat, lon = charts["latitude"].values, charts["longitude"].values
    new_lat = np.arange(lat.max(), lat.min() - 1e-9, -step)
    new_lon = np.arange(lon.min(), lon.max() + 1e-9, step)
    moved = charts.interp(latitude=new_lat, longitude=new_lon)
    return moved, f"Charts interpolated from {here:g} to the detector's {step:g} degree grid."


def fronts_for_charts(
    charts: xr.Dataset,
    out_dir: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    source: str = "charts",
    max_times: int = 4,
    title: str | None = None,
) -> FrontProducts:
    """Detect fronts on ``charts`` (see :func:`~.detect.chart_fields`) and write products."""
    from wxai.viz.fronts import plot_front_charts

    path = Path(model) if model else find_front_model()
    if path is None:
        raise NoFrontModel(f"no trained front detector found; {HOW_TO_GET_ONE}")
    detector, meta = load_detector(path)
    charts, note = _on_model_spacing(charts, meta.get("grid_step"))
    fronts = detect_fronts(charts, detector)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lat, lon = fronts["latitude"].values, fronts["longitude"].values
    per_time: list[list[FrontLine]] = [
        front_lines(fronts["front"].values[i], lat, lon, time=fronts["time"].values[i])
        for i in range(fronts.sizes["time"])
    ]
    paths = {
        "masks": write_front_masks(fronts, out / "fronts.nc"),
        "lines": write_geojson([ln for lines in per_time for ln in lines], out / "fronts.geojson"),
    }
    shown = np.linspace(0, fronts.sizes["time"] - 1, min(max_times, fronts.sizes["time"]))
    shown = np.unique(shown.round().astype(int))
    fig = plot_front_charts(
        fronts["msl"].values[shown],
        fronts["front"].values[shown],
        lat,
        lon,
        fronts["time"].values[shown],
        lines=[per_time[i] for i in shown],
        ncols=3 if len(shown) == 3 else 2,
        title=title or f"Fronts: {source}",
    )
    fig.savefig(out / "fronts.png", dpi=110)
    paths["figure"] = out / "fronts.png"
    counts = {"warm": 0, "cold": 0, "occluded": 0}
    for lines in per_time:
        for line in lines:
            counts[line.kind] += 1
    times = [str(np.datetime64(t, "m")) for t in fronts["time"].values]
    return FrontProducts(source, str(path), times, counts, paths, note)


def fronts_for_file(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    max_times: int = 4,
) -> FrontProducts:
    """Fronts on every valid time of a GRIB or NetCDF file (see :func:`fronts_for_charts`)."""
    from wxai.data.fields import open_fields

    path = Path(path)
    charts = chart_fields(open_fields(path), str(path))
    return fronts_for_charts(charts, out_dir, model=model, source=path.name, max_times=max_times)
