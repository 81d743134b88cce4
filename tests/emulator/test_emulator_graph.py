"""Graph construction against analytical invariants and brute-force neighbour searches."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError, WxaiWarning
from wxai.data.grids.icon import lonlat_to_xyz, xyz_to_lonlat
from wxai.data.grids.icosahedral import edge_topology
from wxai.emulator.graphs import (
    DATA,
    DECODER,
    ENCODER,
    HIDDEN,
    PROCESSOR,
    GraphConfig,
    build_graph,
    inspect_graph,
    load_graph_config,
)
from wxai.emulator.graphs.build import EARTH_RADIUS_KM
from wxai.emulator.graphs.edges import directed, edge_directions
from wxai.emulator.graphs.mesh import build_mesh, icosahedral_levels, xyz_to_latlon
from wxai.emulator.graphs.nodes import latlon_xyz, positions_xyz, voronoi_areas


def gaussian_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """T21-like Gaussian grid: 32 latitudes x 64 longitudes (degrees) and the row weights."""
    x, w = np.polynomial.legendre.leggauss(32)
    lat, lon = np.meshgrid(np.rad2deg(np.arcsin(x)), np.arange(64) * 360.0 / 64, indexing="ij")
    return lat.ravel(), lon.ravel(), w


def config(**kw) -> GraphConfig:
    return load_graph_config(kw)


@pytest.fixture(scope="module")
def grid():
    return gaussian_grid()


@pytest.fixture(scope="module")
def graph3(grid):
    lat, lon, _ = grid
    return build_graph(config(hidden={"icosahedral": {"resolution": 3}}), lat, lon)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance [km] of points in degrees, by the haversine formula."""
    p1, p2, dl = np.deg2rad(lat1), np.deg2rad(lat2), np.deg2rad(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def pairs_set(edge_index) -> set[tuple[int, int]]:
    ei = np.asarray(edge_index)
    return set(zip(ei[0].tolist(), ei[1].tolist(), strict=True))


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_icosahedral_counts_per_level(level):
    xyz, faces = icosahedral_levels(level)
    assert xyz.shape == (10 * 4**level + 2, 3)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1.0, atol=1e-12)
    for lv, f in enumerate(faces):
        assert f.shape == (20 * 4**lv, 3)
        assert f.max() == 10 * 4**lv + 1  # level lv uses exactly the first 10 * 4**lv + 2 nodes
        assert edge_topology(f)[0].shape == (30 * 4**lv, 2)
    mesh = build_mesh(config(hidden={"icosahedral": {"resolution": level}}).hidden, True)
    assert [e.shape[0] for e in mesh.level_edges] == [30 * 4**lv for lv in range(level + 1)]
    assert np.bincount(mesh.node_level).cumsum().tolist() == [
        10 * 4**lv + 2 for lv in range(level + 1)
    ]
    single = build_mesh(config(hidden={"icosahedral": {"resolution": level}}).hidden, False)
    assert single.levels == [level] and single.level_edges[0].shape[0] == 30 * 4**level


def test_processor_is_symmetric_union_of_levels(graph3):
    store = graph3[PROCESSOR]
    ei, level = store.edge_index.numpy(), store.level.numpy()
    _, faces = icosahedral_levels(3)
    assert ei.shape[1] == 2 * sum(30 * 4**lv for lv in range(4)) == 5100
    edges = pairs_set(ei)
    assert len(edges) == ei.shape[1]  # no duplicates
    assert edges == {(t, s) for s, t in edges}  # every j -> i has i -> j
    assert not any(s == t for s, t in edges)
    union = set()
    for lv, f in enumerate(faces):
        expected = pairs_set(directed(edge_topology(f)[0]))
        assert pairs_set(ei[:, level == lv]) == expected
        union |= expected
    assert edges == union
    # an edge of level l joins nodes that exist at level l
    node_level = graph3[HIDDEN].level.numpy()
    assert (node_level[ei].max(axis=0) <= level).all()


def test_single_scale_has_only_finest_level(grid):
    lat, lon, _ = grid
    g = build_graph(config(hidden={"icosahedral": {"resolution": 2}}, multi_scale=False), lat, lon)
    _, faces = icosahedral_levels(2)
    assert pairs_set(g[PROCESSOR].edge_index) == pairs_set(directed(edge_topology(faces[2])[0]))
    assert set(g[PROCESSOR].level.tolist()) == {2}


