"""Figures of assimilation experiments (wxai.viz.assimilation, .particles, .reconstruction)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.viz.assimilation import (
    figure_analysis_1d,
    figure_benchmark,
    figure_field_forecast,
    figure_mesh_case,
    figure_obs2obs_training,
    figure_profiles,
    figure_rmse_per_case,
    figure_sections,
    figure_unseen_cases,
)
from wxai.viz.particles import (
    figure_difference_series,
    figure_error_series,
    figure_particle_scatter,
    running_mean,
)
from wxai.viz.reconstruction import (
    figure_cycle_rmse,
    figure_final_cycle,
    figure_forecast_skill,
    figure_rollouts,
    figure_sequential_analyses,
)

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _visible_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_running_mean_against_brute_force():
    x = RNG.standard_normal(20)
    out = running_mean(x, 4)
    assert out.shape == (17,)
    np.testing.assert_allclose(out, [x[i : i + 4].mean() for i in range(17)])
    np.testing.assert_allclose(running_mean(x, 1), x)
    np.testing.assert_allclose(running_mean(x, 100), [x.mean()])
    with pytest.raises(ConfigError):
        running_mean(np.zeros((2, 2)), 2)


def test_figure_analysis_1d_draws_increments_and_optional_loss(tmp_path):
    grid = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    truth, xb = np.sin(grid), np.zeros(16)
    kw = {"truth": truth, "background": xb, "obs_index": np.array([1, 5]), "y": truth[[1, 5]]}
    fig = figure_analysis_1d(grid, analyses={"a": truth, "b": 0.5 * truth}, title="t", **kw)
    assert len(fig.axes) == 2
    increments = fig.axes[1].get_lines()
    np.testing.assert_allclose(increments[0].get_ydata(), truth - xb)
    fig = figure_analysis_1d(grid, analyses={"a": truth}, title="t", loss=[3.0, 1.0], **kw)
    assert len(fig.axes) == 3 and fig.axes[0].get_title() == "t"
    fig.savefig(tmp_path / "a.png")


def test_figure_unseen_cases_needs_four_cases():
    grid = np.arange(8.0)
    fields = {k: RNG.standard_normal((4, 8)) for k in ("truth", "background", "reference")}
    obs = [(np.array([0, 3]), np.zeros(2))] * 4
    fig = figure_unseen_cases(grid, learned=fields["reference"], obs=obs, loss=[1.0], **fields)
    assert len(fig.axes) == 6
    with pytest.raises(ConfigError):
        figure_unseen_cases(
            grid,
            learned=fields["truth"][:3],
            obs=obs[:3],
            loss=[1.0],
            **{k: v[:3] for k, v in fields.items()},
        )


def test_figure_benchmark_compares_with_the_reference():
    times = np.arange(1.0, 11.0)
    series = {"m1": (times, np.full(10, 0.5), 0.5), "m2": (times, np.full(10, 0.2), 0.2)}
    fig = figure_benchmark(series, {"m1": 0.5, "m2": 0.2}, {"m1": 0.4, "m2": 0.25}, burn_in=3,
                           title="x")  # fmt: skip
    bars = fig.axes[1].patches
    assert [b.get_height() for b in bars] == [0.5, 0.2, 0.4, 0.25]


def test_figure_sections_scales_increments_symmetrically():
    fields = {
        "truth": RNG.random((4, 6)),
        "background": RNG.random((4, 6)),
        "one increment": np.full((4, 6), -2.0),
        "other increment": np.full((4, 6), 1.0),
        "extra": RNG.random((4, 6)),
    }
    fig = figure_sections(fields, (0, 6, 0, 4), points=(np.array([1.0]), np.array([2.0])))
    axes = _visible_axes(fig)
    assert len(axes) == 5  # the sixth panel of the 3 x 2 grid is hidden
    assert axes[2].images[0].get_clim() == (-2.0, 2.0)
    assert axes[3].images[0].get_clim() == (-2.0, 2.0)
    assert axes[1].images[0].get_clim() == (fields["truth"].min(), fields["truth"].max())


def test_figure_mesh_case_and_rmse_per_case():
    # An octahedron: 6 nodes, 8 faces.
    lon = np.array([0.0, 90.0, -90.0, 179.0, 0.0, 0.0])
    lat = np.array([0.0, 0.0, 0.0, 0.0, 90.0, -90.0])
    faces = np.array([[0, 1, 4], [1, 3, 4], [3, 2, 4], [2, 0, 4],
                      [0, 1, 5], [1, 3, 5], [3, 2, 5], [2, 0, 5]])  # fmt: skip
    values = np.arange(6.0)
    fields = {f"f{i}": values + i for i in range(5)}
    mask = np.array([1, 0, 1, 0, 0, 0.0])
    fig = figure_mesh_case(lon, lat, faces, fields, y_grid=values * mask, mask=mask, title="m")
    assert len(_visible_axes(fig)) == 6
    assert _visible_axes(fig)[2].get_title() == "2 observations"
    with pytest.raises(ConfigError):
        figure_mesh_case(lon, lat, faces, {"a": values}, y_grid=values, mask=mask, title="m")
    per_case = {"a": np.array([3.0, 1.0, 2.0]), "b": np.array([1.0, 2.0, 3.0])}
    fig = figure_rmse_per_case(per_case, [2.0, 1.0], sort_by="a")
    np.testing.assert_array_equal(fig.axes[0].get_lines()[1].get_ydata(), [2.0, 3.0, 1.0])


def test_obs2obs_figures():
    z = np.linspace(0, 3, 5)
    before, after = RNG.random((3, 5)), RNG.random((3, 5))
    fig = figure_profiles(z, before, after, {"mode A": after, "mode B": before}, ["a", "b", "c"])
    assert len(fig.axes) == 6 and fig.axes[3].get_ylabel() == "mode B: z"
    fig = figure_field_forecast(
        before, after, after + 0.5, (0, 5, 0, 3), station_x=np.array([1.0]), column_x=2.0
    )
    assert fig.axes[3].get_title() == "predicted - truth (t+1)"
    assert fig.axes[3].images[0].get_clim() == pytest.approx((-0.5, 0.5))
    fig = figure_obs2obs_training({"mode A": ([1.0, 0.5], [2.0, 1.0])}, z, RNG.random((2, 5)))
    assert len(fig.axes[0].get_lines()) == 2 and len(fig.axes[1].get_lines()) == 2


def test_particle_figures():
    xb, xa = RNG.standard_normal((10, 3)), RNG.standard_normal((10, 3))
    fig = figure_particle_scatter({"net": (xb, xa)}, np.zeros(3), np.zeros(2), cycle=4)
    assert "cycle 4" in fig.axes[0].get_title()
    errors = {"net": (np.ones(30), 2 * np.ones(30)), "free": (np.ones(30), np.ones(30))}
    fig = figure_error_series(errors, window=5)
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), 2.0)
    delta = np.sin(np.arange(40.0))
    fig = figure_difference_series(delta, window=4, ylabel="d", positive="p", negative="n")
    assert "p" in fig.axes[0].get_title() and f"{delta.mean():+.3f}" in fig.axes[0].get_title()


def test_reconstruction_figures():
    k = np.arange(12)
    truth = np.stack([np.cos(k), np.sin(k)], axis=1)
    mask = np.zeros((12, 2), dtype=bool)
    mask[::2, 0] = mask[1::2, 1] = True
    values = np.where(mask, truth, np.nan)
    fig = figure_sequential_analyses(
        truth, background=truth, analysis=truth, obs_values=values, obs_mask=mask,
        round1=truth, round2=truth,
    )  # fmt: skip
    assert len(fig.axes) == 4
    fig = figure_cycle_rmse({"a": np.array([1.0, 0.5])}, truth, {0: truth, 3: truth}, threshold=0.3)
    assert len(fig.axes[1].get_lines()) == 3
    fig = figure_final_cycle(
        truth, {"fixed": (truth + 0.1, values, mask), "upd": (truth, values, mask)}
    )
    assert "0.1000" in fig.axes[0].get_title() and "0.0000" in fig.axes[1].get_title()
    fig = figure_forecast_skill(
        np.array([1.0, 0.5]), np.array([0.9, 0.4]), 0.2, {"s1": [1.0, 0.5], "s2": []},
        {"persistence": np.ones(3), "model": np.array([0.1, 0.2, 0.3])},
    )  # fmt: skip
    assert len(fig.axes[1].get_lines()) == 1 and len(fig.axes[2].get_lines()) == 2
    paths = np.zeros((2, 4, 3))
    fig = figure_rollouts(np.zeros((8, 3)), np.zeros((8, 3)), np.array([0, 3]), paths)
    assert len(fig.axes) == 3
