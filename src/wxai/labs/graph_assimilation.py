"""Graph-based assimilation lab (course unit U13, day 5).

A message-passing network on an icosahedral mesh turns a background and sparse point
observations into an analysis. It is trained with the 3D-Var cost only (AI-Var style,
no analysis targets) on cases with random observation networks, and evaluated on new
observation networks against the closed-form 3D-Var analysis. The lab composes
:mod:`wxai.da.ai.graph_da` and :mod:`wxai.da.ai.aivar`; it holds settings, figures and
the acceptance check only.
"""

# ruff: noqa: N803, N806 - matrix names (B) follow the DA literature

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


def _evaluate(cfg: GraphAssimilationConfig, net, stats, B, *, mesh, train, test):
    """Analyses of the test cases by the network, 3D-Var and isolated observations; scores."""
    from wxai.da.ai.aivar import (
        aivar_analysis,
        closed_form_batch,
        mean_costs,
        skill_against_3dvar,
    )
    from wxai.da.ai.graph_da import isolated_obs_analysis, unseen_networks
    from wxai.verify.metrics import rmse

    args = (test.background, test.y_grid, test.mask)
    gnn = aivar_analysis(net, *args)
    var = closed_form_batch(B, *args, cfg.sigma_o)
    iso = isolated_obs_analysis(B, *args, cfg.sigma_o)
    costs = mean_costs(stats, *args, gnn, var)
    metrics = skill_against_3dvar(
        test.truth, test.background, gnn, var, (costs[0], costs[1]), name="gnn"
    )
    metrics["rmse_isolated_obs"] = rmse(iso, test.truth)
    metrics["test_networks_seen_in_training"] = float(unseen_networks(train.mask, test.mask))
    metrics["n_nodes"] = float(mesh.n)
    metrics["mean_n_obs_test"] = float(test.n_obs.mean())
    return metrics, gnn, var


def _figures(ctx: LabContext, mesh, test, *, gnn: np.ndarray, var: np.ndarray, loss) -> None:
    """Test case 0 on the mesh, and the RMSE of every test case with the training cost."""
    from wxai.verify.series import rmse_per_sample
    from wxai.viz.assimilation import figure_mesh_case, figure_rmse_per_case

    per_case = {
        name: rmse_per_sample(xa, test.truth)
        for name, xa in (("background", test.background), ("3D-Var", var), ("GNN", gnn))
    }
    k = 0
    lon, lat = mesh.lonlat()
    fields = {
        "truth": test.truth[k],
        f"background (RMSE {per_case['background'][k]:.3f})": test.background[k],
        f"GNN analysis (RMSE {per_case['GNN'][k]:.3f})": gnn[k],
        f"3D-Var analysis (RMSE {per_case['3D-Var'][k]:.3f})": var[k],
        "GNN - 3D-Var": gnn[k] - var[k],
    }
    fig = figure_mesh_case(
        lon,
        lat,
        mesh.faces,
        fields,
        y_grid=test.y_grid[k],
        mask=test.mask[k],
        title=f"unseen observation network, test case {k} ({mesh.n}-node icosahedral mesh)",
    )
    ctx.save_figure(fig, "graph_assimilation_fields.png")
    fig = figure_rmse_per_case(per_case, loss, sort_by="3D-Var")
    ctx.save_figure(fig, "graph_assimilation_rmse.png")


@lab(
    "graph-assimilation",
    title="Graph-based assimilation: a GNN on an icosahedral mesh trained with the 3D-Var cost",
    topic=U13,
    day=DAY,
    config=GraphAssimilationConfig,
)
def graph_assimilation(cfg: GraphAssimilationConfig, ctx: LabContext) -> LabOutcome:
    """Train a mesh GNN on the variational cost; test it on unseen observation networks."""
    import torch

    from wxai.core.errors import ConfigError
    from wxai.da.ai.aivar import VarStatistics, train_aivar
    from wxai.da.ai.graph_da import (
        GraphIncrementNet,
        gaussian_covariance_sphere,
        icosahedral_mesh,
        sample_mesh_cases,
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
    metrics, gnn, var = _evaluate(cfg, net, stats, B, mesh=mesh, train=train, test=test)
    metrics["train_seconds"] = history.seconds
    _figures(ctx, mesh, test, gnn=gnn, var=var, loss=history.loss)
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
