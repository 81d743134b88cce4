"""U2 weather-data labs in their smoke presets, all reading one set of sample files."""

from __future__ import annotations

from pathlib import Path

import pytest

from wxai.data.synthetic.samples import write_samples
from wxai.labs.framework.runner import run_lab


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample files, written once for the module (about 4 s)."""
    out = tmp_path_factory.mktemp("u2-samples")
    write_samples(out, seed=0)
    return out


def _run(name: str, samples: Path):
    result = run_lab(name, ["preset=smoke", f"data_dir={samples}"])
    assert result.passed, result.acceptance.describe()
    assert result.figures and all(Path(p).is_file() for p in result.figures)
    return result


def test_grib_inspect_matches_eccodes(samples):
    metrics = _run("grib-inspect", samples).metrics
    assert metrics["n_messages"] == 63
    assert metrics["max_abs_diff_vs_eccodes"] == 0.0


def test_icon_eu_precipitation_from_accumulations(samples):
    metrics = _run("icon-eu-t2m", samples).metrics
    assert metrics["step_hours"] == 3
    assert metrics["min_interval_amount_mm"] >= -2 * metrics["tp_packing_precision"]
    assert metrics["accumulation_closure_max_abs_diff"] <= metrics["tp_packing_precision"]
    assert 0.5 < metrics["max_rate_mm_per_h"] < 50  # mm, not m of water


def test_ifs_global_means_plausible(samples):
    metrics = _run("ifs-map", samples).metrics
    assert 250 <= metrics["global_mean_t2m_K"] <= 300
    assert 990 <= metrics["global_mean_msl_hPa"] <= 1030


def test_icon_native_remap_close_to_truth(samples):
    metrics = _run("icon-native-grid", samples).metrics
    assert metrics["rmse_fraction_of_std"] < 0.2
    assert metrics["wrapped_triangles_unmended"] > 0 == metrics["wrapped_triangles_mended"]


def test_synop_missing_values_kept(samples):
    metrics = _run("synop-map", samples).metrics
    assert metrics["t2m_valid_count"] == metrics["t2m_valid_count_netcdf4"] < metrics["n_reports"]
    assert metrics["t2m_sentinel_values"] == 0


def test_feedback_analysis_closer_than_first_guess(samples):
    metrics = _run("feedback-stats", samples).metrics
    assert metrics["max_oma_to_omb_rms_ratio"] < 1
    assert metrics["n_active"] > 0


def test_airep_counts_every_active_observation(samples):
    metrics = _run("airep-diagnostics", samples).metrics
    assert metrics["airep_counted"] == metrics["airep_active_in_file"] == metrics["airep_in_map"]
    assert metrics["airep_counted"] > 0


def test_radar_masks_match_raw_hdf5(samples):
    metrics = _run("radar-map", samples).metrics
    assert metrics["mask_value_mismatch_count"] == 0
    assert metrics["dbz_in_range"] == 1
    assert 0 < metrics["nodata_fraction"] < 1 and 0 < metrics["undetect_fraction"] < 1


def test_cth_physical_and_cloudier_where_it_rains(samples):
    metrics = _run("cth-map", samples).metrics
    assert metrics["cth_in_0_20_km"] == 1
    assert metrics["cloudy_fraction_raining"] > metrics["cloudy_fraction_elsewhere"]


def test_samples_written_into_run_dir_without_data_dir():
    result = run_lab("airep-diagnostics", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["airep_counted"] > 0
