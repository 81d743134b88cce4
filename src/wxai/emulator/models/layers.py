"""Graph blocks of the emulator: message passing (GNN) and edge-aware attention (GT).

Node states are kept node-major, ``(N, B, C)`` (nodes, batch, channels), so that
gathering the states of edge ends (``index_select`` on dim 0) and summing messages
at targets (``index_add_`` on dim 0) move contiguous rows of ``B * C`` floats, and
the batch needs no offset edge indices. Edge features ``(E, D)`` do not depend on
the batch; their projections are computed once per forward and broadcast over it.

Both blocks take the states of the source and target nodes (the same tensor in the
processor, two node sets in the encoder and decoder) and an :class:`EdgeSet` and
return updated target states ``(N_dst, B, C)``.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812
from torch.utils.checkpoint import checkpoint
from torch_geometric.utils import softmax as scatter_softmax

from wxai.core.errors import DataFormatError
from wxai.nn.mlp import activation


def positional_features(latlon: torch.Tensor) -> torch.Tensor:
    """Node positions as ``[sin lat, cos lat, sin lon, cos lon]``.

    ``latlon`` ``(N, 2)`` radians -> ``(N, 4)`` float32, continuous across the dateline.
    """
    lat, lon = latlon[:, 0].float(), latlon[:, 1].float()
    return torch.stack([lat.sin(), lat.cos(), lon.sin(), lon.cos()], dim=1)


def edge_softmax(scores: torch.Tensor, target: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Softmax of ``scores`` ``(E, ...)`` over the incoming edges of each target node.

    ``target`` ``(E,)`` long; the result sums to one over the edges of every target
    (PyG's scatter softmax, per-target maximum subtracted for stability).
    """
    return scatter_softmax(scores, target, num_nodes=num_nodes, dim=0)


#: Targets are grouped by in-degree when there are at most this many distinct degrees.
MAX_DEGREE_BUCKETS = 8


