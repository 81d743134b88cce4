"""Labs on classifiers and detectors (course unit U3, lectures 4 and 5).

Input gradients of a linear and an MLP classifier, and an LSTM autoencoder as anomaly
detector. The CNN labs are in :mod:`wxai.labs.nn_architectures`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.nn_architectures import U3

if TYPE_CHECKING:
    import numpy as np
    import torch

# ------------------------------------------------------------------------ classifier-gradients


class ClassifierGradientsConfig(LabConfig):
    """Settings of ``classifier-gradients``."""

    centres: list[list[float]] = Field(
        min_length=2, max_length=2, description="(x, y) centres of the two ellipses"
    )
    semi_axes: list[list[float]] = Field(
        min_length=2, max_length=2, description="(major, minor) semi-axes of each ellipse"
    )
    angles_deg: list[float] = Field(
        min_length=2, max_length=2, description="rotation of each ellipse, degrees"
    )
    sample_std: float = Field(gt=0, description="points are drawn from N(0, sample_std^2 I)")
    n_train: int = Field(ge=16)
    n_test: int = Field(ge=16)
    hidden: list[int] = Field(min_length=1, description="hidden sizes of the MLP classifier")
    activation: str = "relu"
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    grid_size: int = Field(default=41, ge=5, description="points per axis of the gradient map")
    torch_threads: int | None = Field(default=1, ge=1)


@lab(
    "classifier-gradients",
    title="Linear vs MLP classifier on two shifted, rotated ellipses; input gradients",
    topic=U3,
    day=1,
    config=ClassifierGradientsConfig,
)
def classifier_gradients(cfg: ClassifierGradientsConfig, ctx: LabContext) -> LabOutcome:
    """Label points by two ellipses, fit a linear and an MLP classifier, map dp/dx."""
    import torch
    from torch import nn

    from wxai.data.synthetic.toy_datasets import ellipse_points
    from wxai.nn.mlp import MLP
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.classification import accuracy

    ellipses = cfg.model_dump(include={"centres", "semi_axes", "angles_deg"})
    x_train, y_train = ellipse_points(ctx.rng, cfg.n_train, cfg.sample_std, **ellipses)
    x_test, y_test = ellipse_points(ctx.rng, cfg.n_test, cfg.sample_std, **ellipses)
    models = {
        "linear": MLP(2, 1, [], act=cfg.activation),
        "MLP": MLP(2, 1, cfg.hidden, act=cfg.activation),
    }
    loader = tensor_loader(x_train, y_train[:, None], batch_size=cfg.batch_size)
    scores = {}
    for index, (name, model) in enumerate(models.items()):
        with torch_threads(cfg.torch_threads):
            ctx.fit(
                model,
                loader,
                epochs=cfg.epochs,
                lr=cfg.lr,
                loss_fn=nn.BCEWithLogitsLoss(),
                span=(0.45 * index, 0.45 * (index + 1)),
                metric_prefix=f"{name.lower()}_",
                log_points=25,
            )
        logits = predict(model, torch.from_numpy(x_test), ctx.device).squeeze(1).numpy()
        scores[name] = accuracy((logits > 0).astype("float32"), y_test)

    grad_norm = _gradient_maps(ctx, cfg, (x_train, y_train), models, scores)
    ctx.progress(1.0, "figure saved")

    margin = scores["MLP"] - scores["linear"]
    return LabOutcome(
        metrics={
            "accuracy_mlp": scores["MLP"],
            "accuracy_linear": scores["linear"],
            "accuracy_margin": margin,
            "class1_fraction": float(y_test.mean()),
            "max_input_gradient_mlp": grad_norm["MLP"],
            "max_input_gradient_linear": grad_norm["linear"],
        },
        acceptance=Acceptance(
            metric="accuracy_mlp",
            value=scores["MLP"] if margin > 0 else float("nan"),
            comparison=">=",
            threshold=0.95,
            baseline="COURSE_MAP U3: MLP accuracy >= 0.95 and above the linear classifier",
            baseline_value=scores["linear"],
        ),
        summary=(
            f"MLP {[2, *cfg.hidden, 1]} reaches accuracy {scores['MLP']:.3f}, "
            f"the linear classifier {scores['linear']:.3f}."
        ),
    )


def _gradient_maps(
    ctx: LabContext,
    cfg: ClassifierGradientsConfig,
    train: tuple[np.ndarray, np.ndarray],
    models: dict[str, torch.nn.Module],
    scores: dict[str, float],
) -> dict[str, float]:
    """The labelled data, and each model's probability map with its input gradients dp/dx.

    Returns the largest gradient norm ``max |dp/dx|`` of each model on the coarse grid.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from wxai.nn.attribution import input_gradient
    from wxai.train.loop import predict
    from wxai.viz.classifiers import plot_ellipse_labels, plot_probability_map

    half = 2.6 * cfg.sample_std
    xx, yy = np.meshgrid(*[np.linspace(-half, half, 200, dtype="float32")] * 2)
    cx, cy = np.meshgrid(*[np.linspace(-half, half, cfg.grid_size, dtype="float32")] * 2)
    dense = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    coarse = torch.from_numpy(np.stack([cx.ravel(), cy.ravel()], axis=1))
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), layout="constrained")
    shapes = list(zip(cfg.centres, cfg.semi_axes, cfg.angles_deg, strict=True))
    plot_ellipse_labels(axes[0], *train, shapes)
    axes[0].set(aspect="equal", xlim=(-half, half), ylim=(-half, half))
    grad_norm = {}
    for ax, (name, model) in zip(axes[1:], models.items(), strict=True):
        model.to("cpu")
        prob = torch.sigmoid(predict(model, dense)).reshape(xx.shape).numpy()
        grads = input_gradient(model, coarse, torch.sigmoid).numpy().reshape(*cx.shape, 2)
        grad_norm[name] = float(np.linalg.norm(grads, axis=-1).max())
        image = plot_probability_map(
            ax,
            (xx, yy, prob),
            (cx, cy, grads),
            title=f"{name}: p(class 1), accuracy {scores[name]:.3f}\narrows: \u2207\u2093p "
            "(length \u221d |\u2207\u2093p|^0.3), black line: p = 0.5",
        )
    fig.colorbar(image, ax=axes[1:], label="predicted probability of class 1", shrink=0.9)
    ctx.save_figure(fig, "classifier_gradients.png")
    return grad_norm


