"""Labs on network architectures (course unit U3, lectures 4 and 5).

CNNs on periodic fields and on function shapes, input gradients of classifiers, and
an LSTM autoencoder as anomaly detector. The generative labs are in
:mod:`wxai.labs.generative_models`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np

U3 = "U3 Neural-network foundations"


# --------------------------------------------------------------------------- blob-forecast-cnn


class BlobForecastConfig(LabConfig):
    """Settings of ``blob-forecast-cnn``."""

    n_points: int = Field(ge=16, description="grid points on the periodic domain")
    domain_length: float = Field(default=10.0, gt=0, description="length of the domain [0, L)")
    shift_points: float = Field(gt=0, description="displacement per time step, in grid points")
    max_blobs: int = Field(default=3, ge=1, description="1..max_blobs Gaussian blobs per field")
    width_range: list[float] = Field(
        min_length=2, max_length=2, description="blob standard deviation range, domain units"
    )
    hidden_channels: list[int] = Field(min_length=1, description="channels of the k-conv layers")
    kernel_size: int = Field(ge=1, description="odd kernel size of the hidden layers")
    activation: str = "relu"
    n_train: int = Field(ge=8)
    n_test: int = Field(ge=8)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(default=1, ge=1)


def _blob_fields(
    rng: np.random.Generator, cfg: BlobForecastConfig, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fields ``f(t, x)`` and ``f(t + 1, x) = f(t, x - shift)``, each ``(n, 1, n_points)``."""
    import numpy as np

    length, size = cfg.domain_length, cfg.n_points
    x = np.arange(size) * length / size
    shift = cfg.shift_points * length / size
    now, later = np.zeros((n, 1, size)), np.zeros((n, 1, size))
    for i in range(n):
        for _ in range(rng.integers(1, cfg.max_blobs + 1)):
            centre = rng.uniform(0, length)
            width = rng.uniform(*cfg.width_range)
            amplitude = rng.uniform(0.5, 1.5)
            for field, c in ((now, centre), (later, centre + shift)):
                d = (x - c + length / 2) % length - length / 2  # periodic distance
                field[i, 0] += amplitude * np.exp(-0.5 * (d / width) ** 2)
    return now.astype("float32"), later.astype("float32")


