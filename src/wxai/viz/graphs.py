"""Orthographic pictures of an emulator graph: one panel per refinement level of the mesh."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from wxai.core.errors import ConfigError
from wxai.data.grids.icon import lonlat_to_xyz, xyz_to_lonlat

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["great_circle_arcs", "plot_graph_levels", "plot_node_attention"]

_MESH = ("hidden", "to", "hidden")


def great_circle_arcs(a: np.ndarray, b: np.ndarray, n_points: int) -> np.ndarray:
    """Points along the great-circle arcs between unit vectors ``a`` and ``b`` (E, 3) each.

    Returns
    -------
    (E, n_points, 2) longitude, latitude in degrees (spherical linear interpolation).
    """
    t = np.linspace(0.0, 1.0, n_points)[None, :, None]
    dot = np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)[:, None, None]
    theta = np.arccos(dot)
    sin = np.where(np.sin(theta) > 1e-12, np.sin(theta), 1.0)
    p = (np.sin((1 - t) * theta) * a[:, None] + np.sin(t * theta) * b[:, None]) / sin
    p /= np.linalg.norm(p, axis=2, keepdims=True)
    return np.stack(xyz_to_lonlat(p), axis=-1)


def _visible(crs: Any, lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cartopy.crs as ccrs

    flat = lonlat.reshape(-1, 2)
    xy = crs.transform_points(ccrs.PlateCarree(), flat[:, 0], flat[:, 1])[:, :2]
    return xy.reshape(*lonlat.shape[:-1], 2), np.isfinite(xy).all(axis=1).reshape(lonlat.shape[:-1])


def _edge_segments(crs: Any, xyz: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Visible 2-point segments (S, 2, 2) of the arcs of ``pairs`` in projection coordinates."""
    if pairs.size == 0:
        return np.zeros((0, 2, 2))
    a, b = xyz[pairs[:, 0]], xyz[pairs[:, 1]]
    max_deg = float(np.rad2deg(np.arccos(np.clip(np.einsum("ij,ij->i", a, b), -1, 1))).max())
    n_points = max(2, math.ceil(max_deg / 2.0) + 1)
    xy, ok = _visible(crs, great_circle_arcs(a, b, n_points))
    seg = np.stack([xy[:, :-1], xy[:, 1:]], axis=2).reshape(-1, 2, 2)
    keep = (ok[:, :-1] & ok[:, 1:]).ravel()
    return seg[keep]


def plot_graph_levels(
    graph: Any,
    levels: Sequence[int] | None = None,
    *,
    central_longitude: float = 10.0,
    central_latitude: float = 40.0,
    data_nodes: bool = True,
    coastlines: bool = True,
    ncols: int | None = None,
    panel_size: float = 3.4,
) -> Figure:
    """The edges of each refinement level of a graph's hidden mesh on orthographic maps.

    Parameters
    ----------
    graph:
        A ``HeteroData`` from ``wxai.emulator.graphs.build_graph``: hidden nodes ``x``
        (N, 2) (lat, lon) radians, processor edges ``("hidden", "to", "hidden")`` with
        ``level`` (E,) (all edges form one level when absent), data nodes ``x`` optional.
    levels:
        Levels to draw (default: all present), one panel each.
    central_longitude, central_latitude:
        View centre [degrees].
    data_nodes:
        Also draw the data nodes (grey dots).
    coastlines:
        Draw the packaged coarse coastlines.
    ncols, panel_size:
        Panels per row (default: up to 3) and panel size [inches].

    Returns
    -------
    matplotlib Figure (not attached to pyplot; save it with ``fig.savefig``), one cartopy
    GeoAxes per level titled with the level's node and edge counts.

    Raises
    ------
    ConfigError
        When ``graph`` has no hidden mesh or a requested level has no edges.
    """
    import cartopy.crs as ccrs
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    from wxai.viz.maps import add_coastlines

    try:
        hidden = graph["hidden"].x.double().numpy()
        edge_index = graph[_MESH].edge_index.numpy()
    except (KeyError, AttributeError) as exc:
        raise ConfigError(f"the graph has no hidden mesh to draw ({exc})") from exc
    edge_level = getattr(graph[_MESH], "level", None)
    edge_level = np.zeros(edge_index.shape[1], int) if edge_level is None else edge_level.numpy()
    node_level = getattr(graph["hidden"], "level", None)
    node_level = np.zeros(len(hidden), int) if node_level is None else node_level.numpy()
    present = sorted(int(v) for v in np.unique(edge_level))
    levels = present if levels is None else [int(v) for v in levels]
    if not levels or any(lv not in present for lv in levels):
        raise ConfigError(f"levels {levels} not all in the graph's mesh levels {present}")
    xyz = lonlat_to_xyz(np.rad2deg(hidden[:, 1]), np.rad2deg(hidden[:, 0]))
    crs = ccrs.Orthographic(central_longitude, central_latitude)
    data_xy = None
    if data_nodes and "data" in graph.node_types:
        data = graph["data"].x.double().numpy()
        xy, ok = _visible(crs, np.rad2deg(data[:, ::-1]))
        data_xy = xy[ok]

    ncols = ncols or min(3, len(levels))
    nrows = math.ceil(len(levels) / ncols)
    fig = Figure(figsize=(panel_size * ncols, panel_size * nrows + 0.3), layout="constrained")
    for k, lv in enumerate(levels):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection=crs)
        ax.set_global()
        if coastlines:
            add_coastlines(ax, None, "c", with_borders=False)
        if data_xy is not None:
            ax.scatter(data_xy[:, 0], data_xy[:, 1], s=1.0, c="0.6", linewidths=0, zorder=2)
        ei = edge_index[:, edge_level == lv]
        pairs = ei[:, ei[0] < ei[1]].T
        segments = _edge_segments(crs, xyz, pairs)
        lw = max(0.2, 1.2 - 0.2 * lv)
        ax.add_collection(
            LineCollection(segments, colors="tab:blue", linewidths=lw, zorder=3), autolim=False
        )
        nodes_xy, ok = _visible(crs, np.rad2deg(hidden[node_level <= lv][:, ::-1]))
        ax.scatter(nodes_xy[ok, 0], nodes_xy[ok, 1], s=max(1.0, 8.0 - 1.5 * lv), c="tab:red",
                   linewidths=0, zorder=4)  # fmt: skip
        n_nodes = int((node_level <= lv).sum())
        ax.set_title(
            f"level {lv}: {n_nodes} nodes, {len(pairs)} edges ({ei.shape[1]} directed)",
            fontsize=9,
        )
    return fig


