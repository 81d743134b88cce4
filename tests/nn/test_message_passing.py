"""The hand-written message-passing layer: aggregation, PyG agreement, permutation equivariance."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.nn import GraphConv, SimpleConv

from wxai.nn.graphs import chain_graph, ring_graph
from wxai.nn.message_passing import GraphNetwork, MessagePassingLayer, aggregate

# A tiny directed graph: 0->1, 2->1, 1->0, 3->2 (node 3 receives nothing).
EDGES = torch.tensor([[0, 2, 1, 3], [1, 1, 0, 2]])


def test_aggregate_by_hand():
    messages = torch.tensor([[1.0], [3.0], [5.0], [7.0]])
    summed = aggregate(messages, EDGES[1], 4, "sum")
    averaged = aggregate(messages, EDGES[1], 4, "mean")
    assert summed.squeeze(1).tolist() == [5.0, 4.0, 7.0, 0.0]
    assert averaged.squeeze(1).tolist() == [5.0, 2.0, 7.0, 0.0]


def test_ring_and_chain_graphs():
    edge_index, offset = ring_graph(5, hops=1)
    assert edge_index.shape == (2, 10)
    # every node receives from its left and right neighbour, with offsets -1 and +1
    for i in range(5):
        incoming = edge_index[0, edge_index[1] == i].tolist()
        assert sorted(incoming) == sorted([(i - 1) % 5, (i + 1) % 5])
    assert sorted(set(offset.squeeze(1).tolist())) == [-1.0, 1.0]
    source, target = edge_index
    assert torch.all(((source - target) % 5) == (offset.squeeze(1).long() % 5))
    edge_index, offset = chain_graph(5, hops=2)
    assert edge_index.shape[1] == 2 * (4 + 3)
    assert torch.all(edge_index[0] - edge_index[1] == offset.squeeze(1).long())


def _copy_graphconv(layer: MessagePassingLayer, conv: GraphConv) -> None:
    with torch.no_grad():
        layer.self_lin.weight.copy_(conv.lin_root.weight)
        layer.self_lin.bias.copy_(conv.lin_rel.bias)
        layer.message.weight.copy_(conv.lin_rel.weight)


def test_same_weights_same_output_as_pyg_graphconv():
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    for aggr, pyg_aggr in (("sum", "add"), ("mean", "mean")):
        conv = GraphConv(3, 5, aggr=pyg_aggr)
        layer = MessagePassingLayer(3, 5, aggr=aggr)
        _copy_graphconv(layer, conv)
        torch.testing.assert_close(layer(x, EDGES), conv(x, EDGES))


def test_aggregation_matches_pyg_simpleconv():
    x = torch.randn(4, 2)
    for aggr in ("sum", "mean"):
        expected = SimpleConv(aggr=aggr)(x, EDGES)
        torch.testing.assert_close(aggregate(x[EDGES[0]], EDGES[1], 4, aggr), expected)


def test_batched_input_and_edge_features():
    torch.manual_seed(0)
    edge_index, offset = ring_graph(6)
    layer = MessagePassingLayer(2, 4, edge_features=1, message_hidden=8)
    x = torch.randn(3, 6, 2)
    batched = layer(x, edge_index, offset)
    assert batched.shape == (3, 6, 4)
    for b in range(3):
        torch.testing.assert_close(batched[b], layer(x[b], edge_index, offset))


def test_edge_features_tell_left_from_right():
    """With signed offsets as edge features a network can break the left/right symmetry."""
    torch.manual_seed(0)
    edge_index, offset = ring_graph(8)
    net = GraphNetwork(1, 1, hidden=8, layers=1, edge_features=1, message_hidden=8)
    spike = torch.zeros(8, 1)
    spike[4] = 1.0
    out = net(spike, edge_index, offset).squeeze(1)
    assert not torch.isclose(out[3], out[5])
    blind = GraphNetwork(1, 1, hidden=8, layers=1)
    out = blind(spike, edge_index).squeeze(1)
    torch.testing.assert_close(out[3], out[5])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 9),
    n_edges=st.integers(1, 30),
    seed=st.integers(0, 10_000),
    aggr=st.sampled_from(["sum", "mean"]),
    hidden=st.sampled_from([None, 6]),
)
def test_permutation_equivariance(n, n_edges, seed, aggr, hidden):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    edge_index = torch.randint(0, n, (2, n_edges), generator=generator)
    edge_attr = torch.randn(n_edges, 2, generator=generator)
    torch.manual_seed(seed)
    layer = MessagePassingLayer(3, 4, edge_features=2, aggr=aggr, message_hidden=hidden)
    perm = torch.randperm(n, generator=generator)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(n)
    # new node k is old node perm[k]; an edge between old nodes (j, i) joins inverse[j], inverse[i]
    out = layer(x, edge_index, edge_attr)
    out_permuted = layer(x[perm], inverse[edge_index], edge_attr)
    torch.testing.assert_close(out_permuted, out[perm], rtol=1e-5, atol=1e-5)
