"""GraphEmulatorNet: shapes, relabelling equivariance, gradients, configs, chunking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.graphs import GraphConfig, build_graph, load_graph_config
from wxai.emulator.models import (
    GNNConfig,
    GraphEmulatorNet,
    GraphTransformerConfig,
    parse_model_config,
)
from wxai.emulator.models.config import BENCHMARK_CONFIGS
from wxai.emulator.models.network import DECODER, ENCODER, PROCESSOR
from wxai.nn.mlp import count_parameters

T_IN, N_IN, N_OUT = 2, 5, 3
CONFIGS = {
    "gnn": GNNConfig(hidden=16, processor_layers=2, trainable_size=4),
    "graph_transformer": GraphTransformerConfig(
        hidden=16, processor_layers=2, heads=4, trainable_size=4, activation="silu"
    ),
}


def gaussian_grid(nlon: int, nlat: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes (degrees, (nlat * nlon,)) of a Gaussian grid, north first."""
    nodes, _ = np.polynomial.legendre.leggauss(nlat)
    lat = np.rad2deg(np.arcsin(nodes))[::-1]
    lat, lon = np.meshgrid(lat, np.arange(nlon) * 360.0 / nlon, indexing="ij")
    return lat.ravel(), lon.ravel()


@pytest.fixture(scope="module")
def graph() -> HeteroData:
    config = load_graph_config(
        {"hidden": {"icosahedral": {"resolution": 1}}, "encoder": {"cutoff": 0.6}}
    )
    return build_graph(config, *gaussian_grid(16, 8))  # 128 data nodes, 42 hidden nodes


def _net(name: str, graph: HeteroData, **update: object) -> GraphEmulatorNet:
    torch.manual_seed(0)
    return GraphEmulatorNet(CONFIGS[name].model_copy(update=update), graph, T_IN, N_IN, N_OUT)


def _inputs(n_data: int, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, T_IN, n_data, N_IN, generator=torch.Generator().manual_seed(3))


