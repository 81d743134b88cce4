"""Data-assimilation labs: 3D-Var on the 1D toy and the DAPPER benchmarks (course unit U13).

The labs compose :mod:`wxai.da`; they hold settings, figures and acceptance checks only.
The AI-Var labs on the same toys are in :mod:`wxai.labs.aivar`.
"""

# ruff: noqa: N806 - matrix names (B) follow the DA literature

from __future__ import annotations

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

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


@lab(
    "da-3dvar-1d",
    title="3D-Var on the periodic 1D toy: closed form, control-variable CG and Kalman agree",
    topic=U13,
    day=DAY,
    config=Toy1DConfig,
)
def da_3dvar_1d(cfg: Toy1DConfig, ctx: LabContext) -> LabOutcome:
    """One 3D-Var analysis of a structured background error from sparse point observations."""
    import numpy as np

    from wxai.da.experiments import toy1d_statistics
    from wxai.da.methods import FilterState, KalmanFilter, var3d_analysis, var3d_control_cg
    from wxai.da.models import make_toy1d_case
    from wxai.da.operators import point_sampling
    from wxai.verify.metrics import rmse
    from wxai.viz.assimilation import figure_analysis_1d

    B, _, B_sqrt = toy1d_statistics(cfg.n, cfg.length_scale, cfg.sigma_b, cfg.alpha)
    case = make_toy1d_case(cfg.n, cfg.n_obs, cfg.sigma_o, ctx.rng, background="lecture")
    obs = point_sampling(cfg.n, case.obs_index, cfg.sigma_o)
    closed = var3d_analysis(case.background, B, obs.H, obs.R, case.y)
    cg, iterations = var3d_control_cg(case.background, B_sqrt, obs.H, obs.R, case.y)
    kf = KalmanFilter().analyse(FilterState(mean=case.background, cov=B), case.y, obs, None)
    metrics = {
        "rmse_background": rmse(case.background, case.truth),
        "rmse_3dvar": rmse(closed, case.truth),
        "max_diff_cg_closed": float(np.abs(cg - closed).max()),
        "max_diff_kalman_closed": float(np.abs(kf.mean - closed).max()),
        "cg_iterations": float(iterations),
    }
    metrics["rmse_ratio_3dvar_background"] = metrics["rmse_3dvar"] / metrics["rmse_background"]
    fig = figure_analysis_1d(
        case.grid,
        truth=case.truth,
        background=case.background,
        obs_index=case.obs_index,
        y=case.y,
        analyses={"3D-Var analysis": closed},
        title=f"3D-Var: RMSE background {metrics['rmse_background']:.3f} -> analysis "
        f"{metrics['rmse_3dvar']:.3f}",
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
    from wxai.da.reference import (
        DAPPER_RMSE,
        METHOD_SETTINGS,
        compare_with_dapper,
        run_reference,
        summarize,
    )
    from wxai.viz.assimilation import figure_benchmark

    ctx.progress(0.05, f"running {name} with {len(cfg.seeds)} seeds")
    results = run_reference(name, cfg.seeds, n_obs_times=cfg.n_obs_times)
    summary = summarize(results)
    metrics = compare_with_dapper(name, summary)
    first = {label: runs[0] for label, runs in results.items()}
    fig = figure_benchmark(
        {label: (run.times, run.rmse_a, run.score) for label, run in first.items()},
        {label: row["rmse"] for label, row in summary.items()},
        DAPPER_RMSE[name],
        burn_in=next(iter(first.values())).burn_in,
        title=f"{name}: RMSE over cycles (seed {cfg.seeds[0]})",
    )
    ctx.save_figure(fig, f"{name}_rmse.png")
    settings = METHOD_SETTINGS[name]
    table = ", ".join(f"{k} {row['rmse']:.3f} ({settings[k]})" for k, row in summary.items())
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="max_relative_deviation",
            value=metrics["max_relative_deviation"],
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
