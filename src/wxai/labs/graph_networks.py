"""Graph-network labs: transport on a periodic ring, sparse reconstruction (course unit U3)."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import TYPE_CHECKING, Any

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    import numpy as np
    import torch

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


def _ring_fields(
    rng: np.random.Generator, count: int, n_nodes: int, max_wavenumber: int, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """Random periodic fields on the ring and the same fields moved by ``shift`` nodes.

    Returns two arrays ``(count, n_nodes)``: ``z(theta)`` and ``z(theta - 2 pi shift / n)``,
    exact for every (also fractional) shift because the fields are Fourier sums.
    """
    import numpy as np

    theta = 2 * np.pi * np.arange(n_nodes) / n_nodes
    k = np.arange(1, max_wavenumber + 1)
    amplitude = rng.normal(size=(count, len(k), 1)) / np.sqrt(len(k))
    phase = rng.uniform(0, 2 * np.pi, size=(count, len(k), 1))
    now = (amplitude * np.cos(k[:, None] * theta + phase)).sum(axis=1)
    moved = theta - 2 * np.pi * shift / n_nodes
    later = (amplitude * np.cos(k[:, None] * moved + phase)).sum(axis=1)
    return now.astype("float32"), later.astype("float32")


def _ring_stepper(cfg: GnnRingAdvectionConfig) -> torch.nn.Module:
    """``z -> z + GNN(z)`` on the ring, the signed neighbour offset as edge feature."""
    import torch

    from wxai.nn.graphs import ring_graph
    from wxai.nn.message_passing import GraphNetwork

    class RingStepper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            edge_index, offset = ring_graph(cfg.n_nodes, hops=1)
            self.register_buffer("edge_index", edge_index)
            self.register_buffer("offset", offset)
            self.gnn = GraphNetwork(
                1,
                1,
                hidden=cfg.hidden,
                layers=cfg.layers,
                edge_features=1,
                message_hidden=cfg.message_hidden,
            )

        def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, N, 1) -> (B, N, 1)
            return z + self.gnn(z, self.edge_index, self.offset)

    return RingStepper()


@lab(
    "gnn-ring-advection",
    title="Message passing on a periodic ring learns one-step transport of a field",
    topic=U3,
    day=2,
    config=GnnRingAdvectionConfig,
)
def gnn_ring_advection(cfg: GnnRingAdvectionConfig, ctx: LabContext) -> LabOutcome:
    """Train a hand-written message-passing network to advance a field by one step."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from wxai.train.loop import predict
    from wxai.verify.metrics import rmse

    def pairs(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        now, later = _ring_fields(ctx.rng, count, cfg.n_nodes, cfg.max_wavenumber, cfg.courant)
        return torch.from_numpy(now).unsqueeze(-1), torch.from_numpy(later).unsqueeze(-1)

    x_train, y_train = pairs(cfg.n_train)
    x_test, y_test = pairs(cfg.n_test)
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=generator,
    )
    val_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=len(x_test))
    model = _ring_stepper(cfg)
    with torch_threads(cfg.torch_threads):
        history = ctx.fit(model, loader, epochs=cfg.epochs, lr=cfg.lr, val_loader=val_loader)
        forecast = predict(model, x_test, ctx.device)
    error = rmse(forecast.numpy(), y_test.numpy())
    persistence = rmse(x_test.numpy(), y_test.numpy())

    # Five steps ahead, feeding the forecast back: where the errors accumulate.
    steps = 5

    def exact(shift: float) -> np.ndarray:
        fields = _ring_fields(
            np.random.default_rng(cfg.seed + 1), 1, cfg.n_nodes, cfg.max_wavenumber, shift
        )
        return fields[1]

    start = exact(0.0)
    state = torch.from_numpy(start).unsqueeze(-1)
    rollout_errors, persistence_errors = [], []
    for step in range(1, steps + 1):
        state = predict(model, state, ctx.device)
        rollout_errors.append(rmse(state.squeeze(-1).numpy(), exact(step * cfg.courant)))
        persistence_errors.append(rmse(start, exact(step * cfg.courant)))

    fig, (ax_graph, ax_field, ax_loss) = plt.subplots(
        1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1.6, 1]}, layout="constrained"
    )
    angle = 2 * np.pi * np.arange(cfg.n_nodes) / cfg.n_nodes
    sample = x_test[0, :, 0].numpy()
    for i in range(cfg.n_nodes):
        j = (i + 1) % cfg.n_nodes
        ax_graph.plot(
            [np.cos(angle[i]), np.cos(angle[j])], [np.sin(angle[i]), np.sin(angle[j])], "k-", lw=0.6
        )
    dots = ax_graph.scatter(np.cos(angle), np.sin(angle), c=sample, cmap="coolwarm", s=40, zorder=3)
    fig.colorbar(dots, ax=ax_graph, shrink=0.7, label="field z at time t")
    ax_graph.set(
        aspect="equal",
        xticks=[],
        yticks=[],
        title=f"Periodic ring, {cfg.n_nodes} nodes,\nedges to both neighbours",
    )
    nodes = np.arange(cfg.n_nodes)
    ax_field.plot(nodes, sample, "C7-", lw=1.2, label="z at t (= persistence forecast)")
    ax_field.plot(nodes, y_test[0, :, 0].numpy(), "k-", lw=2, label="truth at t + 1")
    ax_field.plot(nodes, forecast[0, :, 0].numpy(), "C1--", lw=2, label="GNN at t + 1")
    ax_field.set(
        xlabel="node",
        ylabel="z",
        title=(
            f"One step, shift {cfg.courant:g} nodes: RMSE GNN {error:.3f}, "
            f"persistence {persistence:.3f}"
        ),
    )
    ax_field.legend(fontsize=8, loc="best")
    epochs = range(1, cfg.epochs + 1)
    ax_loss.semilogy(epochs, history.train_loss, "C0", label="train")
    ax_loss.semilogy(epochs, history.val_loss, "C1", label="test")
    ax_loss.axhline(persistence**2, color="C7", ls=":", label="persistence MSE")
    ax_loss.set(xlabel="epoch", ylabel="MSE", title="Training and test loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    ctx.save_figure(fig, "ring_advection.png")

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


# --- gnn-sparse-reconstruction ----------------------------------------------------------


class GnnSparseReconstructionConfig(LabConfig):
    """Settings of ``gnn-sparse-reconstruction``."""

    n_nodes_train: int = Field(ge=8, description="nodes on the training domain [0, pi]")
    extent_test: float = Field(gt=1, description="test domain [0, extent_test * pi]")
    hops: int = Field(ge=1, description="each node is linked to this many neighbours per side")
    obs_fraction: float = Field(gt=0, lt=1, description="fraction of nodes observed")
    wavenumbers: list[float] = Field(
        min_length=2, max_length=2, description="range of the wavenumbers of the random sines"
    )
    n_modes: int = Field(ge=1, description="sines per random anomaly")
    anomaly_amplitude: float = Field(ge=0, description="standard deviation of the anomalies")
    background_amplitude: float = Field(
        ge=0, description="amplitude of the pattern cos(k_b x) shared by every sample"
    )
    background_wavenumber: float = Field(
        gt=0, description="k_b; the shared pattern is what absolute coordinates can memorise"
    )
    n_train: int = Field(ge=4, description="training graphs on [0, pi]")
    n_test: int = Field(ge=1, description="test graphs on the extended domain")
    hidden: int = Field(ge=2)
    layers: int = Field(ge=2, description="GCNConv layers (the last maps to one value)")
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    torch_threads: int | None = Field(default=1, ge=1, description="intra-op threads")


def _sparse_graphs(
    cfg: GnnSparseReconstructionConfig, rng: np.random.Generator, count: int, extent: float
) -> list[Any]:
    """PyG graphs of random functions on ``[0, extent * pi]`` with sparse observations.

    Each function is a pattern shared by all samples, ``a_b cos(k_b x)`` (think of a
    recurring large-scale wave), plus a random anomaly: a sum of sines with random
    wavenumbers, phases and amplitudes. Node spacing is that of the training domain, so
    a longer domain has more nodes.
    Each graph carries ``x_free`` (observed value or 0, observation mask),
    ``x_coord`` (the same plus the absolute coordinate), ``y`` (the truth) and ``pos``.
    """
    import numpy as np
    import torch
    from torch_geometric.data import Data

    from wxai.nn.graphs import chain_graph

    spacing = math.pi / (cfg.n_nodes_train - 1)
    n_nodes = round(extent * math.pi / spacing) + 1
    position = np.arange(n_nodes) * spacing
    edge_index, _ = chain_graph(n_nodes, hops=cfg.hops)
    graphs = []
    for _ in range(count):
        k = rng.uniform(*cfg.wavenumbers, size=(cfg.n_modes, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(cfg.n_modes, 1))
        amplitude = cfg.anomaly_amplitude * rng.normal(size=(cfg.n_modes, 1)) / np.sqrt(cfg.n_modes)
        truth = (amplitude * np.sin(k * position + phase)).sum(axis=0) + (
            cfg.background_amplitude * np.cos(cfg.background_wavenumber * position)
        )
        observed = rng.random(n_nodes) < cfg.obs_fraction
        observed[rng.integers(n_nodes)] = True
        values = np.where(observed, truth, 0.0)
        free = np.stack([values, observed.astype(float)], axis=1)
        coord = np.concatenate([free, position[:, None]], axis=1)
        graphs.append(
            Data(
                x_free=torch.tensor(free, dtype=torch.float32),
                x_coord=torch.tensor(coord, dtype=torch.float32),
                y=torch.tensor(truth, dtype=torch.float32),
                pos=torch.tensor(position, dtype=torch.float32),
                edge_index=edge_index,
                num_nodes=n_nodes,
            )
        )
    return graphs


def _reconstructor(
    features: str, in_features: int, cfg: GnnSparseReconstructionConfig, log: Any
) -> Any:
    """A LightningModule: a GCNConv stack mapping node features ``features`` to values."""
    import pytorch_lightning as pl
    import torch
    from torch.nn import functional as F  # noqa: N812
    from torch_geometric.nn import GCNConv

    class Reconstructor(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            sizes = [in_features] + [cfg.hidden] * (cfg.layers - 1) + [1]
            self.convs = torch.nn.ModuleList(
                GCNConv(n_in, n_out) for n_in, n_out in itertools.pairwise(sizes)
            )
            self.epoch_losses: list[float] = []
            self._batch_losses: list[float] = []

        def forward(self, data: Any) -> torch.Tensor:
            h = data[features]
            for index, conv in enumerate(self.convs):
                h = conv(h, data.edge_index)
                if index < len(self.convs) - 1:
                    h = F.relu(h)
            return h.squeeze(-1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            loss = F.mse_loss(self(batch), batch.y)
            self._batch_losses.append(float(loss.detach()))
            return loss

        def on_train_epoch_end(self) -> None:
            self.epoch_losses.append(sum(self._batch_losses) / len(self._batch_losses))
            self._batch_losses.clear()
            log(self.current_epoch, self.epoch_losses[-1])

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=cfg.lr)

    return Reconstructor()


@lab(
    "gnn-sparse-reconstruction",
    title="PyG + Lightning: a field from sparse nodes, trained on [0, pi], applied on [0, 4 pi]",
    topic=U3,
    day=3,
    config=GnnSparseReconstructionConfig,
)
def gnn_sparse_reconstruction(cfg: GnnSparseReconstructionConfig, ctx: LabContext) -> LabOutcome:
    """Compare a coordinate-free and a coordinate-based GCN outside their training domain."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.utilities.warnings import PossibleUserWarning
    from torch_geometric.loader import DataLoader

    from wxai.core.errors import ConfigError
    from wxai.verify.metrics import rmse

    low, high = cfg.wavenumbers
    if not 0 < low <= high:
        raise ConfigError(f"wavenumbers must satisfy 0 < low <= high, got {cfg.wavenumbers}")
    train = _sparse_graphs(cfg, ctx.rng, cfg.n_train, 1.0)
    test = _sparse_graphs(cfg, ctx.rng, cfg.n_test, cfg.extent_test)
    variants = {"coordinate_free": ("x_free", 2), "coordinate_based": ("x_coord", 3)}
    models = {}
    for index, (name, (features, width)) in enumerate(variants.items()):

        def log(epoch: int, loss: float, name: str = name, index: int = index) -> None:
            ctx.log_metrics({f"{name}_train_loss": loss}, epoch)
            ctx.progress((index + (epoch + 1) / cfg.epochs) / 2, f"{name}: epoch {epoch + 1}")

        torch.manual_seed(cfg.seed + index)
        model = _reconstructor(features, width, cfg, log)
        loader = DataLoader(
            train,
            batch_size=cfg.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(cfg.seed + index),
        )
        trainer = pl.Trainer(
            max_epochs=cfg.epochs,
            accelerator="cpu" if ctx.device.type == "cpu" else "auto",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            log_every_n_steps=1,
            default_root_dir=ctx.run_dir,
        )
        with torch_threads(cfg.torch_threads), warnings.catch_warnings():
            # Lightning's hint to add DataLoader worker processes: pointless for graphs
            # already in memory on a 2-core machine.
            warnings.filterwarnings("ignore", ".*does not have many workers.*", PossibleUserWarning)
            trainer.fit(model, loader)
        model.eval()
        models[name] = model.cpu()

    def predictions(model: Any, graphs: list[Any]) -> list[np.ndarray]:
        with torch.no_grad():
            return [model(g).numpy() for g in graphs]

    preds = {name: predictions(model, test) for name, model in models.items()}
    preds_train = {name: predictions(model, train[:8]) for name, model in models.items()}
    truth = [g.y.numpy() for g in test]
    inside = test[0].pos.numpy() <= math.pi + 1e-6
    metrics: dict[str, float] = {}
    for name in models:
        metrics[f"rmse_{name}"] = rmse(np.concatenate(preds[name]), np.concatenate(truth))
        metrics[f"rmse_{name}_beyond_pi"] = rmse(
            np.concatenate([p[~inside] for p in preds[name]]),
            np.concatenate([t[~inside] for t in truth]),
        )
        metrics[f"rmse_{name}_train_domain"] = rmse(
            np.concatenate(preds_train[name]), np.concatenate([g.y.numpy() for g in train[:8]])
        )
        metrics[f"final_train_loss_{name}"] = models[name].epoch_losses[-1]
    metrics["rmse_zero_predictor"] = rmse(0.0 * np.concatenate(truth), np.concatenate(truth))
    ratio = metrics["rmse_coordinate_free"] / metrics["rmse_coordinate_based"]
    metrics["rmse_ratio_free_to_based"] = ratio

    fig, axes = plt.subplots(
        2, 2, figsize=(15, 7.5), gridspec_kw={"width_ratios": [1, 2.6]}, layout="constrained"
    )
    styles = {"coordinate_free": "C2-", "coordinate_based": "C3--"}
    for row, (graph, pred) in enumerate(((train[0], preds_train), (test[0], preds))):
        ax = axes[row, 1] if row else axes[0, 0]
        x = graph.pos.numpy()
        observed = graph.x_free[:, 1].numpy() > 0
        ax.plot(x, graph.y.numpy(), "k-", lw=1.5, label="truth")
        ax.scatter(x[observed], graph.y.numpy()[observed], c="k", s=18, zorder=3, label="observed")
        for name, style in styles.items():
            ax.plot(x, pred[name][0], style, lw=1.5, label=name.replace("_", "-"))
        ax.set(xlabel="x [rad]", ylabel="f(x)")
        if row:
            ax.axvspan(0, math.pi, color="C0", alpha=0.08, label="training domain")
            ax.set_title(
                f"Applied on [0, {cfg.extent_test:g}\u03c0] (graph rebuilt, same weights): RMSE "
                f"free {metrics['rmse_coordinate_free']:.3f}, "
                f"coordinate {metrics['rmse_coordinate_based']:.3f}"
            )
        else:
            ax.set_title("A training graph on [0, \u03c0]")
        ax.legend(fontsize=7, loc="lower left", ncol=2)
    ax_loss = axes[1, 0]
    for name, model in models.items():
        ax_loss.semilogy(model.epoch_losses, styles[name][:2], label=name.replace("_", "-"))
    ax_loss.set(xlabel="epoch", ylabel="training MSE", title="Lightning training loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    axes[0, 1].bar(
        ["free\n[0, \u03c0]", "coordinate\n[0, \u03c0]", "free\n> \u03c0", "coordinate\n> \u03c0"],
        [
            metrics["rmse_coordinate_free_train_domain"],
            metrics["rmse_coordinate_based_train_domain"],
            metrics["rmse_coordinate_free_beyond_pi"],
            metrics["rmse_coordinate_based_beyond_pi"],
        ],
        color=["C2", "C3", "C2", "C3"],
    )
    axes[0, 1].axhline(metrics["rmse_zero_predictor"], color="C7", ls=":", label="zero predictor")
    axes[0, 1].set(ylabel="RMSE", title="Error inside and outside the training domain")
    axes[0, 1].legend(fontsize=8)
    ctx.save_figure(fig, "sparse_reconstruction.png")

    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="rmse_coordinate_free",
            value=metrics["rmse_coordinate_free"],
            comparison="<=",
            threshold=0.5 * metrics["rmse_coordinate_based"],
            baseline=(
                f"COURSE_MAP U3: coordinate-free RMSE <= 0.5 x coordinate-based RMSE "
                f"on [0, {cfg.extent_test:g} pi]"
            ),
            baseline_value=metrics["rmse_coordinate_based"],
        ),
        summary=(
            f"On [0, {cfg.extent_test:g} pi] the coordinate-free GCN reaches RMSE "
            f"{metrics['rmse_coordinate_free']:.3f}, the coordinate-based one "
            f"{metrics['rmse_coordinate_based']:.3f} (ratio {ratio:.2f}); inside [0, pi] "
            f"{metrics['rmse_coordinate_free_train_domain']:.3f} vs "
            f"{metrics['rmse_coordinate_based_train_domain']:.3f}."
        ),
    )
