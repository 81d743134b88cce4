"""Graph-based assimilation lab (course unit U13, day 5).

A message-passing network on an icosahedral mesh turns a background and sparse point
observations into an analysis. It is trained with the 3D-Var cost only (AI-Var style,
no analysis targets) on cases with random observation networks, and evaluated on new
observation networks against the closed-form 3D-Var analysis. The lab composes
:mod:`wxai.da.ai.graph_da` and :mod:`wxai.da.ai.aivar`; it holds settings, figures and
the acceptance check only.
"""

# ruff: noqa: N806 - matrix names (B) follow the DA literature

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np

U13 = "U13 Data assimilation"
DAY = 5


class GraphAssimilationConfig(LabConfig):
    """Settings of ``graph-assimilation``."""

    level: int = Field(ge=1, le=4, description="icosahedral bisections (2: 162, 3: 642 nodes)")
    length_scale: float = Field(gt=0, description="background-error correlation length (rad)")
    sigma_b: float = Field(gt=0, description="background-error standard deviation")
    sigma_o: float = Field(gt=0, description="observation-error standard deviation")
    alpha: float = Field(gt=0, lt=1, description="eigenvalue floor of B (fraction of the largest)")
    n_obs_min: int = Field(ge=1, description="fewest observed nodes of a case")
    n_obs_max: int = Field(ge=1, description="most observed nodes of a case")
    n_train: int = Field(ge=1, description="training cases (each its own observation network)")
    n_test: int = Field(ge=1, description="test cases on observation networks not trained on")
    output: Literal["unrolled", "representer", "control"] = Field(
        description="how the GNN output becomes the increment (see GraphIncrementNet)"
    )
    iterations: int = Field(ge=1, description="unrolled solver steps (output=unrolled)")
    hidden: int = Field(ge=4, description="latent node size")
    layers: int = Field(ge=1, description="message-passing layers")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    from wxai.verify.metrics import rmse

    return rmse(a, b)


def _mesh_panel(ax, mesh, values, title: str, *, vmin: float, vmax: float, cmap="viridis"):
    """Field on the mesh in longitude/latitude (triangles across the date line dropped)."""
    import matplotlib.tri as mtri
    import numpy as np

    lon, lat = mesh.lonlat()
    span = np.ptp(lon[mesh.faces], axis=1)
    tri = mtri.Triangulation(lon, lat, mesh.faces[span < 180.0])
    im = ax.tripcolor(tri, values, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=9)
    ax.set(xlim=(-180, 180), ylim=(-90, 90))
    return im


