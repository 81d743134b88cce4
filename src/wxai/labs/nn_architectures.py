"""Labs on convolutional networks (course unit U3, lectures 4 and 5).

A periodic 1D CNN forecasting moving blobs, and a 1D CNN classifying function shapes.
Classifiers and detectors are in :mod:`wxai.labs.nn_classifiers`, the generative labs
in :mod:`wxai.labs.generative_models`.
"""

from __future__ import annotations

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

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


@lab(
    "blob-forecast-cnn",
    title="A periodic 1D CNN forecasts moving blobs one step ahead",
    topic=U3,
    day=2,
    config=BlobForecastConfig,
)
def blob_forecast_cnn(cfg: BlobForecastConfig, ctx: LabContext) -> LabOutcome:
    """Train a circular-padding CNN on blob transport; compare with persistence."""
    import numpy as np
    import torch

    from wxai.core.errors import ConfigError
    from wxai.data.synthetic.toy_datasets import moving_blobs
    from wxai.nn.conv import ConvNet1d, input_support, periodic_window
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse
    from wxai.viz.fields1d import feature_maps_figure, forecast_cases_figure

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
    blobs = cfg.model_dump(
        include={"n_points", "domain_length", "shift_points", "max_blobs", "width_range"}
    )
    x_train, y_train = moving_blobs(ctx.rng, cfg.n_train, **blobs)
    x_test, y_test = moving_blobs(ctx.rng, cfg.n_test, **blobs)
    loader = tensor_loader(x_train, y_train, batch_size=cfg.batch_size)
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr, span=(0.0, 0.9))
        forecast = predict(model, torch.from_numpy(x_test), ctx.device).numpy()
        centre = cfg.n_points // 2
        support = input_support(model, cfg.n_points, centre)
        model.to("cpu").eval()
        with torch.no_grad():
            features = [f.numpy() for f in model.features(torch.from_numpy(x_test[:1]))]
    error = rmse(forecast, y_test)
    persistence = rmse(x_test, y_test)

    grid = np.arange(cfg.n_points) * cfg.domain_length / cfg.n_points
    cases = (x_test[:3, 0], y_test[:3, 0], forecast[:3, 0])
    fig = forecast_cases_figure(
        grid,
        *cases,
        history.train_loss,
        title=f"One-step forecast: CNN RMSE {error:.3f} vs persistence {persistence:.3f} "
        f"(shift {cfg.shift_points} points, receptive field {field_of_view} points)",
    )
    ctx.save_figure(fig, "blob_forecast.png")
    maps = {"first": features[0][0], "last": features[-2][0]}
    fig = feature_maps_figure(grid, x_test[0, 0], y_test[0, 0], maps, activation=cfg.activation)
    ctx.save_figure(fig, "feature_maps.png")

    support_ok = bool((support == periodic_window(cfg.n_points, centre, field_of_view)).all())
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

    from wxai.data.synthetic.toy_datasets import FUNCTION_SHAPES, function_shapes
    from wxai.nn.conv import ConvClassifier1d
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.classification import accuracy, confusion_matrix
    from wxai.viz.classifiers import curve_predictions_figure, plot_confusion_matrix
    from wxai.viz.training import plot_loss_curves

    x_train, y_train = function_shapes(ctx.rng, cfg.n_train, cfg.n_points, cfg.noise_std)
    x_test, y_test = function_shapes(ctx.rng, cfg.n_test, cfg.n_points, cfg.noise_std)
    x_noisy, y_noisy = function_shapes(ctx.rng, cfg.n_test, cfg.n_points, cfg.noisy_test_std)
    n_classes = len(FUNCTION_SHAPES)
    model = ConvClassifier1d(
        1, n_classes, cfg.channels, kernel_size=cfg.kernel_size, head_hidden=cfg.head_hidden
    )
    loader = tensor_loader(x_train, y_train, batch_size=cfg.batch_size)
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

    n_wrong = int((predicted_noisy != y_noisy).sum())
    fig = curve_predictions_figure(
        np.linspace(-1, 1, cfg.n_points),
        x_noisy[:, 0],
        y_noisy,
        predicted_noisy,
        FUNCTION_SHAPES,
        title=f"Noisier test set (noise std {cfg.noisy_test_std}): accuracy {score_noisy:.3f}; "
        f"blue = correct, red = misclassified ({n_wrong} of {cfg.n_test}). "
        f"Test accuracy at training noise ({cfg.noise_std}): {score:.3f}",
    )
    ctx.save_figure(fig, "noisy_test_predictions.png")
    fig, (ax_loss, ax_conf) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    plot_loss_curves(ax_loss, {"training": history.train_loss}, ylabel="cross-entropy")
    plot_confusion_matrix(
        ax_conf,
        confusion_matrix(y_noisy, predicted_noisy, n_classes),
        FUNCTION_SHAPES,
        title="Confusion matrix, noisier test set",
    )
    ctx.save_figure(fig, "training_and_confusion.png")

    return LabOutcome(
        metrics={
            "test_accuracy": score,
            "noisy_test_accuracy": score_noisy,
            "chance_accuracy": 1 / n_classes,
            "final_train_loss": history.train_loss[-1],
        },
        acceptance=Acceptance(
            metric="test_accuracy",
            value=score,
            comparison=">=",
            threshold=0.9,
            baseline="COURSE_MAP U3: test accuracy >= 0.9 (chance 1/3)",
            baseline_value=1 / n_classes,
        ),
        summary=(
            f"CNN accuracy {score:.3f} at noise {cfg.noise_std}, {score_noisy:.3f} at "
            f"noise {cfg.noisy_test_std}."
        ),
    )
