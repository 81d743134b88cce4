"""AI-Var labs: networks trained with the 3D-Var cost on the 1D and 2D toys (course unit U13).

The labs compose :mod:`wxai.da.ai.aivar` and :mod:`wxai.da.experiments`; they hold
settings, figures and acceptance checks only. The acceptance figure of each is the
AI-Var analysis RMSE against the closed-form 3D-Var analysis of the same cases.
"""

# ruff: noqa: N803, N806 - matrix names (B) follow the DA literature

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wxai.labs.data_assimilation import DAY, U13, Toy1DConfig
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext


class AIVar1DConfig(Toy1DConfig):
    """Settings of the 1D AI-Var labs."""

    hidden: list[int] = Field(min_length=1, description="MLP hidden sizes (single case)")
    channels: int = Field(ge=4, description="CNN channels (many cases)")
    dilations: list[int] = Field(min_length=1, description="CNN dilations (many cases)")
    n_train: int = Field(ge=1, description="training cases (1: the single-case lab)")
    n_test: int = Field(ge=1, description="unseen test cases")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    background: Literal["lecture", "sampled"] = "sampled"


def _statistics(cfg: AIVar1DConfig):
    from wxai.da.experiments import toy1d_statistics

    return toy1d_statistics(cfg.n, cfg.length_scale, cfg.sigma_b, cfg.alpha)


def _toy1d_batch(cfg: AIVar1DConfig, count: int, rng, B_sqrt):
    from wxai.da.experiments import toy1d_batch

    return toy1d_batch(
        count, cfg.n, cfg.n_obs, cfg.sigma_o, rng, B_sqrt=B_sqrt, background=cfg.background
    )


def _aivar_outcome(metrics: dict[str, float], what: str) -> LabOutcome:
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="rmse_ratio_aivar_3dvar",
            value=metrics["rmse_ratio_aivar_3dvar"],
            comparison="<=",
            threshold=1.05,
            baseline="AI-Var analysis RMSE within 5 % of the closed-form 3D-Var analysis",
            baseline_value=metrics["rmse_3dvar"],
        ),
        summary=(
            f"{what}: AI-Var RMSE {metrics['rmse_aivar']:.4f} vs 3D-Var "
            f"{metrics['rmse_3dvar']:.4f} (background {metrics['rmse_background']:.4f})."
        ),
    )


def _train_and_score(cfg, ctx: LabContext, model, stats, *, B, train, test, truth, batch_size: int):
    """Train ``model`` on the ``train`` cases, analyse the ``test`` cases, score vs 3D-Var."""
    from wxai.da.ai.aivar import (
        aivar_analysis,
        closed_form_batch,
        mean_costs,
        skill_against_3dvar,
        train_aivar,
    )

    history = train_aivar(
        model,
        stats,
        *train,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=batch_size,
        seed=cfg.seed,
        progress=ctx.progress,
    )
    ai = aivar_analysis(model, *test)
    var = closed_form_batch(B, *test, cfg.sigma_o)
    costs = mean_costs(stats, *test, ai, var)
    metrics = skill_against_3dvar(truth, test[0], ai, var, (costs[0], costs[1]))
    metrics["train_seconds"] = history.seconds
    return metrics, ai, var, history


@lab(
    "aivar-1d",
    title="AI-Var on one 1D case: an MLP trained with the 3D-Var cost reproduces 3D-Var",
    topic=U13,
    day=DAY,
    config=AIVar1DConfig,
)
def aivar_1d(cfg: AIVar1DConfig, ctx: LabContext) -> LabOutcome:
    """Fit the increment of one case by minimizing its variational cost over the MLP weights."""
    import torch

    from wxai.da.ai.aivar import IncrementMLP, VarStatistics
    from wxai.viz.assimilation import figure_analysis_1d

    B, B_inv, B_sqrt = _statistics(cfg)
    stats = VarStatistics(B_inv, B_sqrt, cfg.sigma_o)
    batch = _toy1d_batch(cfg, 1, ctx.rng, B_sqrt)
    inputs = (batch.background, batch.y_grid, batch.mask)
    torch.manual_seed(cfg.seed)
    model = IncrementMLP(cfg.n, cfg.hidden, B_sqrt=stats.tensors()[1])
    metrics, ai, var, history = _train_and_score(
        cfg,
        ctx,
        model,
        stats,
        B=B,
        train=inputs,
        test=inputs,
        truth=batch.cases[0].truth,
        batch_size=1,
    )
    case = batch.cases[0]
    fig = figure_analysis_1d(
        case.grid,
        truth=case.truth,
        background=case.background,
        obs_index=case.obs_index,
        y=case.y,
        analyses={"3D-Var": var[0], "AI-Var": ai[0]},
        title=f"AI-Var {metrics['rmse_aivar']:.3f} vs 3D-Var {metrics['rmse_3dvar']:.3f} (RMSE)",
        loss=history.loss,
    )
    ctx.save_figure(fig, "aivar_1d.png")
    return _aivar_outcome(metrics, "single case")