def test_encoder_cutoff_matches_brute_force(graph3, grid):
    lat, lon, _ = grid
    data = latlon_xyz(lat, lon)
    hidden = positions_xyz(graph3[HIDDEN].x.numpy())
    max_edge = graph3.provenance["mesh_edge_length_km"] / EARTH_RADIUS_KM
    angle = np.arccos(np.clip(data @ hidden.T, -1, 1))  # (2048, 642)
    src, dst = np.nonzero(angle <= 0.6 * max_edge)
    ei = graph3[ENCODER].edge_index.numpy()
    assert pairs_set(ei) == set(zip(src.tolist(), dst.tolist(), strict=True))
    # at 0.6 x the longest edge every data node and (for this grid) every hidden node is reached
    assert np.bincount(ei[0], minlength=2048).min() >= 1
    assert np.bincount(ei[1], minlength=642).min() >= 1


def test_decoder_knn_matches_brute_force(graph3, grid):
    lat, lon, _ = grid
    data = latlon_xyz(lat, lon)
    hidden = positions_xyz(graph3[HIDDEN].x.numpy())
    ei = graph3[DECODER].edge_index.numpy()
    assert (np.bincount(ei[1], minlength=2048) == 3).all()
    angle = np.arccos(np.clip(data @ hidden.T, -1, 1))  # (2048, 642)
    order = np.argsort(ei[1], kind="stable")
    chosen = np.sort(angle[ei[1, order], ei[0, order]].reshape(2048, 3), axis=1)
    # the 3 nearest by distance (tie-robust: the grid and mesh share symmetries)
    np.testing.assert_allclose(chosen, np.sort(angle, axis=1)[:, :3], atol=1e-6)


def test_knn_encoder_and_cutoff_decoder(grid):
    lat, lon, _ = grid
    cfg = config(
        hidden={"icosahedral": {"resolution": 2}}, encoder={"knn": 5}, decoder={"cutoff": 0.6}
    )
    # each hidden node gathers its 5 nearest cells: 810 edges cannot reach 2048 cells
    with pytest.warns(WxaiWarning, match=r"\d+ of 2048 data nodes send no encoder edge"):
        g = build_graph(cfg, lat, lon)
    enc = g[ENCODER].edge_index.numpy()
    assert (np.bincount(enc[1], minlength=162) == 5).all()
    n_lost = 2048 - np.unique(enc[0]).size
    assert n_lost >= 2048 - 810
    assert inspect_graph(g)["unreached"]["data_not_encoded"]["count"] == n_lost
    dec = g[DECODER].edge_index.numpy()
    assert np.bincount(dec[1], minlength=2048).min() >= 1  # 0.6 > 1/sqrt(3): every cell covered


def test_fine_mesh_reports_hidden_nodes_without_encoder_edges(grid):
    lat, lon, _ = grid
    g = build_graph(config(hidden={"icosahedral": {"resolution": 4}}), lat, lon)
    enc = g[ENCODER].edge_index.numpy()
    unreached = np.setdiff1d(np.arange(2562), enc[1])
    report = inspect_graph(g)["unreached"]
    assert unreached.size > 0  # 0.6 x 526 km < ~440 km from a T21 cell corner to its centres
    assert report["hidden_without_encoder_edges"]["count"] == unreached.size
    assert report["hidden_without_encoder_edges"]["first"] == unreached[:10].tolist()
    assert report["data_not_encoded"]["count"] == 0
    assert report["data_not_decoded"]["count"] == 0


@pytest.mark.parametrize("edge_type", [ENCODER, PROCESSOR, DECODER])
def test_edge_lengths_match_haversine(graph3, edge_type):
    src, _, dst = edge_type
    store = graph3[edge_type]
    ei = store.edge_index.numpy()
    rng = np.random.default_rng(0)
    pick = rng.choice(ei.shape[1], 200, replace=False)
    a = np.rad2deg(graph3[src].x.double().numpy()[ei[0, pick]])
    b = np.rad2deg(graph3[dst].x.double().numpy()[ei[1, pick]])
    expected = haversine_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    length = store.edge_attr[pick, 0].double().numpy() * store.max_length_km
    np.testing.assert_allclose(length, expected, rtol=1e-4, atol=0.05)
    assert float(store.edge_attr[:, 0].max()) == pytest.approx(1.0)


