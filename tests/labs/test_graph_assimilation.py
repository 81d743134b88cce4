"""The graph-assimilation lab (U13, day 5) in its smoke preset: acceptance and key metrics."""

from __future__ import annotations

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_graph_assimilation_gnn_matches_3dvar_on_unseen_networks():
    result = run_lab("graph-assimilation", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert len(result.figures) == 2 and all(Path(p).is_file() for p in result.figures)
    m = result.metrics
    # The acceptance figure against its baseline, the closed-form 3D-Var analysis.
    assert m["rmse_gnn"] <= 1.10 * m["rmse_3dvar"]
    assert m["test_networks_seen_in_training"] == 0
    # The GNN clearly beats the background and the analysis that ignores how
    # neighbouring observations interact (its starting point before training).
    assert m["rmse_gnn"] < 0.85 * m["rmse_background"]
    assert m["rmse_gnn"] < 0.9 * m["rmse_isolated_obs"]
    # 3D-Var minimizes the cost, so the GNN cost can only be larger; the smoke-sized
    # network stays well above the minimum while its RMSE is close.
    assert 1.0 <= m["cost_ratio_gnn_3dvar"] < 2.0
