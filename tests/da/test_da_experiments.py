"""Experiment builders of the assimilation labs: toy cases, twins, scores and drivers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.da.ai.aipf import cycle_particles, cycle_updates, no_update
from wxai.da.ai.aivar import VarStatistics, closed_form_batch, mean_costs, skill_against_3dvar
from wxai.da.experiments import (
    lorenz63_particle_twin,
    toy1d_batch,
    toy1d_statistics,
    toy2d_radiosonde_case,
)
from wxai.da.models import Lorenz63
from wxai.da.obs2obs import ObsDataset, forecast_scores, most_changing_unobserved_column
from wxai.da.operators import station_columns
from wxai.da.origen import (
    Reconstruction,
    learn_forecast_model,
    persistence,
    rollout_segments,
)
from wxai.da.reference import DAPPER_RMSE, compare_with_dapper


def test_toy1d_statistics_are_consistent():
    B, B_inv, B_sqrt = toy1d_statistics(32, 3.0, 0.5, 1e-3)
    np.testing.assert_allclose(B, B.T, atol=1e-12)
    np.testing.assert_allclose(B @ B_inv, np.eye(32), atol=1e-8)
    np.testing.assert_allclose(B_sqrt @ B_sqrt, B, atol=1e-10)


@pytest.mark.parametrize("background", ["lecture", "sampled"])
def test_toy1d_batch_stacks_its_cases_and_is_reproducible(background):
    _, _, B_sqrt = toy1d_statistics(32, 3.0, 0.5, 1e-3)
    kw = {"B_sqrt": B_sqrt, "background": background}
    batch = toy1d_batch(6, 32, 8, 0.1, np.random.default_rng(1), **kw)
    again = toy1d_batch(6, 32, 8, 0.1, np.random.default_rng(1), **kw)
    assert batch.background.shape == batch.y_grid.shape == batch.mask.shape == (6, 32)
    np.testing.assert_array_equal(batch.truth, again.truth)
    counts = batch.mask.sum(axis=1)
    if background == "lecture":
        assert (counts == 8).all()
    else:
        assert ((counts >= 4) & (counts <= 8)).all()
    for k, (index, y) in enumerate(batch.obs):
        np.testing.assert_array_equal(np.flatnonzero(batch.mask[k]), index)
        np.testing.assert_array_equal(batch.y_grid[k, index], y)


def test_toy1d_batch_needs_a_case():
    with pytest.raises(ConfigError):
        toy1d_batch(
            0, 32, 8, 0.1, np.random.default_rng(0), B_sqrt=np.eye(32), background="sampled"
        )


def test_toy2d_radiosonde_case_observes_the_chosen_columns_and_levels():
    case = toy2d_radiosonde_case(
        nx=16,
        nz=6,
        spinup_steps=5,
        dt=0.05,
        sigma_b=0.1,
        length_x=1.0,
        length_z=0.5,
        alpha=1e-3,
        sigma_o=0.01,
        station_every=4,
        level_every=2,
        rng=np.random.default_rng(0),
    )
    np.testing.assert_array_equal(case.columns, [2, 6, 10, 14])
    np.testing.assert_array_equal(case.levels, [0, 2, 4])
    assert case.mask.sum() == case.obs.n_obs == 12 == case.obs_points[0].size
    # y_grid holds the observations at the observed cells and nothing elsewhere.
    assert np.all(case.y_grid[case.mask == 0] == 0)
    np.testing.assert_allclose(case.y_grid[case.mask > 0], case.truth[case.mask > 0], atol=0.05)
    assert case.background.shape == case.truth.shape == (96,)
    assert not np.allclose(case.background, case.truth)


def test_lorenz63_particle_twin_observes_x1_and_x2_with_the_given_error():
    twin = lorenz63_particle_twin(
        400,
        dt=0.01,
        steps_per_obs=5,
        obs_variance=0.25,
        n_particles=7,
        init_spread=0.5,
        rng=np.random.default_rng(3),
    )
    assert twin.truth.shape == (400, 3) and twin.y.shape == (400, 2) and twin.X0.shape == (7, 3)
    np.testing.assert_array_equal(twin.H, [[1, 0, 0], [0, 1, 0]])
    err = twin.y - twin.truth[:, :2]
    assert abs(err.std() - 0.5) < 0.05 and abs(err.mean()) < 0.05


def test_3dvar_minimizes_the_mean_cost_and_the_scores_name_the_method():
    B, B_inv, B_sqrt = toy1d_statistics(24, 2.0, 0.5, 1e-3)
    batch = toy1d_batch(
        5, 24, 6, 0.1, np.random.default_rng(2), B_sqrt=B_sqrt, background="sampled"
    )
    stats = VarStatistics(B_inv, B_sqrt, 0.1)
    inputs = (batch.background, batch.y_grid, batch.mask)
    var = closed_form_batch(B, *inputs, 0.1)
    other = var + 0.05 * np.random.default_rng(4).standard_normal(var.shape)
    cost_var, cost_other, cost_b = mean_costs(stats, *inputs, var, other, batch.background)
    assert cost_var < cost_other
    # With a zero increment only the observation term remains.
    innov = batch.mask * (batch.y_grid - batch.background)
    assert cost_b == pytest.approx(np.mean(0.5 * (innov**2).sum(axis=1) / 0.01), rel=1e-5)
    m = skill_against_3dvar(batch.truth, batch.background, var, var, (1.0, 1.0), name="net")
    assert m["rmse_ratio_net_3dvar"] == 1.0 and m["rmse_net_to_3dvar"] == 0.0
    assert m["rmse_3dvar"] < m["rmse_background"]


def test_compare_with_dapper_measures_the_worst_relative_deviation():
    ref = DAPPER_RMSE["lorenz63"]
    row = {"spread": 0.5, "diverged": 0.0, "cpu_seconds": 1.0}
    exact = {k: {"rmse": v, **row} for k, v in ref.items()}
    assert compare_with_dapper("lorenz63", exact)["max_relative_deviation"] == 0.0
    off = {**exact, "pf": {**exact["pf"], "rmse": 1.1 * ref["pf"]}}
    m = compare_with_dapper("lorenz63", off)
    assert m["max_relative_deviation"] == pytest.approx(0.1)
    assert m["ratio_pf"] == pytest.approx(1.1) and m["spread_pf"] == 0.5
    broken = {**exact, "3dvar": {**exact["3dvar"], "rmse": math.nan}}
    assert compare_with_dapper("lorenz63", broken)["max_relative_deviation"] == math.inf
    with pytest.raises(UnknownNameError):
        compare_with_dapper("lorenz84", exact)


def test_station_columns_sit_in_the_middle_of_their_shares():
    np.testing.assert_array_equal(station_columns(48, 4), [6, 18, 30, 42])
    np.testing.assert_array_equal(station_columns(7, 1), [3])
    with pytest.raises(ConfigError):
        station_columns(8, 0)


def _dataset(xtrue: np.ndarray, rs_ix: np.ndarray) -> ObsDataset:
    t, nz, nx = xtrue.shape
    return ObsDataset(
        xtrue=xtrue,
        yrs=np.zeros((t, rs_ix.size, 1)),
        ysat=np.zeros((t, 1, nx)),
        t_snap=np.arange(t, dtype=float),
        rs_ix=rs_ix,
        rs_iz=np.array([0]),
        sat_w=np.ones((1, nz)),
        x=np.arange(nx, dtype=float),
        z=np.arange(nz, dtype=float),
        length_x=float(nx),
        length_z=float(nz),
    )


def test_obs2obs_scores_rank_columns_and_compare_with_persistence():
    rng = np.random.default_rng(0)
    xtrue = rng.standard_normal((6, 3, 5)) * 0.01
    xtrue[1::2, :, 1] += 5.0  # column 1 changes most, but it has a radiosonde
    xtrue[1::2, :, 3] += 2.0  # column 3 is next
    data = _dataset(xtrue, np.array([1]))
    times = np.arange(4)
    column = most_changing_unobserved_column(data, times)
    assert column == 3
    perfect = forecast_scores(data, xtrue[times + 1], times, column, "net_")
    assert perfect["net_rmse_field"] == 0.0 and perfect["net_ratio_worst"] == 0.0
    lazy = forecast_scores(data, xtrue[times], times, column, "net_")
    assert lazy["net_ratio_field"] == pytest.approx(1.0)
    assert lazy["net_ratio_unseen_columns"] == pytest.approx(1.0)
    assert lazy["persistence_rmse_profile"] > lazy["persistence_rmse_unseen_columns"] > 0


def test_reconstruction_max_rise():
    obs = None
    rec = Reconstruction(np.zeros((3, 1, 1)), np.array([1.0, 0.5, 0.6]), np.ones(3), obs)
    assert rec.max_rise == pytest.approx(1.2)
    one = Reconstruction(np.zeros((1, 1, 1)), np.array([1.0]), np.ones(1), obs)
    assert one.max_rise == 1.0


def test_learn_forecast_model_trains_both_stages_and_beats_persistence_on_a_rotation():
    theta = 0.2 * np.arange(120)
    states = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    train, test = states[:80], states[80:]
    calls = []
    learned = learn_forecast_model(
        train,
        test,
        test,
        hidden=[16],
        epochs=60,
        lr=1e-2,
        rollout_epochs=5,
        rollout_lr=1e-3,
        rollout_horizon=3,
        max_lead=4,
        seed=0,
        progress=lambda f, msg: calls.append(f),
    )
    assert len(learned.loss_one_step) == 60 and len(learned.loss_rollout) == 5
    assert learned.errors.shape == learned.errors_one_step.shape == (4,)
    assert calls and max(calls) <= 1.0 + 1e-9
    starts, paths = rollout_segments(persistence, test, 4, count=5)
    np.testing.assert_array_equal(starts, [0, 4, 8, 12])
    assert paths.shape == (4, 5, 2)
    np.testing.assert_array_equal(paths[:, -1], test[starts])  # persistence stays put
    from wxai.da.origen import forecast_errors

    assert learned.errors[-1] < forecast_errors(persistence, test, test, 4)[-1]
    assert isinstance(learned.model, torch.nn.Module)


def test_cycle_updates_gives_every_update_the_same_forecast_noise():
    twin = lorenz63_particle_twin(
        20,
        dt=0.01,
        steps_per_obs=2,
        obs_variance=1.0,
        n_particles=5,
        init_spread=0.3,
        rng=np.random.default_rng(0),
    )
    kw = {"dt": 0.01, "steps_per_obs": 2, "jitter": 0.1}
    runs = cycle_updates(
        {"a": no_update, "b": no_update}, Lorenz63(), twin.X0, twin.truth, twin.y, seed=5, **kw
    )
    assert list(runs) == ["a", "b"]
    np.testing.assert_array_equal(runs["a"].forecasts, runs["b"].forecasts)
    direct = cycle_particles(
        no_update, Lorenz63(), twin.X0, twin.truth, twin.y, rng=np.random.default_rng(5), **kw
    )
    np.testing.assert_array_equal(runs["a"].analyses, direct.analyses)