class EdgeSet(nn.Module):
    """The edges of one graph part as buffers, laid out for fast aggregation.

    Two layouts, chosen once at construction:

    ``"buckets"`` (at most :data:`MAX_DEGREE_BUCKETS` distinct in-degrees, one chunk):
    the edges are reordered so that the targets of each in-degree ``d`` form a block
    of ``(n_d, d)`` edges. A block's softmax and sums then run along a tensor axis
    (no scatter), and the target terms broadcast instead of being gathered per edge.
    The multi-mesh (4 degrees) and the k-nearest decoder (1 degree) take this path.

    ``"scatter"``: per-edge gathers and ``index_add_`` / scatter softmax over the
    targets, optionally in ``num_chunks`` ranges of targets recomputed in the backward
    pass (activation checkpointing, less memory).

    Parameters
    ----------
    edge_index:
        ``(2, E)`` long, row 0 sources, row 1 targets.
    edge_attr:
        ``(E, D)`` float edge features.
    num_src, num_dst:
        Node counts of the source and target sets.
    num_chunks:
        Number of target ranges in the scatter layout (1: none).

    Attributes
    ----------
    attr:
        ``(E, D)`` edge features in the internal edge order (use with :meth:`apply`).
    degree:
        ``(N_dst, 1, 1)`` in-degree of every target, original node order.
    """

    def __init__(
        self,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
        num_src: int,
        num_dst: int,
        num_chunks: int = 1,
    ) -> None:
        super().__init__()
        edge_index = edge_index.long()
        if edge_index.ndim != 2 or edge_index.shape[0] != 2:
            raise DataFormatError(f"edge_index must be (2, E), got {tuple(edge_index.shape)}")
        if edge_attr.ndim != 2 or edge_attr.shape[0] != edge_index.shape[1]:
            raise DataFormatError(
                f"edge_attr must be (E, D) with E = {edge_index.shape[1]}, "
                f"got {tuple(edge_attr.shape)}"
            )
        src, dst = edge_index[0], edge_index[1]
        if len(src) and (int(src.max()) >= num_src or int(dst.max()) >= num_dst):
            raise DataFormatError("edge_index refers to nodes beyond the node counts")
        self.num_src, self.num_dst = int(num_src), int(num_dst)
        degree = torch.bincount(dst, minlength=num_dst)
        self.register_buffer("degree", degree.float().view(-1, 1, 1), persistent=False)
        degrees = sorted(set(degree[degree > 0].tolist()))
        self.layout = (
            "buckets" if num_chunks == 1 and len(degrees) <= MAX_DEGREE_BUCKETS else "scatter"
        )
        # buckets: (degree d, number of targets n, first edge, first target position)
        self.buckets: list[tuple[int, int, int, int]] = []
        self.chunk_bounds: list[tuple[int, int]] = []
        self.identity_nodes = True
        if self.layout == "buckets":
            order = torch.argsort(degree[dst] * (num_dst + 1) + dst, stable=True)
            node_order = torch.argsort(degree * (num_dst + 1) + torch.arange(num_dst), stable=True)
            node_order = node_order[degree[node_order] > 0]
            first_edge, first_node = 0, 0
            for d in degrees:
                count = int((degree == d).sum())
                self.buckets.append((d, count, first_edge, first_node))
                first_edge += d * count
                first_node += count
            positions = torch.full((num_dst,), first_node, dtype=torch.long)  # zero degree
            positions[node_order] = torch.arange(len(node_order))
            self.identity_nodes = len(node_order) == num_dst and bool(
                (node_order == torch.arange(num_dst)).all()
            )
            self.register_buffer("node_order", node_order, persistent=False)
            self.register_buffer("node_position", positions, persistent=False)
        else:
            order = torch.arange(len(src))
            bounds = torch.linspace(0, num_dst, num_chunks + 1).round().long().tolist()
            self.chunk_bounds = list(itertools.pairwise(bounds))
            for index, (low, high) in enumerate(self.chunk_bounds):
                edges = torch.nonzero((dst >= low) & (dst < high)).squeeze(1)
                self.register_buffer(f"chunk_edges_{index}", edges, persistent=False)
        self.register_buffer("order", order, persistent=False)
        self.register_buffer("src", src[order].contiguous(), persistent=False)
        self.register_buffer("dst", dst[order].contiguous(), persistent=False)
        self.register_buffer("attr", edge_attr.float()[order].contiguous(), persistent=False)

    @property
    def num_edges(self) -> int:
        """Number of edges ``E``."""
        return int(self.src.shape[0])

    def apply(
        self,
        block: nn.Module,
        src_terms: tuple[torch.Tensor, ...],
        dst_terms: tuple[torch.Tensor, ...],
        edge_terms: torch.Tensor,
        want_weights: bool = False,
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor | None]:
        """Aggregate ``block``'s messages at the targets.

        ``src_terms`` ``(N_src, B, ...)`` and ``dst_terms`` ``(N_dst, B, ...)`` are node
        terms, ``edge_terms`` ``(E, ...)`` edge terms in the internal order (computed
        from :attr:`attr`). The block provides ``_scatter_phase(src_terms, dst_terms,
        edge_terms, src, dst, num_dst)`` (per-edge tensors ``(e, B, ...)``) and
        ``_bucket_phase(src_terms, dst_terms, edge_terms, src, n, d)`` (tensors
        ``(n, d, B, ...)``); both return ``(aggregates, weights or None)``.

        Returns the aggregates ``(N_dst, B, ...)`` in node order and, with
        ``want_weights``, the per-edge weights ``(E, B, heads)`` in the original edge
        order.
        """
        if self.layout == "buckets":
            return self._apply_buckets(block, src_terms, dst_terms, edge_terms, want_weights)
        if len(self.chunk_bounds) == 1:
            out, weight = block._scatter_phase(
                src_terms, dst_terms, edge_terms, src=self.src, dst=self.dst, num_dst=self.num_dst
            )
            return out, weight if want_weights else None
        outputs, weights = [], []
        for index, (low, high) in enumerate(self.chunk_bounds):
            edges = getattr(self, f"chunk_edges_{index}")
            out, weight = checkpoint(
                block._scatter_phase,
                src_terms,
                tuple(term[low:high] for term in dst_terms),
                edge_terms[edges],
                use_reentrant=False,
                src=self.src[edges],
                dst=self.dst[edges] - low,
                num_dst=high - low,
            )
            outputs.append(out)
            weights.append(weight)
        joined = None
        if want_weights and weights[0] is not None:
            joined = weights[0].new_empty((self.num_edges, *weights[0].shape[1:]))
            for index, weight in enumerate(weights):
                joined[getattr(self, f"chunk_edges_{index}")] = weight
        return tuple(torch.cat(parts, dim=0) for parts in zip(*outputs, strict=True)), joined

    def _apply_buckets(
        self,
        block: nn.Module,
        src_terms: tuple[torch.Tensor, ...],
        dst_terms: tuple[torch.Tensor, ...],
        edge_terms: torch.Tensor,
        want_weights: bool,
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor | None]:
        if not self.identity_nodes:
            dst_terms = tuple(term.index_select(0, self.node_order) for term in dst_terms)
        outputs, weights = [], []
        for d, n, first_edge, first_node in self.buckets:
            last_edge = first_edge + n * d
            out, weight = block._bucket_phase(
                src_terms,
                tuple(term[first_node : first_node + n] for term in dst_terms),
                edge_terms[first_edge:last_edge].unflatten(0, (n, d)),
                src=self.src[first_edge:last_edge],
                n=n,
                d=d,
            )
            outputs.append(out)
            if want_weights and weight is not None:
                weights.append(weight.flatten(0, 1))
        joined = []
        for parts in zip(*outputs, strict=True):
            missing = self.num_dst - sum(part.shape[0] for part in parts)
            pieces = list(parts)
            if missing:
                pieces.append(parts[0].new_zeros((missing, *parts[0].shape[1:])))
            out = torch.cat(pieces, dim=0) if len(pieces) > 1 else pieces[0]
            joined.append(out if self.identity_nodes else out.index_select(0, self.node_position))
        weight = None
        if weights:
            weight = torch.empty_like(torch.cat(weights, dim=0))
            weight[self.order] = torch.cat(weights, dim=0)
        return tuple(joined), weight


