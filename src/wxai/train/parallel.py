"""Train several model variants at the same time, each tracked in its own MLflow run.

The variants are set up one after the other (initial weights, data order, runs), so
the results do not depend on how the worker threads interleave; :func:`fit_in_parallel`
then trains them in a thread pool with one intra-op torch thread per worker, and
:func:`complete_child_runs` counts what MLflow actually holds afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.data import DataLoader

from wxai.train.loop import fit
from wxai.train.tracking import PARENT_RUN_TAG

if TYPE_CHECKING:
    from wxai.train.tracking import MlflowTracker


@dataclass
class TrainingJob:
    """One variant: its model, data, learning rate and run; filled in by training.

    Attributes
    ----------
    train_loss:
        Mean training loss per epoch, after training.
    score:
        The evaluation of the trained model (NaN before).
    """

    name: str
    model: nn.Module
    loader: DataLoader
    lr: float
    tracker: MlflowTracker
    train_loss: list[float] = field(default_factory=list)
    score: float = math.nan


def fit_in_parallel(
    jobs: Sequence[TrainingJob],
    evaluate: Callable[[nn.Module], float],
    *,
    epochs: int,
    workers: int,
    device: torch.device | str = "cpu",
    score_name: str = "score",
    progress: Callable[[int, int], None] | None = None,
) -> list[TrainingJob]:
    """Train every job with :func:`~wxai.train.loop.fit` in a pool of ``workers`` threads.

    Each job logs its per-epoch ``train_loss`` and finally ``score_name`` =
    ``evaluate(model)`` to its own run, which is then finished (``FAILED`` if training
    raised, and the error is re-raised). Intra-op torch threads are set to 1 meanwhile,
    so the workers share the cores instead of fighting for them.

    Parameters
    ----------
    progress:
        Called as ``progress(done, total)`` after each finished job.

    Returns
    -------
    The jobs, in their order, with ``train_loss`` and ``score`` filled in.
    """
    from concurrent.futures import ThreadPoolExecutor

    from wxai.core.device import torch_threads

    def train(job: TrainingJob) -> TrainingJob:
        try:
            job.train_loss = fit(
                job.model,
                job.loader,
                epochs=epochs,
                lr=job.lr,
                device=device,
                log=job.tracker.log_metrics,
            ).train_loss
            job.score = evaluate(job.model)
            job.tracker.log_metrics({score_name: job.score})
        except BaseException:
            job.tracker.finish("FAILED")
            raise
        job.tracker.finish("FINISHED")
        return job

    with torch_threads(1), ThreadPoolExecutor(max_workers=workers) as pool:
        for done, _ in enumerate(pool.map(train, jobs), start=1):
            if progress is not None:
                progress(done, len(jobs))
    return list(jobs)


def complete_child_runs(
    parent: MlflowTracker, *, metric: str, param: str, history: tuple[str, int]
) -> int:
    """Child runs of ``parent`` with a complete record in MLflow.

    A run counts when it has the final ``metric``, the parameter ``param``, and
    ``history = (name, length)``: a metric ``name`` logged ``length`` times (e.g. one
    training loss per epoch).
    """
    client = parent.client
    children = client.search_runs(
        [parent.experiment_id], filter_string=f"tags.`{PARENT_RUN_TAG}` = '{parent.run_id}'"
    )
    name, length = history
    return sum(
        metric in run.data.metrics
        and param in run.data.params
        and len(client.get_metric_history(run.info.run_id, name)) == length
        for run in children
    )
