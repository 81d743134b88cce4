"""Data-assimilation labs: 3D-Var on the 1D toy, DAPPER benchmarks, AI-Var (course unit U13).

The labs compose :mod:`wxai.da`; they hold settings, figures and acceptance checks only.
"""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np

U13 = "U13 Data assimilation"
DAY = 5


class Toy1DConfig(LabConfig):
    """Settings shared by the 1D toy labs."""

    n: int = Field(ge=16, description="grid points on the periodic domain")
    n_obs: int = Field(ge=1, description="observed grid points")
    sigma_b: float = Field(gt=0, description="background-error standard deviation")
    length_scale: float = Field(gt=0, description="background-error correlation length (points)")
    sigma_o: float = Field(gt=0, description="observation-error standard deviation")
    alpha: float = Field(gt=0, lt=1, description="eigenvalue floor of B (fraction of the largest)")


def _toy1d_statistics(cfg: Toy1DConfig):
    from wxai.da.covariance import gaussian_covariance_1d, spectral_regularization

    B = gaussian_covariance_1d(cfg.n, cfg.length_scale, cfg.sigma_b)
    return spectral_regularization(B, cfg.alpha)


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    from wxai.verify.metrics import rmse

    return rmse(a, b)


def _plot_case(ax_state, ax_inc, case, analyses: dict[str, np.ndarray]) -> None:
    """Truth, background, observations, analyses (top) and increments (bottom)."""
    ax_state.plot(case.grid, case.truth, "k-", lw=1.5, label="truth")
    ax_state.plot(case.grid, case.background, "C0--", lw=1.2, label="background")
    ax_state.scatter(case.grid[case.obs_index], case.y, c="C3", s=14, zorder=3, label="obs")
    for i, (name, xa) in enumerate(analyses.items()):
        ax_state.plot(case.grid, xa, f"C{i + 1}", lw=1.2, ls="-" if i == 0 else ":", label=name)
        ax_inc.plot(
            case.grid, xa - case.background, f"C{i + 1}", ls="-" if i == 0 else ":", label=name
        )
    innov = case.y - case.background[case.obs_index]
    ax_inc.scatter(case.grid[case.obs_index], innov, c="C3", s=12, label="obs - background")
    ax_inc.axhline(0, color="0.6", lw=0.8)
    ax_state.set(ylabel="state")
    ax_inc.set(xlabel="x [rad]", ylabel="increment")
    ax_state.legend(fontsize=7, ncol=3)
    ax_inc.legend(fontsize=7)


