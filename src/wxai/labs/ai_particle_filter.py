"""AI particle filter on Lorenz-63 with a wrong forecast model (course unit U13, lecture 18).

The lab composes :mod:`wxai.da.ai.aipf`: an EnKF cycled with the wrong model supplies the
forecast ensembles the networks are trained on (inputs only, no analyses are targets);
one DeepSets update is trained with the full loss (observation term plus Gaussian-mixture
KL on Kalman evaluation points), one with the observation term only; both are then cycled
on an unseen truth and compared with the free run of the wrong model.
"""

# ruff: noqa: N803, N806 - ensembles (X, H) follow the DA literature

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np

    from wxai.da.ai.aipf import ParticleCycles

U13 = "U13 Data assimilation"
DAY = 5
#: Normalisation of Lorenz-63 states for the networks: centre of the attractor and a scale.
_CENTER = (0.0, 0.0, 25.0)
_SCALE = 10.0


class AIPFConfig(LabConfig):
    """Settings of the AI particle filter lab."""

    n_particles: int = Field(ge=4, description="ensemble size N")
    dt: float = Field(gt=0, description="model time step")
    steps_per_obs: int = Field(ge=1, description="model steps between observation times")
    obs_variance: float = Field(gt=0, description="observation-error variance of x1 and x2")
    model_rho: float = Field(description="rho of the (wrong) forecast model; the truth has 28")
    model_sigma: float = Field(description="sigma of the forecast model; the truth has 10")
    jitter: float = Field(ge=0, description="additive forecast noise std after each forecast")
    init_spread: float = Field(gt=0, description="std of the initial ensemble around the truth")
    inflation: float = Field(ge=1, description="multiplicative inflation of the teacher EnKF")
    n_train_cycles: int = Field(ge=10, description="EnKF cycles providing training ensembles")
    n_eval_cycles: int = Field(ge=10, description="evaluation cycles on an unseen truth")
    spinup: int = Field(ge=0, description="cycles excluded from the scores")
    hidden: list[int] = Field(min_length=1, description="hidden sizes of phi, rho and psi")
    context: int = Field(ge=1, description="size of the pooled DeepSets context")
    epochs: int = Field(ge=1, description="training epochs of each network")
    batch_size: int = Field(ge=1, description="cases per optimizer step")
    lr: float = Field(gt=0, description="Adam learning rate (cosine decay)")
    lambda_bg: float = Field(gt=0, description="weight of the Gaussian-mixture KL term")
    bandwidth: float = Field(gt=0, description="mixture kernel bandwidth factor h")
    eval_copies: int = Field(ge=1, description="Kalman evaluation points per particle")
    include_prior: bool = Field(description="also evaluate the KL at the forecast particles")
    scatter_cycle: int = Field(ge=0, description="evaluation cycle shown in the scatter plot")


def _twin(cfg: AIPFConfig, n_cycles: int, rng: np.random.Generator):
    """Truth ``(K, 3)``, observations ``(K, 2)``, initial ensemble ``(N, 3)`` and ``H``."""
    from wxai.da.experiments import lorenz63_particle_twin

    twin = lorenz63_particle_twin(
        n_cycles,
        dt=cfg.dt,
        steps_per_obs=cfg.steps_per_obs,
        obs_variance=cfg.obs_variance,
        n_particles=cfg.n_particles,
        init_spread=cfg.init_spread,
        rng=rng,
    )
    return twin.truth, twin.y, twin.X0, twin.H


