"""Tests of :mod:`wxai.viz`: offline coastlines, maps, field/point/radar plots, gazetteer."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from wxai.core.assets import resolve, status
from wxai.core.errors import UnknownNameError
from wxai.viz import (
    PROJECTIONS,
    borders,
    coastlines,
    find_place,
    is_land,
    label_cities,
    land_polygons,
    make_map,
    places_in,
    plot_contours,
    plot_field,
    plot_file,
    plot_points,
    plot_radar,
    plot_unstructured,
)

EUROPE = (-25.0, 45.0, 30.0, 72.0)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to download (cartopy Downloader) or open a socket."""
    import cartopy.io

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(cartopy.io.Downloader, "acquire_resource", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _pixels(fig) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    plt.close(fig)
    buf.seek(0)
    return plt.imread(buf)


def _field(name: str = "t2m", units: str = "K") -> xr.DataArray:
    lat = np.arange(70.0, 35.0, -1.0)
    lon = np.arange(-10.0, 30.0, 1.0)
    lo, la = np.meshgrid(lon, lat)
    values = 285.0 - 0.5 * (la - 50) + 3 * np.sin(np.radians(lo * 8))
    return xr.DataArray(
        values[None],
        coords={"time": [np.datetime64("2024-01-01T00")], "latitude": lat, "longitude": lon},
        dims=("time", "latitude", "longitude"),
        name=name,
        attrs={"units": units},
    )


def test_coastline_asset_resolves() -> None:
    path = resolve("coastlines-gshhs")
    assert (path / "gshhs_l.dat").is_file()
    assert (path / "countriesmeta_i.dat").is_file()
    item = {s.name: s for s in status()}["coastlines-gshhs"]
    assert item.ok, item.message


@pytest.mark.parametrize("res", ["c", "l", "i"])
def test_coastlines_and_land_sea(res: str) -> None:
    assert len(coastlines(res).geoms) > 100
    assert len(borders(res).geoms) > 100
    assert len(land_polygons(res)) > 100
    # Berlin, Offenbach, Madrid on land; North Sea, Atlantic, Mediterranean at sea
    lon = np.array([13.4, 8.77, -3.7, 3.0, -30.0, 18.0])
    lat = np.array([52.5, 50.1, 40.4, 55.0, 45.0, 35.0])
    np.testing.assert_array_equal(is_land(lon, lat, res), [True, True, True, False, False, False])


def test_lake_is_water_and_bad_resolution() -> None:
    assert not is_land(-87.0, 44.0, "l")  # Lake Michigan
    with pytest.raises(UnknownNameError, match="did you mean 'l'"):
        coastlines("low")


@pytest.mark.parametrize("projection", PROJECTIONS)
def test_make_map_offline(projection: str, no_network: None) -> None:
    extent = None if projection == "Geostationary" else EUROPE
    fig, ax = make_map(projection, extent, title=projection)
    gids = {c.get_gid() for c in ax.collections}
    assert {"coastlines", "borders"} <= gids
    coast = next(c for c in ax.collections if c.get_gid() == "coastlines")
    assert len(coast.get_segments()) > 50
    assert _pixels(fig).std() > 0


def test_unknown_projection() -> None:
    with pytest.raises(UnknownNameError, match="LambertConformal"):
        make_map("Mercator")


@pytest.mark.parametrize("kind", ["pcolormesh", "contourf", "contour"])
def test_plot_field(kind: str, no_network: None) -> None:
    fig, ax = make_map("PlateCarree", (-10, 30, 35, 70))
    plot_field(ax, _field(), kind=kind)
    cbar_labels = [a.get_ylabel() for a in fig.axes[1:]]
    assert "2 m temperature [°C]" in cbar_labels
    assert _pixels(fig).std() > 0


def test_plot_contours_msl() -> None:
    msl = _field("msl", "Pa") * 0 + 101000.0
    msl = msl + 1200 * np.cos(np.radians(msl.longitude * 9))
    msl.name, msl.attrs["units"] = "msl", "Pa"
    fig, ax = make_map("PlateCarree", (-10, 30, 35, 70))
    cs = plot_contours(ax, msl, interval_hpa=4)
    assert np.all(np.diff(cs.levels) == 4)
    assert cs.levels.min() > 985 and cs.levels.max() < 1025
    assert _pixels(fig).std() > 0


def test_plot_unstructured() -> None:
    from scipy.spatial import ConvexHull

    from wxai.data.grids.icon import IconGrid

    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(400, 3))
    xyz /= np.linalg.norm(xyz, axis=1, keepdims=True)
    simplices = ConvexHull(xyz).simplices
    vlon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    vlat = np.degrees(np.arcsin(xyz[:, 2]))
    centre = xyz[simplices].mean(axis=1)
    clon = np.degrees(np.arctan2(centre[:, 1], centre[:, 0]))
    clat = np.degrees(np.arcsin(centre[:, 2] / np.linalg.norm(centre, axis=1)))
    grid = IconGrid(clon=clon, clat=clat, vlon=vlon, vlat=vlat, vertex_of_cell=simplices)
    fig, ax = make_map("PlateCarree")
    plot_unstructured(ax, grid, 280 + 20 * np.cos(np.radians(clat)), name="t2m")
    assert _pixels(fig).std() > 0


