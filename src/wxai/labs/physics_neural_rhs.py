"""Neural right-hand sides on Lorenz-63: trajectory data vs box data (U14, lecture 19).

The lab composes :mod:`wxai.physics.neural_rhs`; it holds the settings, the figures and
the acceptance check.
"""

from __future__ import annotations

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U14 = "U14 Physics and AI"
DAY = 5

#: A fixed start near the Lorenz-63 attractor; the spin-up brings it onto it.
_START = (1.0, 1.0, 20.0)
#: The two learned models by label, and the short keys of their metrics.
_KEYS = {"(a) trajectory": "a", "(b) box": "b"}


class NeuralRHSConfig(LabConfig):
    """Settings of the neural right-hand-side lab."""

    dt: float = Field(gt=0, description="RK4 step of every model (model time units)")
    spinup_steps: int = Field(ge=0, description="steps discarded before the training trajectory")
    train_steps: int = Field(ge=2, description="states of the training trajectory (model a)")
    box_margin: float = Field(ge=0, description="box padding per side, fraction of the range")
    box_samples: int = Field(ge=2, description="uniform box states (model b)")
    hidden: list[int] = Field(min_length=1, description="MLP hidden sizes")
    activation: str = Field(description="MLP activation (a smooth one)")
    iterations: int = Field(ge=1, description="L-BFGS iterations of each fit (full batch)")
    attractor_steps: int = Field(ge=100, description="length of the true reference trajectory")
    n_starts: int = Field(ge=2, description="initial states on the attractor for error growth")
    lead_steps: int = Field(ge=1, description="longest lead of the error-growth curves (steps)")
    valid_fraction: float = Field(
        gt=0, description="valid-time threshold as a fraction of the climatological std"
    )
    climate_members: int = Field(ge=1, description="free runs of the climate statistics")
    climate_steps: int = Field(ge=1, description="kept steps per free run")
    climate_spinup: int = Field(ge=0, description="discarded steps per free run")
    climate_perturbation: float = Field(
        ge=0, description="std of the noise added to the attractor states starting the runs"
    )
    climate_every: int = Field(ge=1, description="thinning of the kept states")
    escape_factor: float = Field(gt=1, description="members leaving this x the box are dropped")
    mean_tolerance: float = Field(gt=0, description="allowed |mean error| / reference std")
    variance_tolerance: float = Field(gt=0, description="allowed |variance ratio - 1|")
    n_off: int = Field(ge=2, description="initial states off the attractor")
    off_distance: float = Field(gt=0, description="their least distance to the attractor")
    off_lead_steps: int = Field(ge=1, description="lead of the off-attractor test (steps)")
    max_ratio: float = Field(gt=0, description="accepted off-attractor RMSE ratio (b) / (a)")
    example_steps: int = Field(ge=1, description="length of the example trajectories (steps)")
    torch_threads: int | None = Field(ge=1, description="intra-op torch threads (None: leave)")