@lab(
    "blob-forecast-cnn",
    title="A periodic 1D CNN forecasts moving blobs one step ahead",
    topic=U3,
    day=2,
    config=BlobForecastConfig,
)
def blob_forecast_cnn(cfg: BlobForecastConfig, ctx: LabContext) -> LabOutcome:
    """Train a circular-padding CNN on blob transport; compare with persistence."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.core.errors import ConfigError
    from wxai.nn.conv import ConvNet1d, input_support
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse

    kernels = [cfg.kernel_size] * len(cfg.hidden_channels) + [1]
    model = ConvNet1d(
        [1, *cfg.hidden_channels, 1], kernels, padding_mode="circular", act=cfg.activation
    )
    field_of_view = model.receptive_field
    if cfg.shift_points > (field_of_view - 1) / 2:
        raise ConfigError(
            f"shift_points={cfg.shift_points} exceeds the half receptive field "
            f"{(field_of_view - 1) // 2}: the network could not see where a blob comes from"
        )
    x_train, y_train = _blob_fields(ctx.rng, cfg, cfg.n_train)
    x_test, y_test = _blob_fields(ctx.rng, cfg, cfg.n_test)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
        batch_size=cfg.batch_size,
        shuffle=True,
    )
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr, span=(0.0, 0.9))
        forecast = predict(model, torch.from_numpy(x_test), ctx.device).numpy()
        centre = cfg.n_points // 2
        support = input_support(model, cfg.n_points, centre).numpy()
        model.to("cpu").eval()
        with torch.no_grad():
            features = [f.numpy() for f in model.features(torch.from_numpy(x_test[:1]))]
    error = rmse(forecast, y_test)
    persistence = rmse(x_test, y_test)

    # Predictions of three test cases.
    grid = np.arange(cfg.n_points) * cfg.domain_length / cfg.n_points
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6), layout="constrained")
    for k, ax in enumerate(axes[:3]):
        ax.plot(grid, x_test[k, 0], color="0.6", lw=1.2, label="input f(t) = persistence")
        ax.plot(grid, y_test[k, 0], "k-", lw=1.8, label="truth f(t+1)")
        ax.plot(grid, forecast[k, 0], "C1--", lw=1.8, label="CNN forecast")
        ax.set(xlabel="x (periodic)", ylabel="f", title=f"test case {k + 1}")
    axes[0].legend(fontsize=7, loc="upper left")
    axes[3].semilogy(range(1, cfg.epochs + 1), history.train_loss, "C0")
    axes[3].set(xlabel="epoch", ylabel="training MSE", title="Training loss")
    axes[3].grid(alpha=0.3)
    fig.suptitle(
        f"One-step forecast: CNN RMSE {error:.3f} vs persistence {persistence:.3f} "
        f"(shift {cfg.shift_points} points, receptive field {field_of_view} points)"
    )
    ctx.save_figure(fig, "blob_forecast.png")

    # Hidden feature maps of the first and last hidden layer.
    fig, axes = plt.subplots(
        3, 1, figsize=(10, 8), sharex=True, layout="constrained",
        gridspec_kw={"height_ratios": [1, 2, 2]},
    )  # fmt: skip
    axes[0].plot(grid, x_test[0, 0], "k-", label="input f(t)")
    axes[0].plot(grid, y_test[0, 0], "C1--", label="truth f(t+1)")
    axes[0].set(ylabel="f", title="Input field")
    axes[0].legend(fontsize=8)
    step = grid[1] - grid[0]
    extent = (grid[0] - step / 2, grid[-1] + step / 2, -0.5, cfg.hidden_channels[-1] - 0.5)
    for ax, index, name in ((axes[1], 0, "first"), (axes[2], -2, "last")):
        maps = features[index][0]
        image = ax.imshow(
            maps, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest",
            extent=(extent[0], extent[1], -0.5, maps.shape[0] - 0.5),
        )  # fmt: skip
        ax.set(ylabel="channel", title=f"{name} hidden layer: {maps.shape[0]} feature maps")
        fig.colorbar(image, ax=ax, label=f"{cfg.activation} activation")
    axes[2].set_xlabel("x (periodic)")
    ctx.save_figure(fig, "feature_maps.png")

    expected = {
        (centre + offset) % cfg.n_points
        for offset in range(-(field_of_view // 2), 1 + field_of_view // 2)
    }
    support_ok = set(np.flatnonzero(support).tolist()) == expected
    return LabOutcome(
        metrics={
            "rmse": error,
            "rmse_persistence": persistence,
            "rmse_ratio": error / persistence,
            "receptive_field_formula": float(field_of_view),
            "receptive_field_measured": float(support.sum()),
            "receptive_field_matches": float(support_ok),
            "final_train_loss": history.train_loss[-1],
        },
        acceptance=Acceptance(
            metric="rmse",
            value=error,
            comparison="<=",
            threshold=0.2 * persistence,
            baseline="COURSE_MAP U3: RMSE <= 0.2 x persistence RMSE",
            baseline_value=persistence,
        ),
        summary=(
            f"CNN {[1, *cfg.hidden_channels, 1]} (k={cfg.kernel_size}, circular) forecasts with "
            f"RMSE {error:.4f} = {error / persistence:.2f} x persistence; output point depends "
            f"on {int(support.sum())} input points (formula {field_of_view})."
        ),
    )


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


def _inside_ellipses(points: np.ndarray, cfg: ClassifierGradientsConfig) -> np.ndarray:
    """1 where a point ``(n, 2)`` lies inside either ellipse, else 0 (float32 ``(n,)``)."""
    import numpy as np

    inside = np.zeros(len(points), dtype=bool)
    for centre, (major, minor), angle in zip(
        cfg.centres, cfg.semi_axes, cfg.angles_deg, strict=True
    ):
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        d = points - np.asarray(centre)
        along, across = d @ np.array([c, s]), d @ np.array([-s, c])
        inside |= (along / major) ** 2 + (across / minor) ** 2 <= 1
    return inside.astype("float32")


@lab(
    "classifier-gradients",
    title="Linear vs MLP classifier on two shifted, rotated ellipses; input gradients",
    topic=U3,
    day=1,
    config=ClassifierGradientsConfig,
)
def classifier_gradients(cfg: ClassifierGradientsConfig, ctx: LabContext) -> LabOutcome:
    """Label points by two ellipses, fit a linear and an MLP classifier, map dp/dx."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from matplotlib.patches import Ellipse
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.mlp import MLP
    from wxai.train.loop import predict
    from wxai.verify.classification import accuracy

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        points = ctx.rng.normal(0.0, cfg.sample_std, size=(n, 2)).astype("float32")
        return points, _inside_ellipses(points, cfg)

    x_train, y_train = draw(cfg.n_train)
    x_test, y_test = draw(cfg.n_test)
    models = {
        "linear": MLP(2, 1, [], act=cfg.activation),
        "MLP": MLP(2, 1, cfg.hidden, act=cfg.activation),
    }
    scores, histories = {}, {}
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train).unsqueeze(1)),
        batch_size=cfg.batch_size,
        shuffle=True,
    )
    for index, (name, model) in enumerate(models.items()):
        with torch_threads(cfg.torch_threads):
            histories[name] = ctx.fit(
                model,
                loader,
                epochs=cfg.epochs,
                lr=cfg.lr,
                loss_fn=nn.BCEWithLogitsLoss(),
                span=(0.45 * index, 0.45 * (index + 1)),
                metric_prefix=f"{name.lower()}_",
                log_points=25,
            ).train_loss
        logits = predict(model, torch.from_numpy(x_test), ctx.device).squeeze(1).numpy()
        scores[name] = accuracy((logits > 0).astype("float32"), y_test)

    # Probability maps and their input gradients dp/dx on a grid.
    half = 2.6 * cfg.sample_std
    axis = np.linspace(-half, half, 200, dtype="float32")
    xx, yy = np.meshgrid(axis, axis)
    dense = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    coarse_axis = np.linspace(-half, half, cfg.grid_size, dtype="float32")
    cx, cy = np.meshgrid(coarse_axis, coarse_axis)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), layout="constrained")
    colours = np.where(y_train > 0, "C3", "C0")
    axes[0].scatter(x_train[:, 0], x_train[:, 1], c=colours, s=5, alpha=0.6)
    for centre, (major, minor), angle in zip(
        cfg.centres, cfg.semi_axes, cfg.angles_deg, strict=True
    ):
        axes[0].add_patch(
            Ellipse(centre, 2 * major, 2 * minor, angle=angle, fill=False, lw=2, color="k")
        )
    axes[0].scatter([], [], c="C3", s=12, label="class 1: inside an ellipse")
    axes[0].scatter([], [], c="C0", s=12, label="class 0: outside")
    axes[0].legend(loc="lower left", fontsize=8)
    axes[0].set(
        title="Labels from two shifted, rotated ellipses", xlabel="x\u2081", ylabel="x\u2082"
    )
    grad_norm = {}
    for ax, (name, model) in zip(axes[1:], models.items(), strict=True):
        model.to("cpu").eval()
        with torch.no_grad():
            prob = torch.sigmoid(model(dense)).reshape(xx.shape).numpy()
        probe = torch.from_numpy(np.stack([cx.ravel(), cy.ravel()], axis=1)).requires_grad_(True)
        torch.sigmoid(model(probe)).sum().backward()
        grads = probe.grad.numpy().reshape(*cx.shape, 2)
        grad_norm[name] = float(np.linalg.norm(grads, axis=-1).max())
        image = ax.pcolormesh(xx, yy, prob, cmap="RdBu_r", vmin=0, vmax=1, shading="auto")
        ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1.5)
        # Gradients span orders of magnitude: draw length |g|^0.3 (relative) along g.
        norm = np.linalg.norm(grads, axis=-1, keepdims=True)
        shown = grads / np.maximum(norm, 1e-12) * (norm / max(norm.max(), 1e-12)) ** 0.3
        ax.quiver(cx, cy, shown[..., 0], shown[..., 1], color="k", alpha=0.7, width=0.003)
        ax.set(
            title=f"{name}: p(class 1), accuracy {scores[name]:.3f}\narrows: \u2207\u2093p "
            "(length \u221d |\u2207\u2093p|^0.3), black line: p = 0.5",
            xlabel="x\u2081",
            ylabel="x\u2082",
            aspect="equal",
        )
        axes[0].set(aspect="equal", xlim=(-half, half), ylim=(-half, half))
    fig.colorbar(image, ax=axes[1:], label="predicted probability of class 1", shrink=0.9)
    ctx.save_figure(fig, "classifier_gradients.png")
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


