"""Obs-to-obs learning on the 2D toy atmosphere (course unit U13, lecture 20).

The lab composes :mod:`wxai.da.obs2obs`: it generates the truth and the radiosonde and
satellite observations, trains the CNN(SAT) + DeepSets(RS) + query-decoder network in
each configured dataset mode and scores the forecast ``t -> t+1`` against persistence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np

U13 = "U13 Data assimilation"
DAY = 5


class Obs2ObsConfig(LabConfig):
    """Settings of ``obs2obs-toy-atmosphere``."""

    nx: int = Field(ge=16, description="columns of the toy atmosphere (periodic in x)")
    nz: int = Field(ge=8, description="levels")
    dt: float = Field(gt=0, description="RK4 step (time units)")
    spinup_steps: int = Field(ge=0, description="steps from rest before the first snapshot")
    every: int = Field(ge=1, description="RK4 steps between snapshots (one forecast step)")
    n_snapshots: int = Field(ge=8, description="snapshots T")
    n_stations: int = Field(ge=2, description="radiosonde columns, evenly spaced")
    level_every: int = Field(ge=1, description="radiosondes observe every k-th level")
    sat_peaks: list[float] = Field(min_length=1, description="channel peak heights (z units)")
    sat_width: float = Field(gt=0, description="Gaussian width of the channel weights")
    sigma_rs: float = Field(gt=0, description="radiosonde error standard deviation")
    sigma_sat: float = Field(gt=0, description="satellite error standard deviation")
    train_fraction: float = Field(gt=0, lt=1, description="first part of the transitions trains")
    modes: list[Literal["A", "B"]] = Field(
        min_length=1, description="dataset modes to train; the first one is accepted"
    )
    cnn_channels: list[int] = Field(min_length=1, description="hidden widths of the SAT CNN")
    kernel_size: int = Field(ge=3, description="odd CNN kernel size")
    set_hidden: list[int] = Field(min_length=1, description="hidden widths of DeepSets psi")
    set_size: int = Field(ge=2, description="set-embedding size")
    decoder_hidden: list[int] = Field(min_length=1, description="hidden widths of the decoder")
    n_freq: int = Field(ge=1, description="Fourier frequencies embedding x and z")
    n_in: int = Field(ge=1, description="mode A: random radiosonde points per sample")
    n_query: int = Field(ge=1, description="query points per training sample")
    alpha: float = Field(gt=0, description="weight of the RS query loss")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    ratio_threshold: float = Field(gt=0, description="accepted RMSE / persistence RMSE")
    torch_threads: int | None = Field(default=1, ge=1, description="intra-op threads")


def _train_modes(cfg: Obs2ObsConfig, ctx: LabContext, data, norm, *, train, test, column):
    """Train one network per dataset mode; its test predictions, history and scores."""
    from wxai.da.obs2obs import Obs2ObsNet, forecast_scores, predict_next, train_obs2obs
    from wxai.verify.metrics import rmse

    preds: dict[str, np.ndarray] = {}
    histories = {}
    metrics: dict[str, float] = {}
    span = 0.85 / len(cfg.modes)
    with torch_threads(cfg.torch_threads):
        for i, mode in enumerate(cfg.modes):
            net = Obs2ObsNet(
                len(cfg.sat_peaks),
                cnn_channels=cfg.cnn_channels,
                kernel_size=cfg.kernel_size,
                set_hidden=cfg.set_hidden,
                set_size=cfg.set_size,
                decoder_hidden=cfg.decoder_hidden,
                n_freq=cfg.n_freq,
            )

            def progress(f: float, msg: str, i: int = i, mode: str = mode) -> None:
                ctx.progress(0.05 + span * (i + f), f"mode {mode}: {msg}")

            histories[mode] = train_obs2obs(
                net,
                data,
                norm,
                train,
                mode=mode,
                epochs=cfg.epochs,
                batch_size=cfg.batch_size,
                lr=cfg.lr,
                alpha=cfg.alpha,
                n_in=cfg.n_in,
                n_query=cfg.n_query,
                sigma_rs=cfg.sigma_rs,
                seed=cfg.seed + i,
                progress=progress,
            )
            for epoch, loss in enumerate(histories[mode].loss):
                ctx.log_metrics({f"mode_{mode}_loss": loss}, step=epoch)
            fields, curtains = predict_next(net, data, norm, test)
            preds[mode] = fields
            metrics.update(forecast_scores(data, fields, test, column, f"mode_{mode}_"))
            metrics[f"mode_{mode}_rmse_sat"] = rmse(curtains, data.ysat[test + 1])
            metrics[f"mode_{mode}_train_seconds"] = histories[mode].seconds
    return preds, histories, metrics


def _figures(ctx: LabContext, cfg: Obs2ObsConfig, data, test, *, column, preds, histories, metrics):
    """Profiles at the unseen column, the full field at t+1, and the training losses."""
    from wxai.viz.assimilation import (
        figure_field_forecast,
        figure_obs2obs_training,
        figure_profiles,
    )

    picks = [0, len(test) // 2, len(test) - 1]
    t = test[picks]
    fig = figure_profiles(
        data.z,
        data.xtrue[t, :, column],
        data.xtrue[t + 1, :, column],
        {f"mode {m}": preds[m][picks, :, column] for m in cfg.modes},
        [f"column {column} (no RS), t = {data.t_snap[k]:.1f}" for k in t],
        suptitle=f"Profile at unseen column {column}: RMSE / persistence = "
        + ", ".join(f"{m} {metrics[f'mode_{m}_ratio_profile']:.2f}" for m in cfg.modes),
    )
    ctx.save_figure(fig, "obs2obs_profiles.png")
    first, k = cfg.modes[0], picks[1]
    fig = figure_field_forecast(
        data.xtrue[test[k]],
        data.xtrue[test[k] + 1],
        preds[first][k],
        (0, data.length_x, 0, data.length_z),
        station_x=data.x[data.rs_ix],
        column_x=float(data.x[column]),
        vmin=0.0,
        title=f"Full field at t+1 by querying every point (mode {first}): RMSE "
        f"{metrics[f'mode_{first}_rmse_field']:.4f} vs persistence "
        f"{metrics['persistence_rmse_field']:.4f}",
    )
    ctx.save_figure(fig, "obs2obs_field.png")
    losses = {f"mode {m}": (h.loss_sat, h.loss_rs) for m, h in histories.items()}
    ctx.save_figure(figure_obs2obs_training(losses, data.z, data.sat_w), "obs2obs_training.png")


@lab(
    "obs2obs-toy-atmosphere",
    title="Obs-to-obs learning: CNN(SAT) + DeepSets(RS) + query decoder on the 2D toy",
    topic=U13,
    day=DAY,
    config=Obs2ObsConfig,
)
def obs2obs_toy_atmosphere(cfg: Obs2ObsConfig, ctx: LabContext) -> LabOutcome:
    """Forecast the next observations from the current ones; query a profile and a field."""
    import numpy as np

    from wxai.da.models import Toy2D
    from wxai.da.obs2obs import Normalizer, generate_dataset, most_changing_unobserved_column
    from wxai.da.operators import station_columns
    from wxai.verify.metrics import rmse

    model = Toy2D(nx=cfg.nx, nz=cfg.nz)
    columns = station_columns(cfg.nx, cfg.n_stations)
    ctx.progress(0.02, "integrating the toy atmosphere")
    data = generate_dataset(
        model,
        n_snapshots=cfg.n_snapshots,
        every=cfg.every,
        dt=cfg.dt,
        spinup_steps=cfg.spinup_steps,
        rs_columns=columns,
        rs_levels=np.arange(0, cfg.nz, cfg.level_every),
        sat_peaks=np.array(cfg.sat_peaks),
        sat_width=cfg.sat_width,
        sigma_rs=cfg.sigma_rs,
        sigma_sat=cfg.sigma_sat,
        rng=ctx.rng,
    )
    data.save(ctx.run_dir / "dyn_truth_obs.npz")
    n_train = int(cfg.train_fraction * (data.n_times - 1))
    train, test = np.arange(n_train), np.arange(n_train, data.n_times - 1)
    norm = Normalizer.fit(data, train)
    column = most_changing_unobserved_column(data, test)

    metrics: dict[str, float] = {"n_train": float(train.size), "n_test": float(test.size)}
    preds, histories, scores = _train_modes(
        cfg, ctx, data, norm, train=train, test=test, column=column
    )
    metrics.update(scores)
    metrics["persistence_rmse_sat"] = rmse(data.ysat[test], data.ysat[test + 1])
    metrics["unseen_column"] = float(column)
    first = cfg.modes[0]
    worst = metrics[f"mode_{first}_ratio_worst"]
    ctx.progress(0.92, "plotting")
    _figures(ctx, cfg, data, test, column=column, preds=preds, histories=histories, metrics=metrics)
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric=f"mode_{first}_ratio_worst",
            value=worst,
            comparison="<=",
            threshold=cfg.ratio_threshold,
            baseline=(
                f"unseen-column profile and full field at t+1 within {cfg.ratio_threshold:g} x "
                "the persistence RMSE (the worse of the two)"
            ),
            baseline_value=metrics["persistence_rmse_field"],
        ),
        summary=(
            f"mode {first}: field RMSE {metrics[f'mode_{first}_rmse_field']:.4f} "
            f"(persistence {metrics['persistence_rmse_field']:.4f}), profile at column {column} "
            f"{metrics[f'mode_{first}_rmse_profile']:.4f} "
            f"(persistence {metrics['persistence_rmse_profile']:.4f})."
        ),
    )