@lab(
    "neural-rhs",
    title="Neural right-hand sides for Lorenz-63: trajectory vs state-space training data",
    topic=U14,
    day=DAY,
    config=NeuralRHSConfig,
)
def neural_rhs(cfg: NeuralRHSConfig, ctx: LabContext) -> LabOutcome:
    """Learn x' = f(x) from one trajectory (a) and from a box (b); verify both against the truth."""
    import numpy as np

    from wxai.da.models import Lorenz63
    from wxai.physics.neural_rhs import (
        StateBox,
        fit_neural_rhs,
        tendency_pairs,
        trajectory,
    )

    true = Lorenz63()
    train = trajectory(
        true, np.array(_START), n_steps=cfg.train_steps, dt=cfg.dt, spinup_steps=cfg.spinup_steps
    )
    box = StateBox.around(train, cfg.box_margin)
    fits = {}
    with torch_threads(cfg.torch_threads):
        for i, (label, states) in enumerate(
            (("(a) trajectory", train), ("(b) box", box.sample(cfg.box_samples, ctx.rng)))
        ):
            fits[label] = fit_neural_rhs(
                *tendency_pairs(true, states),
                hidden=cfg.hidden,
                activation=cfg.activation,
                iterations=cfg.iterations,
                seed=cfg.seed,
                progress=lambda f, m, i=i, label=label: ctx.progress(
                    0.35 * (i + f), f"{label} {m}"
                ),
            )
        ctx.progress(0.7, "verification")
        models = {label: fit.model for label, fit in fits.items()}
        metrics, data = _verify(cfg, ctx, true=true, models=models, box=box, start=train[-1])
    for label, key in _KEYS.items():
        metrics[f"train_relative_error_{key}"] = fits[label].relative_error
    _figures(cfg, ctx, true=true, models=models, data=data)
    matched = all(metrics[f"climate_matched_{k}"] == 1.0 for k in ("a", "b"))
    lead = cfg.off_lead_steps * cfg.dt
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="off_attractor_ratio_b_over_a",
            # Both climates must be matched too: a model that wins off the attractor but
            # drifts on it fails.
            value=metrics["off_attractor_ratio_b_over_a"] if matched else float("nan"),
            comparison="<",
            threshold=cfg.max_ratio,
            baseline=(
                f"RMSE (all components, {cfg.n_off} starts at least {cfg.off_distance} from the "
                f"attractor) at lead {lead:g} of the box-trained model (b) over that of the "
                f"trajectory-trained model (a), with both climates matched (|mean error| <= "
                f"{cfg.mean_tolerance} x std, |variance ratio - 1| <= {cfg.variance_tolerance}); "
                "baseline value: the RMSE of (a)"
            ),
            baseline_value=metrics["off_rmse_a"],
        ),
        summary=(
            f"Off the attractor, lead {lead:g}: RMSE {metrics['off_rmse_b']:.3g} for (b) vs "
            f"{metrics['off_rmse_a']:.3g} for (a) (persistence "
            f"{metrics['off_rmse_persistence']:.3g})."
            f" On the attractor, valid time {metrics['valid_time_a']:.2f} (a), "
            f"{metrics['valid_time_b']:.2f} (b), {metrics['valid_time_persistence']:.2f} "
            f"(persistence). Climate: largest |mean error| / std {metrics['mean_error_max_a']:.3f}"
            f" (a), {metrics['mean_error_max_b']:.3f} (b); largest marginal W1 "
            f"{metrics['wasserstein_max_a']:.3f} (a), {metrics['wasserstein_max_b']:.3f} (b)."
        ),
    )


def _verify(cfg: NeuralRHSConfig, ctx: LabContext, *, true, models, box, start):
    """Error growth on and off the attractor and the climate statistics of free runs."""
    import numpy as np

    from wxai.physics.neural_rhs import (
        error_growth,
        free_run_climate,
        off_attractor_states,
        trajectory,
        valid_time,
    )

    attractor = trajectory(true, start, n_steps=cfg.attractor_steps, dt=cfg.dt)
    std = float(np.sqrt(attractor.var(axis=0).mean()))
    threshold = cfg.valid_fraction * std
    starts = attractor[ctx.rng.choice(len(attractor), cfg.n_starts, replace=False)]
    on = error_growth(
        models,
        true,
        starts,
        n_steps=cfg.lead_steps,
        dt=cfg.dt,
        climate_mean=attractor.mean(axis=0),
    )
    off_starts = off_attractor_states(
        box, attractor, cfg.n_off, min_distance=cfg.off_distance, rng=ctx.rng
    )
    off = error_growth(models, true, off_starts, n_steps=cfg.lead_steps, dt=cfg.dt)
    ctx.progress(0.8, "free runs")
    # Perturbed attractor states, so that the true free runs do not just replay the
    # reference trajectory (whose own lobe imbalance would bias the reference climate).
    picked = attractor[ctx.rng.choice(len(attractor), cfg.climate_members)]
    climate_starts = picked + cfg.climate_perturbation * ctx.rng.standard_normal(picked.shape)
    run = {
        "n_steps": cfg.climate_steps,
        "dt": cfg.dt,
        "spinup_steps": cfg.climate_spinup,
        "every": cfg.climate_every,
    }
    reference, _ = free_run_climate(true, climate_starts, **run)
    climates = {"truth": reference}
    lead = cfg.off_lead_steps * cfg.dt
    metrics = {"climatological_std": std, "valid_threshold": threshold}
    for name in ("persistence", "climatology"):
        metrics[f"valid_time_{name}"] = valid_time(on.lead_times, on.rmse[name], threshold)
    metrics["off_rmse_persistence"] = off.at("persistence", lead)
    for label, model in models.items():
        key = _KEYS[label]
        sample, escaped = free_run_climate(
            model, climate_starts, bounds=box.scaled(cfg.escape_factor), **run
        )
        metrics[f"escaped_members_{key}"] = float(escaped)
        metrics.update(_climate_metrics(cfg, reference, sample, key))
        climates[label] = sample
        metrics[f"valid_time_{key}"] = valid_time(on.lead_times, on.rmse[label], threshold)
        metrics[f"rmse_{key}_lead_0p5"] = on.at(label, 0.5)
        metrics[f"off_rmse_{key}"] = off.at(label, lead)
    metrics["rmse_persistence_lead_0p5"] = on.at("persistence", 0.5)
    metrics["off_attractor_ratio_b_over_a"] = metrics["off_rmse_b"] / metrics["off_rmse_a"]
    data = {
        "attractor": attractor,
        "on": on,
        "off": off,
        "off_starts": off_starts,
        "climates": climates,
        "threshold": threshold,
    }
    return metrics, data


