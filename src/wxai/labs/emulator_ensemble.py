"""Emulator lab ``emulator-ensemble`` (course unit U12): an ensemble of the trained
emulator, calibrated on training dates and scored on held-out ones against its own
control forecast and against the white-noise ensemble it replaces."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from wxai.labs.emulator import U12
from wxai.labs.emulator_forecasts import TrainedModelLab, trained_model
from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext

__all__ = ["EmulatorEnsembleConfig", "emulator_ensemble"]


class EmulatorEnsembleConfig(TrainedModelLab):
    """Settings of ``emulator-ensemble`` (the forecast lab's model and period)."""

    members: int = Field(ge=2, le=200, description="ensemble size, member 0 unperturbed")
    initial: Literal["white", "random-field"] = Field(
        description="initial perturbation (wxai.emulator.inference.perturbations)"
    )
    perturbation: float = Field(
        ge=0, description="initial amplitude (white: 6 h change stdevs; random-field: factor)"
    )
    model_noise: float = Field(ge=0, description="factor on a random 6 h change per step")
    calibration_inits: int = Field(
        ge=0,
        description="training-period initial times the amplitudes are scaled on until "
        "spread matches error (0: no calibration)",
    )
    white_baseline: float = Field(
        ge=0, description="amplitude of the white-noise ensemble scored beside (0: none)"
    )


@lab(
    "emulator-ensemble",
    title="An emulator ensemble from random-field and model perturbations: CRPS and spread-skill",
    topic=U12,
    day=5,
    config=EmulatorEnsembleConfig,
)
def emulator_ensemble(cfg: EmulatorEnsembleConfig, ctx: LabContext) -> LabOutcome:
    """Calibrate an ensemble on training dates, score it and a white-noise one on validation."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.emulator.inference.perturbations import EnsemblePerturbations
    from wxai.emulator.inference.run import parse_lead
    from wxai.emulator.inference.scores import (
        calibrate_perturbations,
        calibration_span,
        score_ensemble,
    )

    ckpt, dataset, validation = trained_model(cfg, ctx)
    steps = parse_lead(cfg.lead, ckpt.data.step)
    settings = EnsemblePerturbations(cfg.initial, cfg.perturbation, cfg.model_noise)
    ratios: list[float] = []
    if cfg.calibration_inits:
        start, end = calibration_span(ckpt, steps)
        settings, ratios = calibrate_perturbations(
            ckpt, dataset, settings, start=start, end=end, steps=steps, members=cfg.members,
            every=cfg.every, max_inits=cfg.calibration_inits, seed=cfg.seed + 1,
        )  # fmt: skip
    held_out = {
        "start": str(validation.start),
        "end": str(validation.end),
        "steps": steps,
        "members": cfg.members,
        "every": cfg.every,
        "max_inits": cfg.max_inits,
        "seed": cfg.seed,
    }
    scores = score_ensemble(ckpt, dataset, perturbation=settings, **held_out)
    white = None
    if cfg.white_baseline:
        white = score_ensemble(ckpt, dataset, perturbation=cfg.white_baseline, **held_out)
    (ctx.run_dir / "ensemble_scores.json").write_text(
        json.dumps({"ensemble": scores.to_dict(), "white": white and white.to_dict()})
    )
    leads = np.asarray(scores.lead_hours)
    main = [scores.variables.index(v) for v in cfg.main_variables]
    crps, mae = np.asarray(scores.crps)[:, main], np.asarray(scores.control_mae)[:, main]
    ratio = np.asarray(scores.spread_skill)[:, main]
    fig, axes = plt.subplots(2, len(main), figsize=(3.4 * len(main), 6), layout="constrained")
    for j, name in enumerate(cfg.main_variables):
        top, bottom = axes[0, j], axes[1, j]
        top.plot(leads, crps[:, j], label="ensemble CRPS")
        top.plot(leads, mae[:, j], ls="--", label="control MAE")
        bottom.plot(leads, ratio[:, j], color="C2", label=settings.describe())
        if white is not None:
            top.plot(leads, np.asarray(white.crps)[:, main[j]], ls=":", label="white-noise CRPS")
            bottom.plot(
                leads, np.asarray(white.spread_skill)[:, main[j]], color="C7", ls=":",
                label=f"white {cfg.white_baseline:g}",
            )  # fmt: skip
        top.set(title=name, xlabel="lead [h]", ylabel=scores.units[main[j]])
        bottom.axhline(1.0, color="k", lw=0.8, ls=":")
        bottom.set(xlabel="lead [h]", ylabel="spread / skill")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8, loc="best")
    fig.suptitle(f"{cfg.members} members, {len(scores.inits)} held-out initial times")
    ctx.save_figure(fig, "crps_and_spread_skill.png")
    value = float((crps / mae).mean())
    metrics = {
        "crps_over_control_mae": value,
        "spread_skill_mean": float(ratio.mean()),
        "spread_skill_first_lead": float(ratio[0].mean()),
        "spread_skill_last_lead": float(ratio[-1].mean()),
        "initial_amplitude": settings.initial_amplitude,
        "model_amplitude": settings.model_amplitude,
        "initial_times": float(len(scores.inits)),
        "seconds_per_forecast": scores.seconds_per_forecast,
    }
    if ratios:
        metrics["calibration_spread_skill_before"] = ratios[0]
    if white is not None:
        metrics["white_crps_over_control_mae"] = float(
            (np.asarray(white.crps)[:, main] / mae).mean()
        )
        metrics["white_spread_skill_last_lead"] = float(
            np.asarray(white.spread_skill)[-1, main].mean()
        )
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="crps_over_control_mae",
            value=value,
            comparison="<",
            threshold=1.0,
            baseline="issue 17: ensemble CRPS below the deterministic forecast's absolute error",
        ),
        summary=(
            f"{cfg.members} members ({settings.describe()}"
            + (f", calibrated on {cfg.calibration_inits} training dates" if ratios else "")
            + f") from {len(scores.inits)} initial times: CRPS / control MAE {value:.3f}; "
            f"spread/skill {ratio[0].mean():.2f} at {leads[0]:g} h, {ratio[-1].mean():.2f} at "
            f"{leads[-1]:g} h (1 = calibrated)"
            + (
                f"; white noise {cfg.white_baseline:g}: CRPS / control MAE "
                f"{metrics['white_crps_over_control_mae']:.3f}, spread/skill "
                f"{metrics['white_spread_skill_last_lead']:.2f} at {leads[-1]:g} h."
                if white is not None
                else "."
            )
        ),
    )
