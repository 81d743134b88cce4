"""read_grib reports running out of memory as a MemoryError, not as a corrupt file."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wxai.core.errors import DataFormatError
from wxai.data.formats import grib_cube, grib_index
from wxai.data.formats.grib import read_grib, write_grib


def _out_of_memory(ec, h):
    raise MemoryError("Unable to allocate 80.0 GiB for an array")


@pytest.fixture
def grib_file(tmp_path):
    ds = xr.Dataset(
        {"t2m": (("latitude", "longitude"), np.full((4, 5), 280.0, dtype="f4"))},
        coords={"latitude": np.linspace(50.0, 47.0, 4), "longitude": np.arange(5.0)},
    )
    return write_grib(ds, tmp_path / "t2m.grib2")


def test_out_of_memory_while_decoding_is_a_memory_error(grib_file, monkeypatch):
    assert float(read_grib(grib_file, lazy=False)["t2m"].mean()) == pytest.approx(280.0)
    monkeypatch.setattr(grib_index, "decode_values", _out_of_memory)
    with pytest.raises(MemoryError, match=r"t2m.grib2 \(\d+ bytes on disk\).*lazy=True") as info:
        read_grib(grib_file, lazy=False)
    assert not isinstance(info.value, DataFormatError)


def test_out_of_memory_while_loading_lazily_is_a_memory_error(grib_file, monkeypatch):
    monkeypatch.setattr(grib_index, "decode_values", _out_of_memory)
    monkeypatch.setattr(grib_cube, "decode_values", _out_of_memory)
    tree = read_grib(grib_file, lazy=True)  # reading the headers decodes nothing
    with pytest.raises(MemoryError) as info:
        tree["t2m"].load()
    assert not isinstance(info.value, DataFormatError)