# -------------------------------------------------------------------------------- lstm-anomaly


class LstmAnomalyConfig(LabConfig):
    """Settings of ``lstm-anomaly``."""

    seq_len: int = Field(ge=8, description="time steps per sequence")
    period_range: list[float] = Field(
        min_length=2, max_length=2, description="period of the normal oscillation, steps"
    )
    noise_std: float = Field(ge=0)
    anomaly_size: float = Field(gt=0, description="amplitude of injected anomalies")
    n_train: int = Field(ge=8, description="normal training sequences")
    n_test: int = Field(ge=8, description="test sequences, half of them anomalous")
    hidden: int = Field(ge=1)
    latent: int = Field(ge=1)
    layers: int = Field(default=1, ge=1)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(default=1, ge=1)


@lab(
    "lstm-anomaly",
    title="An LSTM autoencoder flags anomalous sequences by reconstruction error",
    topic=U3,
    day=2,
    config=LstmAnomalyConfig,
)
def lstm_anomaly(cfg: LstmAnomalyConfig, ctx: LabContext) -> LabOutcome:
    """Train on normal sequences only; score test sequences by reconstruction error."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from wxai.data.synthetic.toy_datasets import ANOMALY_KINDS, sensor_sequences
    from wxai.nn.autoencoder import LSTMAutoencoder, reconstruction_error
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.classification import roc_auc, roc_curve
    from wxai.viz.classifiers import plot_reconstructions, plot_roc, plot_score_histograms
    from wxai.viz.training import plot_loss_curves

    kwargs = cfg.model_dump(include={"seq_len", "period_range", "noise_std", "anomaly_size"})
    x_train, _ = sensor_sequences(ctx.rng, cfg.n_train, **kwargs)
    normal, _ = sensor_sequences(ctx.rng, cfg.n_test // 2, **kwargs)
    odd, kinds = sensor_sequences(ctx.rng, cfg.n_test - cfg.n_test // 2, **kwargs, anomalous=True)
    x_test = np.concatenate([normal, odd])
    labels = np.r_[np.zeros(len(normal)), np.ones(len(odd))]
    model = LSTMAutoencoder(1, cfg.hidden, cfg.latent, cfg.layers)
    loader = tensor_loader(x_train, x_train, batch_size=cfg.batch_size)
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr, span=(0.0, 0.9))
        test = torch.from_numpy(x_test)
        scores = reconstruction_error(model, test.to(ctx.device)).cpu().numpy()
        recon = predict(model, test, ctx.device).numpy()
    auc = roc_auc(scores, labels)

    fig = plt.figure(figsize=(16, 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1])
    picks = [0, 1, len(normal), len(normal) + 1]
    names = [
        f"anomaly: {ANOMALY_KINDS[kinds[k - len(normal)]]}" if labels[k] else "normal"
        for k in picks
    ]
    plot_reconstructions(
        top.subplots(1, 4, sharey=True),
        x_test[picks, :, 0],
        recon[picks, :, 0],
        [f"{name} (score {scores[k]:.3f})" for name, k in zip(names, picks, strict=True)],
        [bool(labels[k]) for k in picks],
    )
    ax_hist, ax_roc, ax_loss = bottom.subplots(1, 3)
    plot_score_histograms(ax_hist, scores, labels, xlabel="reconstruction MSE (anomaly score)")
    plot_roc(ax_roc, *roc_curve(scores, labels), auc, name="LSTM autoencoder")
    plot_loss_curves(
        ax_loss,
        {"training": history.train_loss},
        ylabel="reconstruction MSE",
        title="Training loss (normal only)",
    )
    ctx.save_figure(fig, "lstm_anomaly.png")

    return LabOutcome(
        metrics={
            "roc_auc": auc,
            "mean_score_normal": float(scores[labels == 0].mean()),
            "mean_score_anomalous": float(scores[labels == 1].mean()),
            "final_train_loss": history.train_loss[-1],
        },
        acceptance=Acceptance(
            metric="roc_auc",
            value=auc,
            comparison=">=",
            threshold=0.9,
            baseline="COURSE_MAP U3: ROC AUC >= 0.9 (chance 0.5)",
            baseline_value=0.5,
        ),
        summary=f"Reconstruction error separates anomalies with ROC AUC {auc:.3f}.",
    )
