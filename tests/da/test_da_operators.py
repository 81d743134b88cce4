"""Observation operators and localization tapers against direct computations."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.da.localization import gaspari_cohn
from wxai.da.operators import (
    graph_observations,
    partial_components,
    point_sampling,
    radiosonde_columns,
    random_subset,
    satellite_channels,
    satellite_weights,
)


def test_point_sampling_and_partial_components_pick_values():
    x = np.arange(10.0) * 2
    op = point_sampling(10, [1, 7], sigma=0.5)
    np.testing.assert_array_equal(op(x), [2.0, 14.0])
    np.testing.assert_allclose(op.R, 0.25 * np.eye(2))
    l63 = partial_components(3, [0, 1], variance=2.0)
    np.testing.assert_array_equal(l63(np.array([[1.0, 2, 3], [4, 5, 6]])), [[1, 2], [4, 5]])
    # Periodic distances: grid point 9 is one point away from 0.
    assert op.distances()[9, 0] == 2 and op.distances()[0, 1] == 3
    with pytest.raises(ConfigError):
        point_sampling(10, [10], sigma=1.0)


def test_random_subset_changes_per_draw():
    rng = np.random.default_rng(0)
    subsets = {tuple(random_subset(3, 2, 1.0, rng).obs_positions) for _ in range(30)}
    assert len(subsets) == 3 and all(len(s) == 2 for s in subsets)


def test_radiosonde_columns_read_profiles():
    nx, nz = 8, 5
    field = np.arange(nz * nx, dtype=float).reshape(nz, nx)
    op = radiosonde_columns(nx, nz, columns=np.array([2, 6]), levels=np.array([0, 3]), sigma=0.1)
    np.testing.assert_array_equal(
        op(field.ravel()), [field[0, 2], field[3, 2], field[0, 6], field[3, 6]]
    )


def test_satellite_channels_integrate_with_unit_weights():
    nx, nz = 6, 30
    z = (np.arange(nz) + 0.5) * 0.1
    w = satellite_weights(z, np.array([0.5, 1.5, 2.5]), 0.3)
    np.testing.assert_allclose(w.sum(axis=1) * 0.1, 1.0)
    op = satellite_channels(nx, z, w, sigma=0.05)
    assert op.H.shape == (3 * nx, nz * nx)
    # A vertically constant field is reproduced by every channel.
    np.testing.assert_allclose(op(np.full(nz * nx, 2.5)), 2.5)
    # A field that is nonzero in one column only affects that column's channels.
    field = np.zeros((nz, nx))
    field[:, 4] = z
    y = op(field.ravel()).reshape(3, nx)
    assert np.all(y[:, [0, 1, 2, 3, 5]] == 0) and np.all(np.diff(y[:, 4]) > 0)


def test_graph_observations_interpolate_between_nodes():
    nodes = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]])
    op = graph_observations(nodes, np.array([[0.0, 0], [0.5, 0.5]]), sigma=0.1, k=4)
    np.testing.assert_allclose(op.H.sum(axis=1), 1)
    values = np.array([1.0, 2, 3, 4])
    y = op(values)
    assert y[0] == 1.0 and y[1] == pytest.approx(2.5)  # on a node; centre = mean


def test_gaspari_cohn_matches_the_piecewise_polynomial():
    radius = 4.0
    c = 1.82 * radius
    assert gaspari_cohn(np.array([0.0]), radius)[0] == 1.0
    assert np.all(gaspari_cohn(np.array([2 * c, 3 * c, 100.0]), radius) == 0)
    # Continuity at r = c (both pieces give 5/24 ... evaluated independently here).
    left, right = gaspari_cohn(np.array([c - 1e-9, c + 1e-9]), radius)
    assert abs(left - right) < 1e-7 and abs(left - 5 / 24) < 1e-6
    r = 0.5
    direct = -0.25 * r**5 + 0.5 * r**4 + 0.625 * r**3 - 5 / 3 * r**2 + 1
    assert gaspari_cohn(np.array([r * c]), radius)[0] == pytest.approx(direct)
    assert np.all(np.diff(gaspari_cohn(np.linspace(0, 2 * c, 50), radius)) <= 1e-15)