def test_edge_directions_are_unit_and_point_to_source(graph3):
    for edge_type in (ENCODER, PROCESSOR, DECODER):
        d = graph3[edge_type].edge_attr[:, 1:].double().numpy()
        np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-5)

    def direction(target, source):  # (lat, lon) degrees
        t = latlon_xyz(np.array([target[0]]), np.array([target[1]]))
        s = latlon_xyz(np.array([source[0]]), np.array([source[1]]))
        return edge_directions(s, t)[0]

    np.testing.assert_allclose(direction((0, 0), (0, 5)), [1, 0], atol=1e-12)  # due east
    np.testing.assert_allclose(direction((0, 0), (0, -5)), [-1, 0], atol=1e-12)
    np.testing.assert_allclose(direction((45, 30), (50, 30)), [0, 1], atol=1e-12)  # due north
    np.testing.assert_allclose(direction((-30, 170), (-35, 170)), [0, -1], atol=1e-12)
    np.testing.assert_allclose(direction((0, 179), (0, -179)), [1, 0], atol=1e-12)  # dateline
    # short processor edges: agrees with the local flat (east, north) displacement
    store = graph3[PROCESSOR]
    fine = (store.level == 3).numpy()
    ei = store.edge_index.numpy()[:, fine]
    x = graph3[HIDDEN].x.double().numpy()
    s, t = x[ei[0]], x[ei[1]]
    away = np.abs(t[:, 0]) < np.deg2rad(60)
    dlon = (s[:, 1] - t[:, 1] + np.pi) % (2 * np.pi) - np.pi
    flat = np.stack([dlon * np.cos(t[:, 0]), s[:, 0] - t[:, 0]], axis=1)[away]
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    got = store.edge_attr[fine][away, 1:].double().numpy()
    assert np.einsum("ij,ij->i", got, flat).min() > 0.98


def test_node_positions_and_area_weights(graph3, grid):
    lat, lon, w = grid
    x = graph3[DATA].x.numpy()
    np.testing.assert_allclose(np.rad2deg(x[:, 0]), lat, atol=1e-5)
    np.testing.assert_allclose(np.rad2deg(x[:, 1]), lon, atol=1e-4)  # the dataset's convention
    for t in (DATA, HIDDEN):
        aw = graph3[t].area_weight.double().numpy()
        assert aw.mean() == pytest.approx(1.0, abs=1e-6) and aw.min() > 0
    areas = voronoi_areas(latlon_xyz(lat, lon)).reshape(32, 64)
    assert areas.sum() == pytest.approx(4 * np.pi, rel=1e-10)
    np.testing.assert_allclose(areas, areas[:, :1] * np.ones((1, 64)), rtol=1e-7)
    np.testing.assert_allclose(areas[:, 0], w * 2 * np.pi / 64, rtol=0.07)
    hidden = graph3[HIDDEN].area_weight.numpy()
    assert hidden.max() / hidden.min() < 1.5  # a near-uniform icosahedral mesh