@lab(
    "graph-assimilation",
    title="Graph-based assimilation: a GNN on an icosahedral mesh trained with the 3D-Var cost",
    topic=U13,
    day=DAY,
    config=GraphAssimilationConfig,
)
def graph_assimilation(cfg: GraphAssimilationConfig, ctx: LabContext) -> LabOutcome:
    """Train a mesh GNN on the variational cost; test it on unseen observation networks."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from wxai.core.errors import ConfigError
    from wxai.da.ai.aivar import (
        VarStatistics,
        aivar_analysis,
        closed_form_batch,
        train_aivar,
        variational_cost,
    )
    from wxai.da.ai.graph_da import (
        GraphIncrementNet,
        gaussian_covariance_sphere,
        icosahedral_mesh,
        isolated_obs_analysis,
        sample_mesh_cases,
        unseen_networks,
    )
    from wxai.da.covariance import spectral_regularization

    if cfg.n_obs_min > cfg.n_obs_max:
        raise ConfigError(f"n_obs_min ({cfg.n_obs_min}) must not exceed n_obs_max")
    mesh = icosahedral_mesh(cfg.level)
    B, B_inv, B_sqrt = spectral_regularization(
        gaussian_covariance_sphere(mesh.xyz, cfg.length_scale, cfg.sigma_b), cfg.alpha
    )
    n_obs = (cfg.n_obs_min, cfg.n_obs_max)
    train = sample_mesh_cases(B_sqrt, cfg.sigma_o, cfg.n_train, n_obs, ctx.rng)
    test = sample_mesh_cases(B_sqrt, cfg.sigma_o, cfg.n_test, n_obs, ctx.rng)
    stats = VarStatistics(B_inv, B_sqrt, cfg.sigma_o)
    torch.manual_seed(cfg.seed)
    net = GraphIncrementNet(
        mesh,
        cfg.length_scale,
        B,
        B_sqrt=B_sqrt,
        sigma_o=cfg.sigma_o,
        output=cfg.output,
        iterations=cfg.iterations,
        hidden=cfg.hidden,
        layers=cfg.layers,
    )
    history = train_aivar(
        net,
        stats,
        train.background,
        train.y_grid,
        train.mask,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        progress=ctx.progress,
    )
    for epoch, loss in enumerate(history.loss):
        ctx.log_metrics({"train_cost": loss}, step=epoch)
    args = (test.background, test.y_grid, test.mask)
    gnn = aivar_analysis(net, *args)
    var = closed_form_batch(B, *args, cfg.sigma_o)
    iso = isolated_obs_analysis(B, *args, cfg.sigma_o)

    B_inv_t, _ = stats.tensors()
    t_args = [torch.as_tensor(a, dtype=torch.float32) for a in args]
    cost = {
        name: float(
            variational_cost(
                torch.as_tensor(xa - test.background, dtype=torch.float32),
                *t_args,
                B_inv=B_inv_t,
                sigma_o=cfg.sigma_o,
            ).mean()
        )
        for name, xa in (("gnn", gnn), ("3dvar", var))
    }
    metrics = {
        "rmse_background": _rmse(test.background, test.truth),
        "rmse_3dvar": _rmse(var, test.truth),
        "rmse_gnn": _rmse(gnn, test.truth),
        "rmse_isolated_obs": _rmse(iso, test.truth),
        "rmse_gnn_to_3dvar": _rmse(gnn, var),
        "cost_ratio_gnn_3dvar": cost["gnn"] / cost["3dvar"],
        "test_networks_seen_in_training": float(unseen_networks(train.mask, test.mask)),
        "n_nodes": float(mesh.n),
        "mean_n_obs_test": float(test.n_obs.mean()),
        "train_seconds": history.seconds,
    }
    metrics["rmse_ratio_gnn_3dvar"] = metrics["rmse_gnn"] / metrics["rmse_3dvar"]
    per_case = {
        name: np.sqrt(np.mean((xa - test.truth) ** 2, axis=1))
        for name, xa in (("background", test.background), ("3D-Var", var), ("GNN", gnn))
    }

    k = 0
    lo, hi = float(test.truth[k].min()), float(test.truth[k].max())
    lon, lat = mesh.lonlat()
    obs = test.mask[k] > 0
    fig, axes = plt.subplots(2, 3, figsize=(14, 6.5), sharex=True, sharey=True)
    panels = [
        ("truth", test.truth[k]),
        (f"background (RMSE {per_case['background'][k]:.3f})", test.background[k]),
        (f"{int(obs.sum())} observations", None),
        (f"GNN analysis (RMSE {per_case['GNN'][k]:.3f})", gnn[k]),
        (f"3D-Var analysis (RMSE {per_case['3D-Var'][k]:.3f})", var[k]),
        ("GNN - 3D-Var", gnn[k] - var[k]),
    ]
    for ax, (title, values) in zip(axes.flat, panels, strict=True):
        if values is None:
            ax.set_facecolor("0.92")
            im = ax.scatter(lon[obs], lat[obs], c=test.y_grid[k, obs], s=30, vmin=lo, vmax=hi)
            ax.set_title(title, fontsize=9)
        elif title.startswith("GNN -"):
            lim = max(float(np.abs(values).max()), 1e-6)
            im = _mesh_panel(ax, mesh, values, title, vmin=-lim, vmax=lim, cmap="RdBu_r")
        else:
            im = _mesh_panel(ax, mesh, values, title, vmin=lo, vmax=hi)
        if values is not None and title != "truth":
            ax.scatter(lon[obs], lat[obs], s=6, c="k", marker="x", lw=0.6)
        fig.colorbar(im, ax=ax, fraction=0.04)
    for ax in axes[:, 0]:
        ax.set_ylabel("latitude")
    for ax in axes[1]:
        ax.set_xlabel("longitude")
    fig.suptitle(f"unseen observation network, test case {k} ({mesh.n}-node icosahedral mesh)")
    fig.tight_layout()
    ctx.save_figure(fig, "graph_assimilation_fields.png")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    order = np.argsort(per_case["3D-Var"])
    for name, style in (("background", "C0."), ("3D-Var", "C1o"), ("GNN", "C2x")):
        axes[0].plot(per_case[name][order], style, ms=4, label=name)
    axes[0].set(xlabel="test case (sorted by 3D-Var RMSE)", ylabel="RMSE", title="RMSE per case")
    axes[0].legend(fontsize=8)
    axes[1].semilogy(history.loss)
    axes[1].set(xlabel="epoch", ylabel="mean J (training)", title="variational training cost")
    fig.tight_layout()
    ctx.save_figure(fig, "graph_assimilation_rmse.png")

    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="rmse_ratio_gnn_3dvar",
            value=metrics["rmse_ratio_gnn_3dvar"],
            comparison="<=",
            threshold=1.10,
            baseline="GNN analysis RMSE within 10 % of the closed-form 3D-Var analysis "
            "on observation networks not seen in training",
            baseline_value=metrics["rmse_3dvar"],
        ),
        summary=(
            f"{cfg.n_test} unseen observation networks on {mesh.n} nodes: GNN RMSE "
            f"{metrics['rmse_gnn']:.4f} vs 3D-Var {metrics['rmse_3dvar']:.4f} (background "
            f"{metrics['rmse_background']:.4f}, isolated-observation analysis "
            f"{metrics['rmse_isolated_obs']:.4f})."
        ),
    )