def plot_node_attention(
    graph: Any,
    attention: np.ndarray,
    node: int,
    *,
    layer_name: str = "",
    panel_size: float = 3.6,
) -> Figure:
    """Where one hidden node of a graph transformer looks: weights of its incoming edges.

    Parameters
    ----------
    graph:
        The model's ``HeteroData``: hidden nodes ``x`` (N, 2) (lat, lon) radians and the
        processor edges ``("hidden", "to", "hidden")`` ``edge_index`` (2, E), source first.
    attention:
        Attention weights of one processor layer, (E, heads), in ``edge_index`` order
        (``GraphEmulatorNet.attention_weights``); each node's weights sum to 1 per head.
    node:
        The receiving hidden node.

    Returns
    -------
    Figure
        One orthographic panel centred on the node for the mean over heads, then one
        per head: the sending nodes coloured by weight, the node as a star.
    """
    import cartopy.crs as ccrs
    import matplotlib.pyplot as plt

    from wxai.viz.maps import add_coastlines

    store = graph[_MESH]
    src, dst = (store.edge_index[i].detach().cpu().numpy() for i in (0, 1))
    weights = np.asarray(attention, dtype=float)
    if weights.ndim != 2 or weights.shape[0] != src.size:
        raise ConfigError(
            f"attention must be (E, heads) with E = {src.size} processor edges, got {weights.shape}"
        )
    incoming = np.flatnonzero(dst == node)
    if not incoming.size:
        raise ConfigError(f"hidden node {node} has no incoming processor edges")
    latlon = np.rad2deg(graph["hidden"].x.detach().cpu().numpy().astype(float))
    lat0, lon0 = latlon[node]
    crs = ccrs.Orthographic(central_longitude=lon0, central_latitude=lat0)
    panels = [("mean over heads", weights[incoming].mean(axis=1))] + [
        (f"head {h}", weights[incoming, h]) for h in range(weights.shape[1])
    ]
    fig = plt.figure(figsize=(panel_size * len(panels), panel_size + 0.6), layout="constrained")
    senders = latlon[src[incoming]]
    top = float(max(w.max() for _, w in panels))
    for k, (title, w) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1, projection=crs)
        ax.set_global()
        add_coastlines(ax, None, "c", with_borders=False)
        order = np.argsort(w)
        points = ax.scatter(
            senders[order, 1], senders[order, 0], c=w[order], s=18, cmap="viridis",
            vmin=0.0, vmax=top, transform=ccrs.PlateCarree(), zorder=3,
        )  # fmt: skip
        ax.plot(lon0, lat0, marker="*", color="C3", ms=12, transform=ccrs.PlateCarree())
        ax.set_title(title, fontsize=9)
    fig.colorbar(points, ax=fig.axes, shrink=0.7, label="attention weight")
    fig.suptitle(
        f"Attention of hidden node {node} ({lat0:.1f}N, {lon0:.1f}E) over its "
        f"{incoming.size} incoming edges {layer_name}".rstrip()
    )
    return fig