def _climate_metrics(cfg: NeuralRHSConfig, reference, sample, key: str) -> dict[str, float]:
    """Mean, variance and marginal-distribution agreement of one model's free runs."""
    import numpy as np

    from wxai.physics.neural_rhs import compare_climates

    if len(sample) == 0:  # every member escaped
        nan = float("nan")
        return {
            f"mean_error_max_{key}": nan,
            f"variance_ratio_worst_{key}": nan,
            f"wasserstein_max_{key}": nan,
            f"climate_matched_{key}": 0.0,
        }
    c = compare_climates(reference, sample)
    mean_error = float((c.mean_error / c.std_ref).max())
    worst = c.variance_ratio[int(np.argmax(np.abs(c.variance_ratio - 1)))]
    out = {
        f"mean_error_max_{key}": mean_error,
        f"variance_ratio_worst_{key}": float(worst),
        f"wasserstein_max_{key}": float(c.wasserstein.max()),
    }
    for j, name in enumerate("xyz"):
        out[f"mean_{name}_{key}"] = float(c.mean_model[j])
        out[f"mean_{name}_truth"] = float(c.mean_ref[j])
    matched = mean_error <= cfg.mean_tolerance and abs(worst - 1) <= cfg.variance_tolerance
    out[f"climate_matched_{key}"] = float(matched)
    return out


def _figures(cfg: NeuralRHSConfig, ctx: LabContext, *, true, models, data) -> None:
    import numpy as np

    from wxai.physics.neural_rhs import integrate
    from wxai.viz.dynamics import figure_climate, figure_error_growth, figure_trajectories

    on, off = data["on"], data["off"]
    a_model = next(iter(models.values()))
    lead = cfg.off_lead_steps * cfg.dt
    on_title = f"{cfg.n_starts} starts on the attractor"
    off_title = f"{cfg.n_off} starts off the attractor (>= {cfg.off_distance:g} away)"
    fig = figure_error_growth(
        {on_title: (on.lead_times, on.rmse), off_title: (off.lead_times, off.rmse)},
        threshold=data["threshold"],
        marks={off_title: lead},
    )
    ctx.save_figure(fig, "neural_rhs_error_growth.png")
    ctx.save_figure(figure_climate(data["climates"]), "neural_rhs_climate.png")
    # The example: the off-attractor start at the 90th percentile of (a)'s error at the lead.
    starts = data["off_starts"]
    truth_at, a_at = (integrate(m, starts, cfg.off_lead_steps, cfg.dt)[-1] for m in (true, a_model))
    errors = np.linalg.norm(a_at - truth_at, axis=1)
    x0 = starts[np.argsort(errors)[int(0.9 * (len(errors) - 1))]]
    runs = {"truth": integrate(true, x0, cfg.example_steps, cfg.dt)}
    for label, model in models.items():
        runs[label] = integrate(model, x0, cfg.example_steps, cfg.dt)
    fig = figure_trajectories(
        np.arange(cfg.example_steps + 1) * cfg.dt,
        runs,
        background=data["attractor"][:: max(1, len(data["attractor"]) // 20000)],
        title=(
            f"start >= {cfg.off_distance:g} from the attractor, at the 90th percentile of the "
            f"error of (a) at lead {lead:g}"
        ),
    )
    ctx.save_figure(fig, "neural_rhs_off_attractor_example.png")
