"""Held-Suarez simulator datasets (dinosaur, T21): physics sanity, Anemoi layout, append."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import zarr

from wxai.core.errors import MissingExtra
from wxai.emulator.datasets.build import build_dataset
from wxai.emulator.datasets.reader import REQUIRED_ARRAYS, open_dataset

pytest.importorskip("dinosaur")

END = "2000-01-03T18:00"


def _recipe(end=END, **over):
    base = {
        "name": "hs-smoke",
        "source": {"kind": "simulator", "spin_up_days": 2, "seed": 3},
        "variables": ["u", "v", "t", "sp"],
        "dates": {"start": "2000-01-01", "end": end, "frequency": "6h"},
        "forcings": ["cos_latitude", "insolation", "z"],
        "chunking": {"time": 1, "block": 5},
    }
    return {**base, **over}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return build_dataset(_recipe(), tmp_path_factory.mktemp("hs") / "hs.zarr")


def test_smoke_run_is_physically_sensible(smoke):
    ds = open_dataset(smoke)
    assert ds.attrs["resolution"] == "T21" and ds.attrs["field_shape"] == [32, 64]
    assert len(ds) == 12 and ds.shape == (12, 28, 2048)
    lat = ds.latitudes.reshape(32, 64)
    assert (np.diff(lat[:, 0]) < 0).all() and (lat == lat[:, :1]).all()  # north to south
    np.testing.assert_allclose(ds.longitudes[:64], np.arange(64) * 5.625)
    x = ds.fields(0, len(ds))
    idx = ds.name_to_index
    t = x[:, [idx[f"t_{k}"] for k in range(1, 9)]]
    sp = x[:, idx["sp"]]
    assert t.min() > 180 and t.max() < 320
    assert sp.min() > 9.5e4 and sp.max() < 1.05e5
    # mass conservation: the Gaussian-weighted global mean surface pressure stays put
    w = np.repeat(np.cos(np.deg2rad(lat[:, 0])), 64)
    global_sp = (sp * w).sum(axis=1) / w.sum()
    assert np.ptp(global_sp) < 5.0  # Pa
    # Held-Suarez cooling builds the equator-to-pole gradient near the ground
    t_low = t[-1, -1].reshape(32, 64).mean(axis=1)
    assert t_low[14:18].mean() - t_low[[0, -1]].mean() > 5.0
    u = x[:, [idx[f"u_{k}"] for k in range(1, 9)]]
    assert np.abs(u).max() < 60 and np.isfinite(x).all()
    np.testing.assert_array_equal(x[:, idx["z"]], 0.0)
    assert ds.forcing_variables == ["cos_latitude", "insolation", "z"]
    assert ds.attrs["variables_metadata"]["t_3"] == {
        "param": "t",
        "level": 3,
        "levtype": "ml",
        "units": "K",
        "computed_forcing": False,
        "constant_in_time": False,
    }


def test_store_is_zarr_v2_with_anemoi_layout(smoke):
    g = zarr.open_group(str(smoke), mode="r", zarr_format=2)
    assert sorted(g.array_keys()) == sorted(REQUIRED_ARRAYS)
    assert g["data"].shape == (12, 28, 1, 2048) and g["data"].chunks == (1, 28, 1, 2048)
    assert g.attrs["frequency"] == "6h" and g.attrs["ensemble_dimension"] == 1
    assert g["count"][:].tolist() == [12 * 2048] * 28
    assert not list(smoke.glob(".*state*")), "simulator state stays outside the store"


def test_append_continues_the_same_trajectory(smoke, tmp_path):
    out = build_dataset(_recipe(end="2000-01-02T06:00"), tmp_path / "part.zarr")
    assert len(open_dataset(out)) == 6
    build_dataset(_recipe(), out)
    a, b = open_dataset(smoke), open_dataset(out)
    np.testing.assert_array_equal(a.fields(0, 12), b.fields(0, 12))
    for k in a.statistics:
        np.testing.assert_allclose(a.statistics[k], b.statistics[k], rtol=1e-12)


def test_interrupted_build_resumes_from_the_saved_state(smoke, tmp_path):
    out = tmp_path / "resumed.zarr"

    def stop_after_first_block(done, total):
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_dataset(_recipe(), out, progress=stop_after_first_block)
    assert sorted(p.name for p in tmp_path.glob("resumed*")) == [
        "resumed.zarr.partial",
        "resumed.zarr.sim-state-5.npz",
    ]
    seen = []
    build_dataset(_recipe(), out, progress=lambda d, t: seen.append(d))
    assert seen == [5, 10, 12]
    np.testing.assert_array_equal(
        open_dataset(smoke).fields(0, 12), open_dataset(out).fields(0, 12)
    )


def test_missing_dinosaur_names_the_extra(monkeypatch):
    from wxai.emulator.datasets import simulator

    monkeypatch.setitem(sys.modules, "dinosaur", None)
    with pytest.raises(MissingExtra, match=r"wxai\[emulator\]"):
        simulator._dinosaur()


def test_runs_are_deterministic_given_the_seed():
    from wxai.emulator.datasets.recipe import load_recipe
    from wxai.emulator.datasets.simulator import simulator_for

    def first_snapshots(seed):
        params = load_recipe(_recipe(source={"kind": "simulator", "spin_up_days": 1, "seed": seed}))
        sim = simulator_for(params.source, 6.0)
        (block, _), *_ = sim.blocks(0, 2, 2)
        return block.fields["sp"]

    a, b, c = first_snapshots(1), first_snapshots(1), first_snapshots(2)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1.0  # Pa: the perturbation moved


def test_simulator_time_of_a_forecast(smoke):
    from wxai.emulator.inference.scores import simulator_time

    seconds, compile_seconds = simulator_time(open_dataset(smoke), 4)
    assert 0 < seconds < 60 and compile_seconds > 0
