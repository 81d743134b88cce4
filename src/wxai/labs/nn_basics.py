"""Day 1 labs: a first network and data loaders (course unit U3).

Network capacity is in :mod:`wxai.labs.nn_capacity`.
"""

from __future__ import annotations

import math

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U3 = "U3 Neural-network foundations"


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

    from wxai.data.synthetic.toy_datasets import sine_samples
    from wxai.nn.mlp import MLP
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse
    from wxai.viz.training import plot_function_fits, plot_loss_curves

    x, y = sine_samples(ctx.rng, cfg.n_train)
    y = y + cfg.noise_std * torch.randn(cfg.n_train, 1)  # this lab's noise: torch's generator
    loader = tensor_loader(x, y, batch_size=cfg.batch_size)
    model = MLP(1, 1, cfg.hidden, act=cfg.activation)
    history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr)
    grid = torch.linspace(0, 2 * math.pi, 500).unsqueeze(1)
    fitted = predict(model, grid, ctx.device).squeeze(1).numpy()
    truth = torch.sin(grid).squeeze(1).numpy()
    error = rmse(fitted, truth)
    zero_error = rmse(0.0 * truth, truth)

    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
    plot_function_fits(
        ax_fit,
        grid.squeeze(1).numpy(),
        truth,
        {f"MLP (RMSE {error:.3f})": (fitted, "C1--")},
        data=(x[:, 0].numpy(), y[:, 0].numpy()),
        truth_label="sin(x)",
        title="Fit on [0, 2\u03c0]",
    )
    plot_loss_curves(ax_loss, {"training": history.train_loss}, ylabel="MSE loss")
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


@lab(
    "dataloader-shuffle",
    title="DataLoader batches change from epoch to epoch only when shuffling",
    topic=U3,
    day=1,
    config=DataLoaderShuffleConfig,
)
def dataloader_shuffle(cfg: DataLoaderShuffleConfig, ctx: LabContext) -> LabOutcome:
    """Record the batches of a real DataLoader over several epochs, with and without shuffling."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.train.batches import (
        batch_number_map,
        epoch_batches,
        is_permutation,
        pair_fraction,
        same_composition,
        same_order,
    )
    from wxai.viz.training import batch_maps_figure

    ids = torch.arange(cfg.n_samples)
    dataset = TensorDataset(ids, ids.float().unsqueeze(1))

    def loader(shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(cfg.seed) if shuffle else None
        return DataLoader(dataset, batch_size=cfg.batch_size, shuffle=shuffle, generator=generator)

    runs = {
        "unshuffled": epoch_batches(loader(False), cfg.epochs),
        "shuffled": epoch_batches(loader(True), cfg.epochs),
    }
    repeat = epoch_batches(loader(True), cfg.epochs)
    ctx.progress(0.5, "batches recorded")

    metrics: dict[str, float] = {}
    for mode, epochs in runs.items():
        metrics[f"same_order_fraction_{mode}"] = pair_fraction(epochs, same_order)
        metrics[f"same_composition_fraction_{mode}"] = pair_fraction(epochs, same_composition)
        metrics[f"every_epoch_is_permutation_{mode}"] = float(
            all(is_permutation(batches, cfg.n_samples) for batches in epochs)
        )
    metrics["seeded_shuffle_repeatable"] = float(repeat == runs["shuffled"])
    metrics["batches_per_epoch"] = float(len(runs["unshuffled"][0]))
    distinguishes = (
        metrics["same_composition_fraction_shuffled"] == 0.0
        and metrics["same_order_fraction_unshuffled"] == 1.0
    )
    metrics["shuffle_distinguishes"] = float(distinguishes)

    fig = batch_maps_figure(
        {mode: np.array(batch_number_map(epochs, cfg.n_samples)) for mode, epochs in runs.items()},
        {
            mode: f"shuffle={mode == 'shuffled'}: same batches in "
            f"{metrics[f'same_composition_fraction_{mode}']:.0%} of epoch pairs"
            for mode in runs
        },
        batch_size=cfg.batch_size,
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
