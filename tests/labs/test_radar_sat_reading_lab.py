"""Lab radar-sat-reading in its smoke preset: known cells measured exactly, maps rendered."""

from pathlib import Path

from wxai.labs.framework.runner import run_lab


def test_radar_sat_reading_measures_the_inserted_cells_exactly():
    result = run_lab("radar-sat-reading", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m = result.metrics
    assert m["cell_size_mismatch_px"] == 0 and m["n_cells_measured"] == m["n_cells_inserted"] == 3
    assert 0 < m["convective_fraction"] < 0.1 and m["max_dbz"] == 48.0
    assert m["vision_used"] == 0  # the default alias (local-fast) cannot see images
    assert len(result.figures) == 2 and all(Path(p).is_file() for p in result.figures)
    reading = (Path(result.figures[0]).parents[1] / "reading_radar.md").read_text()
    assert reading.startswith("[no vision model used") and "MEASURED" in reading
