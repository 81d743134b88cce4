"""The ``agent-report`` lab (unit U7): a multi-role report crew checked by rules.

Bullet notes of weather situations become Markdown reports through the LangGraph
graph of :mod:`wxai.assistant.agents.report` (planner, scientific writer, impact
translator, editor, with a checker that is not a model). The lab reports honestly
how much the models wrote: the checker's verdict on the last model-written draft,
the revisions taken, and the notes restored by the deterministic final step; it
compares with one model call writing the whole report (the one-shot baseline).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import Field, model_validator

from wxai.core.errors import ConfigError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.weather_workflow import DAY_AGENTS, U7


class AgentReportConfig(LabConfig):
    """Settings of ``agent-report``."""

    model: str = Field(min_length=1, description="model alias playing every role")
    roles_file: Path | None = Field(default=None, description="role prompts (null: packaged)")
    polish: bool = Field(default=True, description="let the editor model edit paragraphs")
    situations: list[list[str]] = Field(min_length=1, description="notes of each situation")
    n_situations: int = Field(ge=1, description="how many situations are reported")
    max_revisions: int = Field(ge=0, le=10, description="checker -> writer rounds")
    min_final_pass: float = Field(gt=0, le=1, description="acceptance: final reports passing")

    @model_validator(mode="after")
    def _enough(self) -> AgentReportConfig:
        if self.n_situations > len(self.situations):
            raise ConfigError(
                f"n_situations > the {len(self.situations)} situations listed; "
                "lower it or list more"
            )
        return self


@lab(
    "agent-report",
    title="A report crew (planner, writer, impact translator, editor) checked by rules",
    topic=U7,
    day=DAY_AGENTS,
    config=AgentReportConfig,
)
def agent_report(cfg: AgentReportConfig, ctx: LabContext) -> LabOutcome:
    """Write a report per situation with the crew and with one prompt; check both."""
    from wxai.assistant.agents.report import ReportConfig, ReportRoles, write_report
    from wxai.assistant.agents.report_assembly import one_shot_report
    from wxai.assistant.agents.report_check import check_report
    from wxai.assistant.agents.report_plan import ReportPrompts
    from wxai.assistant.llm.registry import get_provider

    provider = get_provider(cfg.model)
    providers = dict.fromkeys(("planner", "writer", "impact", "editor"), provider)
    settings = ReportConfig(
        roles=ReportRoles.all(cfg.model),
        roles_file=cfg.roles_file,
        max_revisions=cfg.max_revisions,
        polish=cfg.polish,
    )
    impacts_title = ReportPrompts.load(cfg.roles_file).impacts_title
    out = ctx.run_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    records = []
    situations = cfg.situations[: cfg.n_situations]
    for i, bullets in enumerate(situations):
        ctx.progress(0.05 + 0.9 * i / len(situations), f"situation {i + 1}/{len(situations)}")
        result = write_report(bullets, settings, providers=providers)
        (out / f"report_{i + 1}.md").write_text(result.markdown)
        # the baseline: one call, the same headings, the same checker
        single = one_shot_report(bullets, result.plan, provider, impacts_title=impacts_title)
        single_check = check_report(single, bullets, [*result.plan.titles(), impacts_title])
        (out / f"one_shot_{i + 1}.md").write_text(single)
        records.append({"bullets": bullets, **result.to_dict(), "one_shot": single_check.to_dict()})
    (ctx.run_dir / "reports.json").write_text(json.dumps(records, indent=2, ensure_ascii=False))
    ctx.tracker.log_artifact(ctx.run_dir / "reports.json")

    final_pass = float(np.mean([r["passed"] for r in records]))
    draft_pass = float(np.mean([r["model_draft_passed"] for r in records]))
    model_recall = float(np.mean([r["model_check"]["fact_recall"] for r in records]))
    one_shot_pass = float(np.mean([r["one_shot"]["passed"] for r in records]))
    one_shot_recall = float(np.mean([r["one_shot"]["fact_recall"] for r in records]))
    restored = sum(len(r["restored"]) for r in records)
    notes = sum(len(r["bullets"]) for r in records)
    return LabOutcome(
        metrics={
            "final_pass_rate": final_pass,
            "model_draft_pass_rate": draft_pass,
            "model_fact_recall": model_recall,
            "one_shot_pass_rate": one_shot_pass,
            "one_shot_fact_recall": one_shot_recall,
            "revisions_mean": float(np.mean([r["revisions"] for r in records])),
            "restored_notes": float(restored),
            "removed_sentences": float(sum(len(r["removed"]) for r in records)),
            "copied_note_fraction": sum(len(r["copied"]) for r in records) / notes,
            "model_plan_rate": float(np.mean([r["plan_source"] == "model" for r in records])),
            "seconds_per_report": float(np.mean([r["seconds"] for r in records])),
            "n_reports": float(len(records)),
        },
        acceptance=Acceptance(
            metric="final_pass_rate",
            value=final_pass,
            comparison=">=",
            threshold=cfg.min_final_pass,
            baseline=(
                "fraction of final reports that pass the rule checker (dropped notes restored "
                "and marked) vs one model call writing the whole report"
            ),
            baseline_value=one_shot_pass,
        ),
        summary=(
            f"{len(records)} reports: {final_pass:.0%} pass the checker in the end; the "
            f"models' last drafts passed {draft_pass:.0%} and kept {model_recall:.0%} of the "
            f"facts, {restored} of {notes} notes were restored verbatim, "
            f"{sum(len(r['copied']) for r in records)} copied verbatim by the models. One prompt: "
            f"{one_shot_pass:.0%} pass, {one_shot_recall:.0%} of the facts."
        ),
    )