def _norm(size: int, enabled: bool) -> nn.Module:
    return nn.LayerNorm(size) if enabled else nn.Identity()


class GNNBlock(nn.Module):
    """Message passing with an edge MLP and a node MLP (pre-norm residual).

    .. math::

        m_i = \\sum_{j \\to i} W_2\\, \\sigma(W_1 [\\hat h_i, \\hat h_j, e_{ji}] + b_1) + b_2,
        \\qquad h_i' = h_i + \\mathrm{MLP}([\\hat h_i, m_i])

    with :math:`\\hat h = \\mathrm{LayerNorm}(h)`. The first edge-MLP layer is split into
    per-node projections of target and source (computed on nodes, then gathered) and
    a per-edge projection of the edge features; the second, being linear, is applied
    after the sum (``W_2 \\sum a + \\deg_i b_2``) and folded into the node MLP's first
    layer, so nothing wider than a gather, an add and the activation runs per edge,
    and no ``C x C`` product runs per target node for it.

    Parameters
    ----------
    hidden:
        Node state width ``C``; also the hidden width of the edge MLP (the part that
        runs per edge).
    mlp_hidden:
        Hidden width ``M`` of the node MLP.
    edge_dim:
        Edge feature width ``D``.
    act:
        Activation name (``"gelu"`` or ``"silu"``).
    layer_norm:
        Pre-norm LayerNorms on the node states.
    bipartite:
        Separate norms for source and target node sets (encoder, decoder).
    """

    def __init__(
        self,
        hidden: int,
        mlp_hidden: int,
        edge_dim: int,
        *,
        act: str = "gelu",
        layer_norm: bool = True,
        bipartite: bool = False,
    ) -> None:
        super().__init__()
        self.bipartite = bipartite
        self.norm_dst = _norm(hidden, layer_norm)
        self.norm_src = _norm(hidden, layer_norm) if bipartite else None
        self.edge_dst = nn.Linear(hidden, hidden)
        self.edge_src = nn.Linear(hidden, hidden, bias=False)
        self.edge_attr = nn.Linear(edge_dim, hidden, bias=False)
        self.edge_out = nn.Linear(hidden, hidden)
        self.act = activation(act)
        self.node_mlp = nn.Sequential(
            nn.Linear(2 * hidden, mlp_hidden), activation(act), nn.Linear(mlp_hidden, hidden)
        )

    def _scatter_phase(
        self,
        src_terms: tuple[torch.Tensor],
        dst_terms: tuple[torch.Tensor],
        edge_terms: torch.Tensor,
        *,
        src: torch.Tensor,
        dst: torch.Tensor,
        num_dst: int,
    ) -> tuple[tuple[torch.Tensor], None]:
        hidden = src_terms[0].index_select(0, src) + dst_terms[0].index_select(0, dst)
        hidden = self.act(hidden + edge_terms.unsqueeze(1))  # (E, B, C)
        shape = (num_dst, *hidden.shape[1:])
        return (hidden.new_zeros(shape).index_add_(0, dst, hidden),), None

    def _bucket_phase(
        self,
        src_terms: tuple[torch.Tensor],
        dst_terms: tuple[torch.Tensor],
        edge_terms: torch.Tensor,
        *,
        src: torch.Tensor,
        n: int,
        d: int,
    ) -> tuple[tuple[torch.Tensor], None]:
        sent = src_terms[0].index_select(0, src).unflatten(0, (n, d))  # (n, d, B, C)
        hidden = self.act(sent + dst_terms[0].unsqueeze(1) + edge_terms.unsqueeze(2))
        return (hidden.sum(dim=1),), None

    def forward(self, x_src: torch.Tensor, x_dst: torch.Tensor, edges: EdgeSet) -> torch.Tensor:
        """Updated targets ``(N_dst, B, C)`` from ``x_src`` ``(N_src, B, C)``, ``x_dst``."""
        h_dst = self.norm_dst(x_dst)
        h_src = self.norm_src(x_src) if self.norm_src is not None else h_dst
        (summed,), _ = edges.apply(
            self,
            (self.edge_src(h_src),),
            (self.edge_dst(h_dst),),
            self.edge_attr(edges.attr),
        )
        # node MLP input [h_i, m_i] with m_i = W_2 s_i + deg_i b_2: its first layer
        # U [h, m] = U_h h + (U_m W_2) s + deg_i U_m b_2, one GEMM on [h, s] (exact)
        first, width = self.node_mlp[0], h_dst.shape[-1]
        folded = first.weight[:, width:]  # U_m
        weight = torch.cat([first.weight[:, :width], folded @ self.edge_out.weight], dim=1)
        hidden = F.linear(torch.cat([h_dst, summed], dim=-1), weight, first.bias)
        hidden = hidden + edges.degree * (folded @ self.edge_out.bias)
        return x_dst + self.node_mlp[2](self.node_mlp[1](hidden))


