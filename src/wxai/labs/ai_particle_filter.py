"""AI particle filter on Lorenz-63 with a wrong forecast model (course unit U13, lecture 18).

The lab composes :mod:`wxai.da.ai.aipf`: an EnKF cycled with the wrong model supplies the
forecast ensembles the networks are trained on (inputs only, no analyses are targets);
one DeepSets update is trained with the full loss (observation term plus Gaussian-mixture
KL on Kalman evaluation points), one with the observation term only; both are then cycled
on an unseen truth and compared with the free run of the wrong model.
"""

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
#: DAPPER's Lorenz-63 prior mean (a point near the attractor).
_PRIOR_MEAN = (1.509, -1.531, 25.46)
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
    """Truth ``(K, 3)``, observations ``(K, 2)`` and initial ensemble ``(N, 3)``."""
    import numpy as np

    from wxai.da.cycling import TwinSetup, simulate_truth
    from wxai.da.models import Lorenz63
    from wxai.da.operators import partial_components

    op = partial_components(3, [0, 1], cfg.obs_variance)
    setup = TwinSetup(
        Lorenz63(), cfg.dt, cfg.steps_per_obs, n_cycles, op, np.array(_PRIOR_MEAN), 2 * np.eye(3)
    )
    truth = simulate_truth(setup, rng)
    X0 = truth.states[0] + cfg.init_spread * rng.standard_normal((cfg.n_particles, 3))  # noqa: N806
    return truth.at_obs(cfg.steps_per_obs), np.array(truth.y), X0, op.H


def _running_mean(x: np.ndarray, window: int) -> np.ndarray:
    import numpy as np

    window = max(1, min(window, x.size))
    return np.convolve(x, np.ones(window) / window, mode="valid")


def _plot_scatter(ctx: LabContext, runs: dict[str, ParticleCycles], truth, y, k: int) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 2, figsize=(10, 4.5 * len(runs)), squeeze=False)
    for row, (name, run) in enumerate(runs.items()):
        xb, xa = run.forecasts[k], run.analyses[k]
        for col, (j, label) in enumerate([(1, "x2"), (2, "x3")]):
            ax = axes[row, col]
            ax.scatter(xb[:, 0], xb[:, j], s=14, c="C0", alpha=0.6, label="forecast particles")
            ax.scatter(xa[:, 0], xa[:, j], s=14, c="C1", alpha=0.8, label="analysis particles")
            ax.plot(*xb.mean(0)[[0, j]], "s", c="C0", ms=9, mec="k", label="forecast mean")
            ax.plot(*xa.mean(0)[[0, j]], "D", c="C1", ms=9, mec="k", label="analysis mean")
            ax.plot(*truth[k][[0, j]], "k*", ms=14, label="truth")
            if j == 1:
                ax.plot(*y[k], "rX", ms=11, label="observation")
            else:
                ax.axvline(y[k][0], color="r", lw=1, ls="--", label="observed x1")
            ax.set(xlabel="x1", ylabel=label)
        err_b = float(((xb.mean(0) - truth[k]) ** 2).sum() ** 0.5)
        err_a = float(((xa.mean(0) - truth[k]) ** 2).sum() ** 0.5)
        axes[row, 0].set_title(
            f"{name}, cycle {k}: |xb - xt| = {err_b:.2f}, |xa - xt| = {err_a:.2f}", fontsize=10
        )
        axes[row, 0].legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "aipf_ensemble_scatter.png")


