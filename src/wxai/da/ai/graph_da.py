"""Graph-based assimilation: a GNN analysis on a spherical mesh trained with the 3D-Var cost.

The state lives on the vertices of an icosahedral mesh (unit sphere). A message-passing
network (:class:`wxai.nn.message_passing.GraphNetwork`) reads, at every node, the
background, the observation scattered to the node, the observation mask, the
innovation ``d = mask (y_grid - x_b)`` and their spread by the correlation ``C`` (see
:class:`GraphIncrementNet`), and passes messages along the mesh edges (edge feature:
edge length over the correlation length). It is trained like AI-Var
(:mod:`wxai.da.ai.aivar`) on the variational cost only,

``J(x) = 1/2 (x - x_b)^T B^-1 (x - x_b) + 1/2 (y - H x)^T R^-1 (y - H x)``,

with ``B`` a Gaussian correlation of the chord distance between nodes (positive
definite on the sphere), so no analysis is ever a target. The same weights apply to
any observation network on the mesh: each case brings its own mask.

Three output forms are available (``output``):

``"unrolled"`` (the lab's default)
    The increment is ``dx = B H^T w``, the form of the 3D-Var minimizer, whose dual
    weights solve ``(H B H^T + R) w = d``. The network starts from the weights of
    isolated observations, ``w = d / (sigma_b^2 + sigma_o^2)``, and refines them in a
    few unrolled steps: each step shows the same GNN the residual of that equation at
    the observed nodes (and its spread by ``B``), and the GNN returns the update - a
    learned solver in the spirit of 4DVarNet-type unrolled schemes, trained on ``J``.
``"representer"``
    One pass: the network returns ``w`` at every node, kept at observed nodes, and
    ``dx = B H^T w``.
``"control"``
    One pass: the network returns a control vector ``v`` and ``dx = B^{1/2} v`` (the
    change of variable of operational 3D-Var; see
    :class:`wxai.da.ai.aivar.IncrementMLP`).

In short trials on the 162-node mesh the one-pass forms stayed 13-19 % above the
3D-Var analysis RMSE after a few hundred optimizer steps, the unrolled form within
3-4 %: spreading innovations over several correlation lengths by message passing
alone takes many hops, while ``B`` does it exactly.

The model takes the AI-Var input layout ``(batch, 3, n)`` so that
:func:`wxai.da.ai.aivar.train_aivar`, :func:`~wxai.da.ai.aivar.aivar_analysis` and
:func:`~wxai.da.ai.aivar.closed_form_batch` serve it unchanged.
"""

# ruff: noqa: N803, N806 - matrix names (B, R, H) follow the DA literature

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.data.grids.icosahedral import edge_topology, icosahedron, subdivide
from wxai.nn.message_passing import GraphNetwork

OutputForm = Literal["representer", "control", "unrolled"]