@lab(
    "da-3dvar-1d",
    title="3D-Var on the periodic 1D toy: closed form, control-variable CG and Kalman agree",
    topic=U13,
    day=DAY,
    config=Toy1DConfig,
)
def da_3dvar_1d(cfg: Toy1DConfig, ctx: LabContext) -> LabOutcome:
    """One 3D-Var analysis of a structured background error from sparse point observations."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.da.methods import FilterState, KalmanFilter, var3d_analysis, var3d_control_cg
    from wxai.da.models import make_toy1d_case
    from wxai.da.operators import point_sampling

    B, _, B_sqrt = _toy1d_statistics(cfg)
    case = make_toy1d_case(cfg.n, cfg.n_obs, cfg.sigma_o, ctx.rng, background="lecture")
    obs = point_sampling(cfg.n, case.obs_index, cfg.sigma_o)
    closed = var3d_analysis(case.background, B, obs.H, obs.R, case.y)
    cg, iterations = var3d_control_cg(case.background, B_sqrt, obs.H, obs.R, case.y)
    kf = KalmanFilter().analyse(FilterState(mean=case.background, cov=B), case.y, obs, None)
    metrics = {
        "rmse_background": _rmse(case.background, case.truth),
        "rmse_3dvar": _rmse(closed, case.truth),
        "max_diff_cg_closed": float(np.abs(cg - closed).max()),
        "max_diff_kalman_closed": float(np.abs(kf.mean - closed).max()),
        "cg_iterations": float(iterations),
    }
    metrics["rmse_ratio_3dvar_background"] = metrics["rmse_3dvar"] / metrics["rmse_background"]

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    _plot_case(ax1, ax2, case, {"3D-Var analysis": closed})
    ax1.set_title(
        f"3D-Var: RMSE background {metrics['rmse_background']:.3f} -> analysis "
        f"{metrics['rmse_3dvar']:.3f}"
    )
    ctx.save_figure(fig, "3dvar_1d.png")
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="rmse_ratio_3dvar_background",
            value=metrics["rmse_ratio_3dvar_background"],
            comparison="<",
            threshold=0.7,
            baseline="analysis RMSE below 70 % of the background's",
            baseline_value=metrics["rmse_background"],
        ),
        summary=(
            f"3D-Var reduces the RMSE from {metrics['rmse_background']:.3f} to "
            f"{metrics['rmse_3dvar']:.3f}; CG ({iterations} iterations) and Kalman agree to "
            f"{max(metrics['max_diff_cg_closed'], metrics['max_diff_kalman_closed']):.1e}."
        ),
    )


class DapperBenchmarkConfig(LabConfig):
    """Settings of the DAPPER benchmark labs."""

    seeds: list[int] = Field(min_length=1, description="one truth per seed")
    n_obs_times: int = Field(ge=10, description="observation times per run (DAPPER: 1000)")
    tolerance: float = Field(gt=0, description="accepted relative deviation from DAPPER")


def _dapper_lab(name: str, cfg: DapperBenchmarkConfig, ctx: LabContext) -> LabOutcome:
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.da.reference import DAPPER_RMSE, METHOD_SETTINGS, run_reference, summarize

    ctx.progress(0.05, f"running {name} with {len(cfg.seeds)} seeds")
    results = run_reference(name, cfg.seeds, n_obs_times=cfg.n_obs_times)
    summary = summarize(results)
    metrics: dict[str, float] = {}
    worst = 0.0
    for label, row in summary.items():
        ratio = row["rmse"] / DAPPER_RMSE[name][label]
        metrics[f"rmse_{label}"] = row["rmse"]
        metrics[f"ratio_{label}"] = ratio
        metrics[f"spread_{label}"] = row["spread"]
        metrics[f"diverged_{label}"] = row["diverged"]
        metrics[f"cpu_seconds_{label}"] = row["cpu_seconds"]
        worst = max(worst, abs(ratio - 1) if np.isfinite(ratio) else np.inf)
    metrics["max_relative_deviation"] = worst

    fig, (ax_rmse, ax_bar) = plt.subplots(1, 2, figsize=(13, 4), width_ratios=[2, 1])
    for i, (label, runs) in enumerate(results.items()):
        run = runs[0]
        ax_rmse.semilogy(run.times, run.rmse_a, f"C{i}", lw=0.7, label=f"{label} ({run.score:.2f})")
    ax_rmse.axvline(results[next(iter(results))][0].burn_in, color="k", ls="--", lw=0.8)
    ax_rmse.set(
        xlabel="time",
        ylabel="analysis RMSE",
        title=f"{name}: RMSE over cycles (seed {cfg.seeds[0]})",
    )
    ax_rmse.legend(fontsize=7)
    labels = list(summary)
    x = np.arange(len(labels))
    ax_bar.bar(x - 0.2, [summary[k]["rmse"] for k in labels], 0.4, label="wxai")
    ax_bar.bar(x + 0.2, [DAPPER_RMSE[name][k] for k in labels], 0.4, label="DAPPER")
    ax_bar.set_xticks(x, labels, rotation=30, fontsize=7)
    ax_bar.set(ylabel="time-mean RMSE", title="vs DAPPER")
    ax_bar.legend(fontsize=7)
    ctx.save_figure(fig, f"{name}_rmse.png")
    table = ", ".join(f"{k} {summary[k]['rmse']:.3f} ({METHOD_SETTINGS[name][k]})" for k in labels)
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="max_relative_deviation",
            value=worst,
            comparison="<",
            threshold=cfg.tolerance,
            baseline=f"every method within {cfg.tolerance:.0%} of DAPPER's RMSE",
        ),
        summary=f"{name}: {table}",
    )


@lab(
    "da-lorenz63-benchmark",
    title="3D-Var, EnKFs and a particle filter on DAPPER's Lorenz-63 setting",
    topic=U13,
    day=DAY,
    config=DapperBenchmarkConfig,
)
def da_lorenz63_benchmark(cfg: DapperBenchmarkConfig, ctx: LabContext) -> LabOutcome:
    """Time-mean analysis RMSE of each method against DAPPER's ``sakov2012`` values."""
    return _dapper_lab("lorenz63", cfg, ctx)


