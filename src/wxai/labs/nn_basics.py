"""Day 1 labs: a first network, data loaders, and network capacity (course unit U3)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import torch

U3 = "U3 Neural-network foundations"

#: Sample ids of the batches of one epoch, in the order the loader yields them.
Batches = list[tuple[int, ...]]


class SineRegressionConfig(LabConfig):
    """Settings of ``sine-regression``."""

    n_train: int = Field(ge=8, description="training points drawn uniformly on [0, 2 pi]")
    hidden: list[int] = Field(min_length=1, description="hidden layer sizes")
    activation: str = "tanh"
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    noise_std: float = Field(default=0.0, ge=0)


@lab(
    "sine-regression",
    title="An MLP learns sin(x) on [0, 2 pi] from mini-batches",
    topic=U3,
    day=1,
    config=SineRegressionConfig,
)
def sine_regression(cfg: SineRegressionConfig, ctx: LabContext) -> LabOutcome:
    """Fit sin(x) with an MLP trained through a shuffling DataLoader."""
    import matplotlib.pyplot as plt
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.mlp import MLP
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse

    x = ctx.rng.uniform(0.0, 2 * math.pi, size=(cfg.n_train, 1)).astype("float32")
    y = (torch.sin(torch.from_numpy(x)) + cfg.noise_std * torch.randn(cfg.n_train, 1)).float()
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), y), batch_size=cfg.batch_size, shuffle=True
    )
    model = MLP(1, 1, cfg.hidden, act=cfg.activation)
    history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr)
    grid = torch.linspace(0, 2 * math.pi, 500).unsqueeze(1)
    fitted = predict(model, grid, ctx.device).squeeze(1).numpy()
    truth = torch.sin(grid).squeeze(1).numpy()
    error = rmse(fitted, truth)
    zero_error = rmse(0.0 * truth, truth)

    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_fit.plot(grid.squeeze(1), truth, "k-", lw=1.5, label="sin(x)")
    ax_fit.plot(grid.squeeze(1), fitted, "C1--", lw=2, label=f"MLP (RMSE {error:.3f})")
    ax_fit.scatter(x[:, 0], y[:, 0], s=6, c="C0", alpha=0.4, label="training data")
    ax_fit.set(xlabel="x [rad]", ylabel="y", title="Fit on [0, 2\u03c0]")
    ax_fit.legend(loc="lower left", fontsize=8)
    ax_loss.semilogy(history.train_loss, "C0")
    ax_loss.set(xlabel="epoch", ylabel="MSE loss", title="Training loss")
    ax_loss.grid(alpha=0.3)
    ctx.save_figure(fig, "sine_fit.png")

    return LabOutcome(
        metrics={
            "rmse": error,
            "rmse_zero_predictor": zero_error,
            "final_train_loss": history.train_loss[-1],
        },
        acceptance=Acceptance(
            metric="rmse",
            value=error,
            comparison="<",
            threshold=0.05,
            baseline="COURSE_MAP U3: RMSE < 0.05 on [0, 2 pi]",
            baseline_value=zero_error,
        ),
        summary=f"MLP {[1, *cfg.hidden, 1]} reaches RMSE {error:.4f} against sin(x).",
    )


class DataLoaderShuffleConfig(LabConfig):
    """Settings of ``dataloader-shuffle``."""

    n_samples: int = Field(ge=4, le=200, description="dataset size; sample i has label i")
    batch_size: int = Field(ge=1, description="samples per batch")
    epochs: int = Field(ge=2, le=50, description="passes over the dataset to compare")


def _epoch_batches(
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]], epochs: int
) -> list[Batches]:
    """Sample ids of every batch of every epoch: ``[epoch][batch] -> ids``."""
    return [[tuple(int(i) for i in ids) for ids, _ in loader] for _ in range(epochs)]


def _pair_fraction(epochs: list[Batches], same: Callable[[Batches, Batches], bool]) -> float:
    """Fraction of epoch pairs ``(i < j)`` for which ``same(epoch_i, epoch_j)`` holds."""
    pairs = list(itertools.combinations(epochs, 2))
    return sum(same(a, b) for a, b in pairs) / len(pairs)


def _same_order(a: Batches, b: Batches) -> bool:
    """The same batches in the same order."""
    return a == b


def _same_composition(a: Batches, b: Batches) -> bool:
    """The same batches (as sets of samples), in any order."""
    return {frozenset(batch) for batch in a} == {frozenset(batch) for batch in b}


def _batch_number_map(epochs: list[Batches], n_samples: int) -> list[list[int]]:
    """``[epoch][sample] -> number of the batch that carried the sample``."""
    table = []
    for batches in epochs:
        row = [-1] * n_samples
        for number, batch in enumerate(batches):
            for sample in batch:
                row[sample] = number
        table.append(row)
    return table


@lab(
    "dataloader-shuffle",
    title="DataLoader batches change from epoch to epoch only when shuffling",
    topic=U3,
    day=1,
    config=DataLoaderShuffleConfig,
)
def dataloader_shuffle(cfg: DataLoaderShuffleConfig, ctx: LabContext) -> LabOutcome:
    """Record the batches of a real DataLoader over several epochs, with and without shuffling."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from matplotlib.colors import BoundaryNorm
    from torch.utils.data import DataLoader, TensorDataset

    ids = torch.arange(cfg.n_samples)
    dataset = TensorDataset(ids, ids.float().unsqueeze(1))

    def loader(shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(cfg.seed) if shuffle else None
        return DataLoader(dataset, batch_size=cfg.batch_size, shuffle=shuffle, generator=generator)

    runs = {
        "unshuffled": _epoch_batches(loader(False), cfg.epochs),
        "shuffled": _epoch_batches(loader(True), cfg.epochs),
    }
    repeat = _epoch_batches(loader(True), cfg.epochs)
    ctx.progress(0.5, "batches recorded")

    everything = list(range(cfg.n_samples))
    metrics: dict[str, float] = {}
    for mode, epochs in runs.items():
        metrics[f"same_order_fraction_{mode}"] = _pair_fraction(epochs, _same_order)
        metrics[f"same_composition_fraction_{mode}"] = _pair_fraction(epochs, _same_composition)
        metrics[f"every_epoch_is_permutation_{mode}"] = float(
            all(sorted(i for batch in batches for i in batch) == everything for batches in epochs)
        )
    metrics["seeded_shuffle_repeatable"] = float(repeat == runs["shuffled"])
    metrics["batches_per_epoch"] = float(len(runs["unshuffled"][0]))
    distinguishes = (
        metrics["same_composition_fraction_shuffled"] == 0.0
        and metrics["same_order_fraction_unshuffled"] == 1.0
    )
    metrics["shuffle_distinguishes"] = float(distinguishes)

    n_batches = len(runs["unshuffled"][0])
    cmap = plt.get_cmap("Set3" if n_batches <= 12 else "tab20", n_batches)
    norm = BoundaryNorm(np.arange(n_batches + 1) - 0.5, n_batches)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * cfg.epochs + 2.6), sharey=True)
    for ax, (mode, epochs) in zip(axes, runs.items(), strict=True):
        table = np.array(_batch_number_map(epochs, cfg.n_samples))
        image = ax.imshow(table, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        if cfg.n_samples <= 40:
            for (row, col), number in np.ndenumerate(table):
                ax.text(col, row, str(number), ha="center", va="center", fontsize=7)
        fraction = metrics[f"same_composition_fraction_{mode}"]
        ax.set(
            title=f"shuffle={mode == 'shuffled'}: same batches in {fraction:.0%} of epoch pairs",
            xlabel="sample index (= its label)",
            ylabel="epoch",
            xticks=range(0, cfg.n_samples, 1 if cfg.n_samples <= 24 else 2),
            yticks=range(cfg.epochs),
            yticklabels=[str(e + 1) for e in range(cfg.epochs)],
        )
    bar = fig.colorbar(image, ax=axes, ticks=range(n_batches), fraction=0.03, pad=0.02)
    bar.set_label("batch number within the epoch (0 = first)")
    fig.suptitle(
        f"Which batch carries each sample ({cfg.n_samples} samples, batch size {cfg.batch_size})"
    )
    ctx.save_figure(fig, "batch_maps.png")
    ctx.progress(1.0, "figure saved")

    first = {mode: list(epochs[0][0]) for mode, epochs in runs.items()}
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="shuffle_distinguishes",
            value=metrics["shuffle_distinguishes"],
            comparison="==",
            threshold=1.0,
            baseline=(
                "COURSE_MAP U3: batches differ across epochs only when shuffled "
                "(shuffled: no epoch pair with identical batches; unshuffled: all pairs identical)"
            ),
        ),
        summary=(
            f"First batch of epoch 1: unshuffled {first['unshuffled']}, "
            f"shuffled {first['shuffled']}; shuffled epoch pairs with the same batches: "
            f"{metrics['same_composition_fraction_shuffled']:.0%}."
        ),
    )


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
    import matplotlib.pyplot as plt
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.core.errors import ConfigError
    from wxai.nn.mlp import MLP, count_parameters, mlp_parameter_count, shallow_width_for_budget
    from wxai.train.loop import predict
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
    terms = [(n_in + 1) * n_out for n_in, n_out in itertools.pairwise(cfg.reference)]

    # 2. Shallow vs deep at a similar budget on a multi-frequency target.
    def target(x: torch.Tensor) -> torch.Tensor:
        return sum(
            a * torch.sin(f * x) for f, a in zip(cfg.frequencies, cfg.amplitudes, strict=True)
        )

    x = torch.from_numpy(ctx.rng.uniform(0.0, 2 * math.pi, size=(cfg.n_train, 1))).float()
    y = target(x)
    grid = torch.linspace(0.0, 2 * math.pi, 1000).unsqueeze(1)
    truth = target(grid).squeeze(1).numpy()
    budget = mlp_parameter_count([1, *cfg.deep_hidden, 1])
    variants = {
        "shallow": [shallow_width_for_budget(1, 1, budget)],
        "deep": list(cfg.deep_hidden),
    }
    fits, histories, sizes_of = {}, {}, {}
    for index, (name, hidden) in enumerate(variants.items()):
        model = MLP(1, 1, hidden, act=cfg.activation)
        generator = torch.Generator().manual_seed(cfg.seed + index)
        loader = DataLoader(
            TensorDataset(x, y), batch_size=cfg.batch_size, shuffle=True, generator=generator
        )
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
        sizes_of[name] = [1, *hidden, 1]
        counts[_sizes_label(sizes_of[name])] = (
            count_parameters(model),
            mlp_parameter_count(sizes_of[name]),
        )
    errors = {name: rmse(fit_, truth) for name, fit_ in fits.items()}
    signal_rms = rmse(0.0 * truth, truth)

    fig, (ax_count, ax_fit, ax_loss) = plt.subplots(
        1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1.4, 1]}, layout="constrained"
    )
    labels = list(counts)
    positions = range(len(labels))
    ax_count.barh(positions, [counts[label][0] for label in labels], color="C0")
    for position, label in zip(positions, labels, strict=True):
        value, expected = counts[label]
        mark = "=" if value == expected else "\u2260"
        ax_count.text(
            value, position, f" {value} {mark} formula {expected}", va="center", fontsize=8
        )
    ax_count.set(
        yticks=list(positions),
        yticklabels=labels,
        xscale="log",
        xlabel="trainable parameters (log scale)",
        title=(
            "Weights + biases: counted vs formula \u03a3(n_in+1)\u00b7n_out\n"
            f"{reference}: {' + '.join(map(str, terms))} = {sum(terms)}"
        ),
    )
    ax_count.set_xlim(right=max(v for v, _ in counts.values()) * 30)
    ax_count.invert_yaxis()
    x_plot = grid.squeeze(1).numpy()
    ax_fit.plot(x_plot, truth, "k-", lw=1.5, label="target")
    for name, style in (("shallow", "C1--"), ("deep", "C2-")):
        ax_fit.plot(
            x_plot,
            fits[name],
            style,
            lw=1.6,
            label=f"{name} {_sizes_label(sizes_of[name])} (RMSE {errors[name]:.3f})",
        )
    ax_fit.set(xlabel="x [rad]", ylabel="y", title=f"Fits at about {budget} parameters")
    ax_fit.legend(loc="lower left", fontsize=8)
    for name, color in (("shallow", "C1"), ("deep", "C2")):
        ax_loss.semilogy(range(1, cfg.epochs + 1), histories[name], color, label=name)
    ax_loss.set(xlabel="epoch", ylabel="training MSE", title="Training loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()
    ctx.save_figure(fig, "capacity.png")

    return LabOutcome(
        metrics={
            f"params_{reference.replace('-', '_')}": float(counted),
            f"params_formula_{reference.replace('-', '_')}": float(formula),
            "count_mismatches": float(sum(a != b for a, b in counts.values())),
            "params_shallow": float(counts[_sizes_label(sizes_of["shallow"])][0]),
            "params_deep": float(counts[_sizes_label(sizes_of["deep"])][0]),
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
