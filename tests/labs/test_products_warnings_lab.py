"""The ``warning-polygons`` lab in its smoke preset: acceptance, registry, exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from wxai.labs.framework.runner import run_lab
from wxai.products.warnings import diagnose, validate_cap
from wxai.products.warnings.store import load_diagnoser


def test_warning_polygons_smoke_learned_beats_baseline_and_exports():
    result = run_lab("warning-polygons", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    # acceptance: mean IoU over levels on held-out cases, U-Net above the baseline
    assert metrics["learned_mean_iou"] > metrics["baseline_mean_iou"] + 0.05
    for level in (1, 2, 3, 4):
        assert metrics[f"learned_iou_level{level}"] > metrics[f"baseline_iou_level{level}"]
    assert metrics["roundtrip_mask_iou_min"] >= 0.95
    names = {Path(f).name for f in result.figures}
    assert {"round_trip.png", "cases.png", "level_iou.png", "warning_map.png"} <= names

    run_dir = Path(result.figures[0]).parent.parent
    collection = json.loads((run_dir / "products" / "warnings.geojson").read_text())
    assert collection["type"] == "FeatureCollection" and collection["features"]
    alerts = sorted((run_dir / "products").glob("*.cap.xml"))
    assert len(alerts) == len(collection["features"])
    for alert in alerts:
        validate_cap(alert.read_text())

    # the registered champion is what diagnose() uses by default
    model = load_diagnoser(result.model_uri, tracking_uri=result.tracking_uri)
    lat = 36.0 + np.arange(32.0)
    lon = -30.0 + np.arange(64.0)
    fields = {
        name: (("latitude", "longitude"), np.full((32, 64), value, np.float32))
        for name, value in zip(model.channels, (8.0, 3.0, 1.0, 101_500.0), strict=True)
    }
    calm = diagnose(xr.Dataset(fields, coords={"latitude": lat, "longitude": lon}))  # fmt: skip
    assert calm.method == "unet" and calm.note == ""
    assert not calm.masks.values[-1].any()  # no hurricane-force warning on a calm day
