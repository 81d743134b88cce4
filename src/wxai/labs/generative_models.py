"""Generative labs: a Wasserstein sampler and a DDPM (course unit U3, lecture 9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.nn_architectures import U3

if TYPE_CHECKING:
    import numpy as np

    from wxai.nn.diffusion import NoiseSchedule


class MixtureTarget(BaseModel):
    """A 1D Gaussian mixture: component means, standard deviations and weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    means: list[float] = Field(min_length=1)
    stds: list[float] = Field(min_length=1)
    weights: list[float] = Field(min_length=1)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws, ``(n,)`` float32."""
        from wxai.data.synthetic.toy_datasets import mixture_samples

        return mixture_samples(rng, n, self.means, self.stds, self.weights)


class WassersteinSamplerConfig(LabConfig):
    """Settings of ``wasserstein-sampler``."""

    target: MixtureTarget
    hidden: list[int] = Field(min_length=1)
    activation: str = "relu"
    loss_order: int = Field(ge=1, le=2, description="1: W1, 2: squared W2 of sorted quantiles")
    steps: int = Field(ge=1, description="optimiser steps; each draws fresh noise and target")
    batch_size: int = Field(ge=2)
    lr: float = Field(gt=0)
    n_eval: int = Field(ge=100, description="samples of each distribution for the metric")
    torch_threads: int | None = Field(default=1, ge=1)


@lab(
    "wasserstein-sampler",
    title="A network maps noise to a bimodal distribution via a sorted-quantile loss",
    topic=U3,
    day=3,
    config=WassersteinSamplerConfig,
)
def wasserstein_sampler(cfg: WassersteinSamplerConfig, ctx: LabContext) -> LabOutcome:
    """Train a 1D generator with the Wasserstein loss; compare with a fitted Gaussian."""
    import matplotlib.pyplot as plt
    import torch

    from wxai.nn.mlp import MLP
    from wxai.train.loop import minimize_steps
    from wxai.verify.distributions import sorted_quantile_loss, wasserstein_1d
    from wxai.viz.generative import plot_histograms, plot_noise_map
    from wxai.viz.training import plot_loss_curves

    generator = MLP(1, 1, cfg.hidden, act=cfg.activation).to(ctx.device)

    def step_loss(step: int) -> torch.Tensor:
        noise = torch.randn(cfg.batch_size, 1, device=ctx.device)
        target = torch.from_numpy(cfg.target.sample(ctx.rng, cfg.batch_size)).to(ctx.device)
        return sorted_quantile_loss(generator(noise), target, p=cfg.loss_order)

    def log(step: int, loss: float) -> None:
        ctx.log_metrics({"train_loss": loss}, step)
        ctx.progress((step + 1) / cfg.steps * 0.9, f"step {step + 1}/{cfg.steps}")

    with torch_threads(cfg.torch_threads):
        losses = minimize_steps(generator, step_loss, steps=cfg.steps, lr=cfg.lr, log=log)
        with torch.no_grad():
            z = torch.randn(cfg.n_eval, 1, device=ctx.device)
            samples = generator(z).cpu().numpy().ravel()
            z_line = torch.linspace(-3.5, 3.5, 300).unsqueeze(1)
            mapped = generator(z_line.to(ctx.device)).cpu().numpy().ravel()
    reference = cfg.target.sample(ctx.rng, cfg.n_eval)
    fit_data = cfg.target.sample(ctx.rng, cfg.n_eval)
    gaussian = ctx.rng.normal(fit_data.mean(), fit_data.std(), size=cfg.n_eval)
    w1 = wasserstein_1d(reference, samples)
    w1_gauss = wasserstein_1d(reference, gaussian)

    fig, (ax_hist, ax_map, ax_loss) = plt.subplots(1, 3, figsize=(16, 4.4), layout="constrained")
    others = {
        f"generated (W1 {w1:.3f})": (samples, {"lw": 2, "color": "C1"}),
        f"fitted Gaussian (W1 {w1_gauss:.3f})": (gaussian, {"lw": 1.5, "color": "C0", "ls": "--"}),
    }
    plot_histograms(ax_hist, reference, others)
    plot_noise_map(ax_map, z_line.numpy().ravel(), mapped, reference)
    plot_loss_curves(
        ax_loss,
        {"training": losses},
        first=0,
        lw=0.8,
        xlabel="step",
        ylabel=f"sorted-quantile loss (p={cfg.loss_order})",
    )
    ctx.save_figure(fig, "wasserstein_sampler.png")
    ctx.progress(1.0, "figure saved")

    return LabOutcome(
        metrics={
            "w1_samples": w1,
            "w1_fitted_gaussian": w1_gauss,
            "w1_ratio": w1 / w1_gauss,
            "final_train_loss": losses[-1],
        },
        acceptance=Acceptance(
            metric="w1_samples",
            value=w1,
            comparison="<=",
            threshold=0.3 * w1_gauss,
            baseline="COURSE_MAP U3: W1(target, samples) <= 0.3 x W1(target, fitted Gaussian)",
            baseline_value=w1_gauss,
        ),
        summary=f"Generated samples: W1 {w1:.4f}; fitted Gaussian: W1 {w1_gauss:.4f}.",
    )


class DdpmConfig(LabConfig):
    """Settings of ``ddpm``."""

    target_1d: MixtureTarget
    shape_2d: str = Field(description="2D target: moons or ring")
    noise_2d: float = Field(ge=0, description="scatter around the 2D shape")
    n_steps: int = Field(ge=2, description="diffusion steps T")
    schedule: str = Field(description="noise schedule: linear or cosine")
    hidden: list[int] = Field(min_length=1, description="hidden sizes of the noise network")
    time_dim: int = Field(ge=2, description="even size of the step embedding")
    train_steps: int = Field(ge=1, description="optimiser steps per target (fresh data each)")
    batch_size: int = Field(ge=2)
    lr: float = Field(gt=0)
    n_eval: int = Field(ge=100, description="samples of each distribution for the metric")
    torch_threads: int | None = Field(default=1, ge=1)


@lab(
    "ddpm",
    title="Denoising diffusion: closed-form noising and learned reverse steps, 1D and 2D",
    topic=U3,
    day=3,
    config=DdpmConfig,
)
def ddpm(cfg: DdpmConfig, ctx: LabContext) -> LabOutcome:
    """Train an eps-network per target; compare samples and a fitted Gaussian with the target."""
    import numpy as np

    from wxai.data.synthetic.toy_datasets import shape_2d
    from wxai.nn.diffusion import NoiseSchedule
    from wxai.verify.distributions import energy_distance

    schedule = NoiseSchedule.named(cfg.schedule, cfg.n_steps)
    samplers = {
        "1D bimodal": lambda n: cfg.target_1d.sample(ctx.rng, n)[:, None],
        f"2D {cfg.shape_2d}": lambda n: shape_2d(ctx.rng, n, cfg.shape_2d, cfg.noise_2d),
    }
    last = cfg.n_steps - 1
    snapshots = sorted({0, cfg.n_steps // 10, cfg.n_steps // 4, cfg.n_steps // 2, last})
    metrics: dict[str, float] = {}
    runs: dict[str, _DiffusionRun] = {}
    for index, (name, draw) in enumerate(samplers.items()):
        key = "1d" if index == 0 else "2d"
        run = runs[name] = _train_and_sample(
            cfg, ctx, schedule, draw, snapshots=snapshots, index=index
        )
        reference = draw(cfg.n_eval)
        gaussian = ctx.rng.multivariate_normal(
            run.mean, np.atleast_2d(np.cov(run.target, rowvar=False)), size=cfg.n_eval
        )
        # Squared energy distance (Szekely's D^2, V-statistic: biased slightly upwards).
        metrics[f"energy_{key}"] = energy_distance(run.generated, reference, squared=True)
        metrics[f"energy_gaussian_{key}"] = energy_distance(gaussian, reference, squared=True)
        metrics[f"energy_ratio_{key}"] = (
            metrics[f"energy_{key}"] / metrics[f"energy_gaussian_{key}"]
        )
    worst = max(metrics["energy_ratio_1d"], metrics["energy_ratio_2d"])
    metrics["energy_ratio_max"] = worst
    _ddpm_figures(cfg, ctx, runs, schedule=schedule, snapshots=snapshots, metrics=metrics)
    ctx.progress(1.0, "figures saved")

    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="energy_ratio_max",
            value=worst,
            comparison="<=",
            threshold=0.3,
            baseline=(
                "COURSE_MAP U3: sample-vs-target energy distance <= 0.3 x that of a Gaussian "
                "fitted to the target (squared energy distance, worse of the 1D and 2D targets)"
            ),
            baseline_value=1.0,
        ),
        summary=(
            f"Energy distance / Gaussian baseline: 1D {metrics['energy_ratio_1d']:.3f}, "
            f"2D {metrics['energy_ratio_2d']:.3f}."
        ),
    )


@dataclass
class _DiffusionRun:
    """One target of ``ddpm``: its data, samples and the states of both processes."""

    target: np.ndarray  # (n_eval, d) target samples the statistics come from
    mean: np.ndarray
    std: np.ndarray
    generated: np.ndarray  # (n_eval, d) DDPM samples in data units
    forward: dict[int, np.ndarray]  # t -> q(x_t | x_0) samples, standardised
    reverse: dict[int, np.ndarray]  # t -> reverse-process states, standardised


def _train_and_sample(
    cfg: DdpmConfig,
    ctx: LabContext,
    schedule: NoiseSchedule,
    draw: Callable[[int], np.ndarray],
    *,
    snapshots: list[int],
    index: int,
) -> _DiffusionRun:
    """Train an eps-network on fresh standardised batches of ``draw``, then sample."""
    import torch

    from wxai.nn.diffusion import EpsilonMLP, diffusion_loss, p_sample_loop, q_sample
    from wxai.train.loop import minimize_steps

    key = "1d" if index == 0 else "2d"
    data = draw(cfg.n_eval)
    mean, std = data.mean(axis=0), data.std(axis=0)
    model = EpsilonMLP(data.shape[1], cfg.hidden, cfg.time_dim).to(ctx.device)

    def step_loss(step: int) -> torch.Tensor:
        x0 = torch.from_numpy((draw(cfg.batch_size) - mean) / std).to(ctx.device)
        return diffusion_loss(model, x0, schedule)

    def log(step: int, loss: float) -> None:
        ctx.log_metrics({f"train_loss_{key}": loss}, step)
        ctx.progress((index + (step + 1) / cfg.train_steps) / 2 * 0.9, f"target {index + 1}")

    with torch_threads(cfg.torch_threads):
        minimize_steps(model, step_loss, steps=cfg.train_steps, lr=cfg.lr, log=log)
        samples, kept = p_sample_loop(
            model, (cfg.n_eval, data.shape[1]), schedule, device=ctx.device, keep=snapshots
        )
    clean = torch.from_numpy((data - mean) / std)
    return _DiffusionRun(
        target=data,
        mean=mean,
        std=std,
        generated=samples.numpy() * std + mean,
        forward={
            t: q_sample(clean, torch.full((len(clean),), t), schedule).numpy() for t in snapshots
        },
        reverse={t: state.numpy() for t, state in kept.items()},
    )


def _ddpm_figures(
    cfg: DdpmConfig,
    ctx: LabContext,
    runs: dict[str, _DiffusionRun],
    *,
    schedule: NoiseSchedule,
    snapshots: list[int],
    metrics: dict[str, float],
) -> None:
    """Forward and reverse snapshots, and samples against each target."""
    import matplotlib.pyplot as plt

    from wxai.viz.generative import diffusion_snapshots_figure, plot_samples

    for title, process, steps, colour, file in (
        ("Forward process q(x_t | x_0) in closed form", "forward", snapshots, "C0",
         "ddpm_forward.png"),
        ("Reverse process: learned denoising from pure noise", "reverse", snapshots[::-1], "C1",
         "ddpm_reverse.png"),
    ):  # fmt: skip
        fig = diffusion_snapshots_figure(
            {name: getattr(run, process) for name, run in runs.items()},
            steps,
            schedule.alpha_bar,
            title=f"{title} ({cfg.schedule} schedule, T = {cfg.n_steps})",
            colour=colour,
        )
        ctx.save_figure(fig, file)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for ax, (index, (name, run)) in zip(axes, enumerate(runs.items()), strict=True):
        key = "1d" if index == 0 else "2d"
        centre, scale = run.target.mean(0), run.target.std(0)
        plot_samples(ax, (run.target - centre) / scale, "0.55", "target")
        plot_samples(ax, (run.generated - centre) / scale, "C1", "DDPM samples")
        ax.set_title(
            f"{name}: energy distance\u00b2 {metrics[f'energy_{key}']:.4f}\n"
            f"(fitted Gaussian {metrics[f'energy_gaussian_{key}']:.4f})"
        )
        ax.legend(fontsize=8, markerscale=4)
    ctx.save_figure(fig, "ddpm_samples_vs_target.png")
