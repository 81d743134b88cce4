"""Emulator graph blocks against brute-force references on tiny graphs.

The blocks aggregate with two layouts (degree buckets, scatter with optional chunks);
each is compared with a loop over targets (GNN) or dense masked attention (GT).
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F  # noqa: N812

from wxai.core.errors import DataFormatError
from wxai.emulator.models import layers
from wxai.emulator.models.layers import EdgeSet, GNNBlock, GraphTransformerBlock, edge_softmax

N_SRC, N_DST, BATCH, WIDTH, EDGE_DIM = 7, 6, 2, 8, 3


def _edges(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct random edges src -> dst; target 5 has none, degrees vary (1 to 5)."""
    gen = torch.Generator().manual_seed(seed)
    pairs = []
    for target, degree in enumerate([1, 3, 2, 5, 3, 0]):
        sources = torch.randperm(N_SRC, generator=gen)[:degree]
        pairs += [(int(s), target) for s in sources]
    order = torch.randperm(len(pairs), generator=gen)  # edges in no particular order
    index = torch.tensor(pairs).T[:, order]
    return index, torch.randn(index.shape[1], EDGE_DIM, generator=gen)


def _edge_sets(index: torch.Tensor, attr: torch.Tensor, monkeypatch) -> dict[str, EdgeSet]:
    sets = {"buckets": EdgeSet(index, attr, N_SRC, N_DST)}
    monkeypatch.setattr(layers, "MAX_DEGREE_BUCKETS", 0)
    sets["scatter"] = EdgeSet(index, attr, N_SRC, N_DST)
    sets["chunks"] = EdgeSet(index, attr, N_SRC, N_DST, num_chunks=3)
    assert [s.layout for s in sets.values()] == ["buckets", "scatter", "scatter"]
    return sets


def _gnn_reference(block: GNNBlock, x_src, x_dst, index, attr) -> torch.Tensor:
    """Loop over targets and their edges: explicit edge MLP on [h_i, h_j, e_ji], sum."""
    h_src, h_dst = block.norm_src(x_src), block.norm_dst(x_dst)
    w1 = torch.cat([block.edge_dst.weight, block.edge_src.weight, block.edge_attr.weight], 1)
    out = x_dst.clone()
    for i in range(N_DST):
        message = torch.zeros(BATCH, WIDTH)
        for edge in range(index.shape[1]):
            if int(index[1, edge]) != i:
                continue
            j = int(index[0, edge])
            for b in range(BATCH):
                features = torch.cat([h_dst[i, b], h_src[j, b], attr[edge]])
                hidden = F.gelu(w1 @ features + block.edge_dst.bias)
                message[b] += block.edge_out.weight @ hidden + block.edge_out.bias
        out[i] = x_dst[i] + block.node_mlp(torch.cat([h_dst[i], message], dim=-1))
    return out


def _gt_reference(block: GraphTransformerBlock, x_src, x_dst, index, attr):
    """Dense masked attention per batch element and head (keys, values per edge)."""
    h_src, h_dst = block.norm_src(x_src), block.norm_dst(x_dst)
    heads, width = block.heads, WIDTH // block.heads
    mask = torch.zeros(N_DST, N_SRC, dtype=torch.bool)
    edge_of = torch.full((N_DST, N_SRC), -1)
    for edge in range(index.shape[1]):
        mask[index[1, edge], index[0, edge]] = True
        edge_of[index[1, edge], index[0, edge]] = edge
    dense_attr = torch.zeros(N_DST, N_SRC, EDGE_DIM)
    dense_attr[mask] = attr[edge_of[mask]]
    query = block.query(h_dst) / width**0.5  # (N_dst, B, C)
    keys = block.key(h_src).unsqueeze(0) + block.edge_key(dense_attr).unsqueeze(2)
    values = block.value(h_src).unsqueeze(0) + block.edge_value(dense_attr).unsqueeze(2)
    attended = torch.zeros(N_DST, BATCH, WIDTH)
    weights = torch.zeros(N_DST, N_SRC, BATCH, heads)
    for b in range(BATCH):
        for h in range(heads):
            cols = slice(h * width, (h + 1) * width)
            scores = torch.einsum("ic,ijc->ij", query[:, b, cols], keys[:, :, b, cols])
            scores = scores.masked_fill(~mask, float("-inf"))
            alpha = torch.softmax(scores, dim=1).nan_to_num(0.0)  # no edges: no update
            weights[:, :, b, h] = alpha
            attended[:, b, cols] = torch.einsum("ij,ijc->ic", alpha, values[:, :, b, cols])
    x = x_dst + block.out(attended)
    edge_weights = weights[index[1], index[0]]  # (E, B, heads) in edge order
    return x + block.mlp(block.norm_mlp(x)), edge_weights


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(N_SRC, BATCH, WIDTH, generator=gen), torch.randn(
        N_DST, BATCH, WIDTH, generator=gen
    )


