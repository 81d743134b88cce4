"""SINDy lab: discovering the Lorenz-63 equations, and neural SINDy on noisy data.

The lab composes :mod:`wxai.physics.sindy` (U14, lecture 19); it holds the settings, the
figures and the acceptance check.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import Field, model_validator

from wxai.core.device import torch_threads
from wxai.core.errors import ConfigError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U14 = "U14 Physics and AI"
DAY = 5
METHODS = ("finite differences", "neural")
_KEYS = {"finite differences": "fd", "neural": "neural"}


class SindyLorenz63Config(LabConfig):
    """Settings of the SINDy Lorenz-63 lab (times in model units, noise in state units)."""

    n_samples: int = Field(ge=100, description="samples of the trajectory")
    dt: float = Field(gt=0, description="sampling interval")
    substeps: int = Field(ge=1, description="RK4 steps per sampling interval (truth)")
    spin_up: float = Field(ge=0, description="model time integrated before the first sample")
    x0: list[float] = Field(min_length=3, max_length=3, description="state starting the spin-up")
    threshold: float = Field(gt=0, description="STLSQ threshold (both methods)")
    noise_levels: list[float] = Field(min_length=1, description="observation-noise std devs")
    seeds: list[int] = Field(min_length=1, description="noise realisations per level")
    acceptance_noise: float = Field(gt=0, description="noise level of the acceptance check")
    max_fd_exact_fraction: float = Field(
        ge=0, lt=1, description="acceptance: FD must find the exact terms in at most this share"
    )
    max_relative_error: float = Field(gt=0, description="noise-free bound on each coefficient")
    spacing: float = Field(gt=0, description="smoother: distance between window centres")
    hidden: list[int] = Field(min_length=1, description="smoother: hidden sizes per window")
    harmonics: int = Field(ge=0, description="smoother: Fourier features of local time")
    epochs: int = Field(ge=1, description="smoother: full-batch Adam steps")
    lr: float = Field(gt=0, description="smoother: initial Adam learning rate")
    smoothness_weight: float = Field(ge=0, description="smoother: derivative-penalty weight")
    smoothness_order: int = Field(ge=1, le=3, description="smoother: penalised derivative")
    collocation: int = Field(ge=1, description="smoother: penalty points per step")
    trim: int = Field(ge=0, description="samples left out at each end of the smooth fit")
    evolution_time: float = Field(gt=0, description="horizon of the discovered-evolution runs")
    valid_tolerance: float = Field(gt=0, description="state error ending a run's valid time")
    torch_threads: int | None = Field(ge=1, description="intra-op torch threads (None: leave)")

    @model_validator(mode="after")
    def _acceptance_noise_is_swept(self) -> Self:
        if self.acceptance_noise not in self.noise_levels:
            raise ConfigError(
                f"acceptance_noise {self.acceptance_noise} is not one of the noise_levels "
                f"{self.noise_levels}"
            )
        return self


@lab(
    "sindy-lorenz63",
    title="SINDy on Lorenz-63: sparse equation discovery, finite-difference vs neural SINDy",
    topic=U14,
    day=DAY,
    config=SindyLorenz63Config,
)
def sindy_lorenz63(cfg: SindyLorenz63Config, ctx: LabContext) -> LabOutcome:
    """Discover Lorenz-63 from clean data, then from noisy data with FD and neural derivatives."""
    from wxai.physics.sindy import (
        MethodResult,
        fit_sindy,
        lorenz63_coefficients,
        lorenz63_trajectory,
        noise_sweep,
    )
    from wxai.physics.smoothing import SmootherSettings

    t, truth = lorenz63_trajectory(
        cfg.n_samples, cfg.dt, x0=cfg.x0, spin_up=cfg.spin_up, substeps=cfg.substeps
    )
    clean = fit_sindy(t, truth, threshold=cfg.threshold)
    true = lorenz63_coefficients(clean.terms)
    clean_result = MethodResult.score(clean, true)
    settings = SmootherSettings(
        spacing=cfg.spacing,
        hidden=tuple(cfg.hidden),
        harmonics=cfg.harmonics,
        epochs=cfg.epochs,
        lr=cfg.lr,
        smoothness_weight=cfg.smoothness_weight,
        smoothness_order=cfg.smoothness_order,
        collocation=cfg.collocation,
    )
    ctx.progress(0.02, "noise sweep")
    with torch_threads(cfg.torch_threads):
        sweep = noise_sweep(
            t,
            truth,
            cfg.noise_levels,
            cfg.seeds,
            settings,
            trim=cfg.trim,
            threshold=cfg.threshold,
            progress=lambda f, m: ctx.progress(0.02 + 0.9 * f, m),
        )
    table = _sweep_table(cfg, sweep)
    metrics = _metrics(cfg, clean_result, table, sweep, t=t, truth=truth)
    ctx.progress(0.93, "figures")
    _figures(cfg, ctx, t=t, truth=truth, clean=clean_result, true=true, sweep=sweep, table=table)
    return _outcome(cfg, clean_result, metrics)


def _sweep_table(cfg: SindyLorenz63Config, sweep) -> dict[str, dict[str, np.ndarray]]:
    """Method -> {"error", "exact"} arrays ``(noise levels, seeds)``."""
    shape = (len(cfg.noise_levels), len(cfg.seeds))
    table = {}
    for method in METHODS:
        results = [_result(case, method) for case in sweep]
        table[method] = {
            "error": np.array([r.coefficient_error for r in results]).reshape(shape),
            "exact": np.array([r.support.exact for r in results]).reshape(shape),
        }
    return table


def _metrics(cfg, clean, table, sweep, *, t, truth) -> dict[str, float]:
    from wxai.physics.sindy import finite_difference_derivatives, valid_time
    from wxai.verify.metrics import rmse

    metrics = {
        "noise_free_max_relative_error": clean.max_relative_error,
        "noise_free_coefficient_error": clean.coefficient_error,
        "noise_free_false_terms": float(len(clean.support.false_terms)),
        "noise_free_missing_terms": float(len(clean.support.missing_terms)),
    }
    for method in METHODS:
        key = _KEYS[method]
        for i, noise in enumerate(cfg.noise_levels):
            errors, exact = table[method]["error"][i], table[method]["exact"][i]
            metrics[f"{key}_coefficient_error_noise_{noise:g}"] = float(errors.mean())
            metrics[f"{key}_exact_fraction_noise_{noise:g}"] = float(exact.mean())
            for seed, error in zip(cfg.seeds, errors, strict=True):
                metrics[f"{key}_coefficient_error_noise_{noise:g}_seed_{seed}"] = float(error)
        level = cfg.noise_levels.index(cfg.acceptance_noise)
        metrics[f"{key}_exact_fraction"] = float(table[method]["exact"][level].mean())
        metrics[f"{key}_coefficient_error"] = float(table[method]["error"][level].mean())
    # Derivative and state errors of the two estimates at the acceptance noise level.
    tendency = _true_tendency(truth)
    cases = [case for case in sweep if case.noise == cfg.acceptance_noise]
    kept = slice(cfg.trim, t.size - cfg.trim)
    metrics["fd_derivative_rmse"] = float(
        np.mean([rmse(finite_difference_derivatives(t, c.observations), tendency) for c in cases])
    )
    metrics["neural_derivative_rmse"] = float(
        np.mean([rmse(c.smooth.derivatives[kept], tendency[kept]) for c in cases])
    )
    metrics["neural_state_rmse"] = float(
        np.mean([rmse(c.smooth.states[kept], truth[kept]) for c in cases])
    )
    # How long each discovered model, started from the true state, stays near the truth.
    horizon = t <= t[0] + cfg.evolution_time
    for method in METHODS:
        times = [
            valid_time(
                t[horizon],
                truth[horizon],
                _result(c, method).discovery.simulate(truth[0], t[horizon]),
                cfg.valid_tolerance,
            )
            for c in cases
        ]
        metrics[f"{_KEYS[method]}_valid_time"] = float(np.mean(times))
    return metrics


def _result(case, method: str):
    return case.finite_differences if method == "finite differences" else case.neural


def _true_tendency(states: np.ndarray) -> np.ndarray:
    from wxai.da.models import Lorenz63

    return Lorenz63().rhs(states)


def _outcome(cfg: SindyLorenz63Config, clean, metrics: dict[str, float]) -> LabOutcome:
    clean_ok = clean.support.exact and clean.max_relative_error <= cfg.max_relative_error
    fd_fails = metrics["fd_exact_fraction"] <= cfg.max_fd_exact_fraction
    value = metrics["neural_exact_fraction"] if clean_ok and fd_fails else float("nan")
    noise = cfg.acceptance_noise
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="neural_exact_fraction",
            value=value,
            comparison=">=",
            threshold=1.0,
            baseline=(
                f"neural SINDy finds exactly the Lorenz-63 terms for every seed at noise "
                f"sigma = {noise:g}, where finite-difference SINDy (same library and threshold "
                f"{cfg.threshold:g}) finds them in at most {cfg.max_fd_exact_fraction:g} of "
                f"the seeds; noise-free: exact terms, every coefficient within "
                f"{100 * cfg.max_relative_error:g} %"
            ),
            baseline_value=metrics["fd_exact_fraction"],
        ),
        summary=(
            f"Noise-free: exact terms {clean.support.exact}, worst coefficient error "
            f"{100 * clean.max_relative_error:.2f} %. At noise {noise:g}: exact terms in "
            f"{metrics['neural_exact_fraction']:.0%} of seeds with neural SINDy vs "
            f"{metrics['fd_exact_fraction']:.0%} with finite differences; coefficient error "
            f"{metrics['neural_coefficient_error']:.3f} vs {metrics['fd_coefficient_error']:.3f}; "
            f"derivative RMSE {metrics['neural_derivative_rmse']:.2f} vs "
            f"{metrics['fd_derivative_rmse']:.2f}; valid time of the discovered model "
            f"{metrics['neural_valid_time']:.2f} vs {metrics['fd_valid_time']:.2f}."
        ),
    )


def _figures(cfg, ctx: LabContext, *, t, truth, clean, true, sweep, table) -> None:
    from wxai.physics.sindy import finite_difference_derivatives
    from wxai.viz.sindy import (
        figure_coefficients,
        figure_discovered_trajectories,
        figure_error_vs_noise,
        figure_noisy_discovery,
    )

    discovered = clean.discovery.simulate(truth[0], t)
    fig = figure_discovered_trajectories(
        t, truth, discovered, equations=clean.discovery.equations()
    )
    ctx.save_figure(fig, "sindy_lorenz63_trajectories.png")

    case = next(c for c in sweep if c.noise == cfg.acceptance_noise)
    horizon = t <= t[0] + cfg.evolution_time
    fig = figure_noisy_discovery(
        t,
        truth,
        case.observations,
        smooth=case.smooth.states,
        derivatives={
            "true": _true_tendency(truth),
            "finite differences": finite_difference_derivatives(t, case.observations),
            "neural (autograd of $x_\\theta$)": case.smooth.derivatives,
        },
        t_evolution=t[horizon],
        evolutions={
            "truth": truth[horizon],
            "SINDy, finite differences": case.finite_differences.discovery.simulate(
                truth[0], t[horizon]
            ),
            "neural SINDy": case.neural.discovery.simulate(truth[0], t[horizon]),
        },
        noise=case.noise,
        shown=slice(cfg.trim, cfg.trim + max(t.size // 5, 2)),
    )
    ctx.save_figure(fig, "sindy_lorenz63_noisy.png")

    errors = {method: table[method]["error"] for method in METHODS}
    exact = {method: table[method]["exact"] for method in METHODS}
    fig = figure_error_vs_noise(cfg.noise_levels, errors, exact, threshold=cfg.threshold)
    ctx.save_figure(fig, "sindy_lorenz63_error_vs_noise.png")

    noisy = {
        f"finite differences, sigma={case.noise:g}": case.finite_differences,
        f"neural SINDy, sigma={case.noise:g}": case.neural,
    }
    matrices = {"true Lorenz-63": true, "SINDy, noise-free": clean.discovery.coefficients}
    matrices |= {label: result.discovery.coefficients for label, result in noisy.items()}
    fig = figure_coefficients(clean.discovery.terms, matrices)
    ctx.save_figure(fig, "sindy_lorenz63_coefficients.png")
