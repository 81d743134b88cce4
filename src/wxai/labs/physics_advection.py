"""Conservative emulator lab: a CNN that keeps the mass of periodic advection exactly (U14).

The lab composes :mod:`wxai.physics.advection` (truth, data, emulators, diagnostics) and
:mod:`wxai.viz.advection` (figures); it holds settings and the acceptance check.
"""

from __future__ import annotations

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U14 = "U14 Physics and AI"
DAY = 5


class ConservativeAdvectionConfig(LabConfig):
    """Settings of ``conservative-advection``."""

    n: int = Field(ge=8, description="grid cells on the ring")
    length: float = Field(gt=0, description="domain length (length units)")
    speed: float = Field(description="advection speed (length / time), non-zero")
    cfl: float = Field(gt=0, le=1, description="Courant number |c| dt / dx of the truth")
    train_cases: int = Field(ge=1, description="Gaussian-bump initial fields for training")
    train_steps: int = Field(ge=1, description="truth steps (training pairs) per initial field")
    amplitude: tuple[float, float] = Field(description="range of bump amplitudes (state units)")
    width: tuple[float, float] = Field(description="range of bump widths (length units)")
    input_noise: float = Field(ge=0, description="white noise on training inputs (state units)")
    hidden: list[int] = Field(min_length=1, description="hidden channels of the CNN")
    kernel_size: int = Field(ge=1, description="odd kernel width (cells) of every layer")
    act: str = Field(description="activation between layers (relu, tanh, gelu, silu)")
    epochs: int = Field(ge=1)
    lr: float = Field(gt=0, description="Adam learning rate (cosine decay to 1 %)")
    batch_size: int = Field(ge=1)
    test_cases: int = Field(ge=1, description="unseen Gaussian-bump fields for the rollouts")
    rollout_steps: int = Field(ge=1, description="autoregressive steps of every rollout")
    max_drift: float = Field(gt=0, description="bound on the conservative model's mass drift")
    min_free_drift: float = Field(gt=0, description="drift at which the free model counts")
    torch_threads: int | None = Field(default=1, ge=1, description="intra-op torch threads")


@lab(
    "conservative-advection",
    title="Conservative emulator: a zero-sum CNN increment keeps the mass of advection exactly",
    topic=U14,
    day=DAY,
    config=ConservativeAdvectionConfig,
)
def conservative_advection(cfg: ConservativeAdvectionConfig, ctx: LabContext) -> LabOutcome:
    """Train free and conservative CNN emulators of upwind advection and roll them out."""
    import numpy as np

    from wxai.core.progress import scaled
    from wxai.physics.advection import (
        UpwindAdvection1D,
        build_emulators,
        compare_rollouts,
        gaussian_bumps,
        train_emulator,
        transition_pairs,
        unseen_shapes,
    )

    solver = UpwindAdvection1D(cfg.n, cfg.length, cfg.speed, cfg.cfl)
    shape = {"length": cfg.length, "amplitude": cfg.amplitude, "width": cfg.width}
    initial = gaussian_bumps(solver.grid, cfg.train_cases, ctx.rng, **shape)
    inputs, targets = transition_pairs(
        solver, initial, cfg.train_steps, input_noise=cfg.input_noise, rng=ctx.rng
    )
    models = build_emulators(cfg.hidden, cfg.kernel_size, seed=cfg.seed, act=cfg.act)
    losses = {}
    with torch_threads(cfg.torch_threads):
        for i, (name, model) in enumerate(models.items()):
            span = scaled(ctx.progress, 0.45 * i, 0.45 * (i + 1))
            losses[name] = train_emulator(
                model,
                inputs,
                targets,
                epochs=cfg.epochs,
                lr=cfg.lr,
                batch_size=cfg.batch_size,
                seed=cfg.seed,
                progress=span,
            )
        ctx.progress(0.9, f"{cfg.rollout_steps}-step rollouts (float64)")
        test = gaussian_bumps(solver.grid, cfg.test_cases, ctx.rng, **shape)
        shapes = unseen_shapes(solver.grid, length=cfg.length)
        seen = compare_rollouts(solver, models, test, cfg.rollout_steps)
        unseen = compare_rollouts(
            solver, models, np.stack(list(shapes.values())), cfg.rollout_steps
        )

    metrics = _metrics(seen, unseen, list(shapes), losses)
    _figures(ctx, cfg, solver, seen=seen, unseen=unseen, shape_names=list(shapes), losses=losses)
    free_visible = metrics["mass_drift_free_median"] >= cfg.min_free_drift
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="mass_drift_conservative",
            # The free model's visible drift is part of the criterion: without it the
            # comparison shows nothing.
            value=metrics["mass_drift_conservative"] if free_visible else float("nan"),
            comparison="<",
            threshold=cfg.max_drift,
            baseline=(
                f"largest relative mass drift of the conservative CNN over {cfg.rollout_steps} "
                f"float64 steps (Gaussian test fields and unseen shapes) below {cfg.max_drift:g}, "
                f"while the free CNN drifts by >= {cfg.min_free_drift:g} (median over fields); "
                "baseline: the free CNN's largest drift"
            ),
            baseline_value=metrics["mass_drift_free"],
        ),
        summary=(
            f"Mass drift over {cfg.rollout_steps} steps: conservative "
            f"{metrics['mass_drift_conservative']:.2e}, free {metrics['mass_drift_free']:.2e} "
            f"(median {metrics['mass_drift_free_median']:.2e}), truth "
            f"{metrics['mass_drift_truth']:.2e}; RMSE at the last step "
            f"{metrics['rmse_final_conservative']:.3f} (conservative) vs "
            f"{metrics['rmse_final_free']:.3f} (free); truth RMS {metrics['rms_final_truth']:.3f}."
        ),
    )


