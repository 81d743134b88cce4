"""MLOps labs: configuration variants, parallel tracked runs, the model registry (unit U10)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.train.tracking import PARENT_RUN_TAG

if TYPE_CHECKING:
    import numpy as np
    import torch

    from wxai.train.tracking import MlflowTracker

U10 = "U10 MLOps"

_THREADS_HELP = "intra-op torch threads while training (None: torch default)"


def _sine_data(
    rng: np.random.Generator, n: int, noise_std: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points ``x ~ U[0, 2 pi]`` with ``y = sin(x) + noise``, shapes ``(n, 1)``."""
    import torch

    x = torch.from_numpy(rng.uniform(0.0, 2 * math.pi, size=(n, 1))).float()
    noise = torch.from_numpy(rng.normal(0.0, noise_std, size=(n, 1))).float()
    return x, torch.sin(x) + noise


# --------------------------------------------------------------------------------------------
# hydra-variants
# --------------------------------------------------------------------------------------------


class ModelVariant(BaseModel):
    """One entry of the ``model`` config group (``configs/labs/hydra-variants/model/``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="the choice, equal to the file name in model/")
    hidden: list[int] = Field(min_length=1, description="hidden layer sizes")
    activation: str = "tanh"


class HydraVariantsConfig(LabConfig):
    """Settings of ``hydra-variants``; ``model`` is chosen with ``model=mlp|deep``."""

    model: ModelVariant
    n_train: int = Field(ge=16)
    n_val: int = Field(ge=16)
    noise_std: float = Field(default=0.0, ge=0)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    rmse_threshold: float = Field(default=0.1, gt=0, description="validation RMSE to beat")
    torch_threads: int | None = Field(default=1, ge=1, description=_THREADS_HELP)


@lab(
    "hydra-variants",
    title="One training script, model variants chosen by a Hydra config group",
    topic=U10,
    day=4,
    config=HydraVariantsConfig,
)
def hydra_variants(cfg: HydraVariantsConfig, ctx: LabContext) -> LabOutcome:
    """Train the MLP selected by ``model=<choice>`` on sin(x) and validate it."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.mlp import MLP, count_parameters
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse

    x, y = _sine_data(ctx.rng, cfg.n_train, cfg.noise_std)
    x_val = torch.from_numpy(ctx.rng.uniform(0.0, 2 * math.pi, size=(cfg.n_val, 1))).float()
    y_val = torch.sin(x_val)
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(
        TensorDataset(x, y), batch_size=cfg.batch_size, shuffle=True, generator=generator
    )
    val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=1024)
    model = MLP(1, 1, cfg.model.hidden, act=cfg.model.activation)
    sizes = "-".join(map(str, [1, *cfg.model.hidden, 1]))
    ctx.tracker.set_tags({"wxai.model_variant": cfg.model.name})
    history = ctx.fit(
        model,
        loader,
        epochs=cfg.epochs,
        lr=cfg.lr,
        threads=cfg.torch_threads,
        val_loader=val_loader,
        log_points=25,
    )
    val_rmse = rmse(predict(model, x_val, ctx.device).numpy(), y_val.numpy())
    mean_rmse = rmse(0.0 * y_val.numpy() + float(y.mean()), y_val.numpy())
    model_uri = ctx.tracker.log_torch_model(model.cpu(), input_example=x_val[:5].numpy())
    model.to(ctx.device)

    grid = torch.linspace(0.0, 2 * math.pi, 400).unsqueeze(1)
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    x_plot = grid.squeeze(1).numpy()
    ax_fit.plot(x_plot, np.sin(x_plot), "k-", lw=1.5, label="sin(x)")
    ax_fit.plot(
        x_plot,
        predict(model, grid, ctx.device).squeeze(1).numpy(),
        "C1--",
        lw=2,
        label=f"model={cfg.model.name} (val RMSE {val_rmse:.3f})",
    )
    ax_fit.scatter(x[:, 0].numpy(), y[:, 0].numpy(), s=5, c="C0", alpha=0.3, label="training data")
    ax_fit.set(
        xlabel="x [rad]",
        ylabel="y",
        title=f"model={cfg.model.name}: {sizes}, {cfg.model.activation}",
    )
    ax_fit.legend(loc="lower left", fontsize=8)
    ax_loss.semilogy(range(1, cfg.epochs + 1), history.train_loss, "C0", label="training")
    ax_loss.semilogy(
        range(1, cfg.epochs + 1), history.val_loss, "C3", label="validation (noise-free)"
    )
    ax_loss.set(xlabel="epoch", ylabel="MSE loss", title="Loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()
    ctx.save_figure(fig, f"variant_{cfg.model.name}.png")

    return LabOutcome(
        metrics={
            "val_rmse": val_rmse,
            "val_rmse_mean_predictor": mean_rmse,
            "final_train_loss": history.train_loss[-1],
            "parameters": float(count_parameters(model)),
            "hidden_layers": float(len(cfg.model.hidden)),
        },
        acceptance=Acceptance(
            metric="val_rmse",
            value=val_rmse,
            comparison="<",
            threshold=cfg.rmse_threshold,
            baseline=(
                f"validation RMSE of the selected variant below {cfg.rmse_threshold} "
                "(baseline_value: constant-mean predictor)"
            ),
            baseline_value=mean_rmse,
        ),
        model_uri=model_uri,
        summary=(
            f"model={cfg.model.name} ({sizes}, {count_parameters(model)} parameters) reaches "
            f"validation RMSE {val_rmse:.4f}; the constant mean reaches {mean_rmse:.3f}."
        ),
    )


# --------------------------------------------------------------------------------------------
# mlflow-parallel-sine
# --------------------------------------------------------------------------------------------


class MlflowParallelSineConfig(LabConfig):
    """Settings of ``mlflow-parallel-sine``: a grid of widths x learning rates."""

    widths: list[int] = Field(min_length=1, description="hidden width of each variant")
    depth: int = Field(default=2, ge=1, description="hidden layers of every variant")
    lrs: list[float] = Field(min_length=1, description="Adam learning rates")
    activation: str = "tanh"
    n_train: int = Field(ge=16)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    workers: int = Field(default=2, ge=1, description="variants trained at the same time")
    rmse_threshold: float = Field(default=0.05, gt=0)


@dataclass
class _SineVariant:
    """One (width, lr) variant of ``mlflow-parallel-sine``: its child run, model and result."""

    width: int
    lr: float
    tracker: MlflowTracker
    model: torch.nn.Module
    loader: torch.utils.data.DataLoader
    train_loss: list[float] = field(default_factory=list)
    rmse: float = math.nan

    @property
    def name(self) -> str:
        return f"w{self.width}-lr{self.lr:g}"


@lab(
    "mlflow-parallel-sine",
    title="Sine-regression variants trained in parallel as MLflow child runs",
    topic=U10,
    day=3,
    config=MlflowParallelSineConfig,
)
def mlflow_parallel_sine(cfg: MlflowParallelSineConfig, ctx: LabContext) -> LabOutcome:
    """Train every (width, lr) variant in a thread pool; each logs to its own child run."""
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.mlp import MLP
    from wxai.train.loop import fit, predict
    from wxai.verify.metrics import rmse

    x, y = _sine_data(ctx.rng, cfg.n_train, 0.0)
    grid = torch.linspace(0.0, 2 * math.pi, 500).unsqueeze(1)
    truth = torch.sin(grid).numpy()
    zero_rmse = rmse(0.0 * truth, truth)

    # Runs, initial weights and data order are fixed here, one after the other, so that
    # the results do not depend on how the worker threads interleave.
    variants: list[_SineVariant] = []
    for index, (width, lr) in enumerate(itertools.product(cfg.widths, cfg.lrs)):
        name = f"w{width}-lr{lr:g}"
        tracker = ctx.child_tracker(name, tags={"wxai.variant": name})
        tracker.log_params(
            {
                "width": width,
                "depth": cfg.depth,
                "lr": lr,
                "activation": cfg.activation,
                "epochs": cfg.epochs,
                "batch_size": cfg.batch_size,
                "n_train": cfg.n_train,
            }
        )
        loader = DataLoader(
            TensorDataset(x, y),
            batch_size=cfg.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(cfg.seed + index),
        )
        model = MLP(1, 1, [width] * cfg.depth, act=cfg.activation)
        variants.append(_SineVariant(width, lr, tracker, model, loader))

    def train(variant: _SineVariant) -> _SineVariant:
        """Runs in a worker thread; logs the loss of every epoch to the variant's run."""
        try:
            variant.train_loss = fit(
                variant.model,
                variant.loader,
                epochs=cfg.epochs,
                lr=variant.lr,
                device=ctx.device,
                log=variant.tracker.log_metrics,
            ).train_loss
            variant.rmse = rmse(predict(variant.model, grid, ctx.device).numpy(), truth)
            variant.tracker.log_metrics({"rmse": variant.rmse})
        except BaseException:
            variant.tracker.finish("FAILED")
            raise
        variant.tracker.finish("FINISHED")
        return variant

    # One intra-op thread per worker: the workers share the cores instead of fighting for them.
    with torch_threads(1), ThreadPoolExecutor(max_workers=cfg.workers) as pool:
        for done, _ in enumerate(pool.map(train, variants), start=1):
            ctx.progress(0.9 * done / len(variants), f"{done}/{len(variants)} variants trained")
    best = min(variants, key=lambda variant: variant.rmse)

    # What MLflow holds is the evidence: count the child runs with a complete record.
    client = ctx.tracker.client
    children = client.search_runs(
        [ctx.tracker.experiment_id],
        filter_string=f"tags.`{PARENT_RUN_TAG}` = '{ctx.tracker.run_id}'",
    )
    complete = sum(
        "rmse" in run.data.metrics
        and "width" in run.data.params
        and len(client.get_metric_history(run.info.run_id, "train_loss")) == cfg.epochs
        for run in children
    )
    model_uri = best.tracker.log_torch_model(best.model.cpu(), input_example=grid[:5].numpy())
    ctx.tracker.set_tags({"wxai.best_variant": best.name, "wxai.best_run_id": best.tracker.run_id})

    _parallel_sine_figure(ctx, cfg, variants, best)
    all_logged = complete == len(variants)
    return LabOutcome(
        metrics={
            "n_variants": float(len(variants)),
            "child_runs_complete": float(complete),
            "best_rmse": best.rmse,
            "worst_rmse": max(variant.rmse for variant in variants),
            "rmse_zero_predictor": zero_rmse,
        },
        acceptance=Acceptance(
            metric="best_rmse",
            value=best.rmse if all_logged else math.inf,
            comparison="<",
            threshold=cfg.rmse_threshold,
            baseline=(
                f"best child-run RMSE < {cfg.rmse_threshold} with all {len(variants)} child "
                "runs complete in MLflow (else inf); baseline_value: zero predictor"
            ),
            baseline_value=zero_rmse,
        ),
        model_uri=model_uri,
        summary=(
            f"{complete}/{len(variants)} child runs logged; best {best.name} "
            f"with RMSE {best.rmse:.4f}."
        ),
    )


def _parallel_sine_figure(
    ctx: LabContext,
    cfg: MlflowParallelSineConfig,
    variants: list[_SineVariant],
    best: _SineVariant,
) -> None:
    """Loss curves of all child runs and their final RMSE."""
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_bar) = plt.subplots(
        1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.5, 1]}, layout="constrained"
    )
    styles = ["-", "--", ":", "-."]
    for variant in variants:
        is_best = variant is best
        ax_loss.semilogy(
            range(1, cfg.epochs + 1),
            variant.train_loss,
            color=f"C{cfg.widths.index(variant.width) % 10}",
            ls=styles[cfg.lrs.index(variant.lr) % len(styles)],
            lw=2.2 if is_best else 1.2,
            label=variant.name + (" (best)" if is_best else ""),
        )
    ax_loss.set(
        xlabel="epoch",
        ylabel="training MSE",
        title=f"Per-epoch loss of {len(variants)} child runs (colour: width, line: lr)",
    )
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=7, ncol=2)
    errors = [variant.rmse for variant in variants]
    ax_bar.barh(
        range(len(variants)),
        errors,
        color=["C2" if variant is best else "0.6" for variant in variants],
    )
    for position, error in enumerate(errors):
        ax_bar.text(error, position, f" {error:.3f}", va="center", fontsize=8)
    ax_bar.axvline(cfg.rmse_threshold, color="C3", ls="--", label=f"threshold {cfg.rmse_threshold}")
    ax_bar.set(
        yticks=range(len(variants)),
        yticklabels=[variant.name for variant in variants],
        xlim=(0, 1.25 * max(*errors, cfg.rmse_threshold)),
        xlabel="RMSE against sin(x) on [0, 2\u03c0]",
        title="Final RMSE per child run (green: best)",
    )
    ax_bar.invert_yaxis()
    ax_bar.legend(fontsize=8)
    ctx.save_figure(fig, "parallel_runs.png")
