"""ODIM_H5 radar composites: decoding, masks, georeference, corrupt files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from wxai.core.errors import DataFormatError
from wxai.data.formats.odim import read_odim, write_odim

CORNERS = {"LL": (3.5, 46.9), "UL": (2.0, 55.9), "UR": (16.6, 55.9), "LR": (15.7, 46.9)}


def _h5_by_hand(path, raw):
    """An ODIM_H5 file written with h5py directly (independent of write_odim)."""
    with h5py.File(path, "w") as h5:
        h5.attrs["Conventions"] = np.bytes_("ODIM_H5/V2_2")
        what = h5.create_group("what")
        what.attrs.update(
            {
                "date": np.bytes_("20240612"),
                "time": np.bytes_("143500"),
                "source": np.bytes_("NOD:dexyz,ORG:DWD"),
                "object": np.bytes_("COMP"),
            }
        )
        where = h5.create_group("where")
        where.attrs.update(
            {
                "projdef": np.bytes_("+proj=stere +lat_0=90 +lat_ts=60 +lon_0=10"),
                "xsize": raw.shape[1],
                "ysize": raw.shape[0],
                "xscale": 1000.0,
                "yscale": 1000.0,
            }
        )
        for c, (lon, lat) in CORNERS.items():
            where.attrs[f"{c}_lon"], where.attrs[f"{c}_lat"] = lon, lat
        d = h5.create_group("dataset1/data1")
        d.create_dataset("data", data=raw)
        dw = d.create_group("what")
        dw.attrs.update(
            {
                "quantity": np.bytes_("DBZH"),
                "gain": 0.5,
                "offset": -32.5,
                "nodata": 255.0,
                "undetect": 0.0,
            }
        )
        h5["dataset1"].create_group("what").attrs["product"] = np.bytes_("COMP")


def test_decode_values_masks_and_corners(tmp_path):
    raw = np.array([[0, 1, 65, 255], [100, 0, 255, 2], [10, 20, 30, 40]], dtype=np.uint8)
    _h5_by_hand(tmp_path / "r.h5", raw)
    da = read_odim(tmp_path / "r.h5")
    assert da.name == "dbz" and da.dims == ("y", "x")
    assert (da.attrs["quantity"], da.attrs["units"]) == ("DBZH", "dBZ")
    assert da.attrs["source"] == "NOD:dexyz,ORG:DWD"
    assert da["time"].values == np.datetime64("2024-06-12T14:35:00")
    np.testing.assert_array_equal(da.nodata_mask.values, raw == 255)
    np.testing.assert_array_equal(da.undetect_mask.values, raw == 0)
    assert da.values[0, 2] == 65 * 0.5 - 32.5 == 0.0
    assert da.values[2, 3] == 40 * 0.5 - 32.5
    assert np.isnan(da.values[raw == 255]).all() and np.isnan(da.values[raw == 0]).all()
    floor = read_odim(tmp_path / "r.h5", undetect_value=-32.5)
    assert (floor.values[raw == 0] == -32.5).all() and np.isnan(floor.values[raw == 255]).all()
    # pixel centres: bilinear between the corners, half a pixel in from each edge
    ny, nx = raw.shape
    s, t = 0.5 / nx, 0.5 / ny
    ul, ur, ll = np.array(CORNERS["UL"]), np.array(CORNERS["UR"]), np.array(CORNERS["LL"])
    lr = np.array(CORNERS["LR"])
    expect_ul = (ul + (ur - ul) * s) * (1 - t) + (ll + (lr - ll) * s) * t
    np.testing.assert_allclose([da.lon.values[0, 0], da.lat.values[0, 0]], expect_ul)
    expect_lr = (ul + (ur - ul) * (1 - s)) * t + (ll + (lr - ll) * (1 - s)) * (1 - t)
    np.testing.assert_allclose([da.lon.values[-1, -1], da.lat.values[-1, -1]], expect_lr)
    np.testing.assert_allclose(da.x.values, [500.0, 1500.0, 2500.0, 3500.0])
    np.testing.assert_allclose(da.y.values, [2500.0, 1500.0, 500.0])


def test_write_odim_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    values = np.round(rng.uniform(-30, 90, size=(20, 30)) * 2) / 2
    values[0, :5] = np.nan
    undetect = np.zeros_like(values, dtype=bool)
    undetect[5, 5:9] = True
    path = write_odim(
        tmp_path / "c.h5",
        values,
        quantity="DBZH",
        time=np.datetime64("2024-06-12T14:35"),
        corners=CORNERS,
        projdef="+proj=stere",
        xscale=1000.0,
        yscale=1000.0,
        undetect_mask=undetect,
        extra_attrs={"comment": "synthetic"},
    )
    da = read_odim(path)
    keep = ~np.isnan(values) & ~undetect
    np.testing.assert_allclose(da.values[keep], values[keep])
    np.testing.assert_array_equal(da.nodata_mask.values, np.isnan(values))
    np.testing.assert_array_equal(da.undetect_mask.values, undetect)
    assert da["time"].values == np.datetime64("2024-06-12T14:35")


def test_truncated_and_foreign_files(tmp_path):
    raw = np.full((50, 60), 7, dtype=np.uint8)
    _h5_by_hand(tmp_path / "r.h5", raw)
    data = (tmp_path / "r.h5").read_bytes()
    (tmp_path / "t.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "n.h5").write_bytes(np.random.default_rng(0).bytes(1024))
    for name in ("t.h5", "n.h5"):
        with pytest.raises(DataFormatError, match=name):
            read_odim(tmp_path / name)
    with h5py.File(tmp_path / "plain.h5", "w") as h5:
        h5["x"] = [1, 2]
    with pytest.raises(DataFormatError, match="ODIM_H5"):
        read_odim(tmp_path / "plain.h5")
    with pytest.raises(DataFormatError, match="dataset2"):
        read_odim(tmp_path / "r.h5", dataset=2)


def test_out_of_memory_is_a_memory_error_naming_the_file(tmp_path, monkeypatch):
    import h5py

    from wxai.core.errors import DataFormatError, DataTooLargeError

    _h5_by_hand(tmp_path / "r.h5", np.zeros((3, 4), dtype=np.uint8))
    real = h5py.Dataset.__getitem__

    def out_of_memory(self, key):
        if self.name.endswith("/data"):
            raise MemoryError("Unable to allocate 80.0 GiB for an array")
        return real(self, key)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", out_of_memory)
    with pytest.raises(DataTooLargeError, match=r"r\.h5") as info:
        read_odim(tmp_path / "r.h5")
    assert isinstance(info.value, MemoryError) and not isinstance(info.value, DataFormatError)