def test_coordinate_conversions_invert_each_other():
    lon = np.array([0.0, 90.0, 180.0, -90.0, 45.0, -135.0, 10.0, 0.0])
    lat = np.array([0.0, 0.0, 0.0, 0.0, 35.26438968, -35.26438968, 90.0, -90.0])
    xyz = lonlat_to_xyz(lon, lat)
    s = 1 / np.sqrt(3)
    expected = [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0], [s, s, s], [-s, -s, -s]]
    np.testing.assert_allclose(xyz[:6], expected, atol=1e-9)
    np.testing.assert_allclose(xyz[6:, 2], [1.0, -1.0])
    rng = np.random.default_rng(0)
    v = rng.normal(size=(500, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    back_lon, back_lat = xyz_to_lonlat(v)
    assert back_lon.min() > -180.0 and back_lon.max() <= 180.0
    np.testing.assert_allclose(lonlat_to_xyz(back_lon, back_lat), v, atol=1e-12)
    lat_r, lon_r = xyz_to_latlon(v)
    np.testing.assert_allclose(np.stack([lat_r, lon_r]), np.deg2rad([back_lat, back_lon]))
    np.testing.assert_allclose(positions_xyz(np.stack([lat_r, lon_r], axis=1)), v, atol=1e-12)
    grid_lon, grid_lat = xyz_to_lonlat(v.reshape(20, 25, 3))  # any leading shape
    assert grid_lon.shape == (20, 25)
    np.testing.assert_array_equal(grid_lat.ravel(), back_lat)


def test_icon_meshes(grid):
    lat, lon, _ = grid
    vertices = build_graph(config(hidden={"icon": {"level": 2}}), lat, lon)
    ico = build_graph(config(hidden={"icosahedral": {"resolution": 2}}), lat, lon)
    np.testing.assert_allclose(
        positions_xyz(vertices[HIDDEN].x.numpy()), positions_xyz(ico[HIDDEN].x.numpy()), atol=1e-6
    )
    assert pairs_set(vertices[PROCESSOR].edge_index) == pairs_set(ico[PROCESSOR].edge_index)
    cell_mesh = {"icon": {"level": 2, "nodes": "cells"}}
    # around a cell-centre mesh's vertices the nearest centre is ~1 centre spacing away
    with pytest.warns(WxaiWarning, match="send no encoder edge"):
        build_graph(config(hidden=cell_mesh, multi_scale=False), lat, lon)
    cells = build_graph(
        config(hidden=cell_mesh, multi_scale=False, encoder={"cutoff": 1.0}), lat, lon
    )
    assert inspect_graph(cells)["unreached"]["data_not_encoded"]["count"] == 0
    assert cells[HIDDEN].num_nodes == 20 * 4**2
    ei = cells[PROCESSOR].edge_index.numpy()
    assert ei.shape[1] == 2 * 30 * 4**2
    assert (np.bincount(ei[1]) == 3).all()  # three edge neighbours per triangle
    with pytest.raises(ConfigError, match="multi_scale"):
        config(hidden={"icon": {"level": 2, "nodes": "cells"}}, multi_scale=True)


def test_provenance(graph3, grid):
    prov = graph3.provenance
    assert prov["config"]["hidden"]["icosahedral"]["resolution"] == 3
    assert prov["num_nodes"] == {DATA: 2048, HIDDEN: 642}
    assert prov["num_edges"]["processor"] == 5100
    assert prov["num_edges"]["decoder"] == 3 * 2048
    assert len(prov["data_coordinates_sha256"]) == 64
    assert prov["created"].endswith("+00:00") and prov["wxai_version"]


def test_invalid_inputs(grid):
    lat, lon, _ = grid
    cfg = config(hidden={"icosahedral": {"resolution": 1}})
    with pytest.raises(ConfigError, match="differ in shape"):
        build_graph(cfg, lat, lon[:-1])
    with pytest.raises(ConfigError, match="90"):
        build_graph(cfg, lat * 2, lon)
    with pytest.raises(ConfigError, match="knn"):
        build_graph(
            config(hidden={"icosahedral": {"resolution": 0}}, decoder={"knn": 13}), lat, lon
        )
    with pytest.raises(ConfigError, match="cos_latitude"):  # too few points for Voronoi
        build_graph(cfg, np.array([0.0, 10.0, 20.0]), np.array([0.0, 10.0, 20.0]))
    g = build_graph(
        cfg.model_copy(update={"data_area_weight": "cos_latitude"}), np.zeros(3), np.arange(3.0)
    )
    np.testing.assert_allclose(g[DATA].area_weight, 1.0)


def test_voronoi_areas_of_a_regular_grid_with_poles():
    """Rows of a regular grid own the band between mid-latitudes; pole rows share the cap."""
    res = 7.5
    lats = np.arange(-90.0, 90.0 + res / 2, res)
    lat, lon = np.meshgrid(lats, np.arange(0.0, 360.0, res), indexing="ij")
    areas = voronoi_areas(latlon_xyz(lat.ravel(), lon.ravel())).reshape(lat.shape)
    edges = np.clip(np.concatenate([[-90.0], (lats[1:] + lats[:-1]) / 2, [90.0]]), -90, 90)
    band = 2 * np.pi * np.diff(np.sin(np.deg2rad(edges))) / lon.shape[1]
    np.testing.assert_allclose(areas, band[:, None] * np.ones_like(areas), rtol=2e-3)
    assert areas.sum() == pytest.approx(4 * np.pi, rel=1e-10)
