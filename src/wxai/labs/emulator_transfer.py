"""Emulator lab ``emulator-transfer`` (course unit U12): AICON-style transfer from a
coarse hidden mesh to a finer one, against training the finer one from scratch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wxai.labs.emulator import U12, EmulatorLab, training_config
from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext

__all__ = ["EmulatorTransferConfig", "emulator_transfer"]


class EmulatorTransferConfig(EmulatorLab):
    """Settings of ``emulator-transfer``."""

    coarse_graph: str = Field(description="graph the first model trains on, e.g. ico2")
    graph: str = Field(description="the finer graph both fine-mesh runs train on, e.g. ico3")
    model: Literal["gnn", "graph_transformer"] = Field(description="the processor")
    overrides: list[str] = Field(default_factory=list, description="Hydra overrides")
    transfer_overrides: list[str] = Field(
        default_factory=list,
        description="further overrides of the transferred run only (a fine-tuning schedule, "
        "e.g. training.lr=2e-4)",
    )
    max_ratio: float = Field(
        gt=0,
        description="acceptance: full: steps of the transferred run to reach the from-scratch "
        "run's final validation loss / the from-scratch run's steps; smoke: first-epoch "
        "validation loss transferred / from scratch",
    )


@lab(
    "emulator-transfer",
    title="AICON-style transfer: a coarse-mesh emulator starts a finer-mesh one",
    topic=U12,
    day=5,
    config=EmulatorTransferConfig,
)
def emulator_transfer(cfg: EmulatorTransferConfig, ctx: LabContext) -> LabOutcome:
    """Train on a coarse mesh, then on a finer one from scratch and from the coarse weights."""
    import matplotlib.pyplot as plt

    from wxai.emulator.training.run import train
    from wxai.emulator.training.transfer import steps_to_reach

    coarse = train(
        training_config(cfg.model_copy(update={"graph": cfg.coarse_graph}), ctx.run_dir / "coarse")
    )
    scratch = train(training_config(cfg, ctx.run_dir / "scratch"))
    source = ctx.run_dir / "coarse" / "inference-best.pt"
    transfer_cfg = cfg.model_copy(
        update={
            "overrides": [
                *cfg.overrides,
                *cfg.transfer_overrides,
                f"training.transfer_from={source}",
            ]
        }
    )
    transferred = train(training_config(transfer_cfg, ctx.run_dir / "transfer"))
    per_epoch = scratch.steps / max(len(scratch.val_loss), 1)
    target = scratch.val_loss[-1]
    needed = steps_to_reach(transferred.val_loss, target, per_epoch)
    ratio = needed / scratch.steps
    head_start = transferred.val_loss[0] / scratch.val_loss[0]

    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for label, run in (("fine mesh from scratch", scratch), ("fine mesh from coarse", transferred)):
        steps = [per_epoch * (e + 1) for e in range(len(run.val_loss))]
        ax.plot(steps, run.val_loss, marker="o", label=label)
    ax.axhline(target, color="0.5", ls=":", label="from-scratch final loss")
    ax.set(
        xlabel="training steps",
        ylabel="validation loss",
        yscale="log",
        title=f"{cfg.coarse_graph} -> {cfg.graph}: steps to the scratch run's loss "
        f"{ratio:.2f} of its {scratch.steps}",
    )
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "transfer_learning_curves.png")
    smoke = cfg.preset == "smoke"
    value = head_start if smoke else ratio
    return LabOutcome(
        metrics={
            "steps_ratio": ratio,
            "first_epoch_loss_ratio": head_start,
            "coarse_val_loss": coarse.val_loss[-1],
            "scratch_val_loss": target,
            "transfer_val_loss": transferred.val_loss[-1],
            "interpolated": float(len((transferred.transfer or {}).get("interpolated", []))),
            "reinitialised": float(len((transferred.transfer or {}).get("reinitialised", []))),
        },
        acceptance=Acceptance(
            metric="first_epoch_loss_ratio" if smoke else "steps_ratio",
            value=value,
            comparison="<=",
            threshold=cfg.max_ratio,
            baseline="smoke: the transferred run starts ahead"
            if smoke
            else "issue 17: the scratch run's validation loss in at most a quarter of its steps",
        ),
        summary=(
            f"{cfg.coarse_graph} -> {cfg.graph}: the transferred run reaches the from-scratch "
            f"loss {target:.4f} after {needed:g} of {scratch.steps} steps (ratio {ratio:.2f}); "
            f"first-epoch loss ratio {head_start:.2f}."
        ),
    )