@pytest.mark.parametrize("layout", ["buckets", "scatter", "chunks"])
def test_gnn_block_matches_loop_over_edges(layout: str, monkeypatch) -> None:
    index, attr = _edges()
    edges = _edge_sets(index, attr, monkeypatch)[layout]
    torch.manual_seed(0)
    block = GNNBlock(WIDTH, 12, EDGE_DIM, bipartite=True)
    x_src, x_dst = _inputs()
    with torch.no_grad():
        got = block(x_src, x_dst, edges)
        expected = _gnn_reference(block, x_src, x_dst, index, attr)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got[:5], x_dst[:5])  # the targets with edges did change


@pytest.mark.parametrize("layout", ["buckets", "scatter", "chunks"])
def test_graph_transformer_block_matches_dense_masked_attention(layout: str, monkeypatch) -> None:
    index, attr = _edges()
    edges = _edge_sets(index, attr, monkeypatch)[layout]
    torch.manual_seed(0)
    block = GraphTransformerBlock(WIDTH, 12, EDGE_DIM, heads=2, bipartite=True)
    block.record_attention = True
    x_src, x_dst = _inputs()
    with torch.no_grad():
        got = block(x_src, x_dst, edges)
        expected, weights = _gt_reference(block, x_src, x_dst, index, attr)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(block.attention, weights.mean(dim=1), atol=1e-6, rtol=1e-5)


def test_edge_softmax_sums_to_one_per_target() -> None:
    index, _ = _edges()
    scores = torch.randn(index.shape[1], BATCH, 3) * 10
    weights = edge_softmax(scores, index[1], N_DST)
    sums = torch.zeros(N_DST, BATCH, 3).index_add_(0, index[1], weights)
    torch.testing.assert_close(sums[:5], torch.ones(5, BATCH, 3))
    for edge in range(index.shape[1]):  # reference: softmax over the target's edges
        same = index[1] == index[1, edge]
        expected = torch.softmax(scores[same], dim=0)[same.nonzero().squeeze(1) == edge][0]
        torch.testing.assert_close(weights[edge], expected)


def test_bucket_layout_groups_targets_by_degree() -> None:
    index, attr = _edges()
    edges = EdgeSet(index, attr, N_SRC, N_DST)
    assert [(d, n) for d, n, _, _ in edges.buckets] == [(1, 1), (2, 1), (3, 2), (5, 1)]
    assert edges.degree.flatten().tolist() == [1, 3, 2, 5, 3, 0]
    # internal order: every block of d edges shares one target
    for d, n, first, _ in edges.buckets:
        targets = edges.dst[first : first + n * d].view(n, d)
        assert (targets == targets[:, :1]).all()


def test_edge_set_rejects_bad_indices() -> None:
    index, attr = _edges()
    with pytest.raises(DataFormatError, match="beyond"):
        EdgeSet(index, attr, N_SRC - 3, N_DST)
    with pytest.raises(DataFormatError, match="edge_attr"):
        EdgeSet(index, attr[:-1], N_SRC, N_DST)
