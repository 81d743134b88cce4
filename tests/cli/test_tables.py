"""CLI tables keep names whole in an 80-column terminal and when piped."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from wxai.cli.data import app as data_app


def _wxai(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wxai.cli", *args],
        env=env,
        capture_output=True,  # stdout is a pipe, as in `wxai lab list | less`
        text=True,
        timeout=180,
        check=True,
    )


@pytest.mark.parametrize("columns", ["80", None], ids=["COLUMNS=80", "piped"])
def test_lab_list_keeps_every_lab_name_whole(tmp_path, columns):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["WXAI_HOME"] = str(tmp_path)
    if columns:
        env["COLUMNS"] = columns
    names = [row["name"] for row in json.loads(_wxai(["lab", "list", "--json"], env).stdout)]
    assert names
    table = _wxai(["lab", "list"], env).stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    cut = [name for name in names if f" {name} " not in table]
    assert not cut, f"lab names cut in the table: {cut}\n{table}"


def test_data_ls_keeps_variable_names_whole_in_80_columns(tmp_path):
    long_name = "a_rather_long_variable_name_for_the_table"
    field = xr.DataArray(
        np.zeros((2, 3), dtype="float32"),
        dims=("latitude", "longitude"),
        coords={"latitude": [50.0, 51.0], "longitude": [5.0, 6.0, 7.0]},
        name=long_name,
        attrs={
            "units": "K",
            "long_name": "a long description that has to wrap in a narrow terminal",
        },
    )
    path = tmp_path / "long.nc"
    field.to_dataset().to_netcdf(path)
    result = CliRunner().invoke(data_app, ["ls", str(path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert f" {long_name} " in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
