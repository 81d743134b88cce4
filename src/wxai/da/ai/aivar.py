"""AI-Var: a network predicts the analysis increment and is trained with the 3D-Var cost only.

The network sees the background, the observations scattered to the grid and the
observation mask, ``[x_b, y_grid, mask]``, and returns an increment ``dx``. Its loss
is the variational cost of the analysis ``x_b + dx``,

``J(dx) = 1/2 dx^T B^-1 dx + 1/2 sum_i mask_i (y_i - x_b,i - dx_i)^2 / sigma_o^2``,

so no analysis is ever used as a target: the minimizer is learned from the statistics
(``B``, ``R``) and the observation operator inside the loss. With point observations
``H^T R^-1 H = diag(mask) / sigma_o^2``, which lets cases with different numbers of
observations share a batch.

Networks may output the increment in control space: ``dx = B^{1/2} v`` (option
``precondition``), the change of variable used by operational 3D-Var minimizers; it
turns the ill-conditioned ``B^-1`` term into ``1/2 |v|^2`` and makes training fast.
"""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from wxai.nn.conv import ConvNet1d
from wxai.nn.mlp import MLP


@dataclass
class VarStatistics:
    """The fixed statistics of the variational cost.

    Attributes
    ----------
    B_inv, B_sqrt:
        ``B^-1`` and the symmetric ``B^{1/2}``, shape ``(n, n)`` (from
        :func:`wxai.da.covariance.spectral_regularization` for Gaussian ``B``).
    sigma_o:
        Observation-error standard deviation (``R = sigma_o^2 I``).
    """

    B_inv: np.ndarray
    B_sqrt: np.ndarray
    sigma_o: float
    _tensors: dict = field(default_factory=dict, repr=False)

    def tensors(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """``B^-1`` and ``B^{1/2}`` as float32 tensors on ``device`` (cached)."""
        key = str(device)
        if key not in self._tensors:
            self._tensors[key] = (
                torch.as_tensor(self.B_inv, dtype=torch.float32, device=device),
                torch.as_tensor(self.B_sqrt, dtype=torch.float32, device=device),
            )
        return self._tensors[key]


def variational_cost(
    dx: torch.Tensor,
    xb: torch.Tensor,
    y_grid: torch.Tensor,
    mask: torch.Tensor,
    *,
    B_inv: torch.Tensor,
    sigma_o: float,
) -> torch.Tensor:
    """3D-Var cost of the analyses ``xb + dx`` for a batch of cases.

    Parameters
    ----------
    dx, xb, y_grid, mask:
        Increment, background, observations on the grid and 0/1 mask, ``(batch, n)``.
    B_inv:
        ``(n, n)``.
    sigma_o:
        Observation-error standard deviation.

    Returns
    -------
    torch.Tensor
        ``J`` per case, shape ``(batch,)``.
    """
    jb = 0.5 * torch.einsum("bi,ij,bj->b", dx, B_inv, dx)
    innov = mask * (y_grid - xb - dx)
    jo = 0.5 * (innov**2).sum(dim=-1) / sigma_o**2
    return jb + jo


def stack_inputs(xb: torch.Tensor, y_grid: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The network input ``[x_b, y_grid, mask]`` as channels: ``(batch, 3, n)``."""
    return torch.stack([xb, y_grid, mask], dim=1)


class IncrementMLP(nn.Module):
    """Dense increment network on the flattened ``[x_b, y_grid, mask]`` (lecture 18).

    Parameters
    ----------
    n:
        State size (``nz * nx`` for a flattened 2D field).
    hidden:
        Hidden layer sizes, e.g. ``(256, 256)``.
    B_sqrt:
        If given, the output is ``v`` and the increment ``B^{1/2} v`` (control space).

    Shapes
    ------
    input ``(batch, 3, n)`` -> increment ``(batch, n)``.
    """

    def __init__(
        self, n: int, hidden: Sequence[int] = (256, 256), B_sqrt: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        self.net = MLP(3 * n, n, hidden, act="tanh")
        self.register_buffer("B_sqrt", B_sqrt)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Increment for inputs ``(batch, 3, n)``."""
        out = self.net(inputs.flatten(1))
        return out if self.B_sqrt is None else out @ self.B_sqrt


class IncrementCNN1d(nn.Module):
    """Translation-equivariant increment network for a periodic 1D grid.

    A dilated circular :class:`~wxai.nn.conv.ConvNet1d` reads ``[x_b, y_grid, mask]``
    and the masked innovation ``mask (y_grid - x_b)`` (computed from the inputs), so one
    network applies to any observation layout. The receptive field should cover a few
    background-error correlation lengths.

    Parameters
    ----------
    channels:
        Hidden channels per layer.
    dilations:
        Dilation of each hidden layer (kernel size 5); a final 1-wide layer is added.
    B_sqrt:
        If given, the output is ``v`` and the increment ``B^{1/2} v``.

    Shapes
    ------
    input ``(batch, 3, n)`` -> increment ``(batch, n)``.
    """

    def __init__(
        self,
        channels: int = 48,
        dilations: Sequence[int] = (1, 2, 4, 8, 16),
        B_sqrt: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        n_hidden = len(dilations)
        self.net = ConvNet1d(
            [4, *([channels] * n_hidden), 1],
            [5] * n_hidden + [1],
            dilations=[*dilations, 1],
            padding_mode="circular",
            act="gelu",
        )
        self.register_buffer("B_sqrt", B_sqrt)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Increment for inputs ``(batch, 3, n)``."""
        xb, y_grid, mask = inputs[:, 0], inputs[:, 1], inputs[:, 2]
        features = torch.cat([inputs, (mask * (y_grid - xb)).unsqueeze(1)], dim=1)
        out = self.net(features).squeeze(1)
        return out if self.B_sqrt is None else out @ self.B_sqrt


@dataclass
class AIVarHistory:
    """Training record: mean cost per epoch (or step) and the wall time (s)."""

    loss: list[float]
    seconds: float


def train_aivar(
    model: nn.Module,
    stats: VarStatistics,
    xb: np.ndarray,
    y_grid: np.ndarray,
    mask: np.ndarray,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    threads: int | None = 1,
    progress: Callable[[float, str], None] | None = None,
) -> AIVarHistory:
    """Train ``model`` on cases ``(x_b, y_grid, mask)`` with the variational cost only.

    Parameters
    ----------
    xb, y_grid, mask:
        Training cases, each ``(cases, n)`` (one case: ``(1, n)``).
    epochs:
        Passes over the cases (for one case: optimizer steps).
    lr:
        Adam learning rate, decayed by a cosine schedule to 1 % of it.
    threads:
        Intra-op torch threads while training (``None``: leave the setting alone); these
        networks are small, and one thread is fastest on a busy CPU.
    progress:
        Called with the fraction done and a message.

    Returns
    -------
    AIVarHistory
        Mean cost per epoch.
    """
    import time

    from wxai.core.device import torch_threads
    from wxai.train.loop import minimize_over_batches

    B_inv, _ = stats.tensors()
    data = tuple(torch.as_tensor(a, dtype=torch.float32) for a in (xb, y_grid, mask))

    def batch_loss(batch: tuple[torch.Tensor, ...], _generator: torch.Generator) -> torch.Tensor:
        b_xb, b_y, b_mask = batch
        dx = model(stack_inputs(b_xb, b_y, b_mask))
        cost = variational_cost(dx, b_xb, b_y, b_mask, B_inv=B_inv, sigma_o=stats.sigma_o)
        return cost.mean()

    start = time.perf_counter()
    with torch_threads(threads):
        losses = minimize_over_batches(
            model,
            data,
            batch_loss,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
            reports=20,
            label="J =",
        )
    return AIVarHistory(losses, time.perf_counter() - start)


@torch.no_grad()
def aivar_analysis(
    model: nn.Module, xb: np.ndarray, y_grid: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Analyses ``x_b + N(x_b, y_grid, mask)`` for cases ``(cases, n)``; returns ``(cases, n)``."""
    model.eval()
    t = [torch.as_tensor(np.atleast_2d(a), dtype=torch.float32) for a in (xb, y_grid, mask)]
    dx = model(stack_inputs(*t)).double().numpy()
    return np.atleast_2d(xb) + dx


def closed_form_batch(
    B: np.ndarray, xb: np.ndarray, y_grid: np.ndarray, mask: np.ndarray, sigma_o: float
) -> np.ndarray:
    """Closed-form 3D-Var analyses for cases ``(cases, n)`` with point observations.

    Each case has its own observation set (``mask``), so each gets its own solve of
    ``(H B H^T + R) w = d``; returns ``(cases, n)``.
    """
    out = np.empty_like(np.atleast_2d(xb), dtype=float)
    for k, (b, y, m) in enumerate(
        zip(np.atleast_2d(xb), np.atleast_2d(y_grid), np.atleast_2d(mask), strict=True)
    ):
        idx = np.flatnonzero(m)
        s = B[np.ix_(idx, idx)] + sigma_o**2 * np.eye(idx.size)
        out[k] = b + B[:, idx] @ np.linalg.solve(s, y[idx] - b[idx])
    return out


def mean_costs(
    stats: VarStatistics,
    xb: np.ndarray,
    y_grid: np.ndarray,
    mask: np.ndarray,
    *analyses: np.ndarray,
) -> list[float]:
    """Mean variational cost over the cases of each analysis.

    Parameters
    ----------
    xb, y_grid, mask:
        Background, observations on the grid and 0/1 mask, ``(cases, n)``.
    analyses:
        Analyses ``(cases, n)``, e.g. a learned one and the closed-form 3D-Var one.

    Returns
    -------
    list[float]
        ``mean_k J(x_a,k - x_b,k)`` per analysis, in the order given.
    """
    B_inv, _ = stats.tensors()
    t = [torch.as_tensor(a, dtype=torch.float32) for a in (xb, y_grid, mask)]
    out = []
    for xa in analyses:
        dx = torch.as_tensor(xa, dtype=torch.float32) - t[0]
        out.append(float(variational_cost(dx, *t, B_inv=B_inv, sigma_o=stats.sigma_o).mean()))
    return out


def skill_against_3dvar(
    truth: np.ndarray,
    xb: np.ndarray,
    learned: np.ndarray,
    var: np.ndarray,
    costs: tuple[float, float],
    *,
    name: str = "aivar",
) -> dict[str, float]:
    """RMSE of a learned analysis next to the background and the 3D-Var analysis.

    Parameters
    ----------
    truth, xb, learned, var:
        Truth, background, learned and closed-form 3D-Var analyses, ``(cases, n)``.
    costs:
        Mean variational cost of the learned and the 3D-Var analysis (:func:`mean_costs`).
    name:
        Key of the learned analysis in the metric names.

    Returns
    -------
    dict
        ``rmse_background``, ``rmse_3dvar``, ``rmse_<name>``, ``rmse_<name>_to_3dvar``,
        ``cost_ratio_<name>_3dvar`` and ``rmse_ratio_<name>_3dvar``.
    """
    from wxai.verify.metrics import rmse

    metrics = {
        "rmse_background": rmse(xb, truth),
        "rmse_3dvar": rmse(var, truth),
        f"rmse_{name}": rmse(learned, truth),
        f"rmse_{name}_to_3dvar": rmse(learned, var),
        f"cost_ratio_{name}_3dvar": costs[0] / costs[1],
    }
    metrics[f"rmse_ratio_{name}_3dvar"] = metrics[f"rmse_{name}"] / metrics["rmse_3dvar"]
    return metrics