@lab(
    "da-lorenz96-benchmark",
    title="3D-Var, EnKFs and LETKF on DAPPER's Lorenz-96 setting",
    topic=U13,
    day=DAY,
    config=DapperBenchmarkConfig,
)
def da_lorenz96_benchmark(cfg: DapperBenchmarkConfig, ctx: LabContext) -> LabOutcome:
    """Time-mean analysis RMSE of each method against DAPPER's ``sakov2008`` values."""
    return _dapper_lab("lorenz96", cfg, ctx)


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


def _toy1d_batch(cfg: AIVar1DConfig, count: int, rng, B_sqrt, background: str):
    import numpy as np

    from wxai.da.models import make_toy1d_case

    cases = []
    for _ in range(count):
        n_obs = (
            cfg.n_obs
            if background == "lecture"
            else int(rng.integers(cfg.n_obs // 2, cfg.n_obs + 1))
        )
        cases.append(
            make_toy1d_case(cfg.n, n_obs, cfg.sigma_o, rng, background=background, b_sqrt=B_sqrt)
        )
    grids = [c.y_on_grid() for c in cases]
    xb = np.array([c.background for c in cases])
    return cases, xb, np.array([g[0] for g in grids]), np.array([g[1] for g in grids])


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


def _aivar_metrics(truth, xb, ai, var, costs: list[float]) -> dict[str, float]:
    metrics = {
        "rmse_background": _rmse(xb, truth),
        "rmse_3dvar": _rmse(var, truth),
        "rmse_aivar": _rmse(ai, truth),
        "rmse_aivar_to_3dvar": _rmse(ai, var),
        "cost_ratio_aivar_3dvar": costs[0] / costs[1],
    }
    metrics["rmse_ratio_aivar_3dvar"] = metrics["rmse_aivar"] / metrics["rmse_3dvar"]
    return metrics


def _costs(stats, xb, y_grid, mask, *analyses):
    import torch

    from wxai.da.ai.aivar import variational_cost

    B_inv, _ = stats.tensors()
    t = [torch.as_tensor(a, dtype=torch.float32) for a in (xb, y_grid, mask)]
    out = []
    for xa in analyses:
        dx = torch.as_tensor(xa, dtype=torch.float32) - t[0]
        out.append(float(variational_cost(dx, *t, B_inv=B_inv, sigma_o=stats.sigma_o).mean()))
    return out


@lab(
    "aivar-1d",
    title="AI-Var on one 1D case: an MLP trained with the 3D-Var cost reproduces 3D-Var",
    topic=U13,
    day=DAY,
    config=AIVar1DConfig,
)
def aivar_1d(cfg: AIVar1DConfig, ctx: LabContext) -> LabOutcome:
    """Fit the increment of one case by minimizing its variational cost over the MLP weights."""
    import matplotlib.pyplot as plt
    import torch

    from wxai.da.ai.aivar import (
        IncrementMLP,
        VarStatistics,
        aivar_analysis,
        closed_form_batch,
        train_aivar,
    )

    B, B_inv, B_sqrt = _toy1d_statistics(cfg)
    stats = VarStatistics(B_inv, B_sqrt, cfg.sigma_o)
    cases, xb, y_grid, mask = _toy1d_batch(cfg, 1, ctx.rng, B_sqrt, cfg.background)
    torch.manual_seed(cfg.seed)
    model = IncrementMLP(cfg.n, cfg.hidden, B_sqrt=stats.tensors()[1])
    history = train_aivar(
        model,
        stats,
        xb,
        y_grid,
        mask,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=1,
        seed=cfg.seed,
        progress=ctx.progress,
    )
    ai = aivar_analysis(model, xb, y_grid, mask)
    var = closed_form_batch(B, xb, y_grid, mask, cfg.sigma_o)
    metrics = _aivar_metrics(cases[0].truth, xb, ai, var, _costs(stats, xb, y_grid, mask, ai, var))
    metrics["train_seconds"] = history.seconds

    fig, axes = plt.subplots(3, 1, figsize=(9, 8), height_ratios=[2, 1.3, 1])
    _plot_case(axes[0], axes[1], cases[0], {"3D-Var": var[0], "AI-Var": ai[0]})
    axes[0].set_title(
        f"AI-Var {metrics['rmse_aivar']:.3f} vs 3D-Var {metrics['rmse_3dvar']:.3f} (RMSE)"
    )
    axes[2].semilogy(history.loss)
    axes[2].set(xlabel="step", ylabel="J")
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
    import matplotlib.pyplot as plt
    import torch

    from wxai.da.ai.aivar import (
        IncrementCNN1d,
        VarStatistics,
        aivar_analysis,
        closed_form_batch,
        train_aivar,
    )

    B, B_inv, B_sqrt = _toy1d_statistics(cfg)
    stats = VarStatistics(B_inv, B_sqrt, cfg.sigma_o)
    _, xb, y_grid, mask = _toy1d_batch(cfg, cfg.n_train, ctx.rng, B_sqrt, cfg.background)
    test, txb, ty, tmask = _toy1d_batch(cfg, cfg.n_test, ctx.rng, B_sqrt, cfg.background)
    torch.manual_seed(cfg.seed)
    model = IncrementCNN1d(cfg.channels, cfg.dilations, B_sqrt=stats.tensors()[1])
    history = train_aivar(
        model,
        stats,
        xb,
        y_grid,
        mask,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        progress=ctx.progress,
    )
    for epoch, loss in enumerate(history.loss):
        ctx.log_metrics({"train_cost": loss}, step=epoch)
    ai = aivar_analysis(model, txb, ty, tmask)
    var = closed_form_batch(B, txb, ty, tmask, cfg.sigma_o)
    truth = _stack_truth(test)
    metrics = _aivar_metrics(truth, txb, ai, var, _costs(stats, txb, ty, tmask, ai, var))
    metrics["train_seconds"] = history.seconds

    fig, axes = plt.subplots(3, 2, figsize=(12, 8))
    for k, ax in enumerate(axes.flat[:4]):
        case = test[k]
        ax.plot(case.grid, case.truth, "k-", lw=1.2, label="truth")
        ax.plot(case.grid, case.background, "C0--", lw=1, label="background")
        ax.plot(case.grid, var[k], "C1", lw=1.2, label="3D-Var")
        ax.plot(case.grid, ai[k], "C2:", lw=1.5, label="AI-Var")
        ax.scatter(case.grid[case.obs_index], case.y, c="C3", s=8, label="obs")
        ax.set_title(f"unseen case {k}", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    axes[2, 0].semilogy(history.loss)
    axes[2, 0].set(xlabel="epoch", ylabel="mean J")
    per_case_var = [_rmse(v, c.truth) for v, c in zip(var, test, strict=True)]
    per_case_ai = [_rmse(a, c.truth) for a, c in zip(ai, test, strict=True)]
    axes[2, 1].scatter(per_case_var, per_case_ai, s=6)
    lim = max(per_case_var + per_case_ai)
    axes[2, 1].plot([0, lim], [0, lim], "k--", lw=0.8)
    axes[2, 1].set(xlabel="3D-Var RMSE", ylabel="AI-Var RMSE", title="unseen cases")
    fig.tight_layout()
    ctx.save_figure(fig, "aivar_1d_many.png")
    return _aivar_outcome(metrics, f"{cfg.n_test} unseen cases")


def _stack_truth(cases) -> np.ndarray:
    import numpy as np

    return np.array([c.truth for c in cases])


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
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from wxai.da.ai.aivar import (
        IncrementMLP,
        VarStatistics,
        aivar_analysis,
        closed_form_batch,
        train_aivar,
    )
    from wxai.da.covariance import gaussian_covariance_2d, spectral_regularization
    from wxai.da.models import Toy2D
    from wxai.da.operators import radiosonde_columns

    model = Toy2D(nx=cfg.nx, nz=cfg.nz)
    states, budget = model.run(
        np.zeros(model.state_size), cfg.spinup_steps, cfg.dt, every=max(cfg.spinup_steps, 1)
    )
    truth = states[-1]
    B_full = gaussian_covariance_2d(
        model.x, model.z, cfg.length_x, cfg.length_z, cfg.sigma_b, period_x=model.length_x
    )
    B, B_inv, B_sqrt = spectral_regularization(B_full, cfg.alpha)
    xb = truth + B_sqrt @ ctx.rng.standard_normal(truth.size)
    columns = np.arange(cfg.station_every // 2, cfg.nx, cfg.station_every)
    levels = np.arange(0, cfg.nz, cfg.level_every)
    obs = radiosonde_columns(cfg.nx, cfg.nz, columns, levels, cfg.sigma_o)
    y = obs.sample(truth, ctx.rng)
    y_grid, mask = obs.H.T @ y, obs.H.sum(axis=0)
    stats = VarStatistics(B_inv, B_sqrt, cfg.sigma_o)
    torch.manual_seed(cfg.seed)
    net = IncrementMLP(model.state_size, cfg.hidden, B_sqrt=stats.tensors()[1])
    history = train_aivar(
        net,
        stats,
        xb[None],
        y_grid[None],
        mask[None],
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=1,
        seed=cfg.seed,
        progress=ctx.progress,
    )
    ai = aivar_analysis(net, xb, y_grid, mask)
    var = closed_form_batch(B, xb, y_grid, mask, cfg.sigma_o)
    metrics = _aivar_metrics(
        truth[None], xb[None], ai, var, _costs(stats, xb[None], y_grid[None], mask[None], ai, var)
    )
    metrics["train_seconds"] = history.seconds
    metrics["budget_residual"] = float(np.abs(budget.residual).max())
    metrics["n_obs"] = float(obs.n_obs)

    fields = {
        "truth": truth,
        "background": xb,
        "3D-Var analysis": var[0],
        "AI-Var analysis": ai[0],
        "3D-Var increment": var[0] - xb,
        "AI-Var increment": ai[0] - xb,
    }
    fig, axes = plt.subplots(3, 2, figsize=(12, 8), sharex=True, sharey=True)
    extent = (0, model.length_x, 0, model.length_z)
    for ax, (title, f) in zip(axes.flat, fields.items(), strict=True):
        is_inc = "increment" in title
        lim = np.abs(fields["3D-Var increment"]).max() if is_inc else None
        im = ax.imshow(
            model.field(f),
            origin="lower",
            extent=extent,
            aspect="auto",
            cmap="RdBu_r" if is_inc else "viridis",
            vmin=-lim if is_inc else truth.min(),
            vmax=lim if is_inc else truth.max(),
        )
        ax.scatter(
            model.x[columns].repeat(levels.size), np.tile(model.z[levels], columns.size), s=3, c="w"
        )
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.04)
    fig.suptitle(
        f"2D AI-Var: RMSE AI-Var {metrics['rmse_aivar']:.3f}, 3D-Var {metrics['rmse_3dvar']:.3f}"
    )
    ctx.save_figure(fig, "aivar_2d.png")
    return _aivar_outcome(metrics, "2D toy atmosphere")