@dataclass(frozen=True)
class SphereMesh:
    """Vertices and edges of a triangulated unit sphere.

    Attributes
    ----------
    xyz:
        Unit vectors of the nodes, shape ``(n, 3)``.
    faces:
        Vertex indices of the triangles, shape ``(n_faces, 3)``.
    edge_index:
        Directed edges ``j -> i`` in both directions, shape ``(2, E)`` (row 0 sources,
        row 1 targets, the PyTorch Geometric convention).
    edge_length:
        Great-circle length of each edge (rad), shape ``(E,)``.
    """

    xyz: np.ndarray
    faces: np.ndarray
    edge_index: np.ndarray
    edge_length: np.ndarray

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.xyz.shape[0])

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude in ``[-180, 180)`` and latitude of the nodes (degrees), each ``(n,)``."""
        lon = np.rad2deg(np.arctan2(self.xyz[:, 1], self.xyz[:, 0]))
        lat = np.rad2deg(np.arcsin(np.clip(self.xyz[:, 2], -1.0, 1.0)))
        return (lon + 180.0) % 360.0 - 180.0, lat


def icosahedral_mesh(level: int) -> SphereMesh:
    """The vertex mesh of the icosahedron bisected ``level`` times.

    Parameters
    ----------
    level:
        Number of edge bisections: ``10 * 4**level + 2`` nodes (162 at 2, 642 at 3),
        mean edge length about ``1.1 / 2**level`` rad.

    Returns
    -------
    SphereMesh
        Nodes on the unit sphere and the mesh edges in both directions.
    """
    if level < 0 or int(level) != level:
        raise ConfigError(f"level must be a non-negative integer, got {level!r}")
    xyz, faces = icosahedron()
    for _ in range(int(level)):
        xyz, faces = subdivide(xyz, faces)
    edges, _, _ = edge_topology(faces)
    edge_index = np.concatenate([edges.T, edges[:, ::-1].T], axis=1).astype(np.int64)
    length = great_circle_distance(xyz[edge_index[0]], xyz[edge_index[1]])
    return SphereMesh(xyz, faces, edge_index, length)


def great_circle_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) between unit vectors ``a`` and ``b``, shapes ``(..., 3)`` -> ``(...)``."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.arctan2(cross, np.einsum("...i,...i->...", a, b))


def gaussian_covariance_sphere(xyz: np.ndarray, length_scale: float, sigma: float) -> np.ndarray:
    """Covariance ``sigma^2 exp(-c^2 / (2 L^2))`` with ``c`` the chord distance of two nodes.

    The chord is the straight-line distance through the sphere; a Gaussian of it is
    the restriction of a 3D Gaussian kernel and so positive definite on the sphere
    (a Gaussian of the great-circle distance is not, in general). For ``L`` well below
    one radian chord and arc nearly agree.

    Parameters
    ----------
    xyz:
        Unit vectors of the nodes, ``(n, 3)``.
    length_scale:
        ``L`` in radians of arc on the unit sphere (multiply by the Earth radius for m).
    sigma:
        Standard deviation (state units).

    Returns
    -------
    numpy.ndarray
        ``(n, n)``, symmetric.
    """
    if length_scale <= 0 or sigma <= 0:
        raise ConfigError(f"length_scale and sigma must be > 0, got {length_scale}, {sigma}")
    chord2 = np.sum((xyz[:, None, :] - xyz[None, :, :]) ** 2, axis=-1)
    return sigma**2 * np.exp(-0.5 * chord2 / length_scale**2)


@dataclass
class MeshCases:
    """Assimilation cases on one mesh, each with its own observation network.

    Attributes
    ----------
    truth, background, y_grid, mask:
        Each ``(cases, n)``; ``y_grid`` holds the observation at observed nodes and 0
        elsewhere, ``mask`` is 1 at observed nodes.
    """

    truth: np.ndarray
    background: np.ndarray
    y_grid: np.ndarray
    mask: np.ndarray

    @property
    def n_obs(self) -> np.ndarray:
        """Number of observations of every case, ``(cases,)``."""
        return self.mask.sum(axis=1).astype(int)


def sample_mesh_cases(
    B_sqrt: np.ndarray,
    sigma_o: float,
    count: int,
    n_obs: tuple[int, int],
    rng: np.random.Generator,
    *,
    truth_scale: float = 2.0,
) -> MeshCases:
    """Random cases: truth, a background with error ``~ N(0, B)`` and point observations.

    Parameters
    ----------
    B_sqrt:
        ``B^{1/2}``, ``(n, n)``: background errors are ``B^{1/2} e`` with ``e ~ N(0, I)``.
    sigma_o:
        Observation-error standard deviation.
    count:
        Number of cases.
    n_obs:
        Inclusive range of the number of observed nodes; each case draws a count and a
        set of distinct nodes (its observation network) at random.
    truth_scale:
        The truth is ``truth_scale * B^{1/2} e'``, a smooth field with the correlation
        length of ``B``.

    Returns
    -------
    MeshCases
        ``count`` cases.
    """
    n = B_sqrt.shape[0]
    lo, hi = n_obs
    if not 1 <= lo <= hi <= n:
        raise ConfigError(f"n_obs must satisfy 1 <= min <= max <= {n}, got {n_obs}")
    truth = truth_scale * rng.standard_normal((count, n)) @ B_sqrt
    background = truth + rng.standard_normal((count, n)) @ B_sqrt
    mask = np.zeros((count, n))
    for k in range(count):
        mask[k, rng.choice(n, size=int(rng.integers(lo, hi + 1)), replace=False)] = 1.0
    y_grid = mask * (truth + sigma_o * rng.standard_normal((count, n)))
    return MeshCases(truth, background, y_grid, mask)


def unseen_networks(train_mask: np.ndarray, test_mask: np.ndarray) -> int:
    """Number of test observation networks that also occur in the training set.

    Parameters
    ----------
    train_mask, test_mask:
        0/1 masks, ``(cases, n)`` each.

    Returns
    -------
    int
        Count of test rows identical to some training row (0: every network is new).
    """
    seen = {row.tobytes() for row in train_mask.astype(np.uint8)}
    return sum(row.tobytes() in seen for row in test_mask.astype(np.uint8))


class GraphIncrementNet(nn.Module):
    """Message-passing increment network on a fixed mesh, for any observation network.

    Node features are ``[x_b, y_grid, mask, d, C d, C mask]`` with ``d = mask (y_grid -
    x_b)`` the innovation at observed nodes and ``C = B / sigma_b^2`` the correlation:
    ``C d`` and ``C mask`` tell each node how much innovation and how many observations
    lie within a correlation length, which a few mesh hops cannot see on their own.

    Parameters
    ----------
    mesh:
        The mesh; its edges carry one feature, the edge length over ``length_scale``.
    length_scale:
        Background-error correlation length (rad), used to scale the edge feature.
    B:
        Background-error covariance, ``(n, n)``.
    B_sqrt:
        ``B^{1/2}``, ``(n, n)``; needed for ``output="control"``.
    sigma_o:
        Observation-error standard deviation; needed for ``output="unrolled"``.
    output:
        ``"control"``: ``dx = B^{1/2} v`` with ``v`` the network output.
        ``"representer"``: ``dx = B (mask * w)`` with ``w`` the network output.
        ``"unrolled"``: ``dx = B w`` with ``w`` built in ``iterations`` steps; each step
        feeds the current residual of the observation-space equation
        ``r = d - (H B H^T + R) w`` (on the grid) to the same GNN, which returns the
        update of ``w`` at observed nodes: a learned solver of 3D-Var's dual problem.
    iterations:
        Unrolled steps (``output="unrolled"`` only).
    hidden:
        Latent node size.
    layers:
        Message-passing layers (receptive field in mesh hops).
    message_hidden:
        Width of the message MLP (``None``: linear messages).
    act:
        Activation between layers.

    Shapes
    ------
    input ``(batch, 3, n)`` as ``[x_b, y_grid, mask]`` -> increment ``(batch, n)``.
    """

    def __init__(
        self,
        mesh: SphereMesh,
        length_scale: float,
        B: np.ndarray | torch.Tensor,
        *,
        B_sqrt: np.ndarray | torch.Tensor | None = None,
        sigma_o: float | None = None,
        output: OutputForm = "representer",
        iterations: int = 4,
        hidden: int = 32,
        layers: int = 4,
        message_hidden: int | None = None,
        act: str = "gelu",
    ) -> None:
        super().__init__()
        if output not in ("representer", "control", "unrolled"):
            raise ConfigError(
                f"output must be 'representer', 'control' or 'unrolled', got {output!r}"
            )
        if output == "control" and B_sqrt is None:
            raise ConfigError("output='control' needs B_sqrt")
        if output == "unrolled" and (sigma_o is None or iterations < 1):
            raise ConfigError("output='unrolled' needs sigma_o and iterations >= 1")
        self.output: OutputForm = output
        self.iterations = iterations
        self.gnn = GraphNetwork(
            6 if output != "unrolled" else 7,
            1,
            hidden=hidden,
            layers=layers,
            edge_features=1,
            aggr="sum",
            message_hidden=message_hidden,
            act=act,
        )
        if output == "unrolled":  # start as the isolated-observation analysis
            nn.init.zeros_(self.gnn.decoder.weight)
            nn.init.zeros_(self.gnn.decoder.bias)
        self.register_buffer("edge_index", torch.as_tensor(mesh.edge_index, dtype=torch.long))
        edge_attr = torch.as_tensor(mesh.edge_length / length_scale, dtype=torch.float32)
        self.register_buffer("edge_attr", edge_attr.unsqueeze(1))
        B_t = torch.as_tensor(B, dtype=torch.float32)
        self.var_b = float(torch.diagonal(B_t).mean())
        self.register_buffer("B", B_t)
        self.register_buffer("C", B_t / self.var_b)
        out = B_t if B_sqrt is None or output != "control" else B_sqrt
        self.register_buffer("out_matrix", torch.as_tensor(out, dtype=torch.float32))
        self.var_o = float(sigma_o or 0.0) ** 2

    def _features(self, *fields: torch.Tensor) -> torch.Tensor:
        return torch.stack(fields, dim=-1)  # (batch, n, F)

    def _run(self, features: torch.Tensor) -> torch.Tensor:
        return self.gnn(features, self.edge_index, self.edge_attr).squeeze(-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Increment for inputs ``(batch, 3, n)``."""
        xb, y_grid, mask = inputs[:, 0], inputs[:, 1], inputs[:, 2]
        innov = mask * (y_grid - xb)
        spread = torch.stack([innov, mask], dim=1) @ self.C  # (batch, 2, n)
        if self.output != "unrolled":
            out = self._run(self._features(xb, y_grid, mask, innov, spread[:, 0], spread[:, 1]))
            if self.output == "representer":
                out = mask * out
            return out @ self.out_matrix
        scale = self.var_b + self.var_o
        w = innov / scale  # every observation alone: the first guess of the dual weights
        for _ in range(self.iterations):
            r = mask * (innov - w @ self.B) - self.var_o * w  # (batch, n), 0 where unobserved
            f = self._features(r, mask, r @ self.C, spread[:, 1], w * scale, innov, spread[:, 0])
            w = w + mask * self._run(f) / scale
        return w @ self.B


def isolated_obs_analysis(
    B: np.ndarray, xb: np.ndarray, y_grid: np.ndarray, mask: np.ndarray, sigma_o: float
) -> np.ndarray:
    """Analyses that treat every observation as if it were alone (a baseline).

    ``x_a = x_b + B H^T w`` with ``w_i = d_i / (B_ii + sigma_o^2)``: the exact 3D-Var
    answer for one observation, summed over observations without their interaction.
    The GNN has to beat it where observations are closer than a correlation length.

    Parameters
    ----------
    B:
        ``(n, n)``.
    xb, y_grid, mask:
        ``(cases, n)``.

    Returns
    -------
    numpy.ndarray
        ``(cases, n)``.
    """
    w = mask * (y_grid - xb) / (np.diag(B) + sigma_o**2)
    return xb + w @ B
