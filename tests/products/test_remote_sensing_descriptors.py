"""Radar and cloud-top height descriptors on synthetic fields whose answers are known."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr

from wxai.core.errors import DataFormatError
from wxai.data.formats.netcdf import write_netcdf
from wxai.data.formats.odim import write_odim
from wxai.products.descriptors.remote_sensing import (
    NO_ECHO_DBZ,
    CloudTopDescriptors,
    RadarDescriptors,
    cloud_top_descriptors,
    descriptors_from_file,
    radar_descriptors,
    with_convective_cells,
)

SHAPE = (120, 160)
CENTRES = ((30, 40), (80, 110))
RADII = (6, 9)
CORNERS = {"LL": (3.0, 46.0), "UL": (3.0, 56.0), "UR": (17.0, 56.0), "LR": (17.0, 46.0)}


def disc(centre: tuple[int, int], radius: float) -> np.ndarray:
    rows, cols = np.indices(SHAPE)
    return np.hypot(rows - centre[0], cols - centre[1]) <= radius


def two_cell_scene() -> tuple[np.ndarray, dict[str, float]]:
    """No data in the first 20 columns, dry elsewhere, a 20 dBZ band, two 45 dBZ discs."""
    dbz = np.full(SHAPE, NO_ECHO_DBZ)
    dbz[:, :20] = np.nan
    dbz[20:100, 30:130] = 20.0
    cells = [disc(c, r) for c, r in zip(CENTRES, RADII, strict=True)]
    for cell in cells:
        dbz[cell] = 45.0
    rain = np.isfinite(dbz) & (dbz >= 7)
    truth = {
        "with_data": float(np.isfinite(dbz).sum()),
        "rain": float(rain.sum()),
        "cell_pixels": sorted((int(c.sum()) for c in cells), reverse=True),
    }
    return dbz, truth


def test_two_discs_give_two_cells_of_known_size_and_area():
    dbz, truth = two_cell_scene()
    d = radar_descriptors(dbz, pixel_area_km2=4.0)
    assert isinstance(d, RadarDescriptors)
    assert d.n_cells == 2
    assert list(d.cell_pixels) == truth["cell_pixels"]
    assert list(d.cell_areas_km2) == [4.0 * p for p in truth["cell_pixels"]]
    assert d.n_with_data == truth["with_data"]
    assert d.coverage == pytest.approx(truth["rain"] / truth["with_data"], abs=1e-12)
    convective = sum(truth["cell_pixels"]) / truth["rain"]
    assert d.convective_fraction == pytest.approx(convective, abs=1e-12)
    assert d.stratiform_fraction == pytest.approx(1 - convective, abs=1e-12)
    assert d.max_dbz == 45.0 and d.p50_dbz == 20.0 and d.p99_dbz == 45.0
    assert d.precipitating_area_km2 == pytest.approx(4.0 * truth["rain"])
    text = d.text()
    assert "MEASURED" in text and "convective cells" in text and ": 2, sizes" in text
    assert d.as_dict()["cell_pixels"] == truth["cell_pixels"]


def test_diagonal_neighbours_are_one_cell_and_dry_field_has_none():
    dbz = np.zeros((10, 10))
    dbz[2, 2] = dbz[3, 3] = 50.0  # touching at a corner: one cell (8-connectivity)
    dbz[8, 8] = 41.0
    d = radar_descriptors(dbz)
    assert d.n_cells == 2 and d.cell_pixels == (2, 1) and d.cell_areas_km2 is None
    dry = radar_descriptors(np.zeros((5, 5)))
    assert dry.coverage == 0 and dry.max_dbz is None and dry.n_cells == 0
    assert "no pixel reaches" in dry.text()


def test_area_from_metre_coordinates():
    dbz, truth = two_cell_scene()
    da = xr.DataArray(
        dbz,
        dims=("y", "x"),
        coords={
            "x": ("x", np.arange(SHAPE[1]) * 2000.0, {"units": "m"}),
            "y": ("y", np.arange(SHAPE[0]) * 1000.0, {"units": "m"}),
        },
    )
    d = radar_descriptors(da)
    assert list(d.cell_areas_km2) == pytest.approx([2.0 * p for p in truth["cell_pixels"]])


@pytest.mark.parametrize(
    ("field", "needle"),
    [
        (np.zeros((3, 4, 5)), "must be a 2-D field"),
        (np.full((4, 4), np.nan), "all NaN"),
    ],
)
def test_bad_radar_fields(field, needle):
    with pytest.raises(DataFormatError, match=needle):
        radar_descriptors(field)
    with pytest.raises(DataFormatError, match="must be above rain_dbz"):
        radar_descriptors(np.zeros((4, 4)), rain_dbz=30, convective_dbz=20)


def cth_field(units: str = "m") -> xr.DataArray:
    """0.1 deg grid at the equator: 1000 cloudy pixels at 5 km, a 10 x 10 block at 11 km."""
    lat = np.round(np.arange(-2.0, 2.0, 0.1), 6)
    lon = np.round(np.arange(0.0, 5.0, 0.1), 6)
    km = np.full((lat.size, lon.size), np.nan)
    km[:20, :] = 5.0
    km[25:35, 10:20] = 11.0
    values = km * 1000.0 if units == "m" else km
    return xr.DataArray(
        values,
        dims=("latitude", "longitude"),
        coords={"latitude": lat, "longitude": lon},
        attrs={"units": units},
    )


def test_cloud_top_coverage_and_deep_convection():
    field = cth_field()
    d = cloud_top_descriptors(field)
    assert isinstance(d, CloudTopDescriptors)
    n = field.size
    assert d.cloudy_fraction == pytest.approx(1100 / n)
    assert d.coverage_above == pytest.approx((1100 / n, 100 / n, 100 / n))
    assert d.deep_fraction == pytest.approx(100 / n) and d.n_deep_objects == 1
    assert d.max_km == 11.0
    lat = field["latitude"].values[25:35]
    expected = (111.2**2 * 0.01 * np.cos(np.deg2rad(lat))).sum() * 10
    assert d.deep_area_km2 == pytest.approx(expected, rel=1e-9)
    assert cloud_top_descriptors(cth_field("km")).as_dict() == d.as_dict()
    assert "MEASURED" in d.text() and ">= 10 km" in d.text()


def test_bad_cloud_top_fields():
    with pytest.raises(DataFormatError, match="units right"):
        cloud_top_descriptors(cth_field("m"), units="km")
    with pytest.raises(DataFormatError, match="'m' or 'km'"):
        cloud_top_descriptors(np.ones((3, 3)), units="ft")
    with pytest.raises(DataFormatError, match="all NaN"):
        cloud_top_descriptors(np.full((3, 3), np.nan))


def write_radar(path, dbz, quantity="DBZH"):
    dry = np.isfinite(dbz) & (dbz < -31)
    return write_odim(
        path, np.where(dry, np.nan, dbz), quantity=quantity, time=np.datetime64("2025-06-01T12:00"),
        corners=CORNERS, projdef="+proj=longlat", xscale=3000.0, yscale=2000.0,
        undetect_mask=dry,
    )  # fmt: skip


def test_descriptors_from_odim_and_cth_files(tmp_path):
    dbz, truth = two_cell_scene()
    radar = descriptors_from_file(write_radar(tmp_path / "radar.h5", dbz))
    assert radar.n_cells == 2 and list(radar.cell_pixels) == truth["cell_pixels"]
    assert list(radar.cell_areas_km2) == pytest.approx([6.0 * p for p in truth["cell_pixels"]])
    assert radar.n_with_data == truth["with_data"]  # undetect counted as dry, not as no data
    ds = cth_field().rename(latitude="lat", longitude="lon").to_dataset(name="CTH")
    cth = descriptors_from_file(write_netcdf(ds, tmp_path / "cth.nc"))
    assert cth.n_deep_objects == 1 and cth.max_km == pytest.approx(11.0)


def test_files_without_the_expected_datasets(tmp_path):
    dbz, _ = two_cell_scene()
    path = write_radar(tmp_path / "radar.h5", dbz)
    with h5py.File(path, "a") as h5:
        h5.move("dataset1", "dataset2")
    with pytest.raises(DataFormatError, match=r"without the expected reflectivity.*dataset1/data1"):
        descriptors_from_file(path)
    rain = write_radar(tmp_path / "acrr.h5", np.abs(dbz), quantity="ACRR")
    with pytest.raises(DataFormatError, match="'ACRR', not a reflectivity"):
        descriptors_from_file(rain)
    other = xr.Dataset({"t2m": (("lat", "lon"), np.ones((3, 3)))})
    with pytest.raises(DataFormatError, match=r"not a cloud-top height file.*no variable 'CTH'"):
        descriptors_from_file(write_netcdf(other, tmp_path / "t2m.nc"))
    text = tmp_path / "notes.txt"
    text.write_text("not weather data")
    with pytest.raises(DataFormatError):
        descriptors_from_file(text)


def test_inserted_cells_are_found_exactly_and_overfull_fields_refused():
    rng = np.random.default_rng(0)
    base = np.full((80, 80), 15.0)
    field, sizes = with_convective_cells(base, 5, 3.5, 50.0, rng)
    d = radar_descriptors(field)
    assert d.n_cells == 5 and d.cell_pixels == sizes
    with pytest.raises(DataFormatError, match="no room for 40 cells"):
        with_convective_cells(base, 40, 6, 50.0, rng)
    with pytest.raises(DataFormatError, match="below the convective"):
        with_convective_cells(base, 1, 3, 30.0, rng)
