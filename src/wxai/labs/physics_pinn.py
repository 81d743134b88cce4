"""PINN lab: the oscillator y'' + y = 0 solved by a network, inside and beyond its interval.

The lab composes :mod:`wxai.physics.pinn` (U14, lecture 19); it holds the settings of the
variants, the figures and the acceptance check.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U14 = "U14 Physics and AI"
DAY = 5

#: Variant keys (metric prefixes), in drawing order.
VARIANTS = ("a", "b", "c", "c_random")


class PinnOscillatorConfig(LabConfig):
    """Settings of the PINN oscillator lab (lengths in units of pi)."""

    train_end_pi: float = Field(gt=0, description="training interval [0, train_end_pi * pi]")
    wide_factor: float = Field(ge=1, description="(b): residual on wide_factor x training")
    eval_factor: float = Field(ge=3, description="evaluation on [0, eval_factor x training]")
    hidden: list[int] = Field(min_length=1, description="MLP hidden sizes (all variants)")
    activation: str = Field(description="MLP activation (smooth: tanh, silu)")
    collocation_per_pi: int = Field(
        ge=2, le=10_000, description="collocation points per pi of sampled interval"
    )
    sampling: Literal["random", "grid"] = Field(
        description="Adam-phase collocation: new random points each epoch, or a fixed grid"
    )
    condition_weight: float = Field(ge=0, description="weight of the y(0), y'(0) losses")
    epochs: int = Field(ge=0, description="full-batch Adam epochs")
    lr: float = Field(gt=0, description="Adam learning rate")
    lbfgs_iterations: int = Field(ge=0, description="L-BFGS iterations after Adam (0: none)")
    fourier_period_pi: float = Field(gt=0, description="(c): period of the harmonics / pi")
    fourier_harmonics: int = Field(ge=1, description="(c): number of harmonics")
    random_features: int = Field(ge=1, description="(c'): number of random frequencies")
    random_scale: float = Field(gt=0, description="(c'): std of the frequencies [1/rad]")
    max_error_bound: float = Field(gt=0, description="acceptance: max |error| on evaluation")
    eval_points: int = Field(ge=100, description="evaluation grid points")
    torch_threads: int | None = Field(ge=1, description="intra-op torch threads (None: leave)")


@lab(
    "pinn-oscillator",
    title="PINN for y'' + y = 0: extrapolation beyond the residual interval and its cures",
    topic=U14,
    day=DAY,
    config=PinnOscillatorConfig,
)
def pinn_oscillator(cfg: PinnOscillatorConfig, ctx: LabContext) -> LabOutcome:
    """Train four PINN variants on the oscillator and measure errors inside and outside."""
    import numpy as np

    from wxai.physics.pinn import oscillator_problem, oscillator_solution, predict

    train_end = cfg.train_end_pi * math.pi
    eval_end = cfg.eval_factor * train_end
    problem = oscillator_problem(train_end)
    domains = {
        "a": problem.domain,
        "b": problem.domain.stretched(cfg.wide_factor),
        "c": problem.domain,
        "c_random": problem.domain,
    }
    labels = _labels(cfg)
    metrics: dict[str, float] = {}
    solutions: dict[str, Any] = {}
    losses: dict[str, list[float]] = {}
    x = np.linspace(0.0, eval_end, cfg.eval_points)
    with torch_threads(cfg.torch_threads):
        for index, key in enumerate(VARIANTS):
            ctx.progress(index / len(VARIANTS), f"training variant {key}")
            net, history = _train_variant(cfg, ctx, key, problem, domains[key])
            metrics |= _variant_metrics(
                cfg, key, net, train_end=train_end, eval_end=eval_end, loss=history.total
            )
            solutions[labels[key]] = predict(net, x)[:, 0]
            losses[labels[key]] = history.total
    intervals = {labels[k]: (d.lower[0], d.upper[0]) for k, d in domains.items()}
    _figures(
        cfg, ctx, x, oscillator_solution(x), solutions=solutions, intervals=intervals, losses=losses
    )
    return _outcome(cfg, metrics, eval_end)


def _labels(cfg: PinnOscillatorConfig) -> dict[str, str]:
    """Legend labels: what each variant's network is and where its residual is enforced."""
    train = f"[0, {cfg.train_end_pi:g}π]"
    wide = f"[0, {cfg.wide_factor * cfg.train_end_pi:g}π]"
    return {
        "a": f"(a) MLP, residual on {train}",
        "b": f"(b) MLP, residual on {wide}",
        "c": f"(c) harmonic features, period {cfg.fourier_period_pi:g}π, residual on {train}",
        "c_random": f"(c') random features, σ = {cfg.random_scale:g}, residual on {train}",
    }


