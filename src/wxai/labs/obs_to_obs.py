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


def station_columns(nx: int, n_stations: int) -> np.ndarray:
    """Evenly spaced radiosonde columns ``(2 k + 1) nx // (2 n)``, shape ``(n_stations,)``."""
    import numpy as np

    return (2 * np.arange(n_stations) + 1) * nx // (2 * n_stations)


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    from wxai.verify.metrics import rmse

    return rmse(a, b)


def _unseen_column(data, test: np.ndarray) -> int:
    """The column without a radiosonde whose profile changes most over one step (test set)."""
    import numpy as np

    change = ((data.xtrue[test + 1] - data.xtrue[test]) ** 2).mean(axis=(0, 1))
    change[data.rs_ix] = -1.0
    return int(np.argmax(change))


def _scores(data, pred: np.ndarray, test: np.ndarray, column: int, prefix: str) -> dict:
    """RMSE of the predicted fields ``(B, nz, nx)`` and of persistence, full and one column."""
    import numpy as np

    truth, persistence = data.xtrue[test + 1], data.xtrue[test]
    unseen = np.setdiff1d(np.arange(data.shape[1]), data.rs_ix)
    m = {
        f"{prefix}rmse_field": _rmse(pred, truth),
        f"{prefix}rmse_profile": _rmse(pred[..., column], truth[..., column]),
        f"{prefix}rmse_unseen_columns": _rmse(pred[..., unseen], truth[..., unseen]),
        "persistence_rmse_field": _rmse(persistence, truth),
        "persistence_rmse_profile": _rmse(persistence[..., column], truth[..., column]),
        "persistence_rmse_unseen_columns": _rmse(persistence[..., unseen], truth[..., unseen]),
    }
    for what in ("field", "profile", "unseen_columns"):
        m[f"{prefix}ratio_{what}"] = m[f"{prefix}rmse_{what}"] / m[f"persistence_rmse_{what}"]
    m[f"{prefix}ratio_worst"] = max(m[f"{prefix}ratio_field"], m[f"{prefix}ratio_profile"])
    return m


def _plot_profiles(ax_row, data, pred, test, *, column: int, picks: list[int]) -> None:
    for ax, k in zip(ax_row, picks, strict=True):
        t = test[k]
        ax.plot(data.xtrue[t, :, column], data.z, "0.6", ls="--", label="truth t (persistence)")
        ax.plot(data.xtrue[t + 1, :, column], data.z, "k-", lw=1.5, label="truth t+1")
        ax.plot(pred[k, :, column], data.z, "C3", lw=1.3, label="predicted t+1")
        ax.set_title(f"column {column} (no RS), t = {data.t_snap[t]:.1f}", fontsize=9)
        ax.set(xlabel="phi", ylabel="z")
    ax_row[0].legend(fontsize=7)


def _plot_fields(axes, data, pred_k, t, column) -> None:
    import numpy as np

    extent = (0, data.length_x, 0, data.length_z)
    panels = {
        "truth t": data.xtrue[t],
        "truth t+1": data.xtrue[t + 1],
        "predicted t+1": pred_k,
        "predicted - truth (t+1)": pred_k - data.xtrue[t + 1],
    }
    vmax = float(data.xtrue[t : t + 2].max())
    lim = float(np.abs(panels["predicted - truth (t+1)"]).max())
    for ax, (title, f) in zip(axes, panels.items(), strict=True):
        diff = title.startswith("predicted -")
        im = ax.imshow(
            f,
            origin="lower",
            extent=extent,
            aspect="auto",
            cmap="RdBu_r" if diff else "viridis",
            vmin=-lim if diff else 0.0,
            vmax=lim if diff else vmax,
        )
        for ix in data.rs_ix:
            ax.axvline(data.x[ix], color="w", lw=0.6, ls=":")
        ax.axvline(data.x[column], color="C3", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.figure.colorbar(im, ax=ax, fraction=0.04)


@lab(
    "obs2obs-toy-atmosphere",
    title="Obs-to-obs learning: CNN(SAT) + DeepSets(RS) + query decoder on the 2D toy",
    topic=U13,
    day=DAY,
    config=Obs2ObsConfig,
)
def obs2obs_toy_atmosphere(cfg: Obs2ObsConfig, ctx: LabContext) -> LabOutcome:
    """Forecast the next observations from the current ones; query a profile and a field."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.da.models import Toy2D
    from wxai.da.obs2obs import (
        Normalizer,
        Obs2ObsNet,
        generate_dataset,
        predict_next,
        train_obs2obs,
    )

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
    column = _unseen_column(data, test)

    metrics: dict[str, float] = {"n_train": float(train.size), "n_test": float(test.size)}
    preds: dict[str, np.ndarray] = {}
    histories = {}
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
            metrics.update(_scores(data, fields, test, column, f"mode_{mode}_"))
            metrics[f"mode_{mode}_rmse_sat"] = _rmse(curtains, data.ysat[test + 1])
            metrics[f"mode_{mode}_train_seconds"] = histories[mode].seconds
    metrics["persistence_rmse_sat"] = _rmse(data.ysat[test], data.ysat[test + 1])
    metrics["unseen_column"] = float(column)
    first = cfg.modes[0]
    worst = metrics[f"mode_{first}_ratio_worst"]

    ctx.progress(0.92, "plotting")
    picks = [0, len(test) // 2, len(test) - 1]
    fig, axes = plt.subplots(len(cfg.modes), 3, figsize=(12, 4 * len(cfg.modes)), squeeze=False)
    for row, mode in zip(axes, cfg.modes, strict=True):
        _plot_profiles(row, data, preds[mode], test, column=column, picks=picks)
        row[0].set_ylabel(f"mode {mode}: z")
    fig.suptitle(
        f"Profile at unseen column {column}: RMSE / persistence = "
        + ", ".join(f"{m} {metrics[f'mode_{m}_ratio_profile']:.2f}" for m in cfg.modes)
    )
    fig.tight_layout()
    ctx.save_figure(fig, "obs2obs_profiles.png")

    k = picks[1]
    fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex=True, sharey=True)
    _plot_fields(axes.flat, data, preds[first][k], test[k], column)
    fig.suptitle(
        f"Full field at t+1 by querying every point (mode {first}): RMSE "
        f"{metrics[f'mode_{first}_rmse_field']:.4f} vs persistence "
        f"{metrics['persistence_rmse_field']:.4f}"
    )
    fig.tight_layout()
    ctx.save_figure(fig, "obs2obs_field.png")

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
    for mode, h in histories.items():
        axes[0].semilogy(h.loss_sat, label=f"mode {mode}: L_sat")
        axes[0].semilogy(h.loss_rs, ls="--", label=f"mode {mode}: L_rs")
    axes[0].set(xlabel="epoch", ylabel="loss (normalised)", title="joint loss")
    axes[0].legend(fontsize=7)
    for c in range(data.ysat.shape[1]):
        axes[1].plot(data.sat_w[c], data.z, label=f"channel {c}")
    axes[1].set(xlabel="weight", ylabel="z", title="satellite weighting functions")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "obs2obs_training.png")

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
