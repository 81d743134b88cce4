"""``wxai agent forecast``: an answer with provenance, JSON output, clear errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from wxai.cli.app import app

runner = CliRunner()
NOW = "2026-12-03T17:20:00+01:00"


def test_forecast_offline_prints_an_answer_and_writes_the_map(tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        ["agent", "forecast", "Wind in Kiel heute Abend", "--now", NOW, "--offline",
         "--out", str(tmp_path), "-v"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "**Kiel (DE)**, Thursday 03 December 2026, 18:00 CET" in out.stdout
    assert "ICON-EU run 2026-12-03 12 UTC, lead time +5 h" in out.stdout
    assert "node_started" in out.stderr and "fetch_fields(" in out.stderr
    assert len(list(tmp_path.glob("forecast_icon-eu_wind_speed_*_Kiel.png"))) == 1


def test_forecast_json(tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        ["agent", "forecast", "Luftdruck in Wien übermorgen um 12 Uhr", "--now", NOW,
         "--offline", "--out", str(tmp_path), "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["place"]["name"] == "Vienna" and result["variable"]["names"] == ["msl"]
    assert result["values"][0]["units"] == "hPa"
    assert 940 < result["values"][0]["bilinear"] < 1060
    assert result["run"]["lead_hours"] == 47


def test_unanswerable_questions_exit_1_with_the_reason(tmp_path: Path) -> None:
    out = runner.invoke(
        app, ["agent", "forecast", "Temperatur in Gondor morgen", "--now", NOW, "--offline",
              "--out", str(tmp_path)],
    )  # fmt: skip
    assert out.exit_code == 1
    assert "I could not answer" in out.stdout and "Gondor" in out.stdout


def test_bad_arguments_exit_2_in_one_line() -> None:
    out = runner.invoke(app, ["agent", "forecast", "Wind in Kiel", "--model", "gfs"])
    assert out.exit_code == 2 and "did you mean 'ifs'" in out.output
    out = runner.invoke(app, ["agent", "forecast", "Wind in Kiel", "--now", "yesterday"])
    assert out.exit_code == 2 and "not an ISO time" in out.output
    out = runner.invoke(app, ["agent", "forecast", "Wind in Kiel", "--now", "2026-12-03T17:00"])
    assert out.exit_code == 2 and "no time zone" in out.output
