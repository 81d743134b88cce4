"""Emulator training end to end on a small Held-Suarez dataset: loss, checkpoints, DDP, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.datasets.build import build_dataset
from wxai.emulator.datasets.reader import open_dataset
from wxai.emulator.graphs import build_graph, load_graph, load_graph_config, save_graph
from wxai.emulator.graphs.nodes import positions_xyz
from wxai.emulator.training.config import compose_training_config
from wxai.emulator.training.emulator import load_inference_checkpoint
from wxai.emulator.training.run import SUMMARY_FILE, train

RECIPE = {
    "name": "hs-training-test",
    "source": {"kind": "simulator", "truncation": 21, "layers": 4, "spin_up_days": 2},
    "variables": ["u", "v", "t", "sp"],
    "levels": [2, 4],
    "dates": {"start": "2000-01-01T00:00", "end": "2000-01-04T00:00", "frequency": "6h"},
    "forcings": ["cos_latitude", "sin_latitude", "insolation"],
    "statistics": {"start": "2000-01-01T00:00", "end": "2000-01-02T18:00"},
}
GRAPH = {"hidden": {"icosahedral": {"resolution": 2}}, "encoder": {"cutoff": 0.6}}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 13-date Held-Suarez dataset and its level-2 multi-mesh graph."""
    root = tmp_path_factory.mktemp("emulator-training")
    dataset = build_dataset(RECIPE, root / "hs.zarr")
    cells = open_dataset(dataset)
    graph = build_graph(load_graph_config(GRAPH), cells.latitudes, cells.longitudes)
    return dataset, save_graph(graph, root / "graph.pt")


def _overrides(inputs: tuple[Path, Path], out: Path, *extra: str) -> list[str]:
    dataset, graph = inputs
    return [
        f"dataset.path={dataset}",
        f"graph.path={graph}",
        f"output_dir={out}",
        "dataset.train.start=2000-01-01T00:00",
        "dataset.train.end=2000-01-02T18:00",
        "dataset.validation.start=2000-01-03T00:00",
        "dataset.validation.end=2000-01-04T00:00",
        "model.hidden=16",
        "model.processor_layers=1",
        "model.trainable_size=0",
        "training.lr=3e-3",
        "training.warmup_steps=1",
        "training.max_epochs=6",
        "training.torch_threads=1",
        "training.rollout.start=1",
        "training.rollout.epoch_increment=3",
        "training.rollout.max=2",
        "tracking.enabled=false",
        *extra,
    ]


@pytest.mark.parametrize("model", ["gnn", "graph_transformer"])
def test_training_lowers_the_loss_and_writes_a_usable_inference_checkpoint(inputs, tmp_path, model):
    out = tmp_path / model
    config = compose_training_config(_overrides(inputs, out, f"model={model}"))
    summary = train(config)
    assert summary.steps == 6 * 3  # 8 dates -> 6 windows of 1 + 2 states -> 3 batches of 2
    # Epochs 0-2 roll out one step, 3-5 two (a harder loss): compare like with like.
    assert min(summary.train_loss[1:3]) < 0.9 * summary.train_loss[0]
    assert summary.val_loss[-1] < 0.8 * summary.val_loss[0]
    assert set(summary.val_rmse) == {f"{v}_{lv}" for v in "uvt" for lv in (2, 4)} | {"sp"}
    assert json.loads((out / SUMMARY_FILE).read_text())["steps"] == summary.steps
    assert (out / "checkpoints" / "last.ckpt").is_file()

    emulator = load_inference_checkpoint(out / "inference-last.pt")
    dataset = open_dataset(inputs[0])
    state = torch.from_numpy(dataset.fields(0, 1).transpose(0, 2, 1)).unsqueeze(0)  # (1, 1, N, V)
    with torch.no_grad():
        forecast = emulator(state)
    assert forecast.shape == (1, len(dataset.latitudes), 7)  # u, v, t at 2 levels and sp
    sp = emulator.prognostic.index("sp")
    assert 9.0e4 < float(forecast[..., sp].mean()) < 1.1e5  # physical units, near the surface


