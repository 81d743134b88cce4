"""AIREP diagnostics: density against height, innovation profiles, horizontal density."""

from __future__ import annotations

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.data.obs.airep import (
    AIREP_OBSTYPE,
    density_by_height,
    horizontal_density,
    innovation_profile,
    select_airep,
)

EDGES = np.arange(10000.0, 105000.0, 5000.0)  # Pa


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(10000.0, 100000.0), min_size=0, max_size=200))
def test_density_counts_sum_to_number_of_obs(pressure: list[float]) -> None:
    counts = density_by_height(np.array(pressure), EDGES)
    assert int(counts.sum()) == len(pressure)
    assert counts.attrs["n_outside"] == 0
    assert counts.dims == ("level_bin",)


def test_density_outside_and_nan_not_counted() -> None:
    counts = density_by_height(np.array([5000.0, np.nan, 20000.0, 20000.0]), EDGES)
    assert int(counts.sum()) == 2 and counts.attrs["n_outside"] == 2
    assert int(counts.sel(level_bin=22500.0)) == 2


def test_innovation_profile_equals_numpy() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(10000, 100000, 500)
    d = rng.normal(0.3, 1.5, 500)
    d[::17] = np.nan
    prof = innovation_profile(p, d, EDGES)
    for b in range(EDGES.size - 1):
        sel = (p >= EDGES[b]) & (p < EDGES[b + 1]) & np.isfinite(d)
        assert int(prof["count"][b]) == sel.sum()
        if sel.any():
            np.testing.assert_allclose(float(prof["mean"][b]), d[sel].mean())
            np.testing.assert_allclose(float(prof["std"][b]), d[sel].std())
            np.testing.assert_allclose(float(prof["rms"][b]), np.sqrt((d[sel] ** 2).mean()))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-90.0, 90.0), st.floats(-540.0, 540.0)), min_size=0, max_size=200),
    st.sampled_from([1.0, 2.5, 10.0, 45.0]),
)
def test_horizontal_density_sums_to_number_of_obs(
    points: list[tuple[float, float]], resolution: float
) -> None:
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    grid = horizontal_density(lat, lon, resolution)
    assert grid.dims == ("latitude", "longitude")
    assert grid.shape == (round(180 / resolution), round(360 / resolution))
    assert int(grid.sum()) == len(points)


def test_horizontal_density_box_position() -> None:
    grid = horizontal_density(np.array([50.1, 50.2, -89.0]), np.array([8.6, 368.7, 179.9]), 5.0)
    assert int(grid.sel(latitude=52.5, longitude=7.5)) == 2
    assert int(grid.sel(latitude=-87.5, longitude=177.5)) == 1


def test_select_airep_from_feedback_dataset() -> None:
    n = 8
    ds = xr.Dataset(
        {
            "obs": ("body", np.arange(n, dtype=float)),
            "obstype": ("body", np.array([2, 2, 1, 2, 2, 5, 2, 2])),
            "varno": ("body", np.array([2, 3, 2, 2, 2, 2, 2, 2])),
            "state": ("body", np.array([1, 1, 1, 5, 0, 1, 1, 1])),
            "veri_data": (("veri", "body"), np.zeros((1, n))),
        },
        coords={"veri_run_type": ("veri", [1])},
    )
    sel = select_airep(ds, varno=2)
    assert AIREP_OBSTYPE == 2
    assert sel["obs"].values.tolist() == [0.0, 4.0, 6.0, 7.0]
    np.testing.assert_array_equal(sel["omb"].values, sel["obs"].values)
