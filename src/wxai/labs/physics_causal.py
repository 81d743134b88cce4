"""Cause, not correlation: lagged causal discovery on two P-T scenarios (U14, lecture 19, IV).

The lab composes :mod:`wxai.physics.causal`: it simulates both scenarios for several
seeds, runs the naive lagged regression, PCMCI and the neural innovation method on each,
scores the cross-links against the true graphs and draws the figures.
"""

from __future__ import annotations

from collections import Counter

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U14 = "U14 Physics and AI"
DAY = 5

#: Lag of P -> T in "p_drives_t", and by which T trails P in "common_driver" (steps).
PT_LAG = 2


class CausalConfig(LabConfig):
    """Settings of the causal-pt lab."""

    n_time: int = Field(ge=50, description="time steps per simulated series")
    n_seeds: int = Field(ge=1, description="independent simulations per scenario")
    tau_max: int = Field(ge=3, le=10, description="longest lag searched (steps; truth has 3)")
    alpha: float = Field(gt=0, lt=1, description="significance level of every link test")
    pc_alpha: float = Field(gt=0, lt=1, description="PCMCI parent-selection level")
    hidden: int = Field(ge=0, description="hidden units of the autoregressive MLPs")
    epochs: int = Field(ge=1, description="Adam steps of the autoregressive fit")
    lr: float = Field(gt=0, description="Adam learning rate")
    sparsity: float = Field(ge=0, description="L1 weight on cross-effects (standardised)")
    plot_steps: int = Field(ge=10, description="leading time steps drawn")
    torch_threads: int | None = Field(ge=1, description="intra-op torch threads (None: leave)")


@lab(
    "causal-pt",
    title="Cause, not correlation: naive regression, PCMCI and a neural innovation method",
    topic=U14,
    day=DAY,
    config=CausalConfig,
)
def causal_pt(cfg: CausalConfig, ctx: LabContext) -> LabOutcome:
    """Recover the causal graphs of both scenarios over several seeds with three methods."""
    import numpy as np

    from wxai.physics.causal import (
        METHODS,
        SCENARIOS,
        LinkScore,
        discover,
        lagged_correlation,
        score_links,
        simulate_scenario,
    )

    options = {
        "naive": {},
        "pcmci": {"pc_alpha": cfg.pc_alpha},
        "innovation": {
            "hidden": cfg.hidden,
            "epochs": cfg.epochs,
            "lr": cfg.lr,
            "sparsity": cfg.sparsity,
        },
    }
    scores = {s: dict.fromkeys(METHODS, LinkScore(0, 0, 0)) for s in SCENARIOS}
    exact = {s: Counter() for s in SCENARIOS}
    p_to_t = {s: Counter() for s in SCENARIOS}
    counts = {s: {m: Counter() for m in METHODS} for s in SCENARIOS}
    corr = {s: [] for s in SCENARIOS}
    examples = {}
    for index, (scenario, replicate) in enumerate(
        (s, r) for s in SCENARIOS for r in range(cfg.n_seeds)
    ):
        ctx.progress(0.9 * index / (len(SCENARIOS) * cfg.n_seeds), f"{scenario}, seed {replicate}")
        data = simulate_scenario(scenario, cfg.n_time, np.random.default_rng((cfg.seed, replicate)))
        examples.setdefault(scenario, data)
        corr[scenario].append(lagged_correlation(data["P"].values, data["T"].values, cfg.tau_max))
        for method in METHODS:
            extra = {"seed": cfg.seed + replicate} if method == "innovation" else {}
            with torch_threads(cfg.torch_threads):
                graph = discover(method, data, cfg.tau_max, cfg.alpha, **options[method], **extra)
            score = score_links(graph.links, SCENARIOS[scenario].cross_links)
            scores[scenario][method] += score
            exact[scenario][method] += score.exact
            counts[scenario][method].update(graph.links)
            p_to_t[scenario][method] += any(link[:2] == ("P", "T") for link in graph.links)

    mean_corr = {s: np.mean(c, axis=0) for s, c in corr.items()}
    metrics = _metrics(scores, exact, p_to_t, mean_corr, cfg.n_seeds)
    ctx.progress(0.9, "figures")
    _figures(ctx, cfg, examples, mean_corr=mean_corr, counts=counts, scores=scores)
    return _outcome(metrics, cfg.n_seeds)


