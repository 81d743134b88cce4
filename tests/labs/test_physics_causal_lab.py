"""The causal-pt lab (U14, lecture 19 part IV) in its smoke preset."""

from pathlib import Path

import pytest

from wxai.labs.framework.runner import run_lab


def test_causal_pt_recovers_both_graphs_where_naive_regression_fails():
    result = run_lab("causal-pt", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m = result.metrics
    for scenario in ("p_drives_t", "common_driver"):
        for method in ("pcmci", "innovation"):
            assert m[f"exact_fraction_{method}_{scenario}"] == 1.0
            assert m[f"precision_{method}_{scenario}"] == m[f"recall_{method}_{scenario}"] == 1.0
        # Baseline: naive lagged regression finds every true link but mostly false ones.
        assert m[f"recall_naive_{scenario}"] == 1.0 and m[f"precision_naive_{scenario}"] < 0.3
    # The pitfall: naive says P -> T under a common driver, the causal methods do not.
    assert m["p_to_t_fraction_naive_common_driver"] == 1.0
    assert m["p_to_t_fraction_pcmci_common_driver"] == 0.0
    assert m["p_to_t_fraction_innovation_common_driver"] == 0.0
    # ... although the P-T correlations at lag 2 are alike.
    assert m["corr_pt_lag2_p_drives_t"] == pytest.approx(m["corr_pt_lag2_common_driver"], abs=0.1)
    assert len(result.figures) == 3 and all(Path(p).is_file() for p in result.figures)


def test_causal_pt_rejects_a_too_short_series():
    from wxai.core.errors import ConfigError

    with pytest.raises(ConfigError, match="n_time"):
        run_lab("causal-pt", ["preset=smoke", "n_time=10"])
