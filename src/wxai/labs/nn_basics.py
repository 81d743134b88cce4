"""Day 1 labs: a first network, data loaders, and network capacity (course unit U3)."""

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
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.mlp import MLP
    from wxai.train.loop import fit, predict
    from wxai.verify.metrics import rmse

    x = ctx.rng.uniform(0.0, 2 * math.pi, size=(cfg.n_train, 1)).astype("float32")
    y = (torch.sin(torch.from_numpy(x)) + cfg.noise_std * torch.randn(cfg.n_train, 1)).float()
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), y), batch_size=cfg.batch_size, shuffle=True
    )
    model = MLP(1, 1, cfg.hidden, act=cfg.activation)
    history = fit(
        model,
        loader,
        epochs=cfg.epochs,
        lr=cfg.lr,
        device=ctx.device,
        log=lambda metrics, step: ctx.log_metrics(metrics, step),
        progress=ctx.progress,
        log_every=max(cfg.epochs // 50, 1),
    )
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
        metrics={"rmse": error, "rmse_zero_predictor": zero_error,
                 "final_train_loss": history.train_loss[-1]},
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
