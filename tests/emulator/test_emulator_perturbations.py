"""Ensemble perturbations: random fields and one-step changes drawn from the training
period, +/- pairs, model noise after each step, calibration, and the forecast CLI."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from emulator_fixture import build_inputs
from wxai.cli.app import app
from wxai.core.errors import ConfigError
from wxai.emulator.datasets.reader import open_dataset
from wxai.emulator.inference.calibration import (
    CALIBRATION,
    CALIBRATION_FILE,
    cached_calibration,
    checkpoint_calibration,
)
from wxai.emulator.inference.forcings import ForcingProvider
from wxai.emulator.inference.initial import initial_from_dataset
from wxai.emulator.inference.perturbations import (
    EnsemblePerturbations,
    StateArchive,
    perturbed_windows,
)
from wxai.emulator.inference.rollout import rollout
from wxai.emulator.inference.run import run_forecast
from wxai.emulator.inference.scores import (
    calibrate_perturbations,
    calibration_span,
    score_ensemble,
)
from wxai.emulator.training.emulator import read_inference_checkpoint

INIT = "2000-01-04T00"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_inputs(tmp_path_factory.mktemp("perturbations"))


@pytest.fixture(scope="module")
def ckpt(inputs):
    return read_inference_checkpoint(inputs["checkpoint"])


@pytest.fixture(scope="module")
def dataset(inputs):
    return open_dataset(inputs["dataset"])


def test_archive_holds_training_windows_of_the_prognostic_variables(ckpt, dataset):
    archive = StateArchive.from_dataset(ckpt, dataset, size=5, seed=1)
    t_in, prognostic = ckpt.emulator.multistep_input, ckpt.emulator.prognostic
    assert archive.windows.shape == (5, t_in + 1, len(prognostic), dataset.shape[2])
    columns = [dataset.name_to_index[name] for name in prognostic]
    everything = dataset.fields(0, len(dataset))[:, columns]
    lo, hi = ckpt.data.training_period
    for window in archive.windows:
        # find the window in the dataset: consecutive states inside the training period
        starts = [
            i
            for i in range(len(dataset) - t_in)
            if np.array_equal(everything[i : i + t_in + 1], window)
        ]
        assert len(starts) == 1
        assert lo <= dataset.dates[starts[0]] and dataset.dates[starts[0] + t_in] <= hi

    rng = np.random.default_rng(0)
    differences = archive.differences(50, rng)
    assert differences.shape == (50, t_in, len(prognostic), dataset.shape[2])
    assert all(np.abs(d).max() > 0 for d in differences)  # never a date minus itself
    changes = archive.changes(40, rng)
    one_step = archive.windows[:, -1] - archive.windows[:, -2]
    for change in changes:
        assert any(np.allclose(change, s * step) for step in one_step for s in (1, -1))


def test_archive_needs_two_windows_in_the_training_period(ckpt, dataset):
    with pytest.raises(ConfigError, match="no two complete"):
        StateArchive.from_dataset(ckpt, _Short(dataset))
    with pytest.raises(ConfigError, match="windows"):
        StateArchive(np.zeros((1, 3, 2, 4), dtype=np.float32))


class _Short:
    """The dataset cut to its first two dates (not enough for a window and its next step)."""

    def __init__(self, dataset) -> None:
        self._dataset = dataset
        self.dates = dataset.dates[:2]
        self.path = dataset.path
        self.name_to_index = dataset.name_to_index

    def fields(self, start: int, stop: int) -> np.ndarray:
        return self._dataset.fields(start, min(stop, 2))


def test_random_field_members_come_in_opposite_pairs_around_the_control(ckpt, dataset):
    archive = StateArchive.from_dataset(ckpt, dataset, seed=0)
    window = initial_from_dataset(ckpt, dataset, np.datetime64(INIT)).fields  # (T_in, V, N)
    settings = EnsemblePerturbations("random-field", initial_amplitude=0.3)
    out = perturbed_windows(
        ckpt, window, 5, settings, rng=np.random.default_rng(2), archive=archive
    )
    assert out.shape == (5, *window.shape)
    np.testing.assert_array_equal(out[0], window)
    delta = out - window[None]
    index = ckpt.emulator.prognostic_index.numpy()
    forcing = np.setdiff1d(np.arange(window.shape[1]), index)
    assert np.abs(delta[:, :, forcing]).max() == 0  # forcings are not perturbed
    np.testing.assert_allclose(delta[1], -delta[2], atol=1e-3)
    np.testing.assert_allclose(delta[3], -delta[4], atol=1e-3)
    assert np.abs(delta[1] - delta[3]).max() > 0
    twice = perturbed_windows(
        ckpt, window, 5, settings.scaled(2.0), rng=np.random.default_rng(2), archive=archive
    )
    np.testing.assert_allclose(twice - window[None], 2 * delta, rtol=1e-4, atol=1e-2)
    with pytest.raises(ConfigError, match="StateArchive"):
        perturbed_windows(ckpt, window, 3, settings, rng=np.random.default_rng(0))


def test_model_noise_leaves_the_control_and_the_start_alone(ckpt, dataset):
    archive = StateArchive.from_dataset(ckpt, dataset, seed=0)
    initial = initial_from_dataset(ckpt, dataset, np.datetime64(INIT))
    forcings = ForcingProvider(ckpt, dataset)
    control = [s.fields for s in rollout(ckpt, initial, 3, forcings=forcings)]
    noisy = [
        s.fields
        for s in rollout(
            ckpt,
            initial,
            3,
            forcings=forcings,
            members=3,
            perturbation=EnsemblePerturbations("white", 0.0, model_amplitude=1.0),
            archive=archive,
        )
    ]
    np.testing.assert_array_equal(noisy[0][1], noisy[0][0])  # same start: no initial noise
    for k in range(4):
        np.testing.assert_allclose(noisy[k][0], control[k][0], rtol=1e-6)
    assert np.abs(noisy[1][1] - noisy[1][0]).max() > 0  # the first step already differs
    with pytest.raises(ConfigError, match="StateArchive"):
        next(
            rollout(
                ckpt,
                initial,
                2,
                forcings=forcings,
                members=2,
                perturbation=EnsemblePerturbations(model_amplitude=0.5),
            )
        )


def test_calibration_moves_spread_skill_towards_one(ckpt, dataset):
    settings = EnsemblePerturbations("random-field", 0.01, model_amplitude=0.01)
    common = {"start": "2000-01-01T06", "end": "2000-01-03T06", "steps": 2, "members": 6}
    calibrated, ratios = calibrate_perturbations(
        ckpt, dataset, settings, every=1, iterations=2, **common
    )
    assert len(ratios) == 2
    assert calibrated.initial_amplitude / calibrated.model_amplitude == pytest.approx(1.0)
    after = score_ensemble(ckpt, dataset, perturbation=calibrated, every=1, **common)
    assert abs(np.log(after.mean_spread_skill())) < abs(np.log(ratios[0]))
    assert abs(np.log(after.mean_spread_skill())) < np.log(1.5)
    assert after.perturbation == calibrated.describe()
    with pytest.raises(ConfigError, match="no spread"):
        calibrate_perturbations(
            ckpt, dataset, EnsemblePerturbations("white", 0.0), every=1, **common
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"initial": "gaussian"}, "unknown initial perturbation"),
        ({"initial_amplitude": -1.0}, ">= 0"),
        ({"model_amplitude": -0.1}, ">= 0"),
    ],
)
def test_bad_perturbation_settings_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        EnsemblePerturbations(**kwargs)


def test_forecast_cli_writes_a_random_field_ensemble_with_its_recipe(inputs, tmp_path):
    out = tmp_path / "ens.nc"
    result = CliRunner().invoke(
        app,
        [
            "emulator", "forecast", str(inputs["checkpoint"]), "--init", INIT, "--lead", "12h",
            "--out", str(out), "--members", "4", "--perturbation-kind", "random-field",
            "--perturbation", "0.2", "--model-noise", "0.5", "--dataset", str(inputs["dataset"]),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out) as ens:
        assert ens.sizes["member"] == 4
        assert ens.attrs["wxai_ensemble_perturbations"] == "random-field 0.2 + model noise 0.5"
        spread = ens.sp.std("member")
        assert float(spread.isel(time=0).mean()) > 0 and float(spread.isel(time=-1).mean()) > 0

    bad = CliRunner().invoke(
        app,
        [
            "emulator", "forecast", str(inputs["checkpoint"]), "--init", INIT, "--lead", "12h",
            "--out", str(tmp_path / "bad.nc"), "--members", "2", "--perturbation-kind", "bred",
        ],
    )  # fmt: skip
    assert bad.exit_code != 0 and "unknown initial perturbation 'bred'" in bad.output
    assert not (tmp_path / "bad.nc").exists()


def test_forecast_from_a_file_needs_the_training_dataset_for_random_fields(inputs, tmp_path):
    ckpt = read_inference_checkpoint(inputs["checkpoint"])
    moved = tmp_path / "elsewhere.zarr"
    Path(inputs["dataset"]).rename(moved)
    analysis = str(inputs["dataset"].parent / "archive" / "analysis.nc")
    settings = EnsemblePerturbations("random-field", 0.1)
    try:
        with pytest.raises(ConfigError, match="pass --dataset"):
            run_forecast(
                inputs["checkpoint"], analysis, "6h", tmp_path / "out.nc",
                members=2, perturbation=settings,
            )  # fmt: skip
        assert not (tmp_path / "out.nc").exists()
        run_forecast(
            inputs["checkpoint"], analysis, "6h", tmp_path / "out.nc",
            members=2, perturbation=settings, dataset=moved,
        )  # fmt: skip
    finally:
        moved.rename(inputs["dataset"])
    with xr.open_dataset(tmp_path / "out.nc") as ens:
        assert ens.sizes["member"] == 2
    assert ckpt.data.provenance["path"] == str(inputs["dataset"])


def test_calibration_is_kept_beside_the_checkpoint_and_used_by_forecasts(inputs, tmp_path):
    """`wxai emulator calibrate` computes it once; `forecast --calibrated` uses it."""
    checkpoint = tmp_path / "model" / "inference-best.pt"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(Path(inputs["checkpoint"]).read_bytes())
    made = CliRunner().invoke(app, ["emulator", "calibrate", str(checkpoint)])
    assert made.exit_code == 0, made.output
    assert "calibrated now" in made.output and "--calibrated" in made.output
    ckpt = read_inference_checkpoint(checkpoint)
    stored = cached_calibration(ckpt)
    assert stored is not None and (checkpoint.parent / CALIBRATION_FILE).is_file()
    # the same as calibrate_perturbations run by hand with the plan's settings
    start, end = calibration_span(ckpt, stored.steps)
    plan = CALIBRATION
    by_hand, ratios = calibrate_perturbations(
        ckpt, open_dataset(inputs["dataset"]),
        EnsemblePerturbations(plan.initial, plan.initial_amplitude, plan.model_amplitude),
        start=start, end=end, steps=stored.steps, members=plan.members, every=1,
        max_inits=plan.inits, seed=1,
    )  # fmt: skip
    assert stored.perturbations == by_hand and stored.spread_skill_before == ratios
    assert by_hand.initial_amplitude != plan.initial_amplitude

    out = tmp_path / "ens.nc"
    run = CliRunner().invoke(
        app,
        [
            "emulator", "forecast", str(checkpoint), "--init", INIT, "--lead", "12h",
            "--out", str(out), "--members", "3", "--calibrated",
        ],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert f"calibration: read from {CALIBRATION_FILE}" in run.output
    with xr.open_dataset(out) as ens:
        assert ens.attrs["wxai_ensemble_perturbations"] == by_hand.describe()
        assert float(ens.sp.std("member").isel(time=-1).mean()) > 0

    again = CliRunner().invoke(app, ["emulator", "calibrate", str(checkpoint), "--again"])
    assert again.exit_code == 0 and "calibrated now" in again.output
    # a newer checkpoint or another graph makes the kept calibration stale
    (checkpoint.parent / CALIBRATION_FILE).write_text(
        (checkpoint.parent / CALIBRATION_FILE).read_text().replace(ckpt.graph_fingerprint, "0" * 64)
    )
    assert cached_calibration(ckpt) is None
    _, origin = checkpoint_calibration(ckpt, open_dataset(inputs["dataset"]))
    assert origin.startswith("calibrated now")
    later = (checkpoint.parent / CALIBRATION_FILE).stat().st_mtime + 10
    os.utime(checkpoint, (later, later))
    assert cached_calibration(ckpt) is None
