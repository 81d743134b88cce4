"""``wxai rag``: index, search, ask, ls, rm through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wxai.cli.app import app


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "stations.md").write_text(
        "# Stations\nThe station network has 42 automatic stations.\n"
        "Each station reports temperature, humidity and wind every 10 minutes.\n"
    )
    (root / "radar.txt").write_text("The radar composite is updated every 5 minutes.\n")
    (root / "bad.grib2").write_bytes(b"garbage" * 30)
    return root


def test_index_search_ask_ls_rm(docs: Path, embedder):
    runner = CliRunner()
    result = runner.invoke(app, ["rag", "index", str(docs), "--store", "demo"])
    assert result.exit_code == 1, result.output  # one unreadable file -> non-zero exit
    assert "failed   docs/bad.grib2" in result.output
    assert "2 added, 0 updated, 0 unchanged, 1 failed" in result.output

    result = runner.invoke(
        app, ["rag", "search", "how often does the radar update", "--store", "demo", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["citation"] == "[docs/radar.txt, line 1]"
    assert rows[0]["vector_score"] > 0.5

    result = runner.invoke(app, ["rag", "search", "automatic stations", "-s", "demo", "-k", "1"])
    assert "1. [docs/stations.md, lines 1-3]" in result.output

    result = runner.invoke(
        app, ["rag", "ask", "How many automatic stations are in the network?", "-s", "demo"]
    )
    assert result.exit_code == 0, result.output
    assert "42" in result.output
    assert "Sources:\n[docs/stations.md, lines 1-3]" in result.output

    result = runner.invoke(app, ["rag", "ask", "Who painted the Mona Lisa?", "-s", "demo"])
    assert result.output.strip() == "Not found in these documents."

    result = runner.invoke(app, ["rag", "ls", "--store", "demo"])
    assert "docs/radar.txt" in result.output and "2 documents, 2 chunks" in result.output
    result = runner.invoke(app, ["rag", "rm", "docs/radar.txt", "--store", "demo"])
    assert result.exit_code == 0 and "removed docs/radar.txt (1 chunks)" in result.output
    result = runner.invoke(app, ["rag", "ls", "--store", "demo"])
    assert "radar" not in result.output


def test_unknown_store_names_the_existing_ones(docs: Path, embedder):
    runner = CliRunner()
    runner.invoke(app, ["rag", "index", str(docs / "radar.txt"), "--store", "weather"])
    result = runner.invoke(app, ["rag", "search", "radar", "--store", "wether"])
    assert result.exit_code == 2  # the CLI prints the UnknownNameError as one line
    assert "Traceback" not in result.output
    assert "did you mean 'weather'" in result.output