def _plot_rmse(ctx: LabContext, runs: dict[str, ParticleCycles], window: int) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for i, (name, run) in enumerate(runs.items()):
        axes[0].plot(_running_mean(run.an_error, window), f"C{i}", lw=1.2, label=name)
        axes[1].plot(_running_mean(run.fg_error, window), f"C{i}", lw=1.2, label=name)
    axes[0].set(ylabel="analysis RMSE", yscale="log", title=f"running mean over {window} cycles")
    axes[1].set(xlabel="cycle", ylabel="first-guess RMSE", yscale="log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    ctx.save_figure(fig, "aipf_rmse_per_cycle.png")


def _plot_fg_difference(ctx: LabContext, delta: np.ndarray, window: int) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(10, 4))
    cycles = np.arange(delta.size)
    ax.fill_between(cycles, delta, 0, where=delta >= 0, color="tab:green", alpha=0.5, lw=0)
    ax.fill_between(cycles, delta, 0, where=delta < 0, color="tab:red", alpha=0.5, lw=0)
    smooth = _running_mean(delta, window)
    ax.plot(cycles[window - 1 : window - 1 + smooth.size], smooth, "k", lw=1.2)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set(
        xlabel="cycle",
        ylabel="FG error (obs-only net) - FG error (full net)",
        title=f"green: full loss better, red: obs-only better; mean {delta.mean():+.3f}",
    )
    fig.tight_layout()
    ctx.save_figure(fig, "aipf_fg_error_difference.png")


@lab(
    "ai-particle-filter",
    title="AI particle filter on Lorenz-63: DeepSets update with a Gaussian-mixture loss",
    topic=U13,
    day=DAY,
    config=AIPFConfig,
)
def ai_particle_filter(cfg: AIPFConfig, ctx: LabContext) -> LabOutcome:
    """Train the full-loss and observation-only networks and cycle them with a wrong model."""
    import numpy as np
    import torch

    from wxai.core.device import torch_threads
    from wxai.da.ai.aipf import (
        AIPFLoss,
        DeepSetsParticleUpdate,
        cycle_particles,
        enkf_update,
        network_update,
        no_update,
        train_aipf,
    )
    from wxai.da.models import Lorenz63

    model = Lorenz63(sigma=cfg.model_sigma, rho=cfg.model_rho)
    cycle_kw = {"dt": cfg.dt, "steps_per_obs": cfg.steps_per_obs, "jitter": cfg.jitter}
    truth, y, X0, H = _twin(cfg, cfg.n_train_cycles, ctx.rng)  # noqa: N806
    enkf = enkf_update(H, cfg.obs_variance, ctx.rng, cfg.inflation)
    ctx.progress(0.05, "EnKF cycles for the training ensembles")
    teacher = cycle_particles(enkf, model, X0, truth, y, rng=ctx.rng, **cycle_kw)
    Xb, yb = teacher.forecasts[cfg.spinup :], y[cfg.spinup :]  # noqa: N806

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

    ctx.progress(0.75, "evaluation cycles")
    truth, y, X0, _ = _twin(cfg, cfg.n_eval_cycles, ctx.rng)  # noqa: N806
    updates = {
        "full loss": network_update(nets["full loss"]),
        "obs-only loss": network_update(nets["obs-only loss"]),
        "EnKF": enkf_update(H, cfg.obs_variance, ctx.rng, cfg.inflation),
        "no assimilation": no_update,
    }
    runs: dict[str, ParticleCycles] = {}
    with torch_threads(1):
        for name, update in updates.items():
            # The same forecast noise for every method: differences come from the updates.
            rng = np.random.default_rng(cfg.seed + 1)
            runs[name] = cycle_particles(update, model, X0, truth, y, rng=rng, **cycle_kw)

    s = cfg.spinup
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
        "train_seconds": seconds,
    }
    metrics["acceptance_ratio"] = max(
        metrics["ratio_analysis_free"], metrics["ratio_fg_full_obs_only"]
    )

    window = max(1, (cfg.n_eval_cycles - s) // 50)
    k = min(cfg.scatter_cycle, cfg.n_eval_cycles - 1)
    _plot_scatter(ctx, {n: runs[n] for n in ("full loss", "obs-only loss")}, truth, y, k)
    _plot_rmse(ctx, runs, window)
    _plot_fg_difference(ctx, delta, window)
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
            baseline_value=fg["obs-only loss"],
        ),
        summary=(
            f"Over {cfg.n_eval_cycles - s} cycles with a wrong model: analysis RMSE "
            f"{an['full loss']:.3f} (full loss) vs {an['no assimilation']:.3f} (no assimilation) "
            f"and {an['EnKF']:.3f} (EnKF); first-guess error {fg['full loss']:.3f} (full) vs "
            f"{fg['obs-only loss']:.3f} (obs-only)."
        ),
    )
