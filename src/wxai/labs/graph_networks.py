"""Graph-network lab: transport on a periodic ring (course unit U3).

Sparse reconstruction with PyG and Lightning is in :mod:`wxai.labs.graph_reconstruction`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np

    from wxai.train.loop import FitHistory

U3 = "U3 Neural-network foundations"


# --- gnn-ring-advection -----------------------------------------------------------------


class GnnRingAdvectionConfig(LabConfig):
    """Settings of ``gnn-ring-advection``."""

    n_nodes: int = Field(ge=8, description="nodes on the periodic ring")
    max_wavenumber: int = Field(ge=1, description="fields mix ring wavenumbers 1..max")
    courant: float = Field(gt=0, le=1, description="transport per step in node spacings")
    n_train: int = Field(ge=8, description="training pairs (field, field one step later)")
    n_test: int = Field(ge=8, description="held-out pairs for the acceptance figure")
    hidden: int = Field(ge=2, description="latent node size")
    layers: int = Field(ge=1, description="message-passing layers (receptive field in hops)")
    message_hidden: int = Field(ge=2, description="hidden width of the message MLP")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(default=1, ge=1, description="intra-op threads")


@lab(
    "gnn-ring-advection",
    title="Message passing on a periodic ring learns one-step transport of a field",
    topic=U3,
    day=2,
    config=GnnRingAdvectionConfig,
)
def gnn_ring_advection(cfg: GnnRingAdvectionConfig, ctx: LabContext) -> LabOutcome:
    """Train a hand-written message-passing network to advance a field by one step."""
    import numpy as np
    import torch

    from wxai.data.synthetic.toy_datasets import ring_fields
    from wxai.nn.graph_stepper import GraphStepper
    from wxai.train.batches import tensor_loader
    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse

    fields = cfg.model_dump(include={"n_nodes", "max_wavenumber"})
    x_train, y_train = ring_fields(ctx.rng, cfg.n_train, shift=cfg.courant, **fields)
    x_test, y_test = ring_fields(ctx.rng, cfg.n_test, shift=cfg.courant, **fields)
    x_train, y_train, x_test, y_test = (
        torch.from_numpy(a).unsqueeze(-1) for a in (x_train, y_train, x_test, y_test)
    )
    loader = tensor_loader(x_train, y_train, batch_size=cfg.batch_size, seed=cfg.seed)
    val_loader = tensor_loader(x_test, y_test, batch_size=len(x_test), shuffle=False)
    model = GraphStepper.on_ring(
        cfg.n_nodes, hidden=cfg.hidden, layers=cfg.layers, message_hidden=cfg.message_hidden
    )
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr, val_loader=val_loader)
        forecast = predict(model, x_test, ctx.device)
    error = rmse(forecast.numpy(), y_test.numpy())
    persistence = rmse(x_test.numpy(), y_test.numpy())

    # Five steps ahead, feeding the forecast back: where the errors accumulate.
    steps = 5

    def exact(shift: float) -> np.ndarray:
        return ring_fields(np.random.default_rng(cfg.seed + 1), 1, shift=shift, **fields)[1]

    start = exact(0.0)
    state = torch.from_numpy(start).unsqueeze(-1)
    rollout_errors, persistence_errors = [], []
    for step in range(1, steps + 1):
        state = predict(model, state, ctx.device)
        rollout_errors.append(rmse(state.squeeze(-1).numpy(), exact(step * cfg.courant)))
        persistence_errors.append(rmse(start, exact(step * cfg.courant)))
    _ring_figure(
        ctx,
        cfg,
        (x_test[0, :, 0].numpy(), y_test[0, :, 0].numpy(), forecast[0, :, 0].numpy()),
        history,
        title=f"One step, shift {cfg.courant:g} nodes: RMSE GNN {error:.3f}, "
        f"persistence {persistence:.3f}",
        persistence_mse=persistence**2,
    )

    return LabOutcome(
        metrics={
            "rmse_one_step": error,
            "rmse_persistence": persistence,
            "skill_ratio": error / persistence,
            "final_train_loss": history.train_loss[-1],
            "final_test_loss": history.val_loss[-1],
            f"rmse_rollout_{steps}_steps": rollout_errors[-1],
            f"rmse_persistence_{steps}_steps": persistence_errors[-1],
        },
        acceptance=Acceptance(
            metric="rmse_one_step",
            value=error,
            comparison="<=",
            threshold=0.3 * persistence,
            baseline="COURSE_MAP U3: one-step RMSE <= 0.3 x persistence RMSE",
            baseline_value=persistence,
        ),
        summary=(
            f"One-step RMSE {error:.4f} vs persistence {persistence:.4f} "
            f"(ratio {error / persistence:.3f}); after {steps} fed-back steps "
            f"{rollout_errors[-1]:.4f} vs {persistence_errors[-1]:.4f}."
        ),
    )


def _ring_figure(
    ctx: LabContext,
    cfg: GnnRingAdvectionConfig,
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
    history: FitHistory,
    *,
    title: str,
    persistence_mse: float,
) -> None:
    """The ring graph, one test case (now, truth, forecast) and the loss curves."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.viz.fields1d import plot_ring_graph
    from wxai.viz.training import plot_loss_curves

    now, truth, forecast = case
    fig, (ax_graph, ax_field, ax_loss) = plt.subplots(
        1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1.6, 1]}, layout="constrained"
    )
    plot_ring_graph(ax_graph, now, label="field z at time t")
    nodes = np.arange(cfg.n_nodes)
    ax_field.plot(nodes, now, "C7-", lw=1.2, label="z at t (= persistence forecast)")
    ax_field.plot(nodes, truth, "k-", lw=2, label="truth at t + 1")
    ax_field.plot(nodes, forecast, "C1--", lw=2, label="GNN at t + 1")
    ax_field.set(xlabel="node", ylabel="z", title=title)
    ax_field.legend(fontsize=8, loc="best")
    plot_loss_curves(
        ax_loss,
        {"train": history.train_loss, "test": history.val_loss},
        ylabel="MSE",
        title="Training and test loss",
        reference=(persistence_mse, "persistence MSE"),
    )
    ctx.save_figure(fig, "ring_advection.png")
