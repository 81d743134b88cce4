"""The forecast-archive lab in its smoke preset: store layout, town table, CNN vs persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from wxai.labs.framework.runner import run_lab
from wxai.train.tracking import make_client


def test_forecast_archive_smoke_passes_and_writes_a_chunked_store():
    result = run_lab("forecast-archive", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["rmse_cnn"] < metrics["rmse_persistence"]
    assert result.acceptance.baseline_value == metrics["rmse_persistence"]
    assert metrics["lazy_open"] == 1.0

    run_dir = Path(result.figures[0]).parent.parent
    store = run_dir / "forecast.zarr"
    assert (store / ".zmetadata").is_file()
    assert not (run_dir / "forecast.zarr.partial").exists()
    meta = json.loads((store / ".zmetadata").read_text())["metadata"]
    for name in ("t2m", "u10", "v10", "msl", "tp"):
        assert meta[f"{name}/.zarray"]["chunks"] == [1, 60, 60]

    table = pd.read_csv(run_dir / "town_series.csv")
    towns = {"Offenbach am Main", "Hamburg", "Munich", "Paris", "Vienna"}
    assert set(table["place"]) == towns
    assert "wind_speed_m_s" in table.columns
    speed = table["wind_speed_m_s"].to_numpy()
    assert (speed >= 0).all() and speed.max() > 1.0
    assert table["t2m_degC"].between(-60, 50).all()

    assert len(result.figures) == 4
    assert all(Path(path).is_file() for path in result.figures)
    run = make_client(result.tracking_uri).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["wxai.passed"] == "true"