def _figures(ctx: LabContext, runs: dict[str, ParticleCycles], truth, y, *, cfg: AIPFConfig):
    """Particle clouds of the two networks at one cycle, error series, FG-error difference."""
    from wxai.viz.particles import (
        figure_difference_series,
        figure_error_series,
        figure_particle_scatter,
    )

    s = cfg.spinup
    window = max(1, (cfg.n_eval_cycles - s) // 50)
    k = min(cfg.scatter_cycle, cfg.n_eval_cycles - 1)
    nets = ("full loss", "obs-only loss")
    clouds = {n: (runs[n].forecasts[k], runs[n].analyses[k]) for n in nets}
    ctx.save_figure(
        figure_particle_scatter(clouds, truth[k], y[k], cycle=k), "aipf_ensemble_scatter.png"
    )
    errors = {n: (run.an_error, run.fg_error) for n, run in runs.items()}
    ctx.save_figure(figure_error_series(errors, window=window), "aipf_rmse_per_cycle.png")
    delta = runs["obs-only loss"].fg_error[s:] - runs["full loss"].fg_error[s:]
    fig = figure_difference_series(
        delta,
        window=window,
        ylabel="FG error (obs-only net) - FG error (full net)",
        positive="full loss better",
        negative="obs-only better",
    )
    ctx.save_figure(fig, "aipf_fg_error_difference.png")


def _train_networks(cfg: AIPFConfig, ctx: LabContext, H, Xb, yb):
    """The full-loss and the observation-only network, trained on the same ensembles."""
    import torch

    from wxai.da.ai.aipf import AIPFLoss, DeepSetsParticleUpdate, train_aipf

    nets: dict[str, DeepSetsParticleUpdate] = {}
    seconds = 0.0
    for i, (name, lam) in enumerate([("full loss", cfg.lambda_bg), ("obs-only loss", 0.0)]):
        torch.manual_seed(cfg.seed)
        net = DeepSetsParticleUpdate(H, _CENTER, _SCALE, hidden=cfg.hidden, context=cfg.context)
        loss = AIPFLoss(H, cfg.obs_variance, lam, cfg.bandwidth, cfg.eval_copies, cfg.include_prior)
        history = train_aipf(
            net,
            loss,
            Xb,
            yb,
            epochs=cfg.epochs,
            lr=cfg.lr,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
            progress=lambda f, msg, i=i, name=name: ctx.progress(
                0.1 + 0.3 * (i + f), f"{name}: {msg}"
            ),
        )
        seconds += history.seconds
        nets[name] = net
    return nets, seconds


def _metrics(runs: dict[str, ParticleCycles], s: int) -> dict[str, float]:
    """Time means after ``s`` spin-up cycles and the two ratios of the acceptance figure."""
    import numpy as np

    fg = {name: run.mean_errors(s)[0] for name, run in runs.items()}
    an = {name: run.mean_errors(s)[1] for name, run in runs.items()}
    delta = runs["obs-only loss"].fg_error[s:] - runs["full loss"].fg_error[s:]
    metrics = {
        "rmse_analysis_full": an["full loss"],
        "rmse_analysis_obs_only": an["obs-only loss"],
        "rmse_analysis_enkf": an["EnKF"],
        "rmse_free_run": an["no assimilation"],
        "fg_error_full": fg["full loss"],
        "fg_error_obs_only": fg["obs-only loss"],
        "fg_error_enkf": fg["EnKF"],
        "fg_error_difference": float(delta.mean()),
        "fraction_cycles_full_better": float(np.mean(delta > 0)),
        "spread_full": float(runs["full loss"].spread[s:].mean()),
        "spread_obs_only": float(runs["obs-only loss"].spread[s:].mean()),
        "ratio_analysis_free": an["full loss"] / an["no assimilation"],
        "ratio_fg_full_obs_only": fg["full loss"] / fg["obs-only loss"],
    }
    metrics["acceptance_ratio"] = max(
        metrics["ratio_analysis_free"], metrics["ratio_fg_full_obs_only"]
    )
    return metrics


@lab(
    "ai-particle-filter",
    title="AI particle filter on Lorenz-63: DeepSets update with a Gaussian-mixture loss",
    topic=U13,
    day=DAY,
    config=AIPFConfig,
)
def ai_particle_filter(cfg: AIPFConfig, ctx: LabContext) -> LabOutcome:
    """Train the full-loss and observation-only networks and cycle them with a wrong model."""
    from wxai.da.ai.aipf import (
        cycle_particles,
        cycle_updates,
        enkf_update,
        network_update,
        no_update,
    )
    from wxai.da.models import Lorenz63

    model = Lorenz63(sigma=cfg.model_sigma, rho=cfg.model_rho)
    cycle_kw = {"dt": cfg.dt, "steps_per_obs": cfg.steps_per_obs, "jitter": cfg.jitter}
    truth, y, X0, H = _twin(cfg, cfg.n_train_cycles, ctx.rng)
    enkf = enkf_update(H, cfg.obs_variance, ctx.rng, cfg.inflation)
    ctx.progress(0.05, "EnKF cycles for the training ensembles")
    teacher = cycle_particles(enkf, model, X0, truth, y, rng=ctx.rng, **cycle_kw)
    nets, seconds = _train_networks(cfg, ctx, H, teacher.forecasts[cfg.spinup :], y[cfg.spinup :])

    ctx.progress(0.75, "evaluation cycles")
    truth, y, X0, _ = _twin(cfg, cfg.n_eval_cycles, ctx.rng)
    updates = {
        "full loss": network_update(nets["full loss"]),
        "obs-only loss": network_update(nets["obs-only loss"]),
        "EnKF": enkf_update(H, cfg.obs_variance, ctx.rng, cfg.inflation),
        "no assimilation": no_update,
    }
    runs = cycle_updates(updates, model, X0, truth, y, seed=cfg.seed + 1, **cycle_kw)
    metrics = _metrics(runs, cfg.spinup)
    metrics["train_seconds"] = seconds
    _figures(ctx, runs, truth, y, cfg=cfg)
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="acceptance_ratio",
            value=metrics["acceptance_ratio"],
            comparison="<",
            threshold=1.0,
            baseline=(
                "max(full-loss analysis RMSE / free-run RMSE, full-loss mean first-guess "
                "error / obs-only-loss mean first-guess error): both below 1"
            ),
            baseline_value=metrics["fg_error_obs_only"],
        ),
        summary=(
            f"Over {cfg.n_eval_cycles - cfg.spinup} cycles with a wrong model: analysis RMSE "
            f"{metrics['rmse_analysis_full']:.3f} (full loss) vs {metrics['rmse_free_run']:.3f} "
            f"(no assimilation) and {metrics['rmse_analysis_enkf']:.3f} (EnKF); first-guess "
            f"error {metrics['fg_error_full']:.3f} (full) vs "
            f"{metrics['fg_error_obs_only']:.3f} (obs-only)."
        ),
    )