def test_plot_points() -> None:
    fig, ax = make_map("LambertConformal", (-10, 30, 35, 70))
    plot_points(
        ax, [50.1, 52.5, 48.1, np.nan], [8.7, 13.4, 11.6, 0], [3.0, 1.0, np.nan, 2], label="T [°C]"
    )
    assert _pixels(fig).std() > 0


def test_plot_radar() -> None:
    y, x = np.mgrid[0:60, 0:80]
    lat = 47.0 + 0.1 * y
    lon = 5.0 + 0.12 * x
    dbz = 60 * np.exp(-(((x - 40) / 15) ** 2 + ((y - 30) / 10) ** 2)) - 5
    da = xr.DataArray(
        dbz,
        dims=("y", "x"),
        coords={"lon": (("y", "x"), lon), "lat": (("y", "x"), lat)},
        name="dbz",
    )
    fig, ax = make_map("TransverseMercator", (5, 15, 47, 53))
    mesh = plot_radar(ax, da)
    assert mesh.cmap(mesh.norm(0.0))[3] == 0  # no echo transparent
    assert _pixels(fig).std() > 0


def test_gazetteer() -> None:
    offenbach = find_place("Offenbach am Main")
    assert offenbach.country == "Germany"
    assert abs(offenbach.lat - 50.10) < 0.1 and abs(offenbach.lon - 8.77) < 0.1
    berlin = find_place("berlin")
    assert abs(berlin.lat - 52.52) < 0.1 and abs(berlin.lon - 13.40) < 0.1
    assert find_place("Zurich").name == "Zürich"
    with pytest.raises(UnknownNameError, match="did you mean 'Berlin'"):
        find_place("Berlni")
    big = places_in(EUROPE, min_population=2_000_000)
    assert {"London", "Berlin", "Madrid"} <= {p.name for p in big}
    assert [p.population for p in big] == sorted((p.population for p in big), reverse=True)
    fig, ax = make_map("PlateCarree", EUROPE)
    assert len(label_cities(ax, EUROPE, n=5)) == 5
    plt.close(fig)


def test_plot_file_grib(tmp_path: Path) -> None:
    from wxai.data.formats.grib import write_grib

    src = write_grib(_field().rename(time="init_time"), tmp_path / "t2m.grib2")
    png = plot_file(src, out=tmp_path / "out" / "t2m.png")
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = plt.imread(png)
    assert img.std() > 0
    with pytest.raises(UnknownNameError, match="t2m"):
        plot_file(src, var="t2")
