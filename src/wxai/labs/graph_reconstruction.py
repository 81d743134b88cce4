"""PyG + Lightning lab: a field from sparse nodes, beyond the training domain (course unit U3)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.graph_networks import U3

if TYPE_CHECKING:
    import numpy as np

    from wxai.train.lightning import LightningRegressor


class GnnSparseReconstructionConfig(LabConfig):
    """Settings of ``gnn-sparse-reconstruction``."""

    n_nodes_train: int = Field(ge=8, description="nodes on the training domain [0, pi]")
    extent_test: float = Field(gt=1, description="test domain [0, extent_test * pi]")
    hops: int = Field(ge=1, description="each node is linked to this many neighbours per side")
    obs_fraction: float = Field(gt=0, lt=1, description="fraction of nodes observed")
    wavenumbers: list[float] = Field(
        min_length=2, max_length=2, description="range of the wavenumbers of the random sines"
    )
    n_modes: int = Field(ge=1, description="sines per random anomaly")
    anomaly_amplitude: float = Field(ge=0, description="standard deviation of the anomalies")
    background_amplitude: float = Field(
        ge=0, description="amplitude of the pattern cos(k_b x) shared by every sample"
    )
    background_wavenumber: float = Field(
        gt=0, description="k_b; the shared pattern is what absolute coordinates can memorise"
    )
    n_train: int = Field(ge=4, description="training graphs on [0, pi]")
    n_test: int = Field(ge=1, description="test graphs on the extended domain")
    hidden: int = Field(ge=2)
    layers: int = Field(ge=2, description="GCNConv layers (the last maps to one value)")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(default=1, ge=1, description="intra-op threads")


@lab(
    "gnn-sparse-reconstruction",
    title="PyG + Lightning: a field from sparse nodes, trained on [0, pi], applied on [0, 4 pi]",
    topic=U3,
    day=3,
    config=GnnSparseReconstructionConfig,
)
def gnn_sparse_reconstruction(cfg: GnnSparseReconstructionConfig, ctx: LabContext) -> LabOutcome:
    """Compare a coordinate-free and a coordinate-based GCN outside their training domain."""
    import numpy as np
    import torch

    from wxai.core.errors import ConfigError
    from wxai.verify.metrics import rmse

    low, high = cfg.wavenumbers
    if not 0 < low <= high:
        raise ConfigError(f"wavenumbers must satisfy 0 < low <= high, got {cfg.wavenumbers}")
    train = _sparse_graphs(cfg, ctx.rng, cfg.n_train, 1.0)
    test = _sparse_graphs(cfg, ctx.rng, cfg.n_test, cfg.extent_test)
    models = _train_variants(cfg, ctx, train)

    def predictions(graphs: list) -> dict[str, list[np.ndarray]]:
        with torch.no_grad():
            return {name: [model(g).numpy() for g in graphs] for name, model in models.items()}

    preds, preds_train = predictions(test), predictions(train[:8])
    truth = np.concatenate([g.y.numpy() for g in test])
    inside = np.concatenate([g.pos.numpy() <= math.pi + 1e-6 for g in test])
    metrics: dict[str, float] = {}
    for name, model in models.items():
        predicted = np.concatenate(preds[name])
        metrics[f"rmse_{name}"] = rmse(predicted, truth)
        metrics[f"rmse_{name}_beyond_pi"] = rmse(predicted[~inside], truth[~inside])
        metrics[f"rmse_{name}_train_domain"] = rmse(
            np.concatenate(preds_train[name]), np.concatenate([g.y.numpy() for g in train[:8]])
        )
        metrics[f"final_train_loss_{name}"] = model.epoch_losses[-1]
    metrics["rmse_zero_predictor"] = rmse(0.0 * truth, truth)
    ratio = metrics["rmse_coordinate_free"] / metrics["rmse_coordinate_based"]
    metrics["rmse_ratio_free_to_based"] = ratio
    _sparse_figure(
        ctx,
        cfg,
        (train[0], test[0]),
        ({n: p[0] for n, p in preds_train.items()}, {n: p[0] for n, p in preds.items()}),
        losses={name: model.epoch_losses for name, model in models.items()},
        metrics=metrics,
    )

    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="rmse_coordinate_free",
            value=metrics["rmse_coordinate_free"],
            comparison="<=",
            threshold=0.5 * metrics["rmse_coordinate_based"],
            baseline=(
                f"COURSE_MAP U3: coordinate-free RMSE <= 0.5 x coordinate-based RMSE "
                f"on [0, {cfg.extent_test:g} pi]"
            ),
            baseline_value=metrics["rmse_coordinate_based"],
        ),
        summary=(
            f"On [0, {cfg.extent_test:g} pi] the coordinate-free GCN reaches RMSE "
            f"{metrics['rmse_coordinate_free']:.3f}, the coordinate-based one "
            f"{metrics['rmse_coordinate_based']:.3f} (ratio {ratio:.2f}); inside [0, pi] "
            f"{metrics['rmse_coordinate_free_train_domain']:.3f} vs "
            f"{metrics['rmse_coordinate_based_train_domain']:.3f}."
        ),
    )


def _train_variants(
    cfg: GnnSparseReconstructionConfig, ctx: LabContext, train: list
) -> dict[str, LightningRegressor]:
    """A coordinate-free and a coordinate-based GCN, each trained with Lightning."""
    import torch
    from torch_geometric.loader import DataLoader

    from wxai.nn.gcn import GCNStack
    from wxai.train.lightning import LightningRegressor, fit_lightning

    variants = {"coordinate_free": ("x_free", 2), "coordinate_based": ("x_coord", 3)}
    models: dict[str, LightningRegressor] = {}
    for index, (name, (features, width)) in enumerate(variants.items()):

        def log(epoch: int, loss: float, name: str = name, index: int = index) -> None:
            ctx.log_metrics({f"{name}_train_loss": loss}, epoch)
            ctx.progress((index + (epoch + 1) / cfg.epochs) / 2, f"{name}: epoch {epoch + 1}")

        torch.manual_seed(cfg.seed + index)
        network = GCNStack(width, cfg.hidden, cfg.layers, features=features)
        loader = DataLoader(
            train,
            batch_size=cfg.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(cfg.seed + index),
        )
        with torch_threads(cfg.torch_threads):
            models[name] = fit_lightning(
                LightningRegressor(network, cfg.lr, on_epoch=log),
                loader,
                epochs=cfg.epochs,
                device=ctx.device,
                root_dir=ctx.run_dir,
            )
    return models


def _sparse_graphs(
    cfg: GnnSparseReconstructionConfig, rng: np.random.Generator, count: int, extent: float
) -> list:
    """PyG graphs of random functions on ``[0, extent * pi]`` with sparse observations.

    Node spacing is that of the training domain, so a longer domain has more nodes
    (see :func:`~wxai.data.synthetic.toy_datasets.sparse_sine_fields` and
    :func:`~wxai.nn.gcn.observed_field_graphs`).
    """
    import numpy as np

    from wxai.data.synthetic.toy_datasets import sparse_sine_fields
    from wxai.nn.gcn import observed_field_graphs

    spacing = math.pi / (cfg.n_nodes_train - 1)
    position = np.arange(round(extent * math.pi / spacing) + 1) * spacing
    truth, observed = sparse_sine_fields(
        rng,
        count,
        position,
        **cfg.model_dump(
            include={
                "wavenumbers",
                "n_modes",
                "anomaly_amplitude",
                "background_amplitude",
                "background_wavenumber",
                "obs_fraction",
            }
        ),
    )
    return observed_field_graphs(truth, observed, position, hops=cfg.hops)


def _sparse_figure(
    ctx: LabContext,
    cfg: GnnSparseReconstructionConfig,
    graphs: tuple,
    predictions: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
    *,
    losses: dict[str, list[float]],
    metrics: dict[str, float],
) -> None:
    """A training and a test graph with both reconstructions, losses and error bars."""
    import matplotlib.pyplot as plt

    from wxai.viz.fields1d import plot_error_bars, plot_reconstruction
    from wxai.viz.training import plot_loss_curves

    fig, axes = plt.subplots(
        2, 2, figsize=(15, 7.5), gridspec_kw={"width_ratios": [1, 2.6]}, layout="constrained"
    )
    styles = {"coordinate_free": "C2-", "coordinate_based": "C3--"}
    titles = (
        "A training graph on [0, \u03c0]",
        f"Applied on [0, {cfg.extent_test:g}\u03c0] (graph rebuilt, same weights): RMSE "
        f"free {metrics['rmse_coordinate_free']:.3f}, "
        f"coordinate {metrics['rmse_coordinate_based']:.3f}",
    )
    for row, (graph, pred, title) in enumerate(zip(graphs, predictions, titles, strict=True)):
        plot_reconstruction(
            axes[row, 1] if row else axes[0, 0],
            graph.pos.numpy(),
            graph.y.numpy(),
            graph.x_free[:, 1].numpy() > 0,
            {name.replace("_", "-"): (pred[name], style) for name, style in styles.items()},
            title=title,
            shade=(0, math.pi) if row else None,
        )
    plot_loss_curves(
        axes[1, 0],
        {name.replace("_", "-"): values for name, values in losses.items()},
        styles={name.replace("_", "-"): style[:2] for name, style in styles.items()},
        first=0,
        title="Lightning training loss",
    )
    plot_error_bars(
        axes[0, 1],
        ["free\n[0, \u03c0]", "coordinate\n[0, \u03c0]", "free\n> \u03c0", "coordinate\n> \u03c0"],
        [
            metrics["rmse_coordinate_free_train_domain"],
            metrics["rmse_coordinate_based_train_domain"],
            metrics["rmse_coordinate_free_beyond_pi"],
            metrics["rmse_coordinate_based_beyond_pi"],
        ],
        ["C2", "C3", "C2", "C3"],
        reference=(metrics["rmse_zero_predictor"], "zero predictor"),
        title="Error inside and outside the training domain",
    )
    ctx.save_figure(fig, "sparse_reconstruction.png")
