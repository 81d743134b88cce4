"""GCN stack and observed-field graphs: encodings, shapes, and size independence."""

from __future__ import annotations

import numpy as np
import torch

from wxai.nn.gcn import GCNStack, observed_field_graphs


def _graphs(n: int = 10, count: int = 3):
    position = np.linspace(0, 1, n)
    truth = np.sin(np.arange(count)[:, None] + position)
    observed = np.zeros((count, n), dtype=bool)
    observed[:, ::3] = True
    return observed_field_graphs(truth, observed, position, hops=2), truth, observed, position


def test_observed_field_graphs_encode_values_mask_and_coordinate():
    graphs, truth, observed, position = _graphs()
    assert len(graphs) == 3
    g = graphs[1]
    assert g.num_nodes == 10 and g.x_free.shape == (10, 2) and g.x_coord.shape == (10, 3)
    np.testing.assert_allclose(g.x_free[:, 0].numpy(), np.where(observed[1], truth[1], 0.0))
    np.testing.assert_array_equal(g.x_free[:, 1].numpy(), observed[1].astype(float))
    np.testing.assert_allclose(g.x_coord[:, 2].numpy(), position, rtol=1e-6)
    np.testing.assert_allclose(g.y.numpy(), truth[1], rtol=1e-6)
    # A chain with two hops per side: 2 * (1 + 2) ends lose edges, 4 per inner node.
    assert g.edge_index.shape == (2, 4 * 10 - 6)


def test_gcn_stack_reads_its_feature_key_and_works_on_any_graph_size():
    from torch_geometric.loader import DataLoader

    torch.manual_seed(0)
    free, coord = GCNStack(2, 8, 3, features="x_free"), GCNStack(3, 8, 3, features="x_coord")
    assert len(free.convs) == 3
    graphs, _, _, _ = _graphs()
    assert free(graphs[0]).shape == (10,) and coord(graphs[0]).shape == (10,)
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert free(batch).shape == (30,)
    longer, _, _, _ = _graphs(n=25, count=1)
    assert free(longer[0]).shape == (25,)
    # Three hops of receptive field: node 0's value ignores a change at node 9 (> 3 hops).
    changed = graphs[0].clone()
    changed.x_free = changed.x_free.clone()
    changed.x_free[9] += 10.0
    with torch.no_grad():
        assert torch.equal(free(graphs[0])[0], free(changed)[0])
        assert not torch.equal(free(graphs[0])[9], free(changed)[9])