def _metrics(scores, exact, p_to_t, mean_corr, n_seeds) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for scenario, by_method in scores.items():
        metrics[f"corr_pt_lag0_{scenario}"] = float(mean_corr[scenario][0])
        metrics[f"corr_pt_lag{PT_LAG}_{scenario}"] = float(mean_corr[scenario][PT_LAG])
        for method, score in by_method.items():
            key = f"{method}_{scenario}"
            metrics[f"precision_{key}"] = score.precision
            metrics[f"recall_{key}"] = score.recall
            metrics[f"false_links_{key}"] = float(score.false_positives)
            metrics[f"missed_links_{key}"] = float(score.false_negatives)
            metrics[f"exact_fraction_{key}"] = exact[scenario][method] / n_seeds
            metrics[f"p_to_t_fraction_{key}"] = p_to_t[scenario][method] / n_seeds
    metrics["min_exact_fraction"] = min(
        metrics[f"exact_fraction_{m}_{s}"] for m in ("pcmci", "innovation") for s in scores
    )
    return metrics


def _outcome(metrics: dict[str, float], n_seeds: int) -> LabOutcome:
    fooled = metrics["p_to_t_fraction_naive_common_driver"]
    lines = [
        f"{s}: "
        + ", ".join(
            f"{m} P={metrics[f'precision_{m}_{s}']:.2f} R={metrics[f'recall_{m}_{s}']:.2f}"
            for m in ("naive", "pcmci", "innovation")
        )
        for s in ("p_drives_t", "common_driver")
    ]
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="min_exact_fraction",
            # The pitfall must show: the naive method claims P -> T in every common-driver run.
            value=metrics["min_exact_fraction"] if fooled == 1.0 else float("nan"),
            comparison=">=",
            threshold=1.0,
            baseline=(
                f"PCMCI and the innovation method recover both true graphs with no false link "
                f"in all {n_seeds} seeds, while naive lagged regression claims P -> T in every "
                "common-driver run; baseline: naive precision in common_driver"
            ),
            baseline_value=metrics["precision_naive_common_driver"],
        ),
        summary=(
            f"P-T correlation at lag {PT_LAG}: {metrics[f'corr_pt_lag{PT_LAG}_p_drives_t']:.2f} "
            f"(P drives T) vs {metrics[f'corr_pt_lag{PT_LAG}_common_driver']:.2f} (common "
            f"driver); naive claims P -> T in {fooled:.0%} of common-driver runs. "
            + "; ".join(lines)
        ),
    )


def _figures(ctx, cfg, examples, *, mean_corr, counts, scores) -> None:
    from wxai.physics.causal import SCENARIOS, VARIABLES
    from wxai.viz.causal import (
        link_graphs_figure,
        precision_recall_figure,
        scenario_series_figure,
    )

    series = {s: {v: data[v].values for v in VARIABLES} for s, data in examples.items()}
    fig = scenario_series_figure(
        series,
        mean_corr,
        titles={s: scm.description for s, scm in SCENARIOS.items()},
        scatter_lag=PT_LAG,
        steps=cfg.plot_steps,
    )
    ctx.save_figure(fig, "causal_pt_series.png")
    truth = {s: scm.cross_links for s, scm in SCENARIOS.items()}
    fig = link_graphs_figure(counts, truth, VARIABLES, cfg.n_seeds)
    ctx.save_figure(fig, "causal_pt_graphs.png")
    pr = {s: {m: (sc.precision, sc.recall) for m, sc in by.items()} for s, by in scores.items()}
    ctx.save_figure(precision_recall_figure(pr), "causal_pt_precision_recall.png")