def _metrics(seen, unseen, shape_names, losses) -> dict[str, float]:
    import numpy as np

    metrics: dict[str, float] = {}
    for name in ("truth", "free", "conservative"):
        worst = np.concatenate([seen[name].mass_drift.max(0), unseen[name].mass_drift.max(0)])
        metrics[f"mass_drift_{name}"] = float(worst.max())
        metrics[f"mass_drift_{name}_median"] = float(np.median(worst))
    for name in ("free", "conservative"):
        metrics[f"rmse_step100_{name}"] = float(
            seen[name].rmse[min(100, len(seen[name].rmse) - 1)].mean()
        )
        metrics[f"rmse_final_{name}"] = float(seen[name].rmse[-1].mean())
        metrics[f"loss_final_{name}"] = float(losses[name][-1])
        for k, shape in enumerate(shape_names):
            key = shape.replace(" ", "_")
            metrics[f"unseen_{key}_mass_drift_{name}"] = float(unseen[name].mass_drift[:, k].max())
            metrics[f"unseen_{key}_rmse_final_{name}"] = float(unseen[name].rmse[-1, k])
    truth_final = seen["truth"].trajectory[-1]
    metrics["rms_final_truth"] = float(np.sqrt((truth_final**2).mean(-1)).mean())
    return metrics


def _figures(ctx: LabContext, cfg, solver, *, seen, unseen, shape_names, losses) -> None:
    from wxai.viz.advection import (
        mass_budget_figure,
        rollout_snapshots_figure,
        unseen_shapes_figure,
    )

    names = ("truth", "free", "conservative")
    drift = {name: seen[name].mass_drift for name in names}
    rmse = {name: seen[name].rmse for name in ("free", "conservative")}
    fig = mass_budget_figure(drift, rmse, losses, bound=cfg.max_drift)
    ctx.save_figure(fig, "conservative_advection_mass.png")
    steps = cfg.rollout_steps
    shown = sorted({0, steps // 10, steps // 2, steps})
    fig = rollout_snapshots_figure(
        solver.grid, {name: seen[name].trajectory[:, 0] for name in names}, shown, dt=solver.dt
    )
    ctx.save_figure(fig, "conservative_advection_rollout.png")
    fig = unseen_shapes_figure(
        solver.grid,
        {
            s: {name: unseen[name].trajectory[:, k] for name in names}
            for k, s in enumerate(shape_names)
        },
        {
            s: {name: unseen[name].mass_drift[:, k] for name in names}
            for k, s in enumerate(shape_names)
        },
        step=steps,
        bound=cfg.max_drift,
    )
    ctx.save_figure(fig, "conservative_advection_unseen.png")