def _train_variant(cfg: PinnOscillatorConfig, ctx: LabContext, key: str, problem, domain):
    """Build and train the network of one variant; the same seed gives (a) and (b) one start."""
    import torch

    from wxai.nn.fourier import FourierFeatures
    from wxai.physics.pinn import PinnNetwork, collocation_sampler, train_pinn

    torch.manual_seed(cfg.seed)
    embedding, scale = None, cfg.train_end_pi * math.pi
    if key == "c":
        embedding = FourierFeatures.harmonic(cfg.fourier_period_pi * math.pi, cfg.fourier_harmonics)
    elif key == "c_random":
        embedding = FourierFeatures.random(1, cfg.random_features, cfg.random_scale, cfg.seed)
    net = PinnNetwork(
        1,
        1,
        cfg.hidden,
        cfg.activation,
        embedding=embedding,
        input_scale=scale if embedding is None else 1.0,
    ).to(ctx.device)
    length_pi = (domain.upper[0] - domain.lower[0]) / math.pi
    n = max(round(cfg.collocation_per_pi * length_pi), 2)
    sampler = collocation_sampler(cfg.sampling, domain, n, seed=cfg.seed)
    history = train_pinn(
        net,
        problem,
        sampler,
        epochs=cfg.epochs,
        lr=cfg.lr,
        weight=cfg.condition_weight,
        lbfgs_iterations=cfg.lbfgs_iterations,
    )
    step = max(len(history.total) // 50, 1)
    for i in range(0, len(history.total), step):
        ctx.log_metrics({f"{key}_loss": history.total[i]}, step=i)
    return net, history


def _variant_metrics(cfg, key: str, net, *, train_end: float, eval_end: float, loss) -> dict:
    """Max and RMS error inside, outside and over the whole evaluation interval."""
    from wxai.physics.pinn import oscillator_solution, solution_error

    n_in = max(round(cfg.eval_points / cfg.eval_factor), 2)
    parts = {
        "in": (0.0, train_end, n_in),
        "out": (train_end, eval_end, cfg.eval_points - n_in + 1),
        "all": (0.0, eval_end, cfg.eval_points),
    }
    metrics = {f"{key}_final_loss": float(loss[-1])}
    for part, (lo, hi, n) in parts.items():
        err = solution_error(net, oscillator_solution, lo, hi, n)
        metrics[f"{key}_max_{part}"] = err.max
        metrics[f"{key}_rms_{part}"] = err.rms
    return metrics


def _figures(cfg, ctx: LabContext, x, exact, *, solutions, intervals, losses) -> None:
    from wxai.viz.pinn import figure_pinn_extrapolation, figure_pinn_losses

    fig = figure_pinn_extrapolation(
        x,
        exact,
        solutions,
        residual_intervals=intervals,
        bound=cfg.max_error_bound,
        exact_label="exact sin(x)",
    )
    ctx.save_figure(fig, "pinn_oscillator_extrapolation.png")
    fig = figure_pinn_losses(losses, cfg.epochs, title="PINN loss of each variant")
    ctx.save_figure(fig, "pinn_oscillator_loss.png")


def _outcome(cfg: PinnOscillatorConfig, m: dict[str, float], eval_end: float) -> LabOutcome:
    bound = cfg.max_error_bound
    # The claim is a contrast: (c) below the bound where (a) is above it.
    a_fails = m["a_max_all"] > bound
    span = f"[0, {eval_end / math.pi:g} pi]"
    return LabOutcome(
        metrics=m,
        acceptance=Acceptance(
            metric="c_max_all",
            value=m["c_max_all"] if a_fails else float("nan"),
            comparison="<",
            threshold=bound,
            baseline=(
                f"(c) harmonic-Fourier-feature PINN, residual on [0, {cfg.train_end_pi:g} pi] "
                f"only, keeps max |y - sin x| < {bound:g} on {span}, where (a) the plain MLP "
                "PINN with the same residual interval exceeds it"
            ),
            baseline_value=m["a_max_all"],
        ),
        summary=(
            f"max |error| on {span} (inside / outside the training interval): "
            + "; ".join(
                f"{key} {m[f'{key}_max_in']:.2g} / {m[f'{key}_max_out']:.2g}" for key in VARIANTS
            )
            + f". Bound {bound:g}."
        ),
    )
