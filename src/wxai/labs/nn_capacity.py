"""Network capacity (course unit U3, day 1): counting parameters, shallow vs deep."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.nn_basics import U3

if TYPE_CHECKING:
    import numpy as np
    import torch


class FfnnCapacityConfig(LabConfig):
    """Settings of ``ffnn-capacity``."""

    reference: list[int] = Field(
        default=[1, 16, 16, 1], min_length=2, description="layer sizes of the acceptance count"
    )
    architectures: list[list[int]] = Field(
        min_length=1, description="further layer sizes (input, hidden..., output) to count"
    )
    deep_hidden: list[int] = Field(
        min_length=2,
        description="hidden sizes of the deep network; the shallow one matches "
        "its parameter count with a single hidden layer",
    )
    activation: str = "tanh"
    frequencies: list[float] = Field(min_length=1, description="target = sum a_k sin(f_k x)")
    amplitudes: list[float] = Field(min_length=1)
    n_train: int = Field(ge=16)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(
        default=1, ge=1, description="intra-op threads while training (None: torch default)"
    )


def _sizes_label(sizes: list[int]) -> str:
    return "-".join(str(size) for size in sizes)


@lab(
    "ffnn-capacity",
    title="Counting MLP parameters; shallow vs deep at the same parameter budget",
    topic=U3,
    day=1,
    config=FfnnCapacityConfig,
)
def ffnn_capacity(cfg: FfnnCapacityConfig, ctx: LabContext) -> LabOutcome:
    """Count weights and biases, then fit a multi-frequency signal with two equal-size MLPs."""
    import torch

    from wxai.core.errors import ConfigError
    from wxai.data.synthetic.toy_datasets import sine_mixture
    from wxai.nn.mlp import MLP, count_parameters, mlp_parameter_count, shallow_width_for_budget
    from wxai.verify.metrics import rmse

    if len(cfg.frequencies) != len(cfg.amplitudes):
        raise ConfigError("frequencies and amplitudes must have the same length")

    # 1. Parameters counted from the torch modules and from the formula.
    counts: dict[str, tuple[int, int]] = {}
    for sizes in [cfg.reference, *cfg.architectures]:
        module = MLP(sizes[0], sizes[-1], sizes[1:-1], act=cfg.activation)
        counts[_sizes_label(sizes)] = (count_parameters(module), mlp_parameter_count(sizes))
    reference = _sizes_label(cfg.reference)
    counted, formula = counts[reference]

    # 2. Shallow vs deep at a similar budget on a multi-frequency target.
    x = torch.from_numpy(ctx.rng.uniform(0.0, 2 * math.pi, size=(cfg.n_train, 1))).float()
    grid = torch.linspace(0.0, 2 * math.pi, 1000).unsqueeze(1)
    truth = sine_mixture(grid, cfg.frequencies, cfg.amplitudes).squeeze(1).numpy()
    budget = mlp_parameter_count([1, *cfg.deep_hidden, 1])
    variants = {
        "shallow": [1, shallow_width_for_budget(1, 1, budget), 1],
        "deep": [1, *cfg.deep_hidden, 1],
    }
    fits, histories = _fit_variants(cfg, ctx, x, grid, variants, counts=counts)
    errors = {name: rmse(fit_, truth) for name, fit_ in fits.items()}
    signal_rms = rmse(0.0 * truth, truth)

    curves = {
        f"{name} {_sizes_label(variants[name])} (RMSE {errors[name]:.3f})": (fits[name], style)
        for name, style in (("shallow", "C1--"), ("deep", "C2-"))
    }
    _capacity_figure(
        ctx, cfg, counts, (grid.squeeze(1).numpy(), truth, curves), histories, budget=budget
    )

    return LabOutcome(
        metrics={
            f"params_{reference.replace('-', '_')}": float(counted),
            f"params_formula_{reference.replace('-', '_')}": float(formula),
            "count_mismatches": float(sum(a != b for a, b in counts.values())),
            "params_shallow": float(counts[_sizes_label(variants["shallow"])][0]),
            "params_deep": float(counts[_sizes_label(variants["deep"])][0]),
            "rmse_shallow": errors["shallow"],
            "rmse_deep": errors["deep"],
            "rmse_zero_predictor": signal_rms,
            "deep_fits_better": float(errors["deep"] < errors["shallow"]),
        },
        acceptance=Acceptance(
            metric=f"params_{reference.replace('-', '_')}",
            value=float(counted),
            comparison="==",
            threshold=float(formula),
            baseline=(
                f"formula sum (n_in+1)*n_out for {reference}; COURSE_MAP U3 and the course "
                "slide state 337 for 1-16-16-1, but their own terms 32 + 272 + 17 sum to 321 "
                "(337 is the count of 2-16-16-1)"
            ),
            baseline_value=float(formula),
        ),
        summary=(
            f"{reference} has {counted} parameters (formula {formula}); at ~{budget} "
            f"parameters the deep net reaches RMSE {errors['deep']:.3f}, "
            f"the shallow one {errors['shallow']:.3f}."
        ),
    )


def _fit_variants(
    cfg: FfnnCapacityConfig,
    ctx: LabContext,
    x: torch.Tensor,
    grid: torch.Tensor,
    variants: dict[str, list[int]],
    *,
    counts: dict[str, tuple[int, int]],
) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Train one MLP per variant on the target at ``x``; its fit on ``grid`` and losses.

    The parameter counts of the trained networks are added to ``counts``.
    """
    from wxai.data.synthetic.toy_datasets import sine_mixture
    from wxai.nn.mlp import MLP, count_parameters, mlp_parameter_count
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict

    y = sine_mixture(x, cfg.frequencies, cfg.amplitudes)
    fits, histories = {}, {}
    for index, (name, sizes) in enumerate(variants.items()):
        model = MLP(1, 1, sizes[1:-1], act=cfg.activation)
        loader = tensor_loader(x, y, batch_size=cfg.batch_size, seed=cfg.seed + index)
        with torch_threads(cfg.torch_threads):
            histories[name] = ctx.fit(
                model,
                loader,
                epochs=cfg.epochs,
                lr=cfg.lr,
                span=(index / 2, (index + 1) / 2),
                metric_prefix=f"{name}_",
                log_points=25,
            ).train_loss
        fits[name] = predict(model, grid, ctx.device).squeeze(1).numpy()
        counts[_sizes_label(sizes)] = (count_parameters(model), mlp_parameter_count(sizes))
    return fits, histories


