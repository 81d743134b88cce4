"""Parallel variants: each trains in its own MLflow child run, results independent of threads."""

from __future__ import annotations

import pytest
import torch

from wxai.train.batches import tensor_loader
from wxai.train.parallel import TrainingJob, complete_child_runs, fit_in_parallel
from wxai.train.tracking import MlflowTracker


def _jobs(parent: MlflowTracker, lrs: list[float]) -> list[TrainingJob]:
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    jobs = []
    for index, lr in enumerate(lrs):
        tracker = MlflowTracker.start(
            "parallel-test", run_name=f"lr{lr}", parent_run_id=parent.run_id
        )
        tracker.log_params({"lr": lr})
        loader = tensor_loader(x, 3 * x, batch_size=16, seed=index)
        jobs.append(TrainingJob(f"lr{lr}", torch.nn.Linear(1, 1), loader, lr, tracker))
    return jobs


def test_jobs_train_log_and_count_as_complete():
    parent = MlflowTracker.start("parallel-test", run_name="parent")
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    done: list[int] = []
    jobs = fit_in_parallel(
        _jobs(parent, [0.001, 0.2]),
        lambda model: float(torch.mean((model(x) - 3 * x) ** 2)),
        epochs=20,
        workers=2,
        score_name="mse",
        progress=lambda finished, total: done.append(finished),
    )
    assert done == [1, 2]
    assert all(len(job.train_loss) == 20 for job in jobs)
    assert jobs[1].score < 0.01 < jobs[0].score  # the larger rate converges in 20 epochs
    assert complete_child_runs(parent, metric="mse", param="lr", history=("train_loss", 20)) == 2
    assert complete_child_runs(parent, metric="mse", param="lr", history=("train_loss", 21)) == 0
    run = parent.client.get_run(jobs[0].tracker.run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["mse"] == pytest.approx(jobs[0].score)


def test_a_failing_job_finishes_its_run_as_failed_and_raises():
    parent = MlflowTracker.start("parallel-test", run_name="parent")
    jobs = _jobs(parent, [0.01])

    def broken(model: torch.nn.Module) -> float:
        raise RuntimeError("evaluation failed")

    with pytest.raises(RuntimeError, match="evaluation failed"):
        fit_in_parallel(jobs, broken, epochs=1, workers=1)
    assert parent.client.get_run(jobs[0].tracker.run_id).info.status == "FAILED"
