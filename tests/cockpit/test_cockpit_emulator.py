"""The graph emulator in the cockpit: chat tools (forecast map, scorecard) and task types.

A tiny untrained emulator (``emulator_fixture``: t on model levels 2 and 8, sp, a
16 x 32 Gaussian grid, the smoke preset's dates) stands in for a trained one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from emulator_fixture import build_inputs
from wxai.cockpit.chat_rules import emulator_call
from wxai.cockpit.chat_tools import FigureStore, ToolUnavailable
from wxai.cockpit.emulator_levels import choose_variable
from wxai.cockpit.emulator_model import MODEL_ENV, find_emulator_model, forecast_in_memory
from wxai.cockpit.emulator_tasks import EmulatorTrainParams, EmulatorTrainTask
from wxai.cockpit.emulator_tools import (
    SCORE_EVERY,
    SCORE_MAX_INITS,
    SCORECARD_FILE,
    emulator_tools,
)
from wxai.core.errors import ConfigError, UnknownNameError
from wxai.emulator.datasets.reader import open_dataset
from wxai.emulator.inference.calibration import CALIBRATION_FILE, checkpoint_calibration
from wxai.emulator.inference.perturbations import StateArchive
from wxai.emulator.inference.scores import score_emulator
from wxai.emulator.training.emulator import read_inference_checkpoint

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_inputs(tmp_path_factory.mktemp("cockpit-emulator"))


@pytest.fixture
def model(inputs, wxai_home, monkeypatch) -> Path:
    """The tiny checkpoint where the cockpit looks: ``<home>/emulator/models/tiny``."""
    monkeypatch.delenv(MODEL_ENV, raising=False)
    target = wxai_home.home / "emulator" / "models" / "tiny" / "inference-best.pt"
    target.parent.mkdir(parents=True)
    shutil.copyfile(inputs["checkpoint"], target)
    return target


@pytest.fixture
def tools(wxai_home, model) -> dict[str, Any]:
    """The two tools of a user ``u1``, by name."""
    made = emulator_tools(wxai_home.home, FigureStore(wxai_home.home, "u1"))
    return {t.name: t for t in made}


def _parts(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]


def _ask(client, text: str) -> list[dict[str, Any]]:
    session = client.post("/api/sessions", json={}).json()
    return _parts(client.post(f"/api/sessions/{session['id']}/messages", json={"text": text}))


# ------------------------------------------------------------------ rules and levels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "run the emulator from the latest analysis and show me 850 hPa temperature at day 3",
            ("emulator_forecast", {"variable": "t", "level": 850.0, "lead_hours": 72}),
        ),
        ("how good is the emulator at day 5", ("emulator_scorecard", {"lead_hours": 120})),
        ("emulator scorecard", ("emulator_scorecard", {"lead_hours": 120})),
        (
            "Emulator t_8 at +36h from 2000-01-05T12Z",
            ("emulator_forecast", {"variable": "t_8", "lead_hours": 36, "init": "2000-01-05T12"}),
        ),
        (
            "emulator surface pressure at sigma 0.3 in 2 days",
            ("emulator_forecast", {"variable": "sp", "lead_hours": 48, "level": 0.3}),
        ),
        (
            "how certain is the emulator about 850 hPa temperature at day 5",
            ("emulator_ensemble", {"variable": "t", "level": 850.0, "lead_hours": 120}),
        ),
        (
            "probability from a 12-member emulator ensemble that sp is below 99000 Pa in 48 h",
            (
                "emulator_ensemble",
                {
                    "variable": "sp",
                    "lead_hours": 48,
                    "members": 12,
                    "threshold": 99000.0,
                    "below": True,
                },
            ),
        ),
        (
            "emulator spread of t_8 at 850 hPa above 280 at day 2",  # the level is no threshold
            (
                "emulator_ensemble",
                {
                    "variable": "t_8",
                    "lead_hours": 48,
                    "level": 850.0,
                    "threshold": 280.0,
                    "below": False,
                },
            ),
        ),
        ("what is an emulator?", None),
        ("850 hPa temperature at day 3 in Berlin", None),
    ],
)
def test_the_emulator_rule_reads_variable_level_lead_and_init(text, expected):
    assert emulator_call(text) == expected


EIGHT_LEVELS = {f"t_{k}": {"param": "t", "level": float(k), "levtype": "ml"} for k in range(1, 9)}


@pytest.mark.parametrize(
    ("level", "name", "sigma"),
    [(850.0, "t_7", 0.8125), (300.0, "t_3", 0.3125), (0.1, "t_1", 0.0625), (None, "t_8", 0.9375)],
)
def test_pressure_maps_to_the_nearest_sigma_model_level(level, name, sigma):
    choice = choose_variable(EIGHT_LEVELS, list(EIGHT_LEVELS), "temperature", level, layers=8)
    assert (choice.name, choice.kind, choice.sigma) == (name, "model", sigma)
    assert f"sigma {sigma:.4g}" in choice.label


def test_pressure_level_datasets_and_surface_fields():
    meta = {
        "t_500": {"param": "t", "level": 500.0, "levtype": "level"},
        "t_850": {"param": "t", "level": 850.0, "levtype": "level"},
        "sp": {"param": "sp", "level": None, "levtype": "sfc"},
    }
    assert choose_variable(meta, list(meta), "t", 700.0).name == "t_850"
    assert choose_variable(meta, list(meta), "t", 0.45).name == "t_500"  # sigma 0.45: 450 hPa
    surface = choose_variable(meta, list(meta), "surface pressure", 850.0)
    assert surface.name == "sp" and "surface field" in surface.note
    with pytest.raises(UnknownNameError, match=r"Valid variable names: sp, t, t_500, t_850"):
        choose_variable(meta, list(meta), "humidity", None)
    with pytest.raises(ConfigError, match="give a pressure in hPa"):
        choose_variable(meta, list(meta), "t", -5.0)


# ------------------------------------------------------------------ chat tools


def test_a_chat_forecast_maps_the_nearest_model_level_with_provenance(client, model, inputs):
    """Over HTTP: the rule runs the tool, the answer names level 8 (sigma 0.9375) for 850 hPa."""
    text = "run the emulator from the latest analysis and show me 850 hPa temperature at day 3"
    parts = _ask(client, text)
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "emulator_forecast"
    assert call["arguments"] == {"variable": "t", "level": 850.0, "lead_hours": 72}
    assert "error" not in [p["type"] for p in parts]
    result = next(p for p in parts if p["type"] == "tool_result")
    summary = result["summary"]
    assert summary["variable"] == "t_8" and summary["model_level"] == 8.0
    assert summary["sigma"] == 0.9375
    assert summary["init"] == "2000-01-06T00:00:00" and summary["valid"] == "2000-01-09T00:00:00"
    ckpt = read_inference_checkpoint(model)
    answer = "".join(p.get("delta", "") for p in parts if p["type"] == "text")
    for expected in (
        "model level 8 of 8 (sigma 0.9375)",
        "850 hPa (sigma 0.85",
        "emulator/models/tiny/inference-best.pt",
        ckpt.created,
        ckpt.graph_fingerprint[:12],
        "dataset.zarr",
        "cockpit-emulator-test",
        "init 2000-01-06 00:00 UTC, valid 2000-01-09 00:00 UTC",
        "12 steps of 6 h",
        "ms per step",
    ):
        assert expected in answer, expected
    dataset = open_dataset(inputs["dataset"])
    direct = forecast_in_memory(ckpt, dataset, dataset.dates[-1], 12)
    values = direct.fields[ckpt.emulator.prognostic.index("t_8")]
    assert summary["mean"] == pytest.approx(float(values.mean()), rel=1e-6)
    (figure,) = result["figures"]
    png = client.get(figure)
    assert png.status_code == 200 and png.content[:8] == PNG
    accounts = client.app.state.accounts
    accounts.add_user("eve", "correct-horse-battery")
    eve = {"Authorization": f"Bearer {accounts.create_api_key('eve', 't').token}"}
    assert client.get(figure, headers=eve).status_code == 404


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"variable": "q", "lead_hours": 24}, "unknown variable 'q'. Valid variable names: "
         "sp, t, t_2, t_8"),
        ({"variable": "t", "lead_hours": 7}, "not a multiple of the model step (6 h)"),
        ({"variable": "t", "lead_hours": 384}, "up to 360 h (15 days)"),
        ({"variable": "t", "lead_hours": 6, "init": "1999-12-31"}, "not a date of the training "
         "dataset (2000-01-01T00:00:00 .. 2000-01-06T00:00:00, every 6 h)"),
        ({"variable": "t", "lead_hours": 6, "init": "/etc/passwd"}, "is not a date"),
    ],
)  # fmt: skip
def test_forecast_errors_say_what_is_wrong(tools, arguments, message):
    with pytest.raises((ConfigError, UnknownNameError)) as caught:
        tools["emulator_forecast"].invoke(arguments)
    assert message in str(caught.value)


def test_without_a_model_the_tools_say_how_to_get_one(client, wxai_home, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    parts = _ask(client, "how good is the emulator at day 5")
    assert next(p for p in parts if p["type"] == "tool_call")["name"] == "emulator_scorecard"
    error = next(p for p in parts if p["type"] == "error")["message"]
    assert "the emulator is not available" in error
    assert "wxai lab run emulator-forecast" in error and "wxai emulator train" in error
    forecast = emulator_tools(wxai_home.home, FigureStore(wxai_home.home, "u1"))[0]
    with pytest.raises(ToolUnavailable, match="no trained emulator under"):
        forecast.invoke({"variable": "t", "lead_hours": 24})
    monkeypatch.setenv(MODEL_ENV, str(wxai_home.home / "missing.pt"))
    with pytest.raises(ToolUnavailable, match="WXAI_EMULATOR_MODEL names"):
        forecast.invoke({"variable": "t", "lead_hours": 24})


def test_the_scorecard_is_score_emulator_on_the_validation_period_and_is_cached(
    client, model, inputs
):
    parts = _ask(client, "how good is the emulator at 12 h?")
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["arguments"] == {"lead_hours": 12}
    result = next(p for p in parts if p["type"] == "tool_result")
    summary = result["summary"]
    assert summary["origin"].startswith("computed now")
    ckpt = read_inference_checkpoint(model)
    validation = ckpt.config.dataset.validation
    card = score_emulator(
        ckpt, open_dataset(inputs["dataset"]), start=validation.start.isoformat(),
        end=validation.end.isoformat(), steps=2, every=SCORE_EVERY, max_inits=SCORE_MAX_INITS,
    )  # fmt: skip
    for variable in ("t_2", "t_8", "sp"):
        for system in ("emulator", "persistence", "climatology"):
            expected = float(card.rmse_of(system, variable)[1])
            assert summary["rmse"][variable][system] == pytest.approx(expected, rel=1e-9)
    assert summary["inits"] == card.inits
    assert len(result["figures"]) == 2
    assert all(client.get(url).content[:8] == PNG for url in result["figures"])
    answer = "".join(p.get("delta", "") for p in parts if p["type"] == "text")
    assert "| t_8 | K |" in answer and ckpt.graph_fingerprint[:12] in answer
    assert (model.parent / SCORECARD_FILE).is_file()
    again = _ask(client, "emulator scores at 6 h")
    cached = next(p for p in again if p["type"] == "tool_result")["summary"]
    assert cached["origin"].startswith("read from the cache")
    assert cached["rmse"]["sp"]["emulator"] == pytest.approx(
        float(card.rmse_of("emulator", "sp")[0]), rel=1e-9
    )
    longer = _ask(client, "emulator scores at 18 h")  # beyond the cached leads: scored again
    assert next(p for p in longer if p["type"] == "tool_result")["summary"]["origin"].startswith(
        "computed now"
    )


def test_a_chat_ensemble_is_calibrated_once_and_maps_mean_spread_and_probability(
    client, model, inputs
):
    """Over HTTP: amplitudes calibrated on training dates and cached; member 0 is the control."""
    parts = _ask(client, "how likely is t_8 above 0 in a 4-member emulator ensemble at 12 h")
    call = next(p for p in parts if p["type"] == "tool_call")
    assert call["name"] == "emulator_ensemble"
    assert "error" not in [p["type"] for p in parts], parts
    result = next(p for p in parts if p["type"] == "tool_result")
    summary = result["summary"]
    assert summary["members"] == 4 and summary["valid"] == "2000-01-06T12:00:00"
    assert summary["mean_spread"] > 0 and summary["max_spread"] >= summary["mean_spread"]
    assert summary["probability_area"] == 1.0  # every member above 0 K everywhere
    assert summary["perturbations"].startswith("random-field")
    (figure,) = result["figures"]
    assert client.get(figure).content[:8] == PNG
    answer = "".join(p.get("delta", "") for p in parts if p["type"] == "text")
    ckpt = read_inference_checkpoint(model)
    for expected in ("calibrated now", "training dates", ckpt.graph_fingerprint[:12], "4 members"):
        assert expected in answer, expected
    stored = json.loads((model.parent / CALIBRATION_FILE).read_text())
    assert stored["graph_fingerprint"] == ckpt.graph_fingerprint
    assert stored["initial_amplitude"] / stored["model_amplitude"] == pytest.approx(0.05 / 0.7)
    calibration, origin = checkpoint_calibration(ckpt, open_dataset(inputs["dataset"]))
    assert origin == "read from ensemble.json beside the checkpoint"
    assert summary["perturbations"] == calibration.perturbations.describe()
    again = _ask(client, "emulator ensemble of surface pressure at 6 h, chance below 0")
    cached = next(p for p in again if p["type"] == "tool_result")["summary"]
    assert cached["probability_area"] == 0.0 and cached["members"] == 10
    answer = "".join(p.get("delta", "") for p in again if p["type"] == "text")
    assert "read from ensemble.json" in answer
    # the control of an ensemble is the deterministic forecast
    dataset = open_dataset(inputs["dataset"])
    ensemble = forecast_in_memory(
        ckpt, dataset, dataset.dates[-1], 2, members=3, perturbation=calibration.perturbations,
        archive=StateArchive.from_dataset(ckpt, dataset),
    )  # fmt: skip
    single = forecast_in_memory(ckpt, dataset, dataset.dates[-1], 2)
    np.testing.assert_allclose(ensemble.fields, single.fields, rtol=1e-5)
    assert np.abs(ensemble.members[1:] - ensemble.members[0]).max() > 0


def test_ensemble_bad_inputs_and_a_stale_cache(tools, model):
    for members in (1, 31):
        with pytest.raises(ConfigError, match=r"members must be 2\.\.30"):
            tools["emulator_ensemble"].invoke(
                {"variable": "t", "lead_hours": 6, "members": members}
            )
    (model.parent / CALIBRATION_FILE).write_text("{not json")
    result = tools["emulator_ensemble"].invoke({"variable": "sp", "lead_hours": 6, "members": 2})
    assert "calibrated now" in result["text"]  # a corrupt cache is replaced
    assert json.loads((model.parent / CALIBRATION_FILE).read_text())["steps"] >= 1


# ------------------------------------------------------------------ task types


def test_the_forecast_task_writes_the_file_and_reports_each_step(client, app, model):
    body = {"type": "emulator-forecast", "params": {"lead": "12h", "members": 2}}
    created = client.post("/api/tasks", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["params"] == {
        "init": "", "lead": "12h", "members": 2, "format": "nc",
    }  # fmt: skip
    app.state.worker.progress_interval = 0.0
    assert app.state.worker.run_once()
    done = client.get(f"/api/tasks/{created.json()['id']}").json()
    assert done["state"] == "completed", done["error"]
    assert done["progress"] == 1.0 and done["message"] == "step 2 of 2"
    result = done["result"]
    assert result["init_time"] == "2000-01-06T00:00:00"
    assert (result["steps"], result["members"], result["step_hours"]) == (2, 2, 6.0)
    assert result["checkpoint"] == str(model)
    with xr.open_dataset(result["path"]) as forecast:
        assert forecast.sizes["time"] == 3 and forecast.sizes["member"] == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"members": 51}, "members"),
        ({"format": "zarr"}, "format"),
        ({"init": "../../etc/passwd"}, "is not a date"),
        ({"lead": "five days"}, "lead"),
        ({"typo": 1}, "typo"),
    ],
)
def test_forecast_task_params_are_validated(client, params, expected):
    response = client.post("/api/tasks", json={"type": "emulator-forecast", "params": params})
    assert response.status_code == 400
    assert expected in response.json()["detail"]


def test_forecast_task_checks_fail_clearly(client, app, wxai_home, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    task = client.post("/api/tasks", json={"type": "emulator-forecast", "params": {}}).json()
    app.state.worker.run_once()
    failed = client.get(f"/api/tasks/{task['id']}").json()
    assert failed["state"] == "failed" and "no trained emulator under" in failed["error"]


def test_forecast_task_refuses_a_lead_off_the_step(client, app, model):
    body = {"type": "emulator-forecast", "params": {"lead": "7h"}}
    task = client.post("/api/tasks", json=body).json()
    app.state.worker.run_once()
    failed = client.get(f"/api/tasks/{task['id']}").json()
    assert failed["state"] == "failed" and "not a positive multiple" in failed["error"]


def test_train_task_params_are_validated(client):
    for params in ({"preset": "huge"}, {"model": "cnn"}):
        response = client.post("/api/tasks", json={"type": "emulator-train", "params": params})
        assert response.status_code == 400


def test_the_train_task_trains_reports_progress_and_the_cockpit_uses_the_new_model(
    wxai_home, model, inputs, monkeypatch
):
    """In this process, a small network on the tiny dataset (the smoke preset's periods)."""
    from wxai.cockpit import emulator_tasks

    monkeypatch.setattr(
        emulator_tasks, "training_inputs", lambda preset: (inputs["dataset"], inputs["graph"])
    )
    preset = emulator_tasks.training_overrides
    small = ["model.hidden=8", "model.processor_layers=1", "model.trainable_size=0"]
    monkeypatch.setattr(emulator_tasks, "training_overrides", lambda *a: [*preset(*a), *small])
    task = EmulatorTrainTask()
    params = EmulatorTrainParams(preset="smoke", model="gnn")
    assert task.check(params).startswith("configuration checked: gnn, preset smoke, 2 epochs")
    reports: list[tuple[float, str]] = []
    result = task.execute(params, lambda fraction, message="": reports.append((fraction, message)))
    assert [round(f, 3) for f, _ in reports] == [0.0, 0.1, 0.525, 0.95, 1.0]
    assert reports[0][1] == "dataset and graph of preset smoke"
    assert reports[1][1] == "training gnn for 2 epochs"
    assert reports[2][1].startswith("epoch 1 of 2, validation loss ")
    assert reports[3][1].startswith("epoch 2 of 2")
    assert reports[4][1].startswith("trained 2 epochs in ")
    assert result["epochs"] == 2 and set(result["val_rmse"]) == {"t_2", "t_8", "sp"}
    checkpoint = Path(result["checkpoint"])
    assert checkpoint.name == "inference-best.pt" and checkpoint.is_file()
    assert checkpoint.parent.parent == wxai_home.home / "emulator" / "models"
    assert find_emulator_model(wxai_home.home) == checkpoint  # the newest model is used
    assert np.isfinite(result["best_val_loss"])