def test_training_restarts_from_its_checkpoint_and_refuses_another_configuration(inputs, tmp_path):
    first = compose_training_config(_overrides(inputs, tmp_path / "a", "training.max_epochs=1"))
    train(first)
    last = tmp_path / "a" / "checkpoints" / "last.ckpt"
    resumed = compose_training_config(
        _overrides(inputs, tmp_path / "b", "training.max_epochs=2", f"training.resume_from={last}")
    )
    assert train(resumed).steps == 2 * 3
    other = compose_training_config(
        _overrides(inputs, tmp_path / "c", "model.hidden=32", f"training.resume_from={last}")
    )
    with pytest.raises(ConfigError, match=r"another configuration .*model"):
        train(other)


def test_transfer_to_a_finer_mesh_keeps_graph_independent_weights(inputs, tmp_path):
    """AICON-style: a coarse-mesh run starts a finer-mesh one; per-node vectors start anew."""
    coarse = compose_training_config(
        _overrides(inputs, tmp_path / "coarse", "training.max_epochs=1", "model.trainable_size=4")
    )
    train(coarse)
    source = load_inference_checkpoint(tmp_path / "coarse" / "inference-last.pt")
    cells = open_dataset(inputs[0])
    fine_graph = build_graph(
        load_graph_config({**GRAPH, "hidden": {"icosahedral": {"resolution": 3}}}),
        cells.latitudes,
        cells.longitudes,
    )
    fine_path = save_graph(fine_graph, tmp_path / "fine.pt")
    fine_overrides = [
        *_overrides(inputs, tmp_path / "fine", "training.max_epochs=1", "model.trainable_size=4"),
        f"graph.path={fine_path}",
        f"training.transfer_from={tmp_path / 'coarse' / 'inference-last.pt'}",
        "training.lr=1e-9",  # one epoch that barely moves the weights
        "training.warmup_steps=0",
    ]
    summary = train(compose_training_config(fine_overrides))
    report = summary.transfer
    assert report["interpolated"] == ["hidden_trainable"]  # 162 -> 642 hidden nodes
    assert report["reinitialised"] == []
    assert "data_trainable" in report["loaded"] and len(report["loaded"]) > 10
    moved = load_inference_checkpoint(tmp_path / "fine" / "inference-last.pt")
    before = dict(source.net.named_parameters())
    for name, value in moved.net.named_parameters():
        if name in report["loaded"]:
            torch.testing.assert_close(value, before[name], atol=1e-6, rtol=0)
    assert moved.net.hidden_trainable.shape[0] == 642
    # nested meshes: the 162 coarse nodes are fine nodes and keep their own vectors
    coarse_xyz = positions_xyz(load_graph(inputs[1])["hidden"].x.numpy())
    fine_xyz = positions_xyz(fine_graph["hidden"].x.numpy())
    distance, same = cKDTree(fine_xyz).query(coarse_xyz)
    assert distance.max() < 1e-9
    torch.testing.assert_close(
        moved.net.hidden_trainable[torch.from_numpy(same)],
        source.net.hidden_trainable,
        atol=1e-6,
        rtol=0,
    )
    fresh = compose_training_config(
        [*fine_overrides, "training.transfer_nodes=reinitialise", f"output_dir={tmp_path / 'r'}"]
    )
    assert train(fresh).transfer["reinitialised"] == ["hidden_trainable"]
    from wxai.emulator.training.run import transfer_lineage
    from wxai.train.tracking import SOURCE_MODEL_TAG, TRAINING_TYPE_TAG

    tags = transfer_lineage(tmp_path / "coarse" / "inference-last.pt")
    assert tags[TRAINING_TYPE_TAG] == "transfer"
    assert tags[SOURCE_MODEL_TAG].endswith("coarse/inference-last.pt")
    assert transfer_lineage(None) == {}
    # another dataset grid: the simulator's Gaussian cells -> ICON-style triangles (R2B01,
    # 320 cells); the same hidden mesh, so only the data nodes' vectors start anew
    icon = build_dataset(
        {**RECIPE, "name": "hs-icon", "grid": {"icon": {"n": 2, "k": 1}}}, tmp_path / "icon.zarr"
    )
    triangles = open_dataset(icon)
    assert triangles.shape[2] == 320 != cells.shape[2]
    icon_graph = build_graph(load_graph_config(GRAPH), triangles.latitudes, triangles.longitudes)
    on_icon = compose_training_config(
        [
            *_overrides(
                (icon, save_graph(icon_graph, tmp_path / "icon-graph.pt")),
                tmp_path / "icon",
                "training.max_epochs=1",
                "model.trainable_size=4",
            ),
            f"training.transfer_from={tmp_path / 'coarse' / 'inference-last.pt'}",
        ]
    )
    moved_grid = train(on_icon).transfer
    assert moved_grid["interpolated"] == ["data_trainable"]
    assert (
        "hidden_trainable" in moved_grid["loaded"]
        and "encoder.edge_attr.weight" in (moved_grid["loaded"])
    )
    on_triangles = load_inference_checkpoint(tmp_path / "icon" / "inference-last.pt")
    assert on_triangles.net.data_trainable.shape[0] == 320
    # another model configuration cannot be transferred
    other = compose_training_config(
        [
            *_overrides(inputs, tmp_path / "other", "model.hidden=32"),
            f"training.transfer_from={tmp_path / 'coarse' / 'inference-last.pt'}",
        ]
    )
    with pytest.raises(ConfigError, match="another model configuration"):
        train(other)


