"""The weather-workflow lab: answers with provenance for the right places, unlike the LLM."""

from __future__ import annotations

import json
from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_weather_workflow_answers_from_data_with_provenance() -> None:
    result = run_lab("weather-workflow", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["answered_with_provenance"] == 1.0
    assert result.metrics["synthetic_labelled"] == 1.0
    assert result.metrics["llm_alone_with_provenance"] == 0.0
    answers = json.loads((Path(result.run_dir) / "answers.json").read_text())
    first = answers["workflow"][0]
    assert first["place"]["name"] == "Frankfurt am Main"
    assert first["time"]["local"].startswith("2026-12-04T15:00")
    assert "SYNTHETIC" in first["answer"]
    assert len(result.figures) == 2 and all(Path(f).is_file() for f in result.figures)
