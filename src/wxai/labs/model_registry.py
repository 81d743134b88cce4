"""MLOps lab ``wind-chill``: a tracked model, the registry with aliases, lineage (unit U10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wxai.atmos.comfort import wind_chill_index
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.mlops import U10

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = ["DataRange", "WindChillConfig", "wind_chill", "wind_chill_index"]

_THREADS_HELP = "intra-op torch threads while training (None: torch default)"


class DataRange(BaseModel):
    """A box of (temperature, wind) inputs inside the formula's validity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature_c: tuple[float, float] = Field(description="air temperature range [degC]")
    wind_kmh: tuple[float, float] = Field(description="wind speed range [km/h]")

    @model_validator(mode="after")
    def _inside_validity(self) -> DataRange:
        from wxai.data.synthetic.formula_samples import check_wind_chill_box

        check_wind_chill_box(self.temperature_c, self.wind_kmh)  # ConfigError is a ValueError
        return self

    def sample(self, rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` uniform inputs ``(n, 2)`` = (T [degC], v [km/h]) and their WCT ``(n, 1)``."""
        import torch

        from wxai.data.synthetic.formula_samples import wind_chill_pairs

        inputs, targets = wind_chill_pairs(rng, self.temperature_c, self.wind_kmh, n)
        return torch.from_numpy(inputs), torch.from_numpy(targets)


class FineTuneConfig(BaseModel):
    """The fine-tuning run on a shifted input range."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: DataRange
    n_train: int = Field(ge=16)
    epochs: int = Field(ge=1)
    lr: float = Field(gt=0)


class WindChillConfig(LabConfig):
    """Settings of ``wind-chill``."""

    data: DataRange
    n_train: int = Field(ge=16)
    n_test: int = Field(ge=16)
    hidden: list[int] = Field(default=[20, 20], min_length=1)
    activation: str = "relu"
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    rmse_threshold_c: float = Field(default=0.5, gt=0, description="test RMSE to beat [degC]")
    registered_name: str = Field(default="wind-chill", min_length=1)
    finetune: FineTuneConfig
    torch_threads: int | None = Field(default=1, ge=1, description=_THREADS_HELP)


def _fine_tune(
    cfg: WindChillConfig,
    ctx: LabContext,
    model: torch.nn.Module,
    *,
    reloaded: torch.nn.Module,
    model_uri: str,
    loader: Callable[..., Any],
    test: tuple[torch.Tensor, torch.Tensor],
) -> dict[str, Any]:
    """Fine-tune a copy of the reloaded champion on the shifted range in a child run.

    Returns the champion's RMSE on the shifted test set, the challenger's on both test
    sets [degC], its training history, model URI and run id.
    """
    import copy

    from wxai.train.loop import predict
    from wxai.train.tracking import lineage_tags
    from wxai.verify.metrics import rmse

    x_test, y_test = test
    x_shift, y_shift = cfg.finetune.data.sample(ctx.rng, cfg.finetune.n_train)
    x_shift_test, y_shift_test = cfg.finetune.data.sample(ctx.rng, cfg.n_test)
    base_shift_rmse = rmse(predict(model, x_shift_test).numpy(), y_shift_test.numpy())
    tuned = copy.deepcopy(model)
    tuned.load_state_dict(reloaded.state_dict())
    tags = lineage_tags(
        parent_run_id=ctx.tracker.run_id, source_model_uri=model_uri, training_type="fine-tune"
    )
    child = ctx.child_tracker("fine-tune", tags=tags)
    try:
        child.log_params(
            {
                "finetune": cfg.finetune.model_dump(mode="json"),
                "source_model_uri": model_uri,
                "registered_name": cfg.registered_name,
            }
        )
        history = ctx.fit(
            tuned.net, loader(x_shift, y_shift, cfg.seed + 1), epochs=cfg.finetune.epochs,
            lr=cfg.finetune.lr, threads=cfg.torch_threads, span=(0.7, 0.9), tracker=child,
            log_points=25,
        )  # fmt: skip
        tuned.cpu()
        tuned_shift_rmse = rmse(predict(tuned, x_shift_test).numpy(), y_shift_test.numpy())
        tuned_rmse = rmse(predict(tuned, x_test).numpy(), y_test.numpy())
        child.log_metrics({"shifted_test_rmse_c": tuned_shift_rmse, "test_rmse_c": tuned_rmse})
        uri = child.log_torch_model(
            tuned, input_example=x_shift_test[:5].numpy(), registered_name=cfg.registered_name,
            alias="challenger",
        )  # fmt: skip
    except BaseException:
        child.finish("FAILED")
        raise
    child.finish("FINISHED")
    return {
        "base_shift_rmse": base_shift_rmse,
        "tuned_shift_rmse": tuned_shift_rmse,
        "tuned_rmse": tuned_rmse,
        "history": history,
        "uri": uri,
        "run_id": child.run_id,
    }


@lab(
    "wind-chill",
    title="Wind chill 2-20-20-1: tracked, registered, reloaded and fine-tuned with lineage",
    topic=U10,
    day=3,
    config=WindChillConfig,
)
def wind_chill(cfg: WindChillConfig, ctx: LabContext) -> LabOutcome:
    """Learn the wind-chill index, register it as champion, fine-tune a challenger.

    Long only through the steps of the exercise written out in order and its LabOutcome
    (metrics, acceptance, summary); every computation is a library call.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.nn.mlp import MLP
    from wxai.train.loop import predict
    from wxai.train.normalize import NormalizedRegressor, Normalizer
    from wxai.train.tracking import load_torch_model, model_version_for_alias
    from wxai.verify.baselines import linear_regression_baseline
    from wxai.verify.metrics import rmse

    x, y = cfg.data.sample(ctx.rng, cfg.n_train)
    x_test, y_test = cfg.data.sample(ctx.rng, cfg.n_test)
    model = NormalizedRegressor(
        MLP(2, 1, cfg.hidden, act=cfg.activation), Normalizer.fit(x), Normalizer.fit(y)
    )

    def loader(inputs: torch.Tensor, targets: torch.Tensor, seed: int) -> DataLoader:
        pairs = model.normalized_pairs(inputs, targets)
        generator = torch.Generator().manual_seed(seed)
        return DataLoader(
            TensorDataset(*pairs), batch_size=cfg.batch_size, shuffle=True, generator=generator
        )

    # 1. Base model: the inner network learns standardized WCT from standardized (T, v).
    base_history = ctx.fit(
        model.net, loader(x, y, cfg.seed), epochs=cfg.epochs, lr=cfg.lr,
        threads=cfg.torch_threads, span=(0.0, 0.6), log_points=25,
    )  # fmt: skip
    model.cpu()  # the logged model, its reload and all predictions below live on the CPU
    prediction = predict(model, x_test)
    test_rmse = rmse(prediction.numpy(), y_test.numpy())
    linear_prediction = linear_regression_baseline(x.numpy(), y.numpy(), x_test.numpy())
    linear_rmse = rmse(linear_prediction, y_test.numpy())
    linear = (linear_rmse, linear_prediction)
    ctx.log_metrics({"test_rmse_c": test_rmse, "linear_test_rmse_c": linear_rmse})

    # 2. Log with a signature, register as champion, reload by its runs:/ URI.
    model_uri = ctx.tracker.log_torch_model(
        model, input_example=x_test[:5].numpy(), registered_name=cfg.registered_name,
        alias="champion",
    )  # fmt: skip
    reloaded = load_torch_model(model_uri, uri=ctx.tracker.client.tracking_uri)
    with torch.no_grad():
        reload_diff = float((reloaded(x_test) - prediction).abs().max())
    ctx.progress(0.7, "champion registered")

    # 3. Fine-tune a copy of the champion on a shifted range in a child run with lineage.
    tune = _fine_tune(
        cfg, ctx, model, reloaded=reloaded, model_uri=model_uri, loader=loader,
        test=(x_test, y_test),
    )  # fmt: skip
    base_shift_rmse, tuned_shift_rmse = tune["base_shift_rmse"], tune["tuned_shift_rmse"]
    tuned_rmse, tune_history = tune["tuned_rmse"], tune["history"]
    client = ctx.tracker.client
    champion = model_version_for_alias(client, cfg.registered_name, "champion")
    challenger = model_version_for_alias(client, cfg.registered_name, "challenger")
    ctx.tracker.set_tags(
        {
            "wxai.registered_model": cfg.registered_name,
            "wxai.champion_version": champion,
            "wxai.challenger_version": challenger,
            "wxai.challenger_uri": tune["uri"],
            "wxai.finetune_run_id": tune["run_id"],
        }
    )

    rmses = {"champion": (test_rmse, base_shift_rmse), "challenger": (tuned_rmse, tuned_shift_rmse)}
    _wind_chill_figures(
        ctx, cfg, model=model, x_test=x_test, y_test=y_test, linear=linear, test_rmse=test_rmse,
        histories=(base_history.train_loss, tune_history.train_loss), rmses=rmses,
    )  # fmt: skip

    return LabOutcome(
        metrics={
            "test_rmse_c": test_rmse,
            "linear_test_rmse_c": linear_rmse,
            "reload_max_abs_diff_c": reload_diff,
            "champion_shifted_rmse_c": base_shift_rmse,
            "challenger_shifted_rmse_c": tuned_shift_rmse,
            "challenger_test_rmse_c": tuned_rmse,
            "champion_version": float(champion),
            "challenger_version": float(challenger),
        },
        acceptance=Acceptance(
            metric="test_rmse_c",
            value=test_rmse,
            comparison="<",
            threshold=cfg.rmse_threshold_c,
            baseline=(
                f"test RMSE below {cfg.rmse_threshold_c} degC "
                "(baseline_value: linear regression on T and v)"
            ),
            baseline_value=linear_rmse,
        ),
        model_uri=model_uri,
        summary=(
            f"2-{'-'.join(map(str, cfg.hidden))}-1 reaches {test_rmse:.3f} degC "
            f"(linear {linear_rmse:.2f} degC); reload max |diff| {reload_diff:.1e}; "
            f"{cfg.registered_name} v{champion} is champion, fine-tuned v{challenger} "
            f"challenger ({base_shift_rmse:.2f} -> {tuned_shift_rmse:.2f} degC "
            "on the shifted range)."
        ),
    )


def _wind_chill_figures(
    ctx: LabContext,
    cfg: WindChillConfig,
    *,
    model: torch.nn.Module,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    linear: tuple[float, np.ndarray],
    test_rmse: float,
    histories: tuple[list[float], list[float]],
    rmses: dict[str, tuple[float, float]],
) -> None:
    """The fit figure (surface, error map, scatter) and the fine-tuning figure."""
    import torch

    from wxai.train.loop import predict
    from wxai.viz.regression_plots import fine_tune_figure, formula_fit_figure

    t_axis = torch.linspace(*cfg.data.temperature_c, 120)
    v_axis = torch.linspace(*cfg.data.wind_kmh, 100)
    t_mesh, v_mesh = torch.meshgrid(t_axis, v_axis, indexing="xy")
    inputs = torch.stack([t_mesh.reshape(-1), v_mesh.reshape(-1)], dim=1)
    truth = wind_chill_index(t_mesh, v_mesh).numpy()
    error = predict(model, inputs).reshape(t_mesh.shape).numpy() - truth
    linear_rmse, linear_prediction = linear
    y_true = y_test.squeeze(1).numpy()
    network = f"2-{'-'.join(map(str, cfg.hidden))}-1 network"
    fig = formula_fit_figure(
        t_mesh.numpy(), v_mesh.numpy(), truth, error,
        {
            f"linear regression (RMSE {linear_rmse:.2f} \u00b0C)": (y_true, linear_prediction),
            f"{network} (RMSE {test_rmse:.3f} \u00b0C)": (
                y_true, predict(model, x_test).squeeze(1).numpy()
            ),
        },
        labels=("air temperature T [\u00b0C]", "wind speed v [km/h]",
                "wind-chill temperature [\u00b0C]"),
        titles=("Wind-chill formula", f"Network error (test RMSE {test_rmse:.3f} \u00b0C)"),
        units="\u00b0C",
    )  # fmt: skip
    ctx.save_figure(fig, "wind_chill_fit.png")

    t_new, v_new = cfg.finetune.data.temperature_c, cfg.finetune.data.wind_kmh
    t_old, v_old = cfg.data.temperature_c, cfg.data.wind_kmh
    groups = [
        f"training range\nT {t_old[0]:g}..{t_old[1]:g} \u00b0C, v {v_old[0]:g}..{v_old[1]:g} km/h",
        f"shifted range\nT {t_new[0]:g}..{t_new[1]:g} \u00b0C, v {v_new[0]:g}..{v_new[1]:g} km/h",
    ]
    fig = fine_tune_figure(histories, rmses, groups, units="\u00b0C")
    ctx.save_figure(fig, "fine_tune.png")
