"""``wxai data ls`` on GRIB, NetCDF, Zarr and ODIM files (Typer app tested directly)."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr
from typer.testing import CliRunner

from wxai.cli.data import app
from wxai.data.formats.grib import write_grib
from wxai.data.formats.netcdf import write_netcdf
from wxai.data.formats.odim import write_odim
from wxai.data.formats.zarr_store import write_zarr

runner = CliRunner()


def _field() -> xr.DataArray:
    return xr.DataArray(
        np.arange(12.0).reshape(3, 4) + 270,
        name="t2m",
        dims=("latitude", "longitude"),
        coords={
            "latitude": [50.0, 51.0, 52.0],
            "longitude": [5.0, 6.0, 7.0, 8.0],
            "init_time": np.datetime64("2024-01-01T00:00"),
        },
    )


def test_ls_grib_table_and_json(tmp_path):
    path = write_grib(_field(), tmp_path / "f.grib2")
    result = runner.invoke(app, ["ls", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2t" in result.output and "heightAboveGround" in result.output
    result = runner.invoke(app, ["ls", str(path), "--json"])
    info = json.loads(result.output)
    assert info["format"] == "grib"
    (msg,) = info["messages"]
    assert (msg["shortName"], msg["level"], msg["Ni"], msg["Nj"]) == ("2t", 2, 4, 3)


def test_ls_netcdf_zarr_odim(tmp_path):
    nc = write_netcdf(_field().to_dataset(), tmp_path / "f.nc")
    zs = write_zarr(_field().to_dataset(), tmp_path / "f.zarr")
    odim = write_odim(
        tmp_path / "r.h5",
        np.zeros((3, 4)),
        quantity="DBZH",
        time=np.datetime64("2024-01-01"),
        corners={"LL": (0, 0), "UL": (0, 1), "UR": (1, 1), "LR": (1, 0)},
        projdef="+proj=stere",
        xscale=1000.0,
        yscale=1000.0,
    )
    for path, fmt, name in ((nc, "netcdf", "t2m"), (zs, "zarr", "t2m"), (odim, "odim", "dbz")):
        result = runner.invoke(app, ["ls", str(path), "--json"])
        assert result.exit_code == 0, result.output
        info = json.loads(result.output)
        assert info["format"] == fmt
        assert info["variables"][0]["name"] == name
    info = json.loads(runner.invoke(app, ["ls", str(nc), "--json"]).output)
    var = info["variables"][0]
    assert var["dims"] == {"latitude": 3, "longitude": 4}
    assert var["attrs"]["standard_name"] == "air_temperature"
    result = runner.invoke(app, ["ls", str(nc)], env={"COLUMNS": "200"})
    assert "t2m" in result.output and "latitude=3" in result.output


def test_ls_unknown_format_is_a_clear_error(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(b"\x00\x01 not weather data" * 10)
    result = runner.invoke(app, ["ls", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "unknown format" in result.output


def test_wxai_data_is_registered_and_fetch_offline_miss_is_clear(tmp_path):
    """The real `wxai` command: `data ls` on a GRIB file, `data fetch` offline with no cache."""
    import os
    import subprocess
    import sys

    path = write_grib(_field().to_dataset(), tmp_path / "t2m.grib2")
    env = {**os.environ, "WXAI_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "wxai.cli", "data"]
    listed = subprocess.run(
        [*command, "ls", str(path), "--json"], env=env, capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert "2t" in listed.stdout or "t2m" in listed.stdout
    missed = subprocess.run(
        [*command, "fetch", "icon-eu", "variable=t_2m", "steps=0", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missed.returncode == 1
    assert "ICON-EU: offline mode" in missed.stderr and "Traceback" not in missed.stderr
    unknown = subprocess.run(
        [*command, "fetch", "icn"], env=env, capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 2
    assert "did you mean 'icon-eu'" in unknown.stderr
