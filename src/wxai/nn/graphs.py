"""Small graph constructors for 1D node sets: periodic rings and open chains.

Edges follow the PyTorch Geometric convention: ``edge_index[0]`` holds the source
node ``j`` and ``edge_index[1]`` the target node ``i`` of a directed edge ``j -> i``;
messages travel from sources to targets.
"""

from __future__ import annotations

import torch

from wxai.core.errors import ConfigError


def _offsets(hops: int) -> list[int]:
    if hops < 1:
        raise ConfigError(f"hops must be at least 1, got {hops}")
    return [d for d in range(-hops, hops + 1) if d != 0]


def ring_graph(n: int, hops: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Edges of a periodic ring of ``n`` nodes, each node linked to ``hops`` neighbours per side.

    Parameters
    ----------
    n:
        Number of nodes; node ``i`` sits at position ``i`` on a circle, so node ``n - 1``
        neighbours node ``0``.
    hops:
        Neighbours on each side that send messages to a node.

    Returns
    -------
    edge_index : torch.Tensor
        Shape ``(2, E)`` with ``E = 2 * hops * n``, dtype ``long``; column ``(j, i)`` is the
        edge ``j -> i`` with ``j = (i + d) mod n`` for every offset ``d`` in
        ``-hops..-1, 1..hops``.
    offset : torch.Tensor
        Shape ``(E, 1)``, float: the signed offset ``d`` of each edge in node spacings
        (source relative to target), the only geometry the graph carries.
    """
    if n < 2 * hops + 1:
        raise ConfigError(f"a ring with hops={hops} needs at least {2 * hops + 1} nodes, got {n}")
    targets = torch.arange(n)
    sources, receivers, offsets = [], [], []
    for d in _offsets(hops):
        sources.append((targets + d) % n)
        receivers.append(targets)
        offsets.append(torch.full((n,), float(d)))
    edge_index = torch.stack([torch.cat(sources), torch.cat(receivers)])
    return edge_index, torch.cat(offsets).unsqueeze(1)


def chain_graph(n: int, hops: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Edges of an open chain of ``n`` nodes (a segment), ``hops`` neighbours per side.

    Like :func:`ring_graph` without the wrap-around: nodes near either end have fewer
    neighbours.

    Returns
    -------
    edge_index : torch.Tensor
        Shape ``(2, E)``, ``E = 2 * sum_{d=1..hops} (n - d)``, dtype ``long``.
    offset : torch.Tensor
        Shape ``(E, 1)``, float: signed source-minus-target offset in node spacings.
    """
    if n < 2:
        raise ConfigError(f"a chain needs at least 2 nodes, got {n}")
    targets = torch.arange(n)
    sources, receivers, offsets = [], [], []
    for d in _offsets(hops):
        inside = (targets + d >= 0) & (targets + d < n)
        sources.append(targets[inside] + d)
        receivers.append(targets[inside])
        offsets.append(torch.full((int(inside.sum()),), float(d)))
    edge_index = torch.stack([torch.cat(sources), torch.cat(receivers)])
    return edge_index, torch.cat(offsets).unsqueeze(1)