# --------------------------------------------------------------------- cnn-function-classifier

_SHAPES = ("sine", "Gaussian", "polynomial")


class FunctionClassifierConfig(LabConfig):
    """Settings of ``cnn-function-classifier``."""

    n_points: int = Field(ge=16, description="samples of each function on [-1, 1]")
    noise_std: float = Field(ge=0, description="noise of the training and test sets")
    noisy_test_std: float = Field(ge=0, description="noise of the harder, plotted test set")
    n_train: int = Field(ge=30)
    n_test: int = Field(ge=30)
    channels: list[int] = Field(min_length=1, description="conv layer output channels")
    kernel_size: int = Field(ge=1)
    head_hidden: list[int] = Field(min_length=0)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(default=1, ge=1)


def _function_shapes(
    rng: np.random.Generator, n: int, n_points: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sine / Gaussian / polynomial curves ``(n, 1, n_points)`` and labels ``(n,)``."""
    import numpy as np

    x = np.linspace(-1, 1, n_points)
    labels = rng.integers(0, len(_SHAPES), size=n)
    curves = np.empty((n, n_points))
    for i, label in enumerate(labels):
        amplitude = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
        if label == 0:
            curves[i] = np.sin(rng.uniform(2, 5) * math.pi * x + rng.uniform(0, 2 * math.pi))
        elif label == 1:
            curves[i] = np.exp(-0.5 * ((x - rng.uniform(-0.6, 0.6)) / rng.uniform(0.08, 0.3)) ** 2)
        else:
            poly = np.polynomial.Polynomial(rng.uniform(-1, 1, size=rng.integers(3, 5)))(x)
            curves[i] = poly / max(np.abs(poly).max(), 1e-6)
        curves[i] *= amplitude
    curves += noise * rng.standard_normal(curves.shape)
    return curves[:, None, :].astype("float32"), labels


@lab(
    "cnn-function-classifier",
    title="A 1D CNN tells noisy sine, Gaussian and polynomial curves apart",
    topic=U3,
    day=2,
    config=FunctionClassifierConfig,
)
def cnn_function_classifier(cfg: FunctionClassifierConfig, ctx: LabContext) -> LabOutcome:
    """Train a 1D CNN classifier; test on clean-noise and on noisier curves."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.conv import ConvClassifier1d
    from wxai.train.loop import predict
    from wxai.verify.classification import accuracy

    x_train, y_train = _function_shapes(ctx.rng, cfg.n_train, cfg.n_points, cfg.noise_std)
    x_test, y_test = _function_shapes(ctx.rng, cfg.n_test, cfg.n_points, cfg.noise_std)
    x_noisy, y_noisy = _function_shapes(ctx.rng, cfg.n_test, cfg.n_points, cfg.noisy_test_std)
    model = ConvClassifier1d(
        1, len(_SHAPES), cfg.channels, kernel_size=cfg.kernel_size, head_hidden=cfg.head_hidden
    )
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
        batch_size=cfg.batch_size,
        shuffle=True,
    )
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(
            model,
            loader,
            epochs=cfg.epochs,
            lr=cfg.lr,
            loss_fn=nn.CrossEntropyLoss(),
            span=(0.0, 0.9),
        )
        predicted = predict(model, torch.from_numpy(x_test), ctx.device).argmax(1).numpy()
        predicted_noisy = predict(model, torch.from_numpy(x_noisy), ctx.device).argmax(1).numpy()
    score = accuracy(predicted, y_test)
    score_noisy = accuracy(predicted_noisy, y_noisy)

    # Noisier test curves, misclassified ones first, in red.
    wrong = np.flatnonzero(predicted_noisy != y_noisy)
    right = np.flatnonzero(predicted_noisy == y_noisy)
    shown = np.r_[wrong[:6], right[: 18 - min(len(wrong), 6)]][:18]
    grid = np.linspace(-1, 1, cfg.n_points)
    fig, axes = plt.subplots(3, 6, figsize=(16, 7), sharex=True, layout="constrained")
    for ax, k in zip(axes.flat, shown, strict=False):
        ok = predicted_noisy[k] == y_noisy[k]
        ax.plot(grid, x_noisy[k, 0], color="C0" if ok else "C3", lw=1.2)
        ax.set_title(
            f"true {_SHAPES[y_noisy[k]]}\npredicted {_SHAPES[predicted_noisy[k]]}",
            fontsize=8,
            color="k" if ok else "C3",
        )
        ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("f(x)")
    fig.suptitle(
        f"Noisier test set (noise std {cfg.noisy_test_std}): accuracy {score_noisy:.3f}; "
        f"blue = correct, red = misclassified ({len(wrong)} of {cfg.n_test}). "
        f"Test accuracy at training noise ({cfg.noise_std}): {score:.3f}"
    )
    ctx.save_figure(fig, "noisy_test_predictions.png")

    confusion = np.zeros((len(_SHAPES), len(_SHAPES)), dtype=int)
    np.add.at(confusion, (y_noisy, predicted_noisy), 1)
    fig, (ax_loss, ax_conf) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    ax_loss.semilogy(range(1, cfg.epochs + 1), history.train_loss)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Training loss")
    ax_loss.grid(alpha=0.3)
    image = ax_conf.imshow(confusion, cmap="Blues")
    for (row, col), count in np.ndenumerate(confusion):
        ax_conf.text(col, row, str(count), ha="center", va="center")
    ax_conf.set(
        xticks=range(3), yticks=range(3), xticklabels=_SHAPES, yticklabels=_SHAPES,
        xlabel="predicted class", ylabel="true class", title="Confusion matrix, noisier test set",
    )  # fmt: skip
    fig.colorbar(image, ax=ax_conf, label="curves")
    ctx.save_figure(fig, "training_and_confusion.png")

    return LabOutcome(
        metrics={
            "test_accuracy": score,
            "noisy_test_accuracy": score_noisy,
            "chance_accuracy": 1 / len(_SHAPES),
            "final_train_loss": history.train_loss[-1],
        },
        acceptance=Acceptance(
            metric="test_accuracy",
            value=score,
            comparison=">=",
            threshold=0.9,
            baseline="COURSE_MAP U3: test accuracy >= 0.9 (chance 1/3)",
            baseline_value=1 / len(_SHAPES),
        ),
        summary=(
            f"CNN accuracy {score:.3f} at noise {cfg.noise_std}, {score_noisy:.3f} at "
            f"noise {cfg.noisy_test_std}."
        ),
    )


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


