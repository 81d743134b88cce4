"""The file oracles of :mod:`wxai.data.oracles` on small hand-written files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from wxai.data.oracles import (
    active_feedback_entries,
    eccodes_messages,
    netcdf_valid_count,
    odim_mismatches,
    read_odim_raw,
)


def _grib(path: Path, fields: list[np.ndarray]) -> Path:
    import eccodes as ec

    with path.open("wb") as out:
        for step, values in enumerate(fields):
            h = ec.codes_grib_new_from_samples("regular_ll_sfc_grib2")
            try:
                ec.codes_set_long(h, "Ni", values.shape[1])
                ec.codes_set_long(h, "Nj", values.shape[0])
                ec.codes_set_long(h, "step", 6 * step)
                ec.codes_set_long(h, "bitsPerValue", 12)
                ec.codes_set_values(h, values.ravel())
                ec.codes_write(h, out)
            finally:
                ec.codes_release(h)
    return path


def test_eccodes_messages_decode_values_and_packing_step(tmp_path: Path) -> None:
    # 4096 values densely over 10 K: adjacent ones fall into adjacent packing levels
    fields = [280.0 + np.linspace(0.0, 10.0, 4096).reshape(64, 64), np.full((64, 64), 3.0)]
    messages = eccodes_messages(_grib(tmp_path / "two.grib2", fields))
    assert [m.keys["step"] for m in messages] == [0, 6]
    # 12 bits over 10 K: a power-of-two step between 10 / 4095 K and twice that
    step = messages[0].packing_step
    assert 10 / 4095 <= step <= 2 * 10 / 4095
    np.testing.assert_allclose(messages[0].values, fields[0].ravel(), atol=step / 2 + 1e-9)
    assert messages[1].packing_step == 0.0  # a constant field has a single value


def test_netcdf_valid_count_honours_fill_values(tmp_path: Path) -> None:
    import netCDF4

    path = tmp_path / "obs.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("n", 6)
        var = nc.createVariable("MTDBT", "f4", ("n",), fill_value=-1e10)
        var[:] = np.ma.masked_array([280.0, 0, 281.0, 0, 0, np.nan], mask=[0, 1, 0, 1, 1, 0])
    assert netcdf_valid_count(path, "MTDBT") == (2, 6)  # NaN counts as missing too


def test_active_feedback_entries_counts_one_obstype(tmp_path: Path) -> None:
    import netCDF4

    path = tmp_path / "fdbk.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("d_hdr", 3)
        nc.createDimension("d_body", 7)
        for name, values in (
            ("obstype", [2, 5, 2]), ("i_body", [1, 3, 5]), ("l_body", [2, 2, 3])
        ):  # fmt: skip
            nc.createVariable(name, "i4", ("d_hdr",))[:] = values
        # states: 0/1 active, 7 rejected; 1-based i_body
        nc.createVariable("state", "i4", ("d_body",))[:] = [1, 7, 0, 0, 0, 1, 7]
    assert active_feedback_entries(path, 2) == 3  # report 1: one active, report 3: two
    assert active_feedback_entries(path, 5) == 2
    assert active_feedback_entries(path, 9) == 0


def test_odim_raw_and_mismatch_count(tmp_path: Path) -> None:
    import h5py

    raw = np.array([[0, 10, 255], [100, 0, 254]], dtype=np.uint8)
    path = tmp_path / "radar.h5"
    with h5py.File(path, "w") as h5:
        h5.create_dataset("dataset1/data1/data", data=raw)
        what = h5.create_group("dataset1/data1/what")
        for key, value in {"gain": 0.5, "offset": -32.0, "nodata": 255.0, "undetect": 0.0}.items():
            what.attrs[key] = value
    odim = read_odim_raw(path)
    assert odim.nodata.sum() == 1 and odim.undetect.sum() == 2
    values = np.where(odim.valid, raw * 0.5 - 32.0, np.nan)
    decoded = xr.DataArray(
        values, dims=("y", "x"),
        coords={"nodata_mask": (("y", "x"), odim.nodata),
                "undetect_mask": (("y", "x"), odim.undetect)},
    )  # fmt: skip
    assert odim_mismatches(decoded, odim) == 0
    wrong = decoded.copy(data=values + np.array([[0, 0.5, 0], [0, 0, 0]]))
    assert odim_mismatches(wrong, odim) == 1
    leaked = decoded.copy(data=np.where(odim.valid, values, 1.0))
    assert odim_mismatches(leaked, odim) == 3


def test_find_samples_reports_missing_files(tmp_path: Path) -> None:
    from wxai.core.errors import ConfigError
    from wxai.data.synthetic.samples import SAMPLE_FILES, find_samples

    for name, _ in SAMPLE_FILES.values():
        (tmp_path / name).write_bytes(b"")
    paths, seed = find_samples(tmp_path, default_seed=7)
    assert seed == 7 and set(paths) == set(SAMPLE_FILES)
    (tmp_path / "manifest.json").write_text('{"generator": {"synthetic_seed": 3}}')
    assert find_samples(tmp_path)[1] == 3
    (tmp_path / SAMPLE_FILES["radar"][0]).unlink()
    with pytest.raises(ConfigError, match="lacks sample files"):
        find_samples(tmp_path)
