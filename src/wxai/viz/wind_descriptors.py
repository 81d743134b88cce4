"""Wind fields as arrow maps over shaded speed, each with the text describing it.

The figure is not attached to pyplot: nothing needs closing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from wxai.core.errors import ConfigError

__all__ = ["plot_wind_descriptor_panels"]


def plot_wind_descriptor_panels(
    fields: Sequence[xr.Dataset],
    texts: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 2,
    arrow_stride: int = 3,
    max_speed: float | None = None,
) -> Figure:
    """One panel per field: speed shaded [m s-1], arrows of (u10, v10), the text below.

    Parameters
    ----------
    fields:
        Datasets with ``u10``, ``v10`` (latitude, longitude) [m s-1].
    texts:
        One description per field, printed under its panel (each line wrapped).
    titles:
        Optional panel titles (e.g. the known answers).
    arrow_stride:
        Draw every ``arrow_stride``-th arrow in each direction.
    max_speed:
        Upper end of the shared colour scale [m s-1] (default: the largest speed shown).
    """
    if not fields or len(fields) != len(texts):
        raise ConfigError(f"need one text per field, got {len(fields)} fields, {len(texts)} texts")
    if titles is not None and len(titles) != len(fields):
        raise ConfigError(f"need one title per field, got {len(titles)} for {len(fields)}")
    if ncols < 1 or arrow_stride < 1:
        raise ConfigError(f"ncols and arrow_stride must be >= 1, got {ncols}, {arrow_stride}")
    speeds = [np.hypot(ds["u10"].values, ds["v10"].values) for ds in fields]
    vmax = max_speed or float(max(np.nanmax(s) for s in speeds))
    ncols = min(ncols, len(fields))
    nrows = -(-len(fields) // ncols)
    fig = Figure(figsize=(5.2 * ncols, 5.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    mesh = None
    for i, (ds, speed, text) in enumerate(zip(fields, speeds, texts, strict=True)):
        ax = axes.flat[i]
        lon, lat = ds["longitude"].values, ds["latitude"].values
        mesh = ax.pcolormesh(lon, lat, speed, cmap="viridis", vmin=0.0, vmax=vmax, shading="auto")
        s = slice(None, None, arrow_stride)
        ax.quiver(lon[s], lat[s], ds["u10"].values[s, s], ds["v10"].values[s, s], color="white",
                  pivot="middle", scale_units="inches", scale=vmax * 2.5)  # fmt: skip
        ax.set_xlabel("longitude [°E]")
        ax.set_ylabel("latitude [°N]")
        ax.set_aspect(1.0 / np.cos(np.radians(float(lat.mean()))))
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
        wrapped = "\n".join(textwrap.fill(part, 62) for part in text.split("\n"))
        ax.text(0.0, -0.16, wrapped, transform=ax.transAxes, va="top", fontsize=8)
    for ax in list(axes.flat)[len(fields) :]:
        ax.set_visible(False)
    fig.colorbar(mesh, ax=axes, label="10-m wind speed [m s$^{-1}$]", shrink=0.6)
    return fig