_ANOMALIES = ("spike", "level shift", "frequency jump", "flat line")


def _sensor_sequences(
    rng: np.random.Generator, cfg: LstmAnomalyConfig, n: int, anomalous: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy oscillations ``(n, seq_len, 1)`` and anomaly kinds ``(n,)`` (-1 for normal)."""
    import numpy as np

    t = np.arange(cfg.seq_len)
    period = rng.uniform(*cfg.period_range, size=(n, 1))
    phase = rng.uniform(0, 2 * math.pi, size=(n, 1))
    series = np.sin(2 * math.pi * t / period + phase)
    kinds = np.full(n, -1)
    if anomalous:
        kinds = rng.integers(0, len(_ANOMALIES), size=n)
        for i, kind in enumerate(kinds):
            width = rng.integers(cfg.seq_len // 8, cfg.seq_len // 4 + 1)
            start = rng.integers(0, cfg.seq_len - width)
            window = slice(start, start + width)
            sign = rng.choice([-1, 1])
            if kind == 0:
                series[i, start : start + 2] += sign * cfg.anomaly_size * 1.5
            elif kind == 1:
                series[i, window] += sign * cfg.anomaly_size
            elif kind == 2:
                series[i, window] = np.sin(6 * math.pi * t[window] / period[i] + phase[i])
            else:
                series[i, window] = series[i, start]
    series += cfg.noise_std * rng.standard_normal(series.shape)
    return series[..., None].astype("float32"), kinds


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
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.autoencoder import LSTMAutoencoder, reconstruction_error
    from wxai.train.loop import predict
    from wxai.verify.classification import roc_auc, roc_curve

    x_train, _ = _sensor_sequences(ctx.rng, cfg, cfg.n_train, anomalous=False)
    normal, _ = _sensor_sequences(ctx.rng, cfg, cfg.n_test // 2, anomalous=False)
    odd, kinds = _sensor_sequences(ctx.rng, cfg, cfg.n_test - cfg.n_test // 2, anomalous=True)
    x_test = np.concatenate([normal, odd])
    labels = np.r_[np.zeros(len(normal)), np.ones(len(odd))]
    model = LSTMAutoencoder(1, cfg.hidden, cfg.latent, cfg.layers)
    train = torch.from_numpy(x_train)
    loader = DataLoader(TensorDataset(train, train), batch_size=cfg.batch_size, shuffle=True)
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr, span=(0.0, 0.9))
        test = torch.from_numpy(x_test)
        scores = reconstruction_error(model, test.to(ctx.device)).cpu().numpy()
        recon = predict(model, test, ctx.device).numpy()
    auc = roc_auc(scores, labels)
    fpr, tpr = roc_curve(scores, labels)

    fig = plt.figure(figsize=(16, 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1])
    examples = top.subplots(1, 4, sharey=True)
    picks = [0, 1, len(normal), len(normal) + 1]
    for ax, k in zip(examples, picks, strict=True):
        colour = "C3" if labels[k] else "C0"
        name = f"anomaly: {_ANOMALIES[kinds[k - len(normal)]]}" if labels[k] else "normal"
        ax.plot(x_test[k, :, 0], "-", color=colour, lw=1.5, label="input")
        ax.plot(recon[k, :, 0], "--", color="k", lw=1.2, label="reconstruction")
        ax.set(title=f"{name} (score {scores[k]:.3f})", xlabel="time step", ylabel="value")
    examples[0].legend(fontsize=8)
    ax_hist, ax_roc, ax_loss = bottom.subplots(1, 3)
    bins = np.logspace(np.log10(scores.min()), np.log10(scores.max()), 30)
    ax_hist.hist(scores[labels == 0], bins=bins, color="C0", alpha=0.7, label="normal")
    ax_hist.hist(scores[labels == 1], bins=bins, color="C3", alpha=0.7, label="anomalous")
    ax_hist.set(xscale="log", xlabel="reconstruction MSE (anomaly score)", ylabel="sequences",
                title="Anomaly scores of the test set")  # fmt: skip
    ax_hist.legend()
    ax_roc.plot(fpr, tpr, "C3-", lw=2, label=f"LSTM autoencoder (AUC {auc:.3f})")
    ax_roc.plot([0, 1], [0, 1], "k:", label="chance (AUC 0.5)")
    ax_roc.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC curve")
    ax_roc.legend(loc="lower right")
    ax_loss.semilogy(range(1, cfg.epochs + 1), history.train_loss)
    ax_loss.set(xlabel="epoch", ylabel="reconstruction MSE", title="Training loss (normal only)")
    ax_loss.grid(alpha=0.3)
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
