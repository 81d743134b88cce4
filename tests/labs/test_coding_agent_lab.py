"""The coding-agent lab in its smoke preset: sandbox probes, then the local model's loop."""

from __future__ import annotations

import json
from pathlib import Path

from toolcheck import require_tool
from wxai.labs.framework.runner import run_lab


def test_coding_agent_lab_holds_the_sandbox_and_solves_its_tasks():
    require_tool("bwrap", "bubblewrap")
    result = run_lab("coding-agent", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["probes_held_fraction"] == 1.0  # every escape attempt failed
    assert metrics["loop_within_bound"] == 1.0
    assert metrics["success_rate"] >= 0.6
    assert 1.0 <= metrics["mean_attempts"] <= 2.0
    record = json.loads((Path(result.run_dir) / "coding_agent.json").read_text())
    assert {p["name"] for p in record["probes"]} >= {"network", "host-home", "fork-bomb"}
    assert [t["name"] for t in record["tasks"]] == ["hello", "wind-speed", "largest"]
    for task in record["tasks"]:
        assert task["attempts"] and task["stop_reason"] in {
            "success", "max_attempts", "repeated_error",
        }  # fmt: skip
