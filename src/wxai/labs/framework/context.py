"""The context handed to a running lab: output directory, tracker, progress, device."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wxai.core.paths import ensure_dir
from wxai.core.progress import ProgressReporter, null_progress, scaled
from wxai.train.tracking import MlflowTracker

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch.utils.data import DataLoader

    from wxai.labs.framework.registry import LabSpec
    from wxai.labs.framework.schema import LabConfig
    from wxai.train.loop import FitHistory


@dataclass
class LabContext:
    """Services a lab function uses while it runs.

    Attributes
    ----------
    spec, config:
        The lab and its validated configuration.
    run_dir:
        Directory for this run's files; figures go to ``run_dir/figures``.
    tracker:
        The MLflow run of this lab run.
    rng:
        NumPy generator seeded from ``config.seed``.
    """

    spec: LabSpec
    config: LabConfig
    run_dir: Path
    tracker: MlflowTracker
    rng: np.random.Generator
    reporter: ProgressReporter = null_progress
    figures: list[str] = field(default_factory=list)

    @cached_property
    def device(self) -> torch.device:
        """Torch device chosen from ``config.device``."""
        from wxai.core.device import select_device

        return select_device(self.config.device)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report the fraction done (0..1)."""
        self.reporter(fraction, message)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log step metrics (training curves) to the tracker."""
        self.tracker.log_metrics(metrics, step=step)

    def fit(
        self,
        model: torch.nn.Module,
        loader: DataLoader,
        *,
        epochs: int,
        lr: float,
        threads: int | None = None,
        span: tuple[float, float] = (0.0, 1.0),
        metric_prefix: str = "",
        tracker: MlflowTracker | None = None,
        log_points: int = 50,
        **fit_kwargs: Any,
    ) -> FitHistory:
        """Train with :func:`wxai.train.loop.fit` on this run's device, tracker and progress.

        Parameters
        ----------
        threads:
            Intra-op torch threads while training (``None``: leave the setting alone).
        span:
            Part of the lab's progress bar this training fills, e.g. ``(0.0, 0.9)``.
        metric_prefix:
            Prefix of the logged loss names when one run trains several models.
        tracker:
            Where the loss curves go (default: this run; e.g. a child run).
        log_points:
            About how many points of each loss curve are logged.
        fit_kwargs:
            Passed on to ``fit`` (``val_loader``, ``loss_fn``).
        """
        from wxai.core.device import torch_threads
        from wxai.train.loop import fit

        target = tracker or self.tracker

        def log(metrics: Mapping[str, float], step: int) -> None:
            target.log_metrics({f"{metric_prefix}{k}": v for k, v in metrics.items()}, step)

        with torch_threads(threads):
            return fit(
                model,
                loader,
                epochs=epochs,
                lr=lr,
                device=self.device,
                log=log,
                progress=scaled(self.progress, *span),
                log_every=max(epochs // log_points, 1),
                **fit_kwargs,
            )

    def save_figure(self, figure: Any, name: str) -> Path:
        """Save a matplotlib figure as ``figures/<name>`` (PNG), track it and close it."""
        import matplotlib.pyplot as plt

        path = ensure_dir(self.run_dir / "figures") / name
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        self.tracker.log_artifact(path, subdir="figures")
        self.figures.append(str(path))
        return path

    def child_tracker(self, run_name: str, tags: Mapping[str, str] | None = None) -> MlflowTracker:
        """A nested MLflow run under this lab run (for sweeps and fine-tuning runs)."""
        return MlflowTracker.start(
            self.spec.name,
            run_name=run_name,
            tags=dict(tags or {}),
            parent_run_id=self.tracker.run_id,
            uri=self.tracker.client.tracking_uri,
        )