class GraphTransformerBlock(nn.Module):
    """Edge-aware multi-head attention over incoming edges, then an MLP (pre-norm).

    For a target ``i`` and its sources ``j``, per head with width ``d = C / heads``:

    .. math::

        k_{ji} = W_k \\hat h_j + b_k + U_k e_{ji},\\quad
        v_{ji} = W_v \\hat h_j + b_v + U_v e_{ji},\\quad
        \\alpha_{ji} = \\mathrm{softmax}_{j \\to i}\\big(q_i \\cdot k_{ji} / \\sqrt d\\big),
        \\quad q_i = W_q \\hat h_i + b_q

    :math:`h_i \\leftarrow h_i + W_o \\sum_j \\alpha_{ji} v_{ji}`, then
    :math:`h_i \\leftarrow h_i + \\mathrm{MLP}(\\mathrm{LayerNorm}(h_i))`.
    The softmax runs over the edges of each target (a scatter softmax), so the cost
    is linear in the number of edges. The edge terms never become ``C`` wide per
    edge: :math:`q_i \\cdot U_k e = (U_k^T q_i) \\cdot e` is formed per target node and
    :math:`\\sum_j \\alpha_{ji} U_v e_{ji} = U_v \\sum_j \\alpha_{ji} e_{ji}` aggregates
    ``D``-wide edge features, per head. With ``record_attention`` set, the last
    forward's weights are kept in ``attention`` ``(E, heads)`` (mean over the batch).

    Parameters are those of :class:`GNNBlock` (``mlp_hidden``: width of the MLP)
    plus ``heads``.
    """

    def __init__(
        self,
        hidden: int,
        mlp_hidden: int,
        edge_dim: int,
        heads: int,
        *,
        act: str = "gelu",
        layer_norm: bool = True,
        bipartite: bool = False,
    ) -> None:
        super().__init__()
        if hidden % heads:
            raise DataFormatError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
        self.hidden, self.heads, self.edge_dim = hidden, heads, edge_dim
        self.scale = 1.0 / math.sqrt(hidden // heads)
        self.norm_dst = _norm(hidden, layer_norm)
        self.norm_src = _norm(hidden, layer_norm) if bipartite else None
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.edge_key = nn.Linear(edge_dim, hidden, bias=False)
        self.edge_value = nn.Linear(edge_dim, hidden, bias=False)
        self.out = nn.Linear(hidden, hidden)
        self.norm_mlp = _norm(hidden, layer_norm)
        self.mlp = nn.Sequential(
            nn.Linear(hidden, mlp_hidden), activation(act), nn.Linear(mlp_hidden, hidden)
        )
        self.record_attention = False
        self.attention: torch.Tensor | None = None

    def _scatter_phase(
        self,
        src_terms: tuple[torch.Tensor, torch.Tensor],
        dst_terms: tuple[torch.Tensor, torch.Tensor],
        edge_terms: torch.Tensor,
        *,
        src: torch.Tensor,
        dst: torch.Tensor,
        num_dst: int,
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        key, value = src_terms  # (N_src, B, heads, d)
        query, query_edge = dst_terms  # (n, B, heads, d), (n, B, heads, D)
        attr = edge_terms[:, None, None, :]  # (E, 1, 1, D)
        scores = (query.index_select(0, dst) * key.index_select(0, src)).sum(-1)
        scores = scores + (query_edge.index_select(0, dst) * attr).sum(-1)  # (E, B, heads)
        weight = edge_softmax(scores, dst, num_dst)
        weighted = value.index_select(0, src) * weight.unsqueeze(-1)
        out = value.new_zeros((num_dst, *value.shape[1:])).index_add_(0, dst, weighted)
        out_edge = query_edge.new_zeros((num_dst, *query_edge.shape[1:]))
        out_edge.index_add_(0, dst, weight.unsqueeze(-1) * attr)  # (n, B, heads, D)
        return (out, out_edge), weight

    def _bucket_phase(
        self,
        src_terms: tuple[torch.Tensor, torch.Tensor],
        dst_terms: tuple[torch.Tensor, torch.Tensor],
        edge_terms: torch.Tensor,
        *,
        src: torch.Tensor,
        n: int,
        d: int,
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        key, value = src_terms  # (N_src, B, heads, w)
        query, query_edge = dst_terms  # (n, B, heads, w), (n, B, heads, D)
        batch, heads = query.shape[1], query.shape[2]
        key = key.index_select(0, src).unflatten(0, (n, d))  # (n, d, B, heads, w)
        scores = (query.unsqueeze(1) * key).sum(-1)  # (n, d, B, heads)
        # (U_k^T q_i) . e_ji for every edge of the block: (n, d, D) @ (n, D, B * heads)
        scores = scores + torch.bmm(edge_terms, query_edge.flatten(1, 2).transpose(1, 2)).view(
            n, d, batch, heads
        )
        weight = torch.softmax(scores, dim=1)
        value = value.index_select(0, src).unflatten(0, (n, d))
        out = (value * weight.unsqueeze(-1)).sum(dim=1)  # (n, B, heads, w)
        out_edge = torch.bmm(weight.flatten(2).transpose(1, 2), edge_terms)  # (n, B*heads, D)
        return (out, out_edge.view(n, batch, heads, -1)), weight

    def forward(self, x_src: torch.Tensor, x_dst: torch.Tensor, edges: EdgeSet) -> torch.Tensor:
        """Updated targets ``(N_dst, B, C)`` from ``x_src`` ``(N_src, B, C)``, ``x_dst``."""
        h_dst = self.norm_dst(x_dst)
        h_src = self.norm_src(x_src) if self.norm_src is not None else h_dst
        heads = self.heads
        # per-head edge maps as block-diagonal matrices: (C, heads * D) and (heads * D, C)
        edge_key = torch.block_diag(*self.edge_key.weight.view(heads, -1, self.edge_dim))
        edge_value = torch.block_diag(*self.edge_value.weight.view(heads, -1, self.edge_dim))
        query = self.query(h_dst) * self.scale  # (N_dst, B, C)
        query_edge = (query @ edge_key).unflatten(-1, (heads, self.edge_dim))
        key = self.key(h_src).unflatten(-1, (heads, -1))
        value = self.value(h_src).unflatten(-1, (heads, -1))
        (out, out_edge), weight = edges.apply(
            self,
            (key, value),
            (query.unflatten(-1, (heads, -1)), query_edge),
            edges.attr,
            want_weights=self.record_attention,
        )
        out = out.flatten(-2) + out_edge.flatten(-2) @ edge_value.T
        if self.record_attention and weight is not None:
            self.attention = weight.detach().mean(dim=1)
        x = x_dst + self.out(out)
        return x + self.mlp(self.norm_mlp(x))