def _relabel(graph: HeteroData, node_type: str, perm: torch.Tensor, seed: int) -> HeteroData:
    """Node ``perm[k]`` of ``graph`` becomes node ``k``; every edge list is shuffled."""
    new = HeteroData()
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(len(perm))
    for name in ("data", "hidden"):
        x = graph[name].x
        new[name].x = x[perm] if name == node_type else x
        new[name].num_nodes = graph[name].num_nodes
    gen = torch.Generator().manual_seed(seed)
    for key in (ENCODER, PROCESSOR, DECODER):
        index, attr = graph[key].edge_index.clone(), graph[key].edge_attr
        for row, name in ((0, key[0]), (1, key[2])):
            if name == node_type:
                index[row] = inverse[index[row]]
        shuffle = torch.randperm(index.shape[1], generator=gen)
        new[key].edge_index, new[key].edge_attr = index[:, shuffle], attr[shuffle]
    return new


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_output_shape_and_input_check(name: str, graph: HeteroData) -> None:
    net = _net(name, graph)
    out = net(_inputs(128, batch=3))
    assert out.shape == (3, 128, N_OUT)
    assert torch.isfinite(out).all()
    with pytest.raises(DataFormatError, match="input must be"):
        net(torch.randn(3, T_IN, 127, N_IN))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_batch_elements_are_independent(name: str, graph: HeteroData) -> None:
    net = _net(name, graph)
    x = _inputs(128, batch=2)
    with torch.no_grad():
        torch.testing.assert_close(net(x)[1:], net(x[1:]), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_relabelling_hidden_nodes_leaves_output_unchanged(name: str, graph: HeteroData) -> None:
    net = _net(name, graph)
    perm = torch.randperm(graph["hidden"].num_nodes, generator=torch.Generator().manual_seed(5))
    relabelled = GraphEmulatorNet(net.config, _relabel(graph, "hidden", perm, 7), T_IN, N_IN, N_OUT)
    state = net.state_dict()
    state["hidden_trainable"] = state["hidden_trainable"][perm]
    relabelled.load_state_dict(state)
    x = _inputs(128)
    with torch.no_grad():
        torch.testing.assert_close(relabelled(x), net(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_relabelling_data_nodes_permutes_output(name: str, graph: HeteroData) -> None:
    net = _net(name, graph)
    perm = torch.randperm(graph["data"].num_nodes, generator=torch.Generator().manual_seed(6))
    relabelled = GraphEmulatorNet(net.config, _relabel(graph, "data", perm, 8), T_IN, N_IN, N_OUT)
    state = net.state_dict()
    state["data_trainable"] = state["data_trainable"][perm]
    relabelled.load_state_dict(state)
    x = _inputs(128)
    with torch.no_grad():
        torch.testing.assert_close(relabelled(x[:, :, perm]), net(x)[:, perm], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_gradients_reach_every_parameter(name: str, graph: HeteroData) -> None:
    net = _net(name, graph)
    net(_inputs(128)).square().mean().backward()
    for param_name, param in net.named_parameters():
        assert param.grad is not None, param_name
        assert torch.isfinite(param.grad).all(), param_name
        assert param.grad.abs().sum() > 0, param_name


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_chunked_encoder_decoder_give_same_output_and_gradients(
    name: str, graph: HeteroData
) -> None:
    plain, chunked = _net(name, graph), _net(name, graph, num_chunks=3)
    assert chunked.encoder_edges.layout == "scatter"
    assert len(chunked.decoder_edges.chunk_bounds) == 3
    x = _inputs(128)
    out_plain, out_chunked = plain(x), chunked(x)
    torch.testing.assert_close(out_chunked, out_plain, atol=1e-5, rtol=1e-5)
    out_plain.sum().backward()
    out_chunked.sum().backward()
    for (param_name, a), b in zip(plain.named_parameters(), chunked.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, atol=1e-4, rtol=1e-4, msg=param_name)


def test_attention_weights_recorded_per_processor_layer(graph: HeteroData) -> None:
    net = _net("graph_transformer", graph)
    net(_inputs(128))
    assert net.attention_weights == []  # off by default
    net.record_attention = True
    net(_inputs(128))
    weights = net.attention_weights
    edges = graph[PROCESSOR].edge_index
    assert len(weights) == 2
    for weight in weights:
        assert weight.shape == (edges.shape[1], 4)
        sums = torch.zeros(graph["hidden"].num_nodes, 4).index_add_(0, edges[1], weight)
        torch.testing.assert_close(sums, torch.ones_like(sums))
    net.record_attention = False
    assert net.attention_weights == []
    assert _net("gnn", graph).attention_weights == []


def test_graph_is_kept_in_buffers(graph: HeteroData) -> None:
    net = _net("gnn", graph)
    buffers = dict(net.named_buffers())
    assert buffers["processor_edges.src"].shape == (graph[PROCESSOR].edge_index.shape[1],)
    assert buffers["data_position"].shape == (128, 4)
    # the state dict holds parameters only: the graph comes from the graph file
    assert set(net.state_dict()) == {name for name, _ in net.named_parameters()}


def test_benchmark_configs_match_anemoi_parameter_counts() -> None:
    graph = build_graph(GraphConfig(), *gaussian_grid(64, 32))  # 2048 data, 642 hidden nodes
    counts = {
        name: count_parameters(GraphEmulatorNet(config, graph, 2, 14, 8))
        for name, config in BENCHMARK_CONFIGS.items()
    }
    # Anemoi's small CPU run: GNN 189,716 and graph transformer 195,508 parameters
    for count in counts.values():
        assert 185_000 <= count <= 195_000, counts


def test_model_config_is_a_discriminated_union() -> None:
    gnn = parse_model_config({"processor": "gnn", "hidden": 32})
    assert isinstance(gnn, GNNConfig) and gnn.mlp_hidden == 64
    gt = parse_model_config({"processor": "graph_transformer", "heads": 8})
    assert isinstance(gt, GraphTransformerConfig) and gt.heads == 8
    with pytest.raises(ConfigError, match="heads"):
        parse_model_config({"processor": "gnn", "heads": 4})  # extra field
    with pytest.raises(ConfigError, match="multiple of heads"):
        parse_model_config({"processor": "graph_transformer", "hidden": 30, "heads": 4})
    with pytest.raises(ConfigError):
        parse_model_config({"processor": "mlp"})
