"""Running a lab: compose its config, track the run, store the result."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from wxai.core.progress import ProgressReporter, null_progress
from wxai.core.seeding import seed_everything
from wxai.labs.framework.config import compose_config
from wxai.labs.framework.context import LabContext
from wxai.labs.framework.registry import get_lab
from wxai.labs.framework.result import LabResult
from wxai.labs.framework.store import new_run_dir, save_result
from wxai.train.tracking import MlflowTracker


def run_lab(
    name: str,
    overrides: Sequence[str] = (),
    *,
    progress: ProgressReporter = null_progress,
) -> LabResult:
    """Run lab ``name`` with Hydra ``overrides`` and return its stored result.

    The run is tracked in the MLflow experiment named after the lab: resolved
    config (params and ``config.yaml``), step metrics, figures, final metrics and
    the acceptance verdict as tags. ``result.json`` and the figures are written to
    ``<wxai home>/labs/<name>/<timestamp>/``.

    Raises
    ------
    UnknownNameError
        If no lab is called ``name``.
    ConfigError
        If the overrides do not give a valid configuration.
    """
    spec = get_lab(name)
    config, resolved = compose_config(spec, overrides)
    rng = seed_everything(config.seed)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
    tracker = MlflowTracker.start(
        spec.name,
        run_name=f"{spec.name}-{config.preset}-{stamp}",
        tags={"wxai.lab": spec.name, "wxai.preset": config.preset, "wxai.topic": spec.topic},
    )
    tracker.log_params(resolved)
    tracker.log_dict(resolved, "config.yaml")
    context = LabContext(
        spec=spec,
        config=config,
        run_dir=new_run_dir(spec.name, stamp),
        tracker=tracker,
        rng=rng,
        reporter=progress,
    )
    clock = time.perf_counter()
    progress(0.0, f"running {spec.name} ({config.preset})")
    try:
        outcome = spec.func(config, context)
    except BaseException:
        tracker.finish("FAILED")
        raise
    result = LabResult(
        lab=spec.name,
        title=spec.title,
        topic=spec.topic,
        day=spec.day,
        preset=config.preset,
        metrics={key: float(value) for key, value in outcome.metrics.items()},
        acceptance=outcome.acceptance,
        figures=list(context.figures),
        model_uri=outcome.model_uri,
        summary=outcome.summary,
        run_id=tracker.run_id,
        experiment_id=tracker.experiment_id,
        tracking_uri=tracker.client.tracking_uri,
        run_dir=str(context.run_dir),
        config=resolved,
        started_at=started.isoformat(),
        duration_s=round(time.perf_counter() - clock, 3),
    )
    tracker.log_metrics({**result.metrics, result.acceptance.metric: result.acceptance.value})
    tracker.set_tags(
        {
            "wxai.acceptance": result.acceptance.describe(),
            "wxai.passed": str(result.passed).lower(),
        }
    )
    tracker.log_dict(result.to_dict(), "result.json")
    save_result(result)
    tracker.finish("FINISHED")
    progress(1.0, result.acceptance.describe())
    return result
