"""``wxai data ls`` and ``wxai data plot --level`` on real multi-group GRIB files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from wxai.cli.data import app
from wxai.data.sources.errors import SourceUnavailable
from wxai.data.sources.reference_files import reference_grib_files

runner = CliRunner()


@pytest.fixture(scope="module")
def real():
    try:
        return {**reference_grib_files("cfgrib"), **reference_grib_files("metview")}
    except SourceUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def test_ls_shows_the_groups_read_grib_returns(real):
    path = real["t_on_different_level_types.grib"]
    result = runner.invoke(app, ["ls", str(path), "--json"])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.output)["groups"]
    assert [g["group"] for g in groups] == ["/isobaricInhPa", "/hybrid"]
    assert all(g["variables"][0]["name"] == "t" for g in groups)
    table = runner.invoke(app, ["ls", str(path)], env={"COLUMNS": "80"})
    assert "2 group(s)" in table.output and "/isobaricInhPa" in table.output


def test_plot_a_model_level_of_a_real_file(real, tmp_path):
    out = tmp_path / "t100.png"
    args = ["plot", str(real["forecast_ml.grib"]), "--var", "t", "--level", "100"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_plot_an_ambiguous_variable_is_one_line_naming_the_groups(real, tmp_path):
    path = real["t_on_different_level_types.grib"]
    cmd = [sys.executable, "-m", "wxai.cli", "data", "plot", str(path), "--var", "t"]
    out = subprocess.run(
        [*cmd, "--out", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "several groups" in out.stderr and "hybrid" in out.stderr
    ok = subprocess.run(
        [*cmd, "--level-type", "hybrid", "--out", str(tmp_path / "t_hybrid.png")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
