"""Smoke test of the per-level orthographic picture of an emulator graph."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from wxai.core.errors import ConfigError
from wxai.emulator.graphs import build_graph, load_graph_config
from wxai.viz.graphs import great_circle_arcs, plot_graph_levels


@pytest.fixture(scope="module")
def graph():
    x, _ = np.polynomial.legendre.leggauss(32)
    lat, lon = np.meshgrid(np.rad2deg(np.arcsin(x)), np.arange(64) * 360.0 / 64, indexing="ij")
    cfg = load_graph_config({"hidden": {"icosahedral": {"resolution": 2}}})
    return build_graph(cfg, lat.ravel(), lon.ravel())


def test_plot_graph_levels(graph, tmp_path):
    fig = plot_graph_levels(graph)
    assert len(fig.axes) == 3  # levels 0, 1, 2
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "level 0: 12 nodes, 30 edges (60 directed)"
    assert titles[2] == "level 2: 162 nodes, 480 edges (960 directed)"
    # the visible half of each level: more segments at finer levels
    segments = [
        sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection)
            and c.get_gid() is None)
        for ax in fig.axes
    ]  # fmt: skip
    assert 0 < segments[0] < segments[1] < segments[2]
    fig.savefig(tmp_path / "levels.png", dpi=40)
    assert (tmp_path / "levels.png").stat().st_size > 1000
    one = plot_graph_levels(graph, [1], data_nodes=False, coastlines=False)
    assert len(one.axes) == 1
    with pytest.raises(ConfigError, match="levels"):
        plot_graph_levels(graph, [7])


def test_great_circle_arcs_stay_on_the_arc():
    a = np.array([[1.0, 0.0, 0.0]])
    b = np.array([[0.0, 1.0, 0.0]])
    arc = great_circle_arcs(a, b, 5)[0]  # along the equator from 0 to 90 E
    np.testing.assert_allclose(arc[:, 0], [0, 22.5, 45, 67.5, 90], atol=1e-12)
    np.testing.assert_allclose(arc[:, 1], 0.0, atol=1e-12)


def test_plot_node_attention_draws_the_incoming_edges(graph):
    from wxai.viz.graphs import plot_node_attention

    src, dst = graph["hidden", "to", "hidden"].edge_index.numpy()
    weights = np.random.default_rng(0).random((src.size, 2))
    fig = plot_node_attention(graph, weights, node=5)
    assert len(fig.axes) == 1 + 2 + 1  # mean, two heads, colour bar
    incoming = int((dst == 5).sum())
    assert f"{incoming} incoming edges" in fig._suptitle.get_text()
    points = [c for c in fig.axes[0].collections if c.get_offsets().shape[0] == incoming]
    assert points and np.allclose(
        np.sort(points[0].get_array()), np.sort(weights[dst == 5].mean(axis=1))
    )
    with pytest.raises(ConfigError, match="processor edges"):
        plot_node_attention(graph, weights[:-1], node=5)
