"""The lab machinery, exercised with a tiny lab defined here."""

import json

import pytest
from pydantic import Field

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.core.settings import reload_settings
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, get_lab, list_labs
from wxai.labs.framework import registry as registry_module
from wxai.labs.framework.config import compose_config
from wxai.labs.framework.registry import LabSpec
from wxai.labs.framework.report import build_report
from wxai.labs.framework.result import LabResult
from wxai.labs.framework.runner import run_lab
from wxai.labs.framework.store import latest_results
from wxai.train.tracking import make_client


class EchoConfig(LabConfig):
    value: float = Field(ge=0)
    label: str = "x"


def _echo_lab(cfg: EchoConfig, ctx) -> LabOutcome:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, cfg.value])
    ctx.save_figure(fig, "line.png")
    ctx.log_metrics({"loss": 1.0}, step=0)
    ctx.log_metrics({"loss": 0.5}, step=1)
    ctx.progress(0.5, "half way")
    return LabOutcome(
        metrics={"value": cfg.value},
        acceptance=Acceptance("value", cfg.value, "<", 1.0, "value below one"),
    )


@pytest.fixture
def echo_lab(tmp_path, monkeypatch):
    """Register lab 'test-echo' with its own config tree."""
    tree = tmp_path / "configs" / "labs" / "test-echo"
    (tree / "preset").mkdir(parents=True)
    (tree / "config.yaml").write_text(
        "defaults:\n  - _self_\n  - preset: full\nseed: 1\nlabel: x\n"
    )
    (tree / "preset" / "smoke.yaml").write_text("# @package _global_\npreset: smoke\nvalue: 0.5\n")
    (tree / "preset" / "full.yaml").write_text("# @package _global_\npreset: full\nvalue: 2.0\n")
    monkeypatch.setenv("WXAI_CONFIGS_DIR", str(tmp_path / "configs"))
    reload_settings()
    spec = LabSpec("test-echo", "Echo", "tests", 1, EchoConfig, _echo_lab)
    monkeypatch.setitem(registry_module._REGISTRY, "test-echo", spec)
    yield spec
    monkeypatch.undo()
    reload_settings()


def test_presets_and_overrides_compose(echo_lab):
    config, resolved = compose_config(echo_lab, ["preset=smoke"])
    assert (config.preset, config.value, config.seed) == ("smoke", 0.5, 1)
    config, _ = compose_config(echo_lab, [])
    assert (config.preset, config.value) == ("full", 2.0)
    config, resolved = compose_config(echo_lab, ["preset=smoke", "value=0.25", "label=y"])
    assert config.value == 0.25
    assert resolved["label"] == "y"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["nope=1"], "Could not override 'nope'"),
        (["+nope=1"], "Extra inputs are not permitted"),
        (["value=-1"], "greater than or equal to 0"),
        (["preset=medium"], "preset"),
        (["value"], "invalid configuration"),
    ],
)
def test_invalid_configs_raise_config_error(echo_lab, overrides, message):
    with pytest.raises(ConfigError, match=message):
        compose_config(echo_lab, overrides)


def test_unknown_lab_suggests_nearest():
    with pytest.raises(UnknownNameError, match="did you mean 'sine-regression'"):
        get_lab("sine-regresion")


def test_registered_labs_have_unique_kebab_names_and_configs():
    from wxai.core.paths import configs_dir

    names = [spec.name for spec in list_labs()]
    assert len(names) == len(set(names))
    for name in names:
        assert name == name.lower() and " " not in name and "_" not in name
        assert (configs_dir() / "labs" / name / "preset" / "smoke.yaml").is_file()
        assert (configs_dir() / "labs" / name / "preset" / "full.yaml").is_file()


@pytest.mark.parametrize("spec", list_labs(), ids=lambda spec: spec.name)
def test_every_schema_field_can_be_overridden(spec):
    """Each field of a lab's schema is in its YAML, so `key=value` works without `+`."""
    config, resolved = compose_config(spec, ["preset=smoke"])
    overrides = ["preset=smoke"]

    def add(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                add(f"{prefix}.{key}", item)
        else:
            overrides.append(f"{prefix}={json.dumps(value, ensure_ascii=False)}")

    for key, value in resolved.items():
        if key != "preset":
            add(key, value)
    assert compose_config(spec, overrides)[0] == config


def test_run_tracks_stores_and_reports(echo_lab, tmp_path):
    reports = []
    result = run_lab("test-echo", ["preset=smoke"], progress=lambda f, m="": reports.append(f))
    assert result.passed and result.acceptance.value == 0.5
    assert reports[0] == 0.0 and 0.5 in reports and reports[-1] == 1.0
    # the stored result round-trips and is the latest one
    stored = latest_results()["test-echo"]
    assert stored == LabResult.from_dict(json.loads(result.to_json()))
    # MLflow has the resolved config, step metrics, the figure and the verdict
    client = make_client()
    run = client.get_run(result.run_id)
    assert run.data.params["value"] == "0.5"
    assert run.data.params["preset"] == "smoke"
    assert run.data.tags["wxai.passed"] == "true"
    assert run.info.status == "FINISHED"
    history = client.get_metric_history(result.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]
    artifacts = {a.path for a in client.list_artifacts(result.run_id, "figures")}
    assert artifacts == {"figures/line.png"}
    assert client.get_experiment(result.experiment_id).name == "test-echo"
    # a failing acceptance is recorded as such
    failed = run_lab("test-echo", ["preset=full"])
    assert not failed.passed
    assert "FAIL" in failed.acceptance.describe()
    index = build_report(tmp_path / "report")
    html = index.read_text()
    assert "test-echo" in html and "FAIL" in html
    assert (tmp_path / "report" / "figures" / "test-echo" / "line.png").is_file()


def test_lab_exception_marks_run_failed(echo_lab, monkeypatch):
    def boom(cfg, ctx):
        raise RuntimeError("diverged")

    monkeypatch.setitem(
        registry_module._REGISTRY, "test-echo", LabSpec("test-echo", "E", "t", 1, EchoConfig, boom)
    )
    with pytest.raises(RuntimeError, match="diverged"):
        run_lab("test-echo", ["preset=smoke"])
    client = make_client()
    [experiment] = [e for e in client.search_experiments() if e.name == "test-echo"]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED"
    assert "test-echo" not in latest_results()


def test_acceptance_never_passes_on_nan():
    assert not Acceptance("rmse", float("nan"), "<", 1.0, "x").passed
    assert Acceptance("count", 337, "==", 337, "formula").passed
