"""The ``agent-report`` lab in its smoke preset, with the real local model."""

from __future__ import annotations

import json
from pathlib import Path

from wxai.assistant.agents.report import RESTORED_MARK
from wxai.assistant.agents.report_check import NOTES_HEADING
from wxai.labs.framework.runner import run_lab


def test_agent_report_passes_the_checker_and_says_what_the_models_wrote():
    result = run_lab("agent-report", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["final_pass_rate"] == 1.0 and metrics["n_reports"] == 1
    assert metrics["revisions_mean"] <= 1  # the smoke preset's bound
    records = json.loads((Path(result.run_dir) / "reports.json").read_text())
    (record,) = records
    report = (Path(result.run_dir) / "reports" / "report_1.md").read_text()
    assert record["passed"] and record["check"]["findings"] == []
    # honest accounting: restored notes are marked, and only a failed draft has notes
    body = report.split(f"## {NOTES_HEADING}")[0]
    assert body.count(RESTORED_MARK) == len(record["restored"]) == metrics["restored_notes"]
    assert (NOTES_HEADING in report) == (not record["model_draft_passed"])
    facts = record["model_check"]["n_facts"]
    assert record["model_facts"] == facts - len(record["model_check"]["missing"])
    assert metrics["model_fact_recall"] == record["model_check"]["fact_recall"]
    assert metrics["model_draft_pass_rate"] == float(record["model_draft_passed"])
    assert (Path(result.run_dir) / "reports" / "one_shot_1.md").is_file()
