"""MLOps labs: configuration variants, parallel tracked runs, the model registry (unit U10)."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import torch

    from wxai.train.loop import FitHistory
    from wxai.train.parallel import TrainingJob

U10 = "U10 MLOps"

_THREADS_HELP = "intra-op torch threads while training (None: torch default)"


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
    from wxai.data.synthetic.toy_datasets import sine_samples
    from wxai.nn.mlp import MLP, count_parameters
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse

    x, y = sine_samples(ctx.rng, cfg.n_train, cfg.noise_std)
    x_val, y_val = sine_samples(ctx.rng, cfg.n_val)
    loader = tensor_loader(x, y, batch_size=cfg.batch_size, seed=cfg.seed)
    val_loader = tensor_loader(x_val, y_val, batch_size=1024, shuffle=False)
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

    _variant_figure(ctx, cfg, model, (x, y), history, val_rmse=val_rmse)

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


def _variant_figure(
    ctx: LabContext,
    cfg: HydraVariantsConfig,
    model: torch.nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    history: FitHistory,
    *,
    val_rmse: float,
) -> None:
    """The fit of the chosen variant against sin(x), and its loss curves."""
    import matplotlib.pyplot as plt
    import torch

    from wxai.train.loop import predict
    from wxai.viz.training import plot_function_fits, plot_loss_curves

    sizes = "-".join(map(str, [1, *cfg.model.hidden, 1]))
    grid = torch.linspace(0.0, 2 * math.pi, 400).unsqueeze(1)
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    fitted = predict(model, grid, ctx.device).squeeze(1).numpy()
    plot_function_fits(
        ax_fit,
        grid.squeeze(1).numpy(),
        torch.sin(grid).squeeze(1).numpy(),
        {f"model={cfg.model.name} (val RMSE {val_rmse:.3f})": (fitted, "C1--")},
        data=(data[0][:, 0].numpy(), data[1][:, 0].numpy()),
        truth_label="sin(x)",
        title=f"model={cfg.model.name}: {sizes}, {cfg.model.activation}",
    )
    plot_loss_curves(
        ax_loss,
        {"training": history.train_loss, "validation (noise-free)": history.val_loss},
        styles={"training": "C0", "validation (noise-free)": "C3"},
        ylabel="MSE loss",
        title="Loss",
    )
    ctx.save_figure(fig, f"variant_{cfg.model.name}.png")


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


@lab(
    "mlflow-parallel-sine",
    title="Sine-regression variants trained in parallel as MLflow child runs",
    topic=U10,
    day=3,
    config=MlflowParallelSineConfig,
)
def mlflow_parallel_sine(cfg: MlflowParallelSineConfig, ctx: LabContext) -> LabOutcome:
    """Train every (width, lr) variant in a thread pool; each logs to its own child run."""
    import torch

    from wxai.data.synthetic.toy_datasets import sine_samples
    from wxai.train.loop import predict
    from wxai.train.parallel import complete_child_runs, fit_in_parallel
    from wxai.verify.metrics import rmse
    from wxai.viz.training import variant_runs_figure

    x, y = sine_samples(ctx.rng, cfg.n_train)
    grid = torch.linspace(0.0, 2 * math.pi, 500).unsqueeze(1)
    truth = torch.sin(grid).numpy()
    zero_rmse = rmse(0.0 * truth, truth)

    jobs = _jobs(cfg, ctx, x, y)
    fit_in_parallel(
        jobs,
        lambda model: rmse(predict(model, grid, ctx.device).numpy(), truth),
        epochs=cfg.epochs,
        workers=cfg.workers,
        device=ctx.device,
        score_name="rmse",
        progress=lambda done, total: ctx.progress(0.9 * done / total, f"{done}/{total} trained"),
    )
    best = min(range(len(jobs)), key=lambda i: jobs[i].score)
    best_job = jobs[best]

    # What MLflow holds is the evidence: count the child runs with a complete record.
    complete = complete_child_runs(
        ctx.tracker, metric="rmse", param="width", history=("train_loss", cfg.epochs)
    )
    model_uri = best_job.tracker.log_torch_model(
        best_job.model.cpu(), input_example=grid[:5].numpy()
    )
    ctx.tracker.set_tags(
        {"wxai.best_variant": best_job.name, "wxai.best_run_id": best_job.tracker.run_id}
    )
    fig = variant_runs_figure(
        [job.name for job in jobs],
        [job.train_loss for job in jobs],
        [job.score for job in jobs],
        colours=[f"C{w % 10}" for w in range(len(cfg.widths)) for _ in cfg.lrs],
        linestyles=[["-", "--", ":", "-."][i % 4] for _ in cfg.widths for i in range(len(cfg.lrs))],
        best=best,
        threshold=cfg.rmse_threshold,
        error_label="RMSE against sin(x) on [0, 2\u03c0]",
    )
    ctx.save_figure(fig, "parallel_runs.png")
    all_logged = complete == len(jobs)
    return LabOutcome(
        metrics={
            "n_variants": float(len(jobs)),
            "child_runs_complete": float(complete),
            "best_rmse": best_job.score,
            "worst_rmse": max(job.score for job in jobs),
            "rmse_zero_predictor": zero_rmse,
        },
        acceptance=Acceptance(
            metric="best_rmse",
            value=best_job.score if all_logged else math.inf,
            comparison="<",
            threshold=cfg.rmse_threshold,
            baseline=(
                f"best child-run RMSE < {cfg.rmse_threshold} with all {len(jobs)} child "
                "runs complete in MLflow (else inf); baseline_value: zero predictor"
            ),
            baseline_value=zero_rmse,
        ),
        model_uri=model_uri,
        summary=(
            f"{complete}/{len(jobs)} child runs logged; best {best_job.name} "
            f"with RMSE {best_job.score:.4f}."
        ),
    )


def _jobs(
    cfg: MlflowParallelSineConfig, ctx: LabContext, x: torch.Tensor, y: torch.Tensor
) -> list[TrainingJob]:
    """One job per (width, lr) with its child run, initial weights and data order.

    They are fixed here, one after the other, so that the results do not depend on
    how the worker threads interleave.
    """
    from wxai.nn.mlp import MLP
    from wxai.train.batches import tensor_loader
    from wxai.train.parallel import TrainingJob

    jobs = []
    for index, (width, lr) in enumerate(itertools.product(cfg.widths, cfg.lrs)):
        name = f"w{width}-lr{lr:g}"
        tracker = ctx.child_tracker(name, tags={"wxai.variant": name})
        tracker.log_params(
            {"width": width, "depth": cfg.depth, "lr": lr, "activation": cfg.activation}
            | cfg.model_dump(include={"epochs", "batch_size", "n_train"})
        )
        loader = tensor_loader(x, y, batch_size=cfg.batch_size, seed=cfg.seed + index)
        model = MLP(1, 1, [width] * cfg.depth, act=cfg.activation)
        jobs.append(TrainingJob(name, model, loader, lr, tracker))
    return jobs
