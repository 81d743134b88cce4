"""Generative labs: a Wasserstein sampler and a DDPM (course unit U3, lecture 9)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.nn_architectures import U3

if TYPE_CHECKING:
    import numpy as np


class MixtureTarget(BaseModel):
    """A 1D Gaussian mixture: component means, standard deviations and weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    means: list[float] = Field(min_length=1)
    stds: list[float] = Field(min_length=1)
    weights: list[float] = Field(min_length=1)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws, ``(n,)`` float32."""
        import numpy as np

        weights = np.asarray(self.weights) / np.sum(self.weights)
        component = rng.choice(len(weights), size=n, p=weights)
        values = rng.normal(np.asarray(self.means)[component], np.asarray(self.stds)[component])
        return values.astype("float32")


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
    import numpy as np
    import torch

    from wxai.nn.mlp import MLP
    from wxai.verify.distributions import sorted_quantile_loss, wasserstein_1d

    generator = MLP(1, 1, cfg.hidden, act=cfg.activation).to(ctx.device)
    optimiser = torch.optim.Adam(generator.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, cfg.steps)
    losses = []
    with torch_threads(cfg.torch_threads):
        for step in range(cfg.steps):
            noise = torch.randn(cfg.batch_size, 1, device=ctx.device)
            target = torch.from_numpy(cfg.target.sample(ctx.rng, cfg.batch_size)).to(ctx.device)
            loss = sorted_quantile_loss(generator(noise), target, p=cfg.loss_order)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            if step % max(cfg.steps // 50, 1) == 0 or step == cfg.steps - 1:
                ctx.log_metrics({"train_loss": losses[-1]}, step)
                ctx.progress((step + 1) / cfg.steps * 0.9, f"step {step + 1}/{cfg.steps}")
        generator.eval()
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
    bins = np.linspace(min(reference.min(), samples.min()), max(reference.max(), samples.max()), 60)
    ax_hist.hist(reference, bins=bins, density=True, color="0.6", label="target samples")
    ax_hist.hist(samples, bins=bins, density=True, histtype="step", lw=2, color="C1",
                 label=f"generated (W1 {w1:.3f})")  # fmt: skip
    ax_hist.hist(gaussian, bins=bins, density=True, histtype="step", lw=1.5, color="C0", ls="--",
                 label=f"fitted Gaussian (W1 {w1_gauss:.3f})")  # fmt: skip
    ax_hist.set(xlabel="x", ylabel="density", title="Target vs generated distribution")
    ax_hist.legend(fontsize=8)
    ax_map.plot(z_line.numpy().ravel(), mapped, "C1-", lw=2, label="generator x = G(z)")
    # The loss only sees sorted values: an increasing or a decreasing map are equally good.
    sign = 1.0 if mapped[-1] >= mapped[0] else -1.0
    levels = 0.5 * (1 + np.vectorize(math.erf)(sign * z_line.numpy().ravel() / math.sqrt(2)))
    ax_map.plot(
        z_line.numpy().ravel(), np.quantile(reference, levels), "k:", lw=1.5,
        label="monotone transport F\u207b\u00b9(\u03a6(\u00b1z)) of the target",
    )  # fmt: skip
    ax_map.set(
        xlabel="noise z ~ N(0, 1)", ylabel="sample x", title="Learned map from noise to samples"
    )
    ax_map.legend(fontsize=8)
    ax_loss.semilogy(losses, "C0", lw=0.8)
    ax_loss.set(
        xlabel="step", ylabel=f"sorted-quantile loss (p={cfg.loss_order})", title="Training loss"
    )
    ax_loss.grid(alpha=0.3)
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


def _shape_2d(rng: np.random.Generator, cfg: DdpmConfig, n: int) -> np.ndarray:
    """Points ``(n, 2)`` on two interleaved half circles (moons) or a ring, with scatter."""
    import numpy as np

    from wxai.core.errors import UnknownNameError

    if cfg.shape_2d == "moons":
        upper = rng.random(n) < 0.5
        angle = rng.uniform(0, math.pi, n)
        x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
        y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    elif cfg.shape_2d == "ring":
        angle = rng.uniform(0, 2 * math.pi, n)
        x, y = 2 * np.cos(angle), 2 * np.sin(angle)
    else:
        raise UnknownNameError("2D target", cfg.shape_2d, ["moons", "ring"])
    points = np.stack([x, y], axis=1) + cfg.noise_2d * rng.standard_normal((n, 2))
    return points.astype("float32")


@lab(
    "ddpm",
    title="Denoising diffusion: closed-form noising and learned reverse steps, 1D and 2D",
    topic=U3,
    day=3,
    config=DdpmConfig,
)
def ddpm(cfg: DdpmConfig, ctx: LabContext) -> LabOutcome:
    """Train an eps-network per target; compare samples and a fitted Gaussian with the target."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from wxai.nn.diffusion import EpsilonMLP, NoiseSchedule, diffusion_loss, p_sample_loop, q_sample
    from wxai.verify.distributions import energy_distance

    schedule = NoiseSchedule.named(cfg.schedule, cfg.n_steps)
    samplers = {
        "1D bimodal": lambda n: cfg.target_1d.sample(ctx.rng, n)[:, None],
        f"2D {cfg.shape_2d}": lambda n: _shape_2d(ctx.rng, cfg, n),
    }
    last = cfg.n_steps - 1
    snapshots = sorted({0, cfg.n_steps // 10, cfg.n_steps // 4, cfg.n_steps // 2, last})
    metrics: dict[str, float] = {}
    forward, reverse, targets, generated = {}, {}, {}, {}
    for index, (name, draw) in enumerate(samplers.items()):
        key = "1d" if index == 0 else "2d"
        data = draw(cfg.n_eval)
        mean, std = data.mean(axis=0), data.std(axis=0)
        model = EpsilonMLP(data.shape[1], cfg.hidden, cfg.time_dim).to(ctx.device)
        optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, cfg.train_steps)
        with torch_threads(cfg.torch_threads):
            for step in range(cfg.train_steps):
                x0 = torch.from_numpy((draw(cfg.batch_size) - mean) / std).to(ctx.device)
                loss = diffusion_loss(model, x0, schedule)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                decay.step()
                if step % max(cfg.train_steps // 50, 1) == 0 or step == cfg.train_steps - 1:
                    ctx.log_metrics({f"train_loss_{key}": loss.item()}, step)
                    ctx.progress((index + (step + 1) / cfg.train_steps) / 2 * 0.9, name)
            samples, kept = p_sample_loop(
                model, (cfg.n_eval, data.shape[1]), schedule, device=ctx.device, keep=snapshots
            )
        clean = torch.from_numpy((data - mean) / std)
        forward[name] = {
            t: q_sample(clean, torch.full((len(clean),), t), schedule).numpy() for t in snapshots
        }
        reverse[name] = {t: state.numpy() for t, state in kept.items()}
        generated[name] = samples.numpy() * std + mean
        targets[name] = data
        reference = draw(cfg.n_eval)
        gaussian = ctx.rng.multivariate_normal(
            mean, np.atleast_2d(np.cov(data, rowvar=False)), size=cfg.n_eval
        )
        # Squared energy distance (Szekely's D^2, V-statistic: biased slightly upwards).
        metrics[f"energy_{key}"] = energy_distance(generated[name], reference, squared=True)
        metrics[f"energy_gaussian_{key}"] = energy_distance(gaussian, reference, squared=True)
        metrics[f"energy_ratio_{key}"] = (
            metrics[f"energy_{key}"] / metrics[f"energy_gaussian_{key}"]
        )
    worst = max(metrics["energy_ratio_1d"], metrics["energy_ratio_2d"])
    metrics["energy_ratio_max"] = worst

    def panel(ax, values: np.ndarray, colour: str, label: str | None = None) -> None:
        if values.shape[1] == 1:
            ax.hist(values[:, 0], bins=60, density=True, color=colour, alpha=0.7, label=label)
            ax.set(xlabel="x (standardised)", ylabel="density")
        else:
            ax.scatter(values[:, 0], values[:, 1], s=2, color=colour, alpha=0.5, label=label)
            ax.set(xlabel="x\u2081 (standardised)", ylabel="x\u2082", aspect="equal")

    for title, states, file in (
        ("Forward process q(x_t | x_0) in closed form", forward, "ddpm_forward.png"),
        ("Reverse process: learned denoising from pure noise", reverse, "ddpm_reverse.png"),
    ):
        fig, axes = plt.subplots(
            2, len(snapshots), figsize=(3.3 * len(snapshots), 6.6), layout="constrained"
        )
        order = snapshots if states is forward else snapshots[::-1]
        for row, name in enumerate(samplers):
            for ax, t in zip(axes[row], order, strict=True):
                panel(ax, states[name][t], "C0" if states is forward else "C1")
                ab = float(schedule.alpha_bar[t])
                ax.set_title(f"{name}\nt = {t}, \u0101_t = {ab:.3f}", fontsize=9)
        fig.suptitle(f"{title} ({cfg.schedule} schedule, T = {cfg.n_steps})")
        ctx.save_figure(fig, file)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for ax, (index, name) in zip(axes, enumerate(samplers), strict=True):
        key = "1d" if index == 0 else "2d"
        scaled_target = (targets[name] - targets[name].mean(0)) / targets[name].std(0)
        scaled_samples = (generated[name] - targets[name].mean(0)) / targets[name].std(0)
        panel(ax, scaled_target, "0.55", "target")
        panel(ax, scaled_samples, "C1", "DDPM samples")
        ax.set_title(
            f"{name}: energy distance\u00b2 {metrics[f'energy_{key}']:.4f}\n"
            f"(fitted Gaussian {metrics[f'energy_gaussian_{key}']:.4f})"
        )
        ax.legend(fontsize=8, markerscale=4)
    ctx.save_figure(fig, "ddpm_samples_vs_target.png")
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
