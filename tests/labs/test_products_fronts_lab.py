"""The front-detection lab in its smoke preset: the U-Net beats the TFP for every class,
is registered, reloads, runs in ONNX like in PyTorch, and leaves its products behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from wxai.core.paths import home_dir
from wxai.labs.framework.runner import run_lab
from wxai.products.fronts import ChartGrid, find_front_model, load_detector, synthetic_cases
from wxai.products.fronts.cases import channel_array
from wxai.train.tracking import load_torch_model, make_client


def test_front_detection_smoke():
    result = run_lab("front-detection", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m = result.metrics
    for kind in ("warm", "cold", "occluded"):
        assert m[f"iou_{kind}"] > m[f"tfp_iou_{kind}"]
        assert m[f"csi_{kind}"] >= m[f"iou_{kind}"]  # tolerance only adds hits
    assert m["onnx_same_class_fraction"] == 1.0
    assert m["onnx_max_abs_logit_difference"] < 1e-3

    versions = make_client(result.tracking_uri).search_model_versions("name='front-detector'")
    assert [int(v.version) for v in versions] == [1]

    run_dir = Path(result.run_dir)
    fronts = xr.open_dataset(run_dir / "fronts.nc")
    assert set(np.unique(fronts["front"].values)) <= {0, 1, 2, 3}
    assert fronts["front"].attrs["flag_meanings"] == "none warm cold occluded"
    geojson = json.loads((run_dir / "fronts.geojson").read_text())
    kinds = {f["properties"]["front"] for f in geojson["features"]}
    assert {"warm", "cold"} <= kinds
    assert (run_dir / "front-detector.onnx").stat().st_size > 10_000

    found = find_front_model()  # the detector the CLI and the cockpit pick up
    assert found is not None and str(found).startswith(str(home_dir()))
    detector, meta = load_detector(found)
    assert meta["grid_step"] == 1.0 and meta["iou"]["iou_cold"] == m["iou_cold"]

    # the registered model reloads for another batch size and grid than its example
    registered = load_torch_model("models:/front-detector@champion", uri=result.tracking_uri)
    charts = synthetic_cases([7, 8], [6.0], ChartGrid(step=1.0, n_lat=24, n_lon=32))
    x = torch.from_numpy(channel_array(charts))
    with torch.no_grad():
        torch.testing.assert_close(registered(x), detector(x))
