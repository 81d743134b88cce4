"""The ``coding-agent`` lab (unit U7): a model writes code, a sandbox runs it.

First the sandbox is put to the test with escape attempts (network, host home,
host environment, writes to ``/usr``, ``/etc/shadow``, fork bomb, 4 GB, endless
loop); then the configured tasks go through the repair loop of
:func:`~wxai.assistant.agents.coder.run_coder` with a chosen model: write, run in
the sandbox with the task's check, feed the traceback back, stop on success, on a
repeated error or after ``max_attempts``.
"""

from __future__ import annotations

import json

from pydantic import Field

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.weather_workflow import DAY_AGENTS, U7


class CodingAgentConfig(LabConfig):
    """Settings of ``coding-agent``."""

    model: str = Field(description="model alias of configs/models.yaml that writes the code")
    tasks: list[str] = Field(
        min_length=1, description="names of wxai.assistant.agents.coding_tasks.TASKS"
    )
    max_attempts: int = Field(ge=1, le=10, description="programs written per task at most")
    max_tokens: int = Field(ge=16, description="length limit of each program (tokens)")
    cpu_seconds: float = Field(gt=0, description="sandbox CPU limit per process (s)")
    wall_seconds: float = Field(gt=0, description="sandbox wall-clock limit per run (s)")
    memory_mb: int = Field(ge=64, description="sandbox address-space limit per process (MiB)")
    min_success: float = Field(
        ge=0, le=1, description="acceptance: fraction of tasks solved, with every probe held"
    )


@lab(
    "coding-agent",
    title="A coding agent: generated Python run in a bubblewrap sandbox, repaired from tracebacks",
    topic=U7,
    day=DAY_AGENTS,
    config=CodingAgentConfig,
)
def coding_agent(cfg: CodingAgentConfig, ctx: LabContext) -> LabOutcome:
    """Probe the sandbox, then run the coding loop on each task with the chosen model."""
    from wxai.assistant.agents.coder import run_coder
    from wxai.assistant.agents.coding_tasks import get_tasks
    from wxai.assistant.agents.sandbox import SandboxLimits
    from wxai.assistant.agents.sandbox_probes import probe_isolation
    from wxai.assistant.llm.registry import get_provider

    tasks = get_tasks(cfg.tasks)
    ctx.progress(0.02, "escape attempts against the sandbox")
    probes = probe_isolation()
    held = sum(p.held for p in probes) / len(probes)
    limits = SandboxLimits(
        cpu_seconds=cfg.cpu_seconds,
        wall_seconds=cfg.wall_seconds,
        memory_bytes=cfg.memory_mb << 20,
    )
    provider = get_provider(cfg.model)
    results = []
    for i, task in enumerate(tasks):
        ctx.progress(0.1 + 0.85 * i / len(tasks), f"task {i + 1}/{len(tasks)}: {task.name}")
        results.append(
            run_coder(
                task.prompt,
                provider,
                max_attempts=cfg.max_attempts,
                max_tokens=cfg.max_tokens,
                check_code=task.check_code,
                check=task.host_check,
                limits=limits,
            )
        )
    n = len(results)
    success = sum(r.success for r in results) / n
    first = sum(r.first_attempt_success for r in results) / n
    attempts = sum(len(r.attempts) for r in results) / n
    within_bound = float(all(1 <= len(r.attempts) <= cfg.max_attempts for r in results))
    record = {
        "model": cfg.model,
        "probes": [{"name": p.name, "held": p.held, "detail": p.detail} for p in probes],
        "tasks": [{"name": t.name, **r.to_dict()} for t, r in zip(tasks, results, strict=True)],
    }
    (ctx.run_dir / "coding_agent.json").write_text(json.dumps(record, indent=2))
    ctx.tracker.log_artifact(ctx.run_dir / "coding_agent.json")
    for task, result in zip(tasks, results, strict=True):
        for name, data in result.files.items():
            out = ctx.run_dir / "files" / task.name / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)

    solved = [t.name for t, r in zip(tasks, results, strict=True) if r.success]
    broken = [p.name for p in probes if not p.held]
    return LabOutcome(
        metrics={
            "success_rate": success,
            "first_attempt_success_rate": first,
            "mean_attempts": attempts,
            "probes_held_fraction": held,
            "loop_within_bound": within_bound,
            "n_tasks": float(n),
        },
        acceptance=Acceptance(
            metric="success_rate_with_sandbox_held",
            value=success if held == 1.0 and within_bound == 1.0 else 0.0,
            comparison=">=",
            threshold=cfg.min_success,
            baseline=(
                "fraction of tasks whose program passed its check after the repair loop "
                "(0 unless every escape attempt failed and every loop kept its bound), "
                "vs the first attempt alone"
            ),
            baseline_value=first,
        ),
        summary=(
            f"{cfg.model}: {success:.0%} of {n} tasks solved ({first:.0%} at the first "
            f"attempt, {attempts:.1f} attempts on average); solved: {', '.join(solved) or 'none'}. "
            f"Sandbox: {sum(p.held for p in probes)}/{len(probes)} escape attempts stopped"
            + (f" (NOT stopped: {', '.join(broken)})" if broken else "")
            + "."
        ),
    )
