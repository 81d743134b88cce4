"""Lab wind-symbolic-text in its smoke preset: descriptors right, template always right."""

import json
from pathlib import Path

import pytest

from wxai.core.errors import ConfigError
from wxai.labs.framework.runner import run_lab


def test_wind_symbolic_text_smoke():
    result = run_lab("wind-symbolic-text", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    m = result.metrics
    # Acceptance: direction within 10°, speed within 0.1 m/s, sector recovered on >= 95 %.
    assert m["descriptor_rate"] >= 0.95 and m["direction_error_max"] < 10.0
    assert m["template_rate"] == 1.0
    # The local model's rate is reported (a rate, not a pass criterion).
    assert 0.0 <= m["llm_rate_local-fast"] <= 1.0
    assert result.figures and all(Path(p).is_file() for p in result.figures)
    texts = json.loads((Path(result.figures[0]).parents[1] / "wind_texts.json").read_text())
    answered = [f for f in texts["fields"] if "llm" in f]
    assert len(answered) == 3 and all(f["llm"]["local-fast"]["text"] for f in answered)


def test_more_llm_fields_than_fields_is_refused():
    with pytest.raises(ConfigError, match="n_llm_fields"):
        run_lab("wind-symbolic-text", ["preset=smoke", "n_fields=2", "n_llm_fields=3"])
