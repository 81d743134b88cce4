"""MlflowTracker round trip on the test's own SQLite store."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from wxai.core.errors import UnknownNameError, WxaiError
from wxai.core.settings import get_settings
from wxai.nn.mlp import MLP
from wxai.train.tracking import (
    PARENT_RUN_TAG,
    SOURCE_MODEL_TAG,
    TRAINING_TYPE_TAG,
    MlflowTracker,
    lineage_tags,
    load_torch_model,
    model_version_for_alias,
    register_model,
    tracking_uri,
)


def test_store_is_the_isolated_home():
    home = get_settings().home
    assert tracking_uri() == f"sqlite:///{(home / 'mlflow.db').resolve()}"
    assert Path(home).name == "wxai-home"


def test_params_metrics_and_artifacts_round_trip(tmp_path):
    tracker = MlflowTracker.start("test-round-trip", run_name="r1", tags={"team": "wx"})
    client = tracker.client
    tracker.log_params({"lr": 0.01, "model": {"hidden": [16, 16], "act": "tanh"}})
    for step, loss in enumerate([1.0, 0.5, 0.25]):
        tracker.log_metrics({"train_loss": loss}, step=step)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    tracker.log_figure(fig, "curve.png")
    plt.close(fig)
    tracker.log_dict({"a": 1}, "config.yaml")
    extra = tmp_path / "notes.txt"
    extra.write_text("hello")
    tracker.log_artifact(extra, subdir="notes")
    tracker.set_tags({"stage": "test"})
    tracker.finish()

    run = client.get_run(tracker.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "r1"
    assert run.data.params == {"lr": "0.01", "model.hidden": "[16, 16]", "model.act": "tanh"}
    assert run.data.tags["team"] == "wx"
    assert run.data.tags["stage"] == "test"
    history = client.get_metric_history(tracker.run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    artifacts = {a.path for a in client.list_artifacts(tracker.run_id)}
    assert {"figures", "config.yaml", "notes"} <= artifacts
    assert [a.path for a in client.list_artifacts(tracker.run_id, "figures")] == [
        "figures/curve.png"
    ]
    local = client.download_artifacts(tracker.run_id, "notes/notes.txt", str(tmp_path / "dl"))
    assert Path(local).read_text() == "hello"
    # artifacts of the local store stay inside the wxai home
    assert (
        str(get_settings().home) in client.get_experiment(tracker.experiment_id).artifact_location
    )


def test_child_run_is_nested_under_its_parent():
    parent = MlflowTracker.start("test-nesting")
    child = MlflowTracker.start(
        "test-nesting", run_name="child", parent_run_id=parent.run_id, tags={"k": "v"}
    )
    assert child.client.get_run(child.run_id).data.tags[PARENT_RUN_TAG] == parent.run_id


def test_model_logging_reload_registry_and_aliases():
    torch.manual_seed(0)
    model = MLP(2, 1, [20, 20], act="relu")
    tracker = MlflowTracker.start("test-models")
    example = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    uri = tracker.log_torch_model(
        model, input_example=example, registered_name="test-model", alias="champion"
    )
    assert uri == f"runs:/{tracker.run_id}/model"
    client = tracker.client
    assert client.get_run(tracker.run_id).info.status == "RUNNING"  # logging does not end it

    x = torch.randn(50, 2)  # another batch size than the example
    with torch.no_grad():
        expected = model(x)
        for source in (uri, "models:/test-model@champion", "models:/test-model/1"):
            assert torch.equal(load_torch_model(source)(x), expected), source

    # a second version from the runs:/ URI; the alias moves only when asked
    assert register_model(client, uri, "test-model") == "2"
    assert model_version_for_alias(client, "test-model", "champion") == "1"
    assert register_model(client, uri, "test-model", alias="challenger") == "3"
    assert model_version_for_alias(client, "test-model", "challenger") == "3"
    assert client.get_model_version("test-model", "3").run_id == tracker.run_id

    with pytest.raises(UnknownNameError, match="did you mean 'champion'"):
        model_version_for_alias(client, "test-model", "champoin")
    with pytest.raises(WxaiError, match="could not load"):
        load_torch_model("models:/test-model@nobody")


def test_signature_records_input_and_output_shapes():
    import mlflow
    from mlflow.models import get_model_info

    tracker = MlflowTracker.start("test-signature")
    uri = tracker.log_torch_model(MLP(3, 2, [4]), input_example=np.zeros((2, 3), np.float32))
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracker.client.tracking_uri)
    try:
        signature = get_model_info(uri).signature
    finally:
        mlflow.set_tracking_uri(previous)
    [inputs] = signature.inputs.to_dict()
    [outputs] = signature.outputs.to_dict()
    assert inputs["tensor-spec"] == {"dtype": "float32", "shape": (-1, 3)}
    assert outputs["tensor-spec"] == {"dtype": "float32", "shape": (-1, 2)}


def test_lineage_tags_name_parent_source_and_type():
    tags = lineage_tags(
        parent_run_id="abc", source_model_uri="runs:/abc/model", training_type="fine-tune"
    )
    assert tags == {
        PARENT_RUN_TAG: "abc",
        SOURCE_MODEL_TAG: "runs:/abc/model",
        TRAINING_TYPE_TAG: "fine-tune",
    }
