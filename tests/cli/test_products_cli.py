"""``wxai products fronts|warnings`` on the synthetic ICON-EU GRIB2 sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xarray as xr
from typer.testing import CliRunner

from products_fixture import save_tiny_detector
from wxai.cli.app import app
from wxai.data.synthetic.samples import write_samples
from wxai.products.warnings.cap import validate_cap

runner = CliRunner()


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained detector: the command's plumbing, not its skill, is tested here."""
    return save_tiny_detector(tmp_path_factory.mktemp("model") / "front-detector.pt")


def test_fronts_command_writes_masks_lines_and_a_chart(samples, detector_file, tmp_path):
    out = tmp_path / "fronts"
    result = runner.invoke(
        app, ["products", "fronts", str(samples["icon_eu"]), "--out", str(out),
              "--model", str(detector_file)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "interpolated from 0.25 to the detector's 0.5 degree grid" in result.output
    masks = xr.open_dataset(out / "fronts.nc")
    assert masks.sizes["time"] == 9 and masks["front"].dims == ("time", "latitude", "longitude")
    assert json.loads((out / "fronts.geojson").read_text())["type"] == "FeatureCollection"
    assert (out / "fronts.png").stat().st_size > 20_000


def test_warnings_command_writes_valid_cap_alerts(samples, tmp_path):
    out = tmp_path / "warnings"
    result = runner.invoke(
        app, ["products", "warnings", str(samples["icon_eu"]), "--out", str(out),
              "--model", "baseline", "--max-times", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "baseline" in result.output
    caps = sorted(out.glob("*.cap.xml"))
    assert caps and len(list(out.glob("*.geojson"))) == 2 and len(list(out.glob("*.png"))) == 2
    for path in caps:
        validate_cap(path.read_text())


def test_missing_fields_are_named_and_nothing_is_written(samples, detector_file, tmp_path):
    out = tmp_path / "none"
    result = runner.invoke(
        app, ["products", "fronts", str(samples["ifs"]), "--out", str(out),
              "--model", str(detector_file)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "lacks ['rh2m']" in result.output and "dew point" in result.output
    result = runner.invoke(app, ["products", "warnings", str(samples["ifs"]), "--out", str(out)])
    assert result.exit_code != 0 and "lacks ['gust']" in result.output
    assert not out.exists()