@lab(
    "aivar-1d-many",
    title="AI-Var trained on many random 1D cases, applied to unseen ones",
    topic=U13,
    day=DAY,
    config=AIVar1DConfig,
)
def aivar_1d_many(cfg: AIVar1DConfig, ctx: LabContext) -> LabOutcome:
    """Train one increment CNN on many cases with the variational cost; test on new cases."""
    import torch

    from wxai.da.ai.aivar import IncrementCNN1d, VarStatistics
    from wxai.viz.assimilation import figure_unseen_cases

    B, B_inv, B_sqrt = _statistics(cfg)
    stats = VarStatistics(B_inv, B_sqrt, cfg.sigma_o)
    train = _toy1d_batch(cfg, cfg.n_train, ctx.rng, B_sqrt)
    test = _toy1d_batch(cfg, cfg.n_test, ctx.rng, B_sqrt)
    torch.manual_seed(cfg.seed)
    model = IncrementCNN1d(cfg.channels, cfg.dilations, B_sqrt=stats.tensors()[1])
    metrics, ai, var, history = _train_and_score(
        cfg,
        ctx,
        model,
        stats,
        B=B,
        train=(train.background, train.y_grid, train.mask),
        test=(test.background, test.y_grid, test.mask),
        truth=test.truth,
        batch_size=cfg.batch_size,
    )
    for epoch, loss in enumerate(history.loss):
        ctx.log_metrics({"train_cost": loss}, step=epoch)
    grid = test.cases[0].grid
    fig = figure_unseen_cases(
        grid,
        truth=test.truth,
        background=test.background,
        reference=var,
        learned=ai,
        obs=test.obs,
        loss=history.loss,
    )
    ctx.save_figure(fig, "aivar_1d_many.png")
    return _aivar_outcome(metrics, f"{cfg.n_test} unseen cases")


class AIVar2DConfig(LabConfig):
    """Settings of ``aivar-2d``."""

    nx: int = Field(ge=8)
    nz: int = Field(ge=4)
    spinup_steps: int = Field(ge=0, description="toy-model steps before the analysis time")
    dt: float = Field(gt=0)
    sigma_b: float = Field(gt=0)
    length_x: float = Field(gt=0, description="correlation length in x (domain units)")
    length_z: float = Field(gt=0, description="correlation length in z (domain units)")
    alpha: float = Field(gt=0, lt=1, description="eigenvalue floor of B")
    sigma_o: float = Field(gt=0)
    station_every: int = Field(ge=1, description="a radiosonde in every k-th column")
    level_every: int = Field(ge=1, description="observed every k-th level")
    hidden: list[int] = Field(min_length=1)
    epochs: int = Field(ge=1)
    lr: float = Field(gt=0)


@lab(
    "aivar-2d",
    title="AI-Var on the 2D (x, z) toy atmosphere with a spectrally regularized B^-1",
    topic=U13,
    day=DAY,
    config=AIVar2DConfig,
)
def aivar_2d(cfg: AIVar2DConfig, ctx: LabContext) -> LabOutcome:
    """Radiosonde columns analysed by 3D-Var and by an MLP trained with the same cost."""
    import torch

    from wxai.da.ai.aivar import IncrementMLP, VarStatistics
    from wxai.da.experiments import toy2d_radiosonde_case
    from wxai.viz.assimilation import figure_sections

    case = toy2d_radiosonde_case(
        nx=cfg.nx,
        nz=cfg.nz,
        spinup_steps=cfg.spinup_steps,
        dt=cfg.dt,
        sigma_b=cfg.sigma_b,
        length_x=cfg.length_x,
        length_z=cfg.length_z,
        alpha=cfg.alpha,
        sigma_o=cfg.sigma_o,
        station_every=cfg.station_every,
        level_every=cfg.level_every,
        rng=ctx.rng,
    )
    stats = VarStatistics(case.B_inv, case.B_sqrt, cfg.sigma_o)
    torch.manual_seed(cfg.seed)
    net = IncrementMLP(case.model.state_size, cfg.hidden, B_sqrt=stats.tensors()[1])
    inputs = (case.background[None], case.y_grid[None], case.mask[None])
    metrics, ai, var, _ = _train_and_score(
        cfg,
        ctx,
        net,
        stats,
        B=case.B,
        train=inputs,
        test=inputs,
        truth=case.truth[None],
        batch_size=1,
    )
    metrics["budget_residual"] = case.budget_residual
    metrics["n_obs"] = float(case.obs.n_obs)

    xb, field = case.background, case.model.field
    fields = {
        "truth": case.truth,
        "background": xb,
        "3D-Var analysis": var[0],
        "AI-Var analysis": ai[0],
        "3D-Var increment": var[0] - xb,
        "AI-Var increment": ai[0] - xb,
    }
    fig = figure_sections(
        {name: field(f) for name, f in fields.items()},
        (0, case.model.length_x, 0, case.model.length_z),
        points=case.obs_points,
        title=f"2D AI-Var: RMSE AI-Var {metrics['rmse_aivar']:.3f}, "
        f"3D-Var {metrics['rmse_3dvar']:.3f}",
    )
    ctx.save_figure(fig, "aivar_2d.png")
    return _aivar_outcome(metrics, "2D toy atmosphere")
