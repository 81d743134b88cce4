"""``wxai data samples`` writes the synthetic sample files."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wxai.cli.data import app
from wxai.data.synthetic.samples import SAMPLE_FILES


def test_samples_command_writes_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["samples", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    for name, _ in SAMPLE_FILES.values():
        assert (tmp_path / "s" / name).is_file()
        assert name in result.output
    assert (tmp_path / "s" / "manifest.json").is_file()