def _capacity_figure(
    ctx: LabContext,
    cfg: FfnnCapacityConfig,
    counts: dict[str, tuple[int, int]],
    fits: tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, str]]],
    histories: dict[str, list[float]],
    *,
    budget: int,
) -> None:
    """Parameter counts against the formula, the fits ``(x, truth, {label: (fit, style)})``
    and the loss curves."""
    import matplotlib.pyplot as plt

    from wxai.viz.training import plot_function_fits, plot_loss_curves, plot_parameter_counts

    fig, (ax_count, ax_fit, ax_loss) = plt.subplots(
        1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1.4, 1]}, layout="constrained"
    )
    terms = [(n_in + 1) * n_out for n_in, n_out in itertools.pairwise(cfg.reference)]
    plot_parameter_counts(
        ax_count,
        counts,
        title="Weights + biases: counted vs formula \u03a3(n_in+1)\u00b7n_out\n"
        f"{_sizes_label(cfg.reference)}: {' + '.join(map(str, terms))} = {sum(terms)}",
    )
    plot_function_fits(ax_fit, *fits, title=f"Fits at about {budget} parameters")
    plot_loss_curves(ax_loss, histories, styles={"shallow": "C1", "deep": "C2"})
    ctx.save_figure(fig, "capacity.png")