def test_bad_inputs_name_the_problem(inputs, tmp_path):
    dataset, graph = inputs
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    with pytest.raises(DataFormatError, match="not a readable inference checkpoint"):
        load_inference_checkpoint(tmp_path / "notes.pt")
    with pytest.raises(DataFormatError, match="not a wxai emulator inference checkpoint"):
        load_inference_checkpoint(graph)
    with pytest.raises(DataFormatError, match="no inference checkpoint"):
        load_inference_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ConfigError, match="not in"):
        train(compose_training_config(_overrides(inputs, tmp_path, "dataset.forcing=[q_850]")))
    cells = open_dataset(dataset)
    shifted = build_graph(load_graph_config(GRAPH), cells.latitudes, (cells.longitudes + 2.0) % 360)
    other_graph = save_graph(shifted, tmp_path / "shifted.pt")
    with pytest.raises(ConfigError):
        train(compose_training_config(_overrides(inputs, tmp_path, f"graph.path={other_graph}")))
    with pytest.raises(ConfigError, match="no date"):
        train(
            compose_training_config(
                _overrides(
                    inputs,
                    tmp_path,
                    "dataset.validation.start=2001-01-01T00:00",
                    "dataset.validation.end=2001-02-01T00:00",
                )
            )
        )


def test_ddp_on_two_cpu_processes_keeps_the_ranks_in_sync(inputs, tmp_path):
    """Lightning's DDP (gloo) launched by the CLI itself, as on a cluster node."""
    out = tmp_path / "ddp"
    command = [
        str(Path(sys.executable).with_name("wxai")),  # the console script, as a user runs it
        "emulator",
        "train",
        *_overrides(
            inputs, out, "trainer.strategy=ddp", "trainer.devices=2", "training.max_epochs=4"
        ),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=500, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["world_size"] == 2
    assert summary["ranks_in_sync"] and len(summary["parameter_checksums"]) == 2
    assert summary["steps"] == 4 * 2  # 6 windows, 3 per rank -> batches of 2 and 1
    assert summary["train_loss"][-1] < summary["train_loss"][0]
    assert np.isfinite(summary["best_val_loss"])
