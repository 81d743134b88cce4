"""MLOps labs in their smoke presets: config variants, parallel child runs, registry."""

from __future__ import annotations

import pytest
import torch

from wxai.core.errors import ConfigError
from wxai.labs.framework.config import compose_config
from wxai.labs.framework.registry import get_lab
from wxai.labs.framework.runner import run_lab
from wxai.labs.model_registry import wind_chill_index
from wxai.train.tracking import (
    PARENT_RUN_TAG,
    SOURCE_MODEL_TAG,
    TRAINING_TYPE_TAG,
    load_torch_model,
    make_client,
)

# --- hydra-variants ------------------------------------------------------------------------


def test_model_group_choices_give_different_networks():
    spec = get_lab("hydra-variants")
    mlp, mlp_resolved = compose_config(spec, ["preset=smoke", "model=mlp"])
    deep, deep_resolved = compose_config(spec, ["preset=smoke", "model=deep"])
    default, _ = compose_config(spec, ["preset=smoke"])
    assert default.model == mlp.model  # mlp is the default choice
    assert mlp.model.hidden != deep.model.hidden
    assert len(deep.model.hidden) > len(mlp.model.hidden)
    assert mlp_resolved["model"]["name"] == "mlp"
    assert deep_resolved["model"]["name"] == "deep"
    # the rest of the experiment stays the same
    assert {k: v for k, v in mlp_resolved.items() if k != "model"} == {
        k: v for k, v in deep_resolved.items() if k != "model"
    }


def test_unknown_model_choice_lists_the_options():
    with pytest.raises(ConfigError) as error:
        compose_config(get_lab("hydra-variants"), ["preset=smoke", "model=foo"])
    message = str(error.value)
    assert "foo" in message
    assert "mlp" in message
    assert "deep" in message


def test_hydra_variants_deep_variant_passes_and_is_recorded():
    result = run_lab("hydra-variants", ["preset=smoke", "model=deep"])
    assert result.passed, result.acceptance.describe()
    assert result.metrics["val_rmse"] < 0.1 < result.acceptance.baseline_value
    assert result.metrics["hidden_layers"] == 3
    assert result.config["model"]["name"] == "deep"
    run = make_client(result.tracking_uri).get_run(result.run_id)
    assert run.data.params["model.name"] == "deep"
    assert run.data.params["model.hidden"] == "[128, 64, 32]"
    assert run.data.tags["wxai.model_variant"] == "deep"
    model = load_torch_model(result.model_uri, uri=result.tracking_uri)
    x = torch.linspace(0.5, 6.0, 9).unsqueeze(1)
    with torch.no_grad():
        assert float((model(x) - torch.sin(x)).abs().max()) < 0.3


# --- mlflow-parallel-sine ------------------------------------------------------------------


def test_mlflow_parallel_sine_child_runs_are_in_mlflow():
    result = run_lab("mlflow-parallel-sine", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    n_variants = len(result.config["widths"]) * len(result.config["lrs"])
    assert result.metrics["n_variants"] == result.metrics["child_runs_complete"] == n_variants
    assert result.metrics["best_rmse"] < 0.05

    client = make_client(result.tracking_uri)
    children = client.search_runs(
        [result.experiment_id], filter_string=f"tags.`{PARENT_RUN_TAG}` = '{result.run_id}'"
    )
    assert len(children) == n_variants
    seen = set()
    for run in children:
        assert run.info.status == "FINISHED"
        assert run.data.tags[PARENT_RUN_TAG] == result.run_id
        params = run.data.params
        seen.add((int(params["width"]), float(params["lr"])))
        history = client.get_metric_history(run.info.run_id, "train_loss")
        assert sorted(m.step for m in history) == list(range(result.config["epochs"]))
        assert history[-1].value < history[0].value
        assert "rmse" in run.data.metrics
    assert seen == {(w, lr) for w in result.config["widths"] for lr in result.config["lrs"]}
    best = min(children, key=lambda run: run.data.metrics["rmse"])
    assert best.data.metrics["rmse"] == pytest.approx(result.metrics["best_rmse"])
    assert result.model_uri == f"runs:/{best.info.run_id}/model"


# --- wind-chill ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "wind", "table"),
    # Environment Canada wind-chill table (rounded to whole degC)
    [(0.0, 10.0, -3.0), (-10.0, 20.0, -18.0), (-20.0, 30.0, -33.0), (-40.0, 60.0, -64.0)],
)
def test_wind_chill_formula_matches_published_table(temperature, wind, table):
    value = float(wind_chill_index(torch.tensor(temperature), torch.tensor(wind)))
    assert abs(value - table) <= 0.5


def test_wind_chill_range_outside_formula_validity_is_a_config_error():
    with pytest.raises(ConfigError, match="10"):
        compose_config(get_lab("wind-chill"), ["preset=smoke", "data.temperature_c=[-10,15]"])
    with pytest.raises(ConfigError, match=r"4\.8"):
        compose_config(get_lab("wind-chill"), ["preset=smoke", "data.wind_kmh=[2,40]"])


def test_wind_chill_registry_reload_and_lineage():
    result = run_lab("wind-chill", ["preset=smoke"])
    assert result.passed, result.acceptance.describe()
    metrics = result.metrics
    assert metrics["test_rmse_c"] < 0.5
    assert (
        metrics["test_rmse_c"] < metrics["linear_test_rmse_c"] == result.acceptance.baseline_value
    )
    assert metrics["reload_max_abs_diff_c"] < 1e-6
    assert metrics["challenger_shifted_rmse_c"] < metrics["champion_shifted_rmse_c"]

    client = make_client(result.tracking_uri)
    name = result.config["registered_name"]
    champion = client.get_model_version_by_alias(name, "champion")
    challenger = client.get_model_version_by_alias(name, "challenger")
    assert champion.run_id == result.run_id
    assert int(challenger.version) > int(champion.version)
    assert float(champion.version) == metrics["champion_version"]

    tuned_run = client.get_run(challenger.run_id)
    assert tuned_run.data.tags[PARENT_RUN_TAG] == result.run_id
    assert tuned_run.data.tags[SOURCE_MODEL_TAG] == result.model_uri
    assert tuned_run.data.tags[TRAINING_TYPE_TAG] == "fine-tune"
    assert client.get_run(result.run_id).data.tags["wxai.finetune_run_id"] == challenger.run_id

    # Reloading independently: by run URI and by alias, identical on the same inputs.
    x = torch.tensor([[-25.0, 20.0], [0.0, 50.0], [-35.0, 70.0]])
    by_run = load_torch_model(result.model_uri, uri=result.tracking_uri)
    by_alias = load_torch_model(f"models:/{name}@champion", uri=result.tracking_uri)
    with torch.no_grad():
        assert torch.equal(by_run(x), by_alias(x))
        truth = wind_chill_index(x[:, :1], x[:, 1:])
        assert float((by_run(x) - truth).abs().max()) < 1.5
