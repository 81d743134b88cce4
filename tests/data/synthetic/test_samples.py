"""Every sample file opens with wxai's readers and the reference libraries, marked synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import eccodes
import h5py
import netCDF4
import numpy as np
import pytest
import xarray as xr

from wxai.data.formats.grib import list_messages, read_grib
from wxai.data.formats.odim import read_odim
from wxai.data.grids.icon import read_icon_grid
from wxai.data.obs.feedback import add_departures, innovation_statistics, read_feedback
from wxai.data.obs.synop import read_synop
from wxai.data.sources.dwd_cth import open_cth
from wxai.data.synthetic.samples import (
    GRIB_MARK,
    SAMPLE_FILES,
    SYNTHETIC_GENERATING_PROCESS,
    write_samples,
)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_samples(tmp_path_factory.mktemp("samples"))


def _grib_keys(path: Path, *keys: str) -> list[tuple]:
    out = []
    with path.open("rb") as f:
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            out.append(tuple(eccodes.codes_get(h, k) for k in keys))
            eccodes.codes_release(h)
    return out


def _cfgrib(path: Path, **keys) -> xr.Dataset:
    return xr.open_dataset(
        path, engine="cfgrib", backend_kwargs={"indexpath": "", "filter_by_keys": keys}
    ).load()


def test_manifest_and_size(samples: dict[str, Path]) -> None:
    manifest = json.loads(samples["manifest"].read_text())
    assert manifest["synthetic"] is True
    assert set(manifest["files"]) == set(SAMPLE_FILES)
    assert all(f["synthetic"] for f in manifest["files"].values())
    total = sum(p.stat().st_size for p in samples.values())
    assert total < 6e6


@pytest.mark.parametrize("key", ["icon_eu", "ifs", "icon_native"])
def test_grib_marked_synthetic(samples: dict[str, Path], key: str) -> None:
    keys = _grib_keys(samples[key], *GRIB_MARK)
    assert keys and set(keys) == {tuple(GRIB_MARK.values())}
    assert keys[0][0] == SYNTHETIC_GENERATING_PROCESS


def test_icon_eu_grib(samples: dict[str, Path]) -> None:
    path = samples["icon_eu"]
    msgs = list_messages(path)
    assert {m["shortName"] for m in msgs} >= {"2t", "2r", "10u", "10v", "msl", "tp"}
    assert {m["step"] for m in msgs} == set(range(0, 25, 3))
    t2m = read_grib(path, shortName="2t")["t2m"]
    assert t2m.dims == ("lead_time", "latitude", "longitude")
    assert float(t2m.min()) > 230
    assert float(t2m.max()) < 310
    ref = _cfgrib(path, shortName="tp")["tp"]  # reference library: cfgrib via xarray
    assert ref.sizes["step"] == 9
    # IFS tp is in m: accumulated, non-decreasing within the packing error
    assert np.all(np.diff(ref.values, axis=0) >= -5e-5)
    assert float(ref.max()) > 0.005


def test_ifs_grib(samples: dict[str, Path]) -> None:
    ds = _cfgrib(samples["ifs"], typeOfLevel="meanSea")
    assert ds["msl"].shape == (5, 91, 180)
    assert ds.latitude.values[0] == 90.0
    assert 94000 < float(ds["msl"].min()) < 100000
    wind = read_grib(samples["ifs"], shortName=["10u", "10v"])
    assert {"u10", "v10"} <= set(wind.data_vars)


def test_icon_native_grib_matches_grid(samples: dict[str, Path]) -> None:
    grid = read_icon_grid(samples["icon_grid"])
    assert grid.attrs["synthetic"] == "true"
    (uuid,) = {k[0] for k in _grib_keys(samples["icon_native"], "uuidOfHGrid")}
    assert uuid == grid.uuid.replace("-", "").lower()
    ds = read_grib(samples["icon_native"], shortName="2t")
    assert ds["t2m"].sizes["cell"] == grid.n_cells
    ref = _cfgrib(samples["icon_native"], shortName="msl")
    assert ref["msl"].sizes["values"] == grid.n_cells


def test_synop(samples: dict[str, Path]) -> None:
    ds = read_synop(samples["synop"])
    assert ds.sizes["report"] == 60 * 25
    assert "SYNTHETIC" in ds.attrs["source_title"]
    for name in ("t2m", "td2m", "rh2m", "msl", "ps", "u10m"):
        assert name in ds
    missing = float(ds["t2m"].isnull().mean())
    assert 0.01 < missing < 0.1  # missing values kept as NaN
    ok = ds["t2m"].notnull() & ds["td2m"].notnull()
    assert bool((ds["td2m"][ok] <= ds["t2m"][ok] + 1e-3).all())
    assert not np.isnat(ds["time"].values).any()
    with netCDF4.Dataset(samples["synop"]) as nc:
        assert nc.getncattr("synthetic") == "true"
        assert nc.variables["MTDBT"].units == "K"


def test_feedback(samples: dict[str, Path]) -> None:
    ds = add_departures(read_feedback(samples["feedback"]))
    assert set(np.unique(ds["obstype"].values)) == {2, 5}
    assert ds.attrs["synthetic"] == "true"
    stats = innovation_statistics(ds, by=["obstype", "varno"])
    t = ds.isel(body=np.flatnonzero(ds["varno"].values == 2))
    omb, oma = t["omb"].values, t["oma"].values
    assert np.std(oma) < np.std(omb)  # the analysis is closer to the observations
    airep = ds.isel(body=np.flatnonzero(ds["obstype"].values == 2))
    assert np.unique(np.round(airep["level"].values, -3)).size > 5  # several levels
    assert stats.sizes and int(stats["omb_count"].sum()) > 0 if "omb_count" in stats else True
    with netCDF4.Dataset(samples["feedback"]) as nc:
        assert nc.getncattr("synthetic") == "true"
        assert nc.variables["veri_data"].shape[0] == 2


def test_radar(samples: dict[str, Path]) -> None:
    da = read_odim(samples["radar"])
    assert da.attrs["quantity"] == "DBZH"
    assert bool(da["nodata_mask"].any()) and bool(da["undetect_mask"].any())
    assert float(da.max()) > 20.0
    with h5py.File(samples["radar"]) as h5:
        assert h5["how"].attrs["synthetic"] in (b"true", "true")
        assert h5["dataset1/data1/data"].dtype == np.uint8


def test_cth(samples: dict[str, Path]) -> None:
    ds = open_cth(samples["cth"])
    cth = ds["CTH"]
    assert {"latitude", "longitude"} <= set(cth.dims)
    assert 0.05 < float(cth.notnull().mean()) < 0.95
    assert float(cth.max()) < 13000
    with netCDF4.Dataset(samples["cth"]) as nc:
        assert nc.getncattr("synthetic") == "true"
        assert nc.variables["CTH"].units == "m"
