"""Emulator forecasts: rollout against a hand-made loop, NetCDF and GRIB2 files, ensembles,
initial states from files, and the errors that must leave no file behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from typer.testing import CliRunner

from emulator_fixture import save_checkpoint
from wxai.cli.app import app
from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.formats.grib import gaussian_latitudes, list_messages, read_grib
from wxai.data.formats.netcdf import write_netcdf
from wxai.emulator.datasets.build import build_dataset
from wxai.emulator.datasets.reader import open_dataset
from wxai.emulator.inference.run import parse_lead, run_forecast
from wxai.emulator.training.emulator import (
    read_inference_checkpoint,
)

N_LAT, N_LON = 16, 32
START = np.datetime64("2001-03-01T00:00", "s")


def _archive(folder: Path, days: int = 3) -> Path:
    """Smooth t (2 levels) and msl fields on a Gaussian grid, 6-hourly."""
    folder.mkdir()
    lat, lon = gaussian_latitudes(N_LAT), np.arange(N_LON) * 360.0 / N_LON
    la, lo = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    times = START + np.arange(4 * days) * np.timedelta64(6, "h")
    phase = np.arange(times.size)[:, None, None] * 0.3
    wave = np.cos(la)[None] * np.sin(lo[None] - phase)
    t = np.stack([250 + 10 * wave, 280 + 15 * wave], axis=1)
    ds = xr.Dataset(
        {
            "t": (("time", "level", "latitude", "longitude"), t.astype(np.float32)),
            "msl": (
                ("time", "latitude", "longitude"),
                (1.01e5 + 800 * wave).astype(np.float32),
            ),
        },
        coords={"time": times, "level": [500, 850], "latitude": lat, "longitude": lon},
    )
    ds.t.attrs["units"], ds.msl.attrs["units"] = "K", "Pa"
    write_netcdf(ds, folder / "analysis.nc")
    return folder / "analysis.nc"


def _recipe(path: Path, grid: object = "source") -> dict:
    return {
        "name": "forecast-test",
        "source": {"kind": "files", "paths": str(path), "format": "netcdf"},
        "variables": ["t", "msl"],
        "levels": [500, 850],
        "dates": {"start": str(START), "end": "2001-03-03T18:00", "frequency": "6h"},
        "grid": grid,
        "forcings": ["cos_latitude", "insolation"],
        "statistics": {"start": str(START), "end": "2001-03-02T18:00"},
    }


def _checkpoint(dataset_path: Path, out: Path, forcing: list[str] | None = None) -> Path:
    """An untrained (seeded) GNN emulator saved as an inference checkpoint."""
    return save_checkpoint(dataset_path, out, forcing)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("forecast")
    analysis = _archive(root / "archive")
    dataset = build_dataset(_recipe(analysis), root / "ds.zarr")
    return {
        "root": root,
        "analysis": analysis,
        "dataset": dataset,
        "ckpt": _checkpoint(dataset, root / "inference.pt"),
    }


def _hand_rollout(ckpt_path: Path, dataset_path: Path, init_index: int, steps: int) -> np.ndarray:
    """The emulator stepped by hand, forcings read from the dataset: (steps, P, N)."""
    ckpt = read_inference_checkpoint(ckpt_path)
    emulator, ds = ckpt.emulator, open_dataset(dataset_path)
    fields = torch.from_numpy(ds.fields(0, len(ds))).permute(0, 2, 1)  # (T, N, V)
    window = fields[init_index - 1 : init_index + 1].unsqueeze(0)
    out = []
    with torch.no_grad():
        for k in range(1, steps + 1):
            prediction = emulator(window)
            row = fields[init_index + k].unsqueeze(0)
            window = emulator.advance(window, prediction, row, emulator.prognostic_index)
            out.append(prediction[0].T.numpy())
    return np.stack(out)


def test_netcdf_forecast_is_the_rollout_with_forcings_for_each_valid_time(setup, tmp_path):
    out = tmp_path / "fc.nc"
    summary = run_forecast(setup["ckpt"], "2001-03-02T00", "1d", out)
    assert summary.steps == 4 and len(summary.seconds_per_step) == 4
    assert out.exists() and not (tmp_path / "fc.nc.partial").exists()
    fc = xr.open_dataset(out)
    assert fc.t.dims == ("time", "level", "latitude", "longitude")
    assert fc.msl.dims == ("time", "latitude", "longitude")
    assert fc.level.values.tolist() == [500, 850]
    assert fc.forecast_period.values.tolist() == [0, 6, 12, 18, 24]
    assert fc.time.values[0] == np.datetime64("2001-03-02T00:00")
    assert fc.t.attrs["standard_name"] == "air_temperature" and fc.t.attrs["units"] == "K"
    assert "inference.pt" in fc.attrs["wxai_checkpoint"]
    ds = open_dataset(setup["dataset"])
    init = ds.date_index("2001-03-02T00")
    names = ds.variables
    # lead 0 is the analysis; later leads the emulator stepped by hand
    truth0 = ds.fields(init, init + 1)[0]
    np.testing.assert_allclose(
        fc.t.isel(time=0, level=1).values.ravel(), truth0[names.index("t_850")], rtol=1e-6
    )
    expected = _hand_rollout(setup["ckpt"], setup["dataset"], init, 4)  # (4, P, N)
    prognostic = read_inference_checkpoint(setup["ckpt"]).emulator.prognostic
    for k in range(4):
        np.testing.assert_allclose(
            fc.msl.isel(time=k + 1).values.ravel(),
            expected[k, prognostic.index("msl")],
            rtol=1e-5,
        )
        np.testing.assert_allclose(
            fc.t.isel(time=k + 1, level=0).values.ravel(),
            expected[k, prognostic.index("t_500")],
            rtol=1e-5,
        )


def test_grib2_forecast_on_a_gaussian_grid_matches_the_netcdf(setup, tmp_path):
    run_forecast(setup["ckpt"], "2001-03-02T00", "12h", tmp_path / "fc.nc")
    run_forecast(setup["ckpt"], "2001-03-02T00", "12h", tmp_path / "fc.grib2")
    messages = list_messages(tmp_path / "fc.grib2")
    assert len(messages) == 3 * 3  # 3 times x (t at 2 levels + msl)
    assert {m["gridType"] for m in messages} == {"regular_gg"}
    assert {m["shortName"] for m in messages} == {"t", "msl"}
    assert {m["typeOfLevel"] for m in messages} == {"isobaricInhPa", "meanSea"}
    tree = read_grib(tmp_path / "fc.grib2")
    nc = xr.open_dataset(tmp_path / "fc.nc")
    grib_t = next(n for n in tree.subtree if n.has_data and "t" in n.data_vars)["t"]
    np.testing.assert_allclose(grib_t.latitude.values, nc.latitude.values, atol=1e-4)
    step12 = grib_t.sel(lead_time=np.timedelta64(12, "h"), level=850).values
    span = float(nc.t.max() - nc.t.min())
    np.testing.assert_allclose(step12, nc.t.isel(time=2, level=1).values, atol=span / 2**15)


def test_ensemble_members_start_perturbed_around_the_control(setup, tmp_path):
    run_forecast(setup["ckpt"], "2001-03-02T00", "12h", tmp_path / "det.nc")
    run_forecast(setup["ckpt"], "2001-03-02T00", "12h", tmp_path / "ens.nc", members=3)
    det, ens = xr.open_dataset(tmp_path / "det.nc"), xr.open_dataset(tmp_path / "ens.nc")
    assert ens.t.dims == ("time", "member", "level", "latitude", "longitude")
    assert ens.member.attrs["standard_name"] == "realization"
    np.testing.assert_allclose(ens.t.isel(member=0).values, det.t.values, rtol=1e-6)
    spread0 = float(ens.msl.isel(time=0).std("member").mean())
    assert spread0 > 0  # perturbed initial states
    assert not np.allclose(ens.t.isel(member=1, time=2), ens.t.isel(member=2, time=2))
    run_forecast(setup["ckpt"], "2001-03-02T00", "6h", tmp_path / "ens.grib2", members=3)
    tree = read_grib(tmp_path / "ens.grib2")
    msl = next(n for n in tree.subtree if n.has_data and "msl" in n.data_vars)["msl"]
    assert msl["member"].values.tolist() == [0, 1, 2]
    np.testing.assert_allclose(
        msl.isel(lead_time=1).values, ens.msl.isel(time=1).values, atol=2000 / 2**15
    )


def test_initial_state_from_a_file_same_grid_and_regridded(setup, tmp_path):
    from wxai.emulator.inference.initial import initial_from_dataset, initial_from_file

    ckpt = read_inference_checkpoint(setup["ckpt"])
    source = xr.open_dataset(setup["analysis"]).sel(
        time=slice("2001-03-01T18:00", "2001-03-02T00:00")
    )
    write_netcdf(source, tmp_path / "init.nc")
    from_file = initial_from_file(ckpt, tmp_path / "init.nc")
    from_dataset = initial_from_dataset(
        ckpt, open_dataset(setup["dataset"]), np.datetime64("2001-03-02T00:00")
    )
    np.testing.assert_array_equal(from_file.dates, from_dataset.dates)
    np.testing.assert_allclose(from_file.fields, from_dataset.fields, rtol=1e-6)
    # the same state on a coarser regular grid, with CF names only: regridded onto the model's
    coarse = source.interp(
        latitude=np.arange(80.0, -81.0, -10.0),
        longitude=np.arange(0.0, 360.0, 10.0),
        kwargs={"fill_value": "extrapolate"},
    )
    coarse = coarse.rename({"t": "air_temp", "msl": "pmsl"})
    coarse.air_temp.attrs["standard_name"] = "air_temperature"
    coarse.pmsl.attrs["standard_name"] = "air_pressure_at_mean_sea_level"
    write_netcdf(coarse, tmp_path / "coarse.nc")
    regridded = initial_from_file(ckpt, tmp_path / "coarse.nc")
    msl = ckpt.emulator.variables.index("msl")
    error = np.abs(regridded.fields[-1, msl] - from_dataset.fields[-1, msl])
    assert np.percentile(error, 90) < 100.0  # Pa, against an 800 Pa wave
    summary = run_forecast(setup["ckpt"], str(tmp_path / "coarse.nc"), "6h", tmp_path / "f.nc")
    assert summary.init_time == "2001-03-02T00:00:00"


def test_triangular_grid_forecast_writes_template_3_101(setup, tmp_path):
    dataset = build_dataset(
        _recipe(setup["analysis"], grid={"icon": {"n": 2, "k": 1}}), tmp_path / "icon.zarr"
    )
    ckpt_path = _checkpoint(dataset, tmp_path / "icon.pt")
    run_forecast(ckpt_path, "2001-03-02T00", "6h", tmp_path / "fc.grib2")
    run_forecast(ckpt_path, "2001-03-02T00", "6h", tmp_path / "fc.nc")
    messages = list_messages(tmp_path / "fc.grib2")
    assert {m["gridType"] for m in messages} == {"unstructured_grid"}
    grid = read_inference_checkpoint(ckpt_path).data
    assert grid.kind == "unstructured"
    import eccodes

    with (tmp_path / "fc.grib2").open("rb") as fh:
        handle = eccodes.codes_grib_new_from_file(fh)
        assert eccodes.codes_get(handle, "gridDefinitionTemplateNumber") == 101
        assert eccodes.codes_get(handle, "uuidOfHGrid") == grid.grid_uuid
        assert eccodes.codes_get(handle, "numberOfDataPoints") == 320
        eccodes.codes_release(handle)
    nc = xr.open_dataset(tmp_path / "fc.nc")
    assert nc.t.dims == ("time", "level", "cell") and nc.latitude.dims == ("cell",)


def test_bad_input_is_a_clear_error_and_leaves_no_file(setup, tmp_path):
    out = tmp_path / "fc.nc"
    with pytest.raises(ConfigError, match="not a positive multiple"):
        run_forecast(setup["ckpt"], "2001-03-02T00", "7h", out)
    with pytest.raises(ConfigError, match="suffix"):
        run_forecast(setup["ckpt"], "2001-03-02T00", "6h", tmp_path / "fc.zarr")
    with pytest.raises(ConfigError, match="neither an existing"):
        run_forecast(setup["ckpt"], "yesterday", "6h", out)
    # an initial file without msl
    xr.open_dataset(setup["analysis"])[["t"]].to_netcdf(tmp_path / "no-msl.nc")
    with pytest.raises(ConfigError, match="no variable 'msl'"):
        run_forecast(setup["ckpt"], str(tmp_path / "no-msl.nc"), "6h", out)
    # a dataset on another grid
    other = build_dataset(
        _recipe(setup["analysis"], grid={"regular": {"resolution_deg": 30}}), tmp_path / "o.zarr"
    )
    with pytest.raises(ConfigError, match="not the checkpoint's"):
        run_forecast(setup["ckpt"], "2001-03-02T00", "6h", out, dataset=other)
    # msl as an input-only field: known only as far as the dataset goes
    ckpt = _checkpoint(
        setup["dataset"], tmp_path / "msl-forced.pt", ["cos_latitude", "insolation", "msl"]
    )
    run_forecast(ckpt, "2001-03-03T00", "18h", tmp_path / "ok.nc")
    with pytest.raises(ConfigError, match="ends 2001-03-03T18:00"):
        run_forecast(ckpt, "2001-03-03T00", "2d", out)
    with pytest.raises(DataFormatError, match="not a readable inference checkpoint"):
        run_forecast(setup["dataset"] / "data" / ".zarray", "2001-03-02T00", "6h", out)
    torch.save({"state_dict": {}}, tmp_path / "lightning.ckpt")
    with pytest.raises(DataFormatError, match="not a wxai emulator inference checkpoint"):
        run_forecast(tmp_path / "lightning.ckpt", "2001-03-02T00", "6h", out)
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial"))


def test_lead_parsing():
    import datetime as dt

    six = dt.timedelta(hours=6)
    assert [parse_lead(x, six) for x in ("10d", "36h", "72", "360m")] == [40, 6, 12, 1]
    for bad in ("0h", "-6h", "ten days", "5h"):
        with pytest.raises(ConfigError):
            parse_lead(bad, six)


def test_checkpoint_builds_on_the_cpu_then_moves_whole_to_another_device(setup):
    """``--device cuda`` once failed: the graph was loaded onto the GPU and the edge
    layout was built from it with CPU index tensors. The meta device stands in for a GPU
    here: every tensor of the model must move, and a step must run there."""
    ckpt = read_inference_checkpoint(setup["ckpt"], map_location="meta")
    emulator = ckpt.emulator
    devices = {t.device.type for t in [*emulator.parameters(), *emulator.buffers()]}
    assert devices == {"meta"}
    assert ckpt.graph["data"].x.device.type == "cpu"
    net = emulator.net
    window = torch.zeros(3, emulator.multistep_input, net.n_data, net.n_inputs, device="meta")
    assert emulator(window).shape == (3, net.n_data, len(emulator.prognostic))


def test_cli_forecast(setup, tmp_path):
    out = tmp_path / "cli.grib2"
    result = CliRunner().invoke(
        app,
        ["emulator", "forecast", str(setup["ckpt"]), "--init", "2001-03-02T00", "--lead", "1d",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 steps of 6 h" in result.output and out.exists()
    bad = CliRunner().invoke(
        app,
        ["emulator", "forecast", str(setup["ckpt"]), "--init", "2001-03-02T00", "--lead", "5h",
         "--out", str(tmp_path / "x.nc")],
    )  # fmt: skip
    assert bad.exit_code != 0 and "multiple of the model step" in bad.output


def test_scorecard_matches_brute_force_and_writes_figures(setup, tmp_path):
    from wxai.emulator.inference.scores import score_emulator, write_scorecard

    ckpt = read_inference_checkpoint(setup["ckpt"])
    ds = open_dataset(setup["dataset"])
    card = score_emulator(ckpt, ds, start="2001-03-02T00", end="2001-03-03T00", steps=3, every=2)
    assert card.inits == ["2001-03-02T00:00:00", "2001-03-02T12:00:00", "2001-03-03T00:00:00"]
    assert card.lead_hours == [6.0, 12.0, 18.0]
    w = ckpt.area_weight / ckpt.area_weight.sum()
    var = ckpt.emulator.prognostic.index("msl")
    col = ds.variables.index("msl")
    fields = ds.fields(0, len(ds))
    starts = [ds.date_index(d) for d in card.inits]
    # persistence: mean over inits of the weighted MSE, then the root
    for lead in (1, 3):
        mse = [np.sum(w * (fields[i, col] - fields[i + lead, col]) ** 2) for i in starts]
        assert card.rmse_of("persistence", "msl")[lead - 1] == pytest.approx(np.sqrt(np.mean(mse)))
        mse = [
            np.sum(w * (_hand_rollout(setup["ckpt"], setup["dataset"], i, 3)[lead - 1, var]
                        - fields[i + lead, col]) ** 2)
            for i in starts
        ]  # fmt: skip
        assert card.rmse_of("emulator", "msl")[lead - 1] == pytest.approx(
            np.sqrt(np.mean(mse)), rel=1e-4
        )
    # climatology: the training period's mean at the valid hour
    train = fields[: ds.date_index("2001-03-02T18:00") + 1, col]
    hours = ds.dates.astype("datetime64[h]").astype(int) % 24
    mse = [
        np.sum(w * (train[hours[: len(train)] == hours[i + 1]].mean(0) - fields[i + 1, col]) ** 2)
        for i in starts
    ]
    assert card.rmse_of("climatology", "msl")[0] == pytest.approx(np.sqrt(np.mean(mse)))
    assert card.acc["persistence"][0][var] > 0.5  # a slowly moving wave persists well
    assert card.simulator_seconds_per_forecast is None  # a dataset built from files
    written = write_scorecard(card, tmp_path / "scores")
    assert {p.name for p in written} >= {"scorecard.json", "scorecard-persistence.png"}
    assert all(p.stat().st_size > 0 for p in written)


def test_cli_verify(setup, tmp_path):
    result = CliRunner().invoke(
        app,
        ["emulator", "verify", str(setup["ckpt"]), "--start", "2001-03-02T00",
         "--end", "2001-03-03T00", "--lead", "12h", "--out", str(tmp_path / "s")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "persistence" in result.output and (tmp_path / "s" / "scorecard.json").exists()
    bad = CliRunner().invoke(
        app,
        ["emulator", "verify", str(setup["ckpt"]), "--start", "2001-03-03T12",
         "--end", "2001-03-03T18", "--lead", "1d", "--out", str(tmp_path / "t")],
    )  # fmt: skip
    assert bad.exit_code != 0 and "no initial time" in bad.output


def test_ensemble_scores_match_brute_force(setup):
    from wxai.emulator.inference.forcings import ForcingProvider
    from wxai.emulator.inference.initial import initial_from_dataset
    from wxai.emulator.inference.rollout import rollout
    from wxai.emulator.inference.scores import score_ensemble

    ckpt = read_inference_checkpoint(setup["ckpt"])
    ds = open_dataset(setup["dataset"])
    scores = score_ensemble(
        ckpt, ds, start="2001-03-02T00", end="2001-03-02T00", steps=2, members=4, seed=3
    )
    assert scores.inits == ["2001-03-02T00:00:00"] and scores.members == 4
    # the same ensemble by hand (seed + init number 0), fair CRPS by its definition
    i = ds.date_index("2001-03-02T00")
    made = rollout(
        ckpt,
        initial_from_dataset(ckpt, ds, ds.dates[i]),
        2,
        forcings=ForcingProvider(ckpt, ds),
        members=4,
        seed=3,
    )
    ensemble = np.stack([s.fields for s in made][1:], axis=1)  # (M, L, P, N)
    p, col = ckpt.emulator.prognostic.index("t_850"), ds.variables.index("t_850")
    x, y = ensemble[:, 1, p].astype(float), ds.fields(i + 2, i + 3)[0, col].astype(float)
    m = x.shape[0]
    pairs = sum(np.abs(x[a] - x[b]) for a in range(m) for b in range(m))
    crps = np.abs(x - y).mean(axis=0) - pairs / (2 * m * (m - 1))
    w = ckpt.area_weight / ckpt.area_weight.sum()
    assert scores.crps[1][p] == pytest.approx(float(np.sum(w * crps)), rel=1e-5)
    assert scores.control_mae[1][p] == pytest.approx(float(np.sum(w * np.abs(x[0] - y))), rel=1e-5)
    spread = np.sqrt(np.sum(w * x.var(axis=0, ddof=1)))
    assert scores.spread[1][p] == pytest.approx(spread, rel=1e-5)
    with pytest.raises(ConfigError, match="at least 2 members"):
        score_ensemble(ckpt, ds, start="2001-03-02T00", end="2001-03-02T00", steps=2, members=1)


def test_initial_state_from_a_grib_analysis(setup, tmp_path):
    from wxai.data.formats.grib import write_grib
    from wxai.emulator.inference.initial import initial_from_dataset, initial_from_file

    ckpt = read_inference_checkpoint(setup["ckpt"])
    source = xr.open_dataset(setup["analysis"]).sel(
        time=slice("2001-03-01T18:00", "2001-03-02T00:00")
    )
    write_grib(source, tmp_path / "init.grib2", bits_per_value=24)
    from_grib = initial_from_file(ckpt, tmp_path / "init.grib2")
    from_dataset = initial_from_dataset(
        ckpt, open_dataset(setup["dataset"]), np.datetime64("2001-03-02T00:00")
    )
    np.testing.assert_array_equal(from_grib.dates, from_dataset.dates)
    np.testing.assert_allclose(from_grib.fields, from_dataset.fields, rtol=1e-5, atol=0.01)
