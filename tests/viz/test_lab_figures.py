"""Figures moved out of the labs into wxai.viz: drawn from small inputs, checked by content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from wxai.viz.attention_plots import loss_and_attention_figure
from wxai.viz.forecast_panels import (
    field_extent,
    global_maps_figure,
    t2m_precip_figure,
    valid_label,
)
from wxai.viz.obs_panels import station_projections_figure
from wxai.viz.regression_plots import fine_tune_figure, formula_fit_figure
from wxai.viz.remote_sensing_panels import cloud_top_figure
from wxai.viz.retrieval_plots import (
    chunk_scores_figure,
    page_similarity_figure,
    search_scaling_figure,
    short_label,
    similarity_figure,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def _forecast(lat, lon, leads_h, values) -> xr.DataArray:
    init = np.datetime64("2024-01-15T00")
    leads = np.array(leads_h, dtype="timedelta64[h]")
    return xr.DataArray(
        values, dims=("lead_time", "latitude", "longitude"),
        coords={"lead_time": leads, "latitude": lat, "longitude": lon, "init_time": init,
                "valid_time": ("lead_time", init + leads)},
        name="t2m", attrs={"units": "K", "long_name": "2 metre temperature"},
    )  # fmt: skip


def test_valid_label_and_extent() -> None:
    da = _forecast(np.array([50.0, 51.0]), np.array([5.0, 7.0]), [6], np.zeros((1, 2, 2)))
    assert valid_label(da.isel(lead_time=0)) == "valid 2024-01-15 06 UTC (+6 h)"
    assert valid_label(da.isel(lead_time=0).drop_vars(["valid_time", "lead_time"])) == ""
    assert field_extent(da) == (5.0, 7.0, 50.0, 51.0)


def test_t2m_precip_and_global_maps() -> None:
    lat, lon = np.linspace(45, 55, 6), np.linspace(0, 15, 8)
    t2m = _forecast(lat, lon, [0, 3, 6], 270 + np.random.default_rng(0).random((3, 6, 8)))
    msl = (t2m * 0 + 101300.0).rename("msl").assign_attrs(units="Pa")
    rate = (t2m.isel(lead_time=slice(1, None)) * 0 + 0.5).rename("rate")
    fig = t2m_precip_figure(
        t2m, msl, rate, [np.timedelta64(0, "h"), np.timedelta64(6, "h")], window_hours=3,
        title="panels", coast_resolution="c",
    )  # fmt: skip
    titles = _titles(fig)
    assert fig._suptitle.get_text() == "panels"
    assert sum("precipitation rate over the 3 h ending" in t for t in titles) == 2
    assert any("(+6 h)" in t for t in titles)
    glat, glon = np.linspace(-80, 80, 9), np.linspace(-180, 160, 18)
    g = _forecast(glat, glon, [6], 280 + np.zeros((1, 9, 18))).isel(lead_time=0)
    fig = global_maps_figure(g, g * 0 + 1e5, geostationary_longitude=0.0, title="globe",
                             coast_resolution="c")  # fmt: skip
    assert any("Geostationary view from 0" in t for t in _titles(fig))


def test_station_and_cloud_top_maps() -> None:
    lat, lon = np.array([50.0, 52.0, 54.0]), np.array([5.0, 8.0, 11.0])
    fig = station_projections_figure(
        lat, lon, np.array([1.0, np.nan, 3.0]), projections=("PlateCarree", "LambertConformal"),
        label="t [degC]", title="stations", coast_resolution="c",
    )  # fmt: skip
    assert [t for t in _titles(fig) if t] == ["PlateCarree", "LambertConformal"]
    cth = xr.DataArray(
        np.array([[np.nan, 5000.0], [9000.0, np.nan]]), dims=("latitude", "longitude"),
        coords={"latitude": [50.0, 51.0], "longitude": [5.0, 6.0],
                "time": np.datetime64("2024-01-15T12:00")},
    )  # fmt: skip
    fig = cloud_top_figure(cth, np.array([[0, 1], [1, 0]], bool), subtitle="sub",
                           coast_resolution="c")  # fmt: skip
    assert "2024-01-15 12:00 UTC" in fig.axes[0].get_title()


def test_retrieval_figures() -> None:
    assert short_label("abcdef", 4) == "abc\u2026" and short_label("abc", 4) == "abc"
    sim = np.eye(3)
    fig = similarity_figure(sim, sim[:2], ["a", "b", "c"], ["qa", "qb"], np.array([0, 2]))
    assert "top-1 0.50" in fig.axes[1].get_title()
    fig = page_similarity_figure(sim, np.array([1, 2, 3]), np.array([1, 2, 2]), ["p1", "p2", "p3"],
                                 ["q1", "q2", "q3"], title="pages")  # fmt: skip
    assert fig.axes[0].get_title() == "pages"
    fig = chunk_scores_figure([[(0.6, True), (0.3, False)], [(0.1, False)]], ["q1", "out"],
                              min_score=0.25, title="scores")  # fmt: skip
    assert len(fig.axes[0].collections) >= 3
    rows = [
        {"n": 1e3, "flat_ms": 0.1, "numpy_ms": 0.2, "ivf_ms": 0.05, "ivf_recall": 0.9,
         "ivf_nlist": 8.0},
        {"n": 1e4, "flat_ms": 1.0, "numpy_ms": 2.0, "ivf_ms": 0.2, "ivf_recall": 0.95,
         "ivf_nlist": 32.0, "hnsw_ms": 0.1, "hnsw_recall": 0.99},
    ]  # fmt: skip
    sweep = [{"nprobe": 1.0, "ms": 0.05, "recall": 0.6}, {"nprobe": 8.0, "ms": 0.2, "recall": 0.95}]
    names = dict.fromkeys(("loop", "numpy", "flat", "ivf", "hnsw"), "m")
    fig = search_scaling_figure(rows, sweep, names, k=10, dim=16, min_recall=0.9)
    assert "nlist 32" in fig.axes[2].get_title()
    assert len(fig.axes[0].get_lines()) == 4  # numpy, flat, ivf, hnsw (no loop rows)


def test_regression_and_attention_figures() -> None:
    x, y = np.meshgrid(np.linspace(-10, 0, 5), np.linspace(5, 50, 4))
    truth = x + y
    fig = formula_fit_figure(
        x, y, truth, truth * 0.01, {"lin": (truth.ravel(), truth.ravel() + 1),
                                     "net": (truth.ravel(), truth.ravel())},
        labels=("T", "v", "WCT"), titles=("formula", "error"), units="degC",
    )  # fmt: skip
    assert _titles(fig)[:3] == ["formula", "error", "Test set"]
    fig = fine_tune_figure(([1.0, 0.5], [0.4]), {"champion": [0.2, 1.0], "challenger": [0.3, 0.2]},
                           ["train", "shifted"], units="degC")  # fmt: skip
    assert len(fig.axes[1].patches) == 4
    maps = [np.full((2, 3, 3), 1 / 3), np.full((2, 3, 3), 1 / 3)]
    fig = loss_and_attention_figure([2.0, 1.0, 0.5], maps, ["a", "b", "c"], loss_threshold=0.6,
                                    final_loss=0.5, title="lm")  # fmt: skip
    assert sum(t.startswith("layer") for t in _titles(fig)) == 4
