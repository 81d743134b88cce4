"""Graph-based assimilation building blocks: mesh, spherical covariance, cases, GNN forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError
from wxai.da.ai.aivar import aivar_analysis, closed_form_batch
from wxai.da.ai.graph_da import (
    GraphIncrementNet,
    gaussian_covariance_sphere,
    great_circle_distance,
    icosahedral_mesh,
    isolated_obs_analysis,
    sample_mesh_cases,
    unseen_networks,
)
from wxai.da.covariance import spectral_regularization


@pytest.fixture(scope="module")
def setup():
    mesh = icosahedral_mesh(2)
    B, _, B_sqrt = spectral_regularization(gaussian_covariance_sphere(mesh.xyz, 0.5, 1.0), 1e-4)
    return mesh, B, B_sqrt


def test_icosahedral_mesh_has_the_expected_nodes_edges_and_degrees():
    mesh = icosahedral_mesh(2)
    assert mesh.n == 162 and np.allclose(np.linalg.norm(mesh.xyz, axis=1), 1.0)
    # Euler: E = 3 (V - 2) undirected edges, stored in both directions.
    assert mesh.edge_index.shape == (2, 2 * 3 * (162 - 2))
    degree = np.bincount(mesh.edge_index[1], minlength=mesh.n)
    assert np.sum(degree == 5) == 12 and np.sum(degree == 6) == mesh.n - 12
    pairs = set(map(tuple, mesh.edge_index.T))
    assert all((i, j) in pairs for j, i in pairs)
    assert mesh.edge_length.min() > 0.2 and mesh.edge_length.max() < 0.4
    lon, lat = mesh.lonlat()
    assert lon.min() >= -180 and lon.max() < 180 and np.isclose(lat.max(), 90)


def test_great_circle_distance_and_spherical_covariance():
    e = np.eye(3)
    assert np.allclose(great_circle_distance(e[0], e[1]), np.pi / 2)
    assert np.isclose(great_circle_distance(e[0], -e[0]), np.pi)
    xyz = icosahedral_mesh(1).xyz
    B = gaussian_covariance_sphere(xyz, 0.4, 2.0)
    assert np.allclose(B, B.T) and np.allclose(np.diag(B), 4.0)
    assert np.linalg.eigvalsh(B).min() > -1e-10  # chord-distance Gaussian is PSD
    # Two nodes one edge apart: chord 2 sin(d / 2) enters the Gaussian.
    d = great_circle_distance(xyz[0], xyz[1])
    expected = 4.0 * np.exp(-0.5 * (2 * np.sin(d / 2)) ** 2 / 0.4**2)
    assert np.isclose(B[0, 1], expected)
    with pytest.raises(ConfigError):
        gaussian_covariance_sphere(xyz, 0.0, 1.0)


def test_sample_mesh_cases_and_unseen_networks(setup):
    mesh, _, B_sqrt = setup
    rng = np.random.default_rng(0)
    cases = sample_mesh_cases(B_sqrt, 0.2, 50, (3, 9), rng)
    assert cases.truth.shape == cases.mask.shape == (50, mesh.n)
    assert cases.n_obs.min() >= 3 and cases.n_obs.max() <= 9
    assert np.all(cases.y_grid[cases.mask == 0] == 0)
    assert unseen_networks(cases.mask, cases.mask[:7]) == 7
    other = sample_mesh_cases(B_sqrt, 0.2, 20, (3, 9), rng)
    assert unseen_networks(cases.mask, other.mask) == 0
    with pytest.raises(ConfigError):
        sample_mesh_cases(B_sqrt, 0.2, 1, (5, 3), rng)


def test_isolated_obs_analysis_is_exact_for_one_observation(setup):
    _, B, B_sqrt = setup
    cases = sample_mesh_cases(B_sqrt, 0.3, 5, (1, 1), np.random.default_rng(1))
    args = (cases.background, cases.y_grid, cases.mask)
    np.testing.assert_allclose(
        isolated_obs_analysis(B, *args, 0.3), closed_form_batch(B, *args, 0.3), atol=1e-10
    )


def test_untrained_unrolled_network_starts_from_the_isolated_obs_analysis(setup):
    mesh, B, B_sqrt = setup
    cases = sample_mesh_cases(B_sqrt, 0.3, 4, (5, 15), np.random.default_rng(2))
    torch.manual_seed(0)
    net = GraphIncrementNet(mesh, 0.5, B, sigma_o=0.3, output="unrolled", iterations=2)
    args = (cases.background, cases.y_grid, cases.mask)
    np.testing.assert_allclose(
        aivar_analysis(net, *args), isolated_obs_analysis(B, *args, 0.3), atol=5e-4
    )


@pytest.mark.parametrize("output", ["representer", "unrolled", "control"])
def test_increment_shapes_and_representer_span(setup, output):
    mesh, B, B_sqrt = setup
    torch.manual_seed(0)
    net = GraphIncrementNet(mesh, 0.5, B, B_sqrt=B_sqrt, sigma_o=0.3, output=output, layers=2)
    for p in net.parameters():  # leave the zero-initialized decoder no special role
        torch.nn.init.normal_(p, std=0.3)
    cases = sample_mesh_cases(B_sqrt, 0.3, 3, (1, 1), np.random.default_rng(3))
    dx = aivar_analysis(net, cases.background, cases.y_grid, cases.mask) - cases.background
    assert dx.shape == (3, mesh.n) and np.all(np.isfinite(dx))
    if output != "control":
        # One observation at node i: the increment is a multiple of B[:, i].
        for k in range(3):
            col = B[:, np.flatnonzero(cases.mask[k])[0]]
            coef = dx[k] @ col / (col @ col)
            np.testing.assert_allclose(dx[k], coef * col, atol=1e-4 * np.abs(dx[k]).max())


def test_invalid_output_forms_raise(setup):
    mesh, B, _ = setup
    with pytest.raises(ConfigError, match="output must be"):
        GraphIncrementNet(mesh, 0.5, B, output="direct")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="B_sqrt"):
        GraphIncrementNet(mesh, 0.5, B, output="control")
    with pytest.raises(ConfigError, match="sigma_o"):
        GraphIncrementNet(mesh, 0.5, B, output="unrolled")
