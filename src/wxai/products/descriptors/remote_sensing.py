"""Measured descriptors of a radar reflectivity field and of a cloud-top height field.

These numbers are computed from the data, never read off a picture, so they can be
handed to a language model (or shown to a forecaster) as facts next to a rendered
image. Definitions, all stated in the text a descriptor prints:

Radar reflectivity [dBZ], 2-D, NaN = no data (outside radar coverage):

- *precipitating*: a pixel with data at or above ``rain_dbz`` (default 7 dBZ, about
  0.1 mm/h with Z = 200 R^1.6); coverage is the precipitating fraction of the pixels
  with data;
- max and the 50th/90th/99th percentiles of dBZ over the precipitating pixels;
- *convective*: at or above ``convective_dbz`` (default 40 dBZ); a convective cell
  is a connected component of convective pixels (8-neighbour connectivity,
  :func:`scipy.ndimage.label`); the stratiform fraction is the rest of the
  precipitating area. This is a plain threshold split, not the Steiner et al. (1995)
  background-excess algorithm.

Cloud-top height (CTH) [m above MSL, as :func:`wxai.data.sources.dwd_cth.open_cth`
returns it; km accepted with ``units="km"``], 2-D, NaN = cloud-free:

- cloudy fraction, max and 90th percentile of the cloud tops;
- fraction of all pixels with cloud tops above 3, 6 and 9 km;
- *deep convection*: cloud tops at or above ``deep_km`` (default 10 km, near the
  mid-latitude tropopause); its area and the number of its connected objects.

Areas [km2] are given when the pixel size is known: an explicit ``pixel_area_km2``,
``x``/``y`` coordinates in metres (ODIM composites, constant pixel size), or 1-D
``latitude``/``longitude`` coordinates in degrees (regular lat-lon grids; the pixel
area shrinks with cos(latitude)). Fractions are by pixel count.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import ndimage

from wxai.core.errors import DataFormatError

__all__ = [
    "CONVECTIVE_DBZ",
    "CTH_THRESHOLDS_KM",
    "DEEP_CONVECTION_KM",
    "RAIN_DBZ",
    "CloudTopDescriptors",
    "RadarDescriptors",
    "cloud_top_descriptors",
    "descriptors_from_file",
    "radar_descriptors",
    "with_convective_cells",
]

RAIN_DBZ = 7.0
"""Reflectivity [dBZ] from which a pixel counts as precipitating."""
CONVECTIVE_DBZ = 40.0
"""Reflectivity [dBZ] from which a pixel counts as convective."""
CTH_THRESHOLDS_KM = (3.0, 6.0, 9.0)
"""Cloud-top heights [km above MSL] whose exceedance coverage is reported."""
DEEP_CONVECTION_KM = 10.0
"""Cloud-top height [km above MSL] from which a cloud counts as deep convection."""
NO_ECHO_DBZ = -32.5
"""Value given to ODIM "undetect" pixels (covered by radar, no echo) read from a file."""
_REFLECTIVITY = ("DBZH", "TH", "DBZV", "DBZ")
_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
_EARTH_KM_PER_DEG = 111.2
_MAX_CTH_KM = 25.0


def _field(values: np.ndarray | xr.DataArray, what: str) -> np.ndarray:
    """The field as a 2-D float array; a clear error for other shapes or no data at all."""
    array = np.asarray(values.values if isinstance(values, xr.DataArray) else values, float)
    if array.ndim != 2:
        raise DataFormatError(f"{what} must be a 2-D field (y, x); got shape {array.shape}")
    if array.size == 0 or not np.isfinite(array).any():
        raise DataFormatError(
            f"{what} has no finite value (all NaN, shape {array.shape}): nothing to describe"
        )
    return array


def _pixel_areas(
    field: np.ndarray | xr.DataArray, pixel_area_km2: float | None
) -> np.ndarray | None:
    """Area of each pixel [km2], shape of ``field``, or None when it cannot be known."""
    shape = np.shape(field)
    if pixel_area_km2 is not None:
        if not pixel_area_km2 > 0:
            raise DataFormatError(f"pixel_area_km2 must be positive; got {pixel_area_km2}")
        return np.full(shape, float(pixel_area_km2))
    if not isinstance(field, xr.DataArray):
        return None
    coords = field.coords
    if {"x", "y"} <= set(coords) and coords["x"].attrs.get("units") == "m":
        dx = np.abs(np.diff(coords["x"].values)).mean() if coords["x"].size > 1 else np.nan
        dy = np.abs(np.diff(coords["y"].values)).mean() if coords["y"].size > 1 else np.nan
        return np.full(shape, dx * dy / 1e6) if np.isfinite(dx * dy) else None
    if {"latitude", "longitude"} <= set(coords) and coords["latitude"].ndim == 1:
        lat, lon = coords["latitude"].values, coords["longitude"].values
        if lat.size < 2 or lon.size < 2 or field.dims[-2:] != ("latitude", "longitude"):
            return None
        dlat, dlon = np.abs(np.diff(lat)).mean(), np.abs(np.diff(lon)).mean()
        row = _EARTH_KM_PER_DEG**2 * dlat * dlon * np.cos(np.deg2rad(lat))
        return np.broadcast_to(row[:, None], shape).copy()
    return None


def _objects(
    mask: np.ndarray, areas: np.ndarray | None
) -> tuple[tuple[int, ...], tuple[float, ...] | None]:
    """Sizes [pixels] and areas [km2] of the 8-connected objects of ``mask``, largest first."""
    labels, n = ndimage.label(mask, structure=_EIGHT_NEIGHBOURS)
    if n == 0:
        return (), (() if areas is not None else None)
    index = np.arange(1, n + 1)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    order = np.argsort(-sizes, kind="stable")
    pixels = tuple(int(s) for s in sizes[order])
    if areas is None:
        return pixels, None
    km2 = np.asarray(ndimage.sum_labels(areas, labels, index))[order]
    return pixels, tuple(round(float(a), 3) for a in km2)


def _fmt(value: float | None, unit: str, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} {unit}"


@dataclass(frozen=True)
class RadarDescriptors:
    """Measured descriptors of one reflectivity field (see the module docstring).

    Attributes
    ----------
    n_pixels, n_with_data:
        Pixels in the field and pixels with data (not NaN).
    rain_dbz, convective_dbz:
        Thresholds used [dBZ].
    coverage:
        Precipitating fraction of the pixels with data, 0..1.
    max_dbz, p50_dbz, p90_dbz, p99_dbz:
        Over precipitating pixels [dBZ]; None when nothing precipitates.
    n_cells, cell_pixels, cell_areas_km2:
        Convective cells: count, sizes [pixels] and areas [km2] (None when the pixel
        size is unknown), largest first.
    convective_fraction, stratiform_fraction:
        Shares of the precipitating area (pixel count), summing to 1; 0 when dry.
    precipitating_area_km2:
        Area of the precipitating pixels [km2], or None.
    """

    n_pixels: int
    n_with_data: int
    rain_dbz: float
    convective_dbz: float
    coverage: float
    max_dbz: float | None
    p50_dbz: float | None
    p90_dbz: float | None
    p99_dbz: float | None
    n_cells: int
    cell_pixels: tuple[int, ...]
    cell_areas_km2: tuple[float, ...] | None
    convective_fraction: float
    stratiform_fraction: float
    precipitating_area_km2: float | None

    def as_dict(self) -> dict:
        """Plain dict (JSON-ready: tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def text(self) -> str:
        """The descriptors in words, labelled as measured from the data."""
        lines = [
            "Radar reflectivity, MEASURED from the data (not read from an image):",
            f"- precipitation (>= {self.rain_dbz:g} dBZ) covers {self.coverage:.1%} of the "
            f"{self.n_with_data} pixels with radar data"
            + (
                f" ({self.precipitating_area_km2:.0f} km2)"
                if self.precipitating_area_km2 is not None
                else ""
            ),
        ]
        if self.max_dbz is None:
            lines.append("- no pixel reaches the precipitation threshold")
        else:
            lines.append(
                f"- reflectivity over precipitating pixels: max {self.max_dbz:.1f} dBZ, "
                f"median {self.p50_dbz:.1f}, 90th percentile {self.p90_dbz:.1f}, "
                f"99th percentile {self.p99_dbz:.1f} dBZ"
            )
        areas = self.cell_areas_km2 or (None,) * self.n_cells
        sizes = ", ".join(
            f"{p} px" + ("" if a is None else f" ({a:.0f} km2)")
            for p, a in zip(self.cell_pixels, areas, strict=True)
        )
        lines.append(
            f"- convective cells (connected areas >= {self.convective_dbz:g} dBZ): "
            f"{self.n_cells}" + (f", sizes {sizes}" if self.n_cells else "")
        )
        lines.append(
            f"- precipitating area by threshold: {self.convective_fraction:.1%} convective "
            f"(>= {self.convective_dbz:g} dBZ), {self.stratiform_fraction:.1%} stratiform"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class CloudTopDescriptors:
    """Measured descriptors of one cloud-top height field (see the module docstring).

    Attributes
    ----------
    n_pixels:
        Pixels in the field.
    cloudy_fraction:
        Fraction of pixels with a cloud top (not NaN), 0..1.
    max_km, p90_km:
        Highest and 90th-percentile cloud top [km above MSL].
    thresholds_km, coverage_above:
        Heights [km] and the fraction of all pixels with cloud tops at or above each.
    deep_convection_km:
        Threshold of deep convection [km].
    deep_fraction, deep_area_km2, n_deep_objects:
        Fraction of all pixels at or above it, their area [km2] (None when the pixel
        size is unknown) and the number of 8-connected deep-convective objects.
    """

    n_pixels: int
    cloudy_fraction: float
    max_km: float
    p90_km: float
    thresholds_km: tuple[float, ...]
    coverage_above: tuple[float, ...]
    deep_convection_km: float
    deep_fraction: float
    deep_area_km2: float | None
    n_deep_objects: int

    def as_dict(self) -> dict:
        """Plain dict (JSON-ready: tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def text(self) -> str:
        """The descriptors in words, labelled as measured from the data."""
        above = ", ".join(
            f">= {h:g} km: {f:.1%}"
            for h, f in zip(self.thresholds_km, self.coverage_above, strict=True)
        )
        area = "" if self.deep_area_km2 is None else f", {self.deep_area_km2:.0f} km2"
        return "\n".join(
            [
                "Cloud-top height, MEASURED from the data (not read from an image):",
                f"- cloud tops present over {self.cloudy_fraction:.1%} of {self.n_pixels} pixels; "
                f"highest {self.max_km:.1f} km, 90th percentile {self.p90_km:.1f} km above MSL",
                f"- share of all pixels with cloud tops {above}",
                f"- deep convection (cloud tops >= {self.deep_convection_km:g} km): "
                f"{self.deep_fraction:.1%} of pixels{area}, {self.n_deep_objects} separate "
                "object(s)",
            ]
        )


def radar_descriptors(
    dbz: np.ndarray | xr.DataArray,
    *,
    rain_dbz: float = RAIN_DBZ,
    convective_dbz: float = CONVECTIVE_DBZ,
    pixel_area_km2: float | None = None,
) -> RadarDescriptors:
    """Coverage, dBZ statistics and convective cells of a reflectivity field.

    Parameters
    ----------
    dbz:
        Reflectivity [dBZ], shape (ny, nx); NaN = no data. Dry pixels inside radar
        coverage must hold a value below ``rain_dbz`` (e.g. ``NO_ECHO_DBZ``), not NaN.
        A DataArray with ``x``/``y`` [m] or 1-D ``latitude``/``longitude`` gives areas.
    rain_dbz, convective_dbz:
        Thresholds [dBZ]; ``convective_dbz`` must exceed ``rain_dbz``.
    pixel_area_km2:
        Pixel area [km2]; overrides what the coordinates say.

    Raises
    ------
    DataFormatError
        The field is not 2-D, has no finite value, or the thresholds are not ordered.
    """
    values = _field(dbz, "radar reflectivity")
    if not convective_dbz > rain_dbz:
        raise DataFormatError(
            f"convective_dbz ({convective_dbz}) must be above rain_dbz ({rain_dbz})"
        )
    areas = _pixel_areas(dbz, pixel_area_km2)
    with_data = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        rain = with_data & (values >= rain_dbz)
        convective = with_data & (values >= convective_dbz)
    n_rain = int(rain.sum())
    if n_rain:
        p50, p90, p99 = (float(p) for p in np.percentile(values[rain], [50, 90, 99]))
        peak = float(values[rain].max())
    else:
        peak = p50 = p90 = p99 = None
    pixels, km2 = _objects(convective, areas)
    conv_fraction = float(convective.sum()) / n_rain if n_rain else 0.0
    return RadarDescriptors(
        n_pixels=int(values.size),
        n_with_data=int(with_data.sum()),
        rain_dbz=float(rain_dbz),
        convective_dbz=float(convective_dbz),
        coverage=n_rain / int(with_data.sum()),
        max_dbz=peak,
        p50_dbz=p50,
        p90_dbz=p90,
        p99_dbz=p99,
        n_cells=len(pixels),
        cell_pixels=pixels,
        cell_areas_km2=km2,
        convective_fraction=conv_fraction,
        stratiform_fraction=1.0 - conv_fraction if n_rain else 0.0,
        precipitating_area_km2=None if areas is None else float(areas[rain].sum()),
    )


def _cth_units(cth: np.ndarray | xr.DataArray, units: str | None) -> str:
    if units is None:
        units = cth.attrs.get("units", "m") if isinstance(cth, xr.DataArray) else "m"
    if units not in ("m", "km"):
        raise DataFormatError(f"cloud-top height units must be 'm' or 'km'; got {units!r}")
    return units


def cloud_top_descriptors(
    cth: np.ndarray | xr.DataArray,
    *,
    units: str | None = None,
    thresholds_km: tuple[float, ...] = CTH_THRESHOLDS_KM,
    deep_km: float = DEEP_CONVECTION_KM,
    pixel_area_km2: float | None = None,
) -> CloudTopDescriptors:
    """Coverage above heights and deep convection of a cloud-top height field.

    Parameters
    ----------
    cth:
        Cloud-top height above MSL, shape (ny, nx); NaN = cloud-free.
    units:
        ``"m"`` or ``"km"``; default the DataArray's ``units`` attribute, else m.
    thresholds_km, deep_km:
        Heights [km] for the coverage figures and for deep convection.
    pixel_area_km2:
        Pixel area [km2]; overrides what the coordinates say.

    Raises
    ------
    DataFormatError
        The field is not 2-D, is all NaN (a cloud-free scene cannot be told from a
        field without data), has unknown units, or heights beyond 25 km (wrong units).
    """
    values = _field(cth, "cloud-top height")
    km = values / 1000.0 if _cth_units(cth, units) == "m" else values
    cloudy = np.isfinite(km)
    top = float(km[cloudy].max())
    if top > _MAX_CTH_KM:
        raise DataFormatError(
            f"cloud-top height reaches {top:.1f} km, above {_MAX_CTH_KM:g} km: "
            "are the units right (m vs km)?"
        )
    areas = _pixel_areas(cth, pixel_area_km2)
    with np.errstate(invalid="ignore"):
        coverage = tuple(float((cloudy & (km >= h)).mean()) for h in thresholds_km)
        deep = cloudy & (km >= deep_km)
    pixels, _ = _objects(deep, None)
    return CloudTopDescriptors(
        n_pixels=int(km.size),
        cloudy_fraction=float(cloudy.mean()),
        max_km=top,
        p90_km=float(np.percentile(km[cloudy], 90)),
        thresholds_km=tuple(float(h) for h in thresholds_km),
        coverage_above=coverage,
        deep_convection_km=float(deep_km),
        deep_fraction=float(deep.mean()),
        deep_area_km2=None if areas is None else float(areas[deep].sum()),
        n_deep_objects=len(pixels),
    )


def descriptors_from_file(path: str | os.PathLike) -> RadarDescriptors | CloudTopDescriptors:
    """Descriptors of an ODIM_H5 reflectivity composite or a CTH NetCDF file.

    ODIM "undetect" pixels (no echo) are read as :data:`NO_ECHO_DBZ`, "nodata" as NaN.

    Raises
    ------
    DataFormatError
        The file is neither, or lacks the expected dataset (``dataset1/data1`` with a
        reflectivity quantity; the ``CTH`` variable); the message names the file.
    """
    from wxai.data.formats import sniff_format

    p = Path(path)
    kind = sniff_format(p)
    if kind == "odim":
        from wxai.data.formats.odim import read_odim

        try:
            dbz = read_odim(p, undetect_value=NO_ECHO_DBZ)
        except DataFormatError as exc:
            raise DataFormatError(
                f"{p.name}: radar file without the expected reflectivity dataset ({exc})"
            ) from None
        quantity = dbz.attrs.get("quantity", "")
        if quantity not in _REFLECTIVITY:
            raise DataFormatError(
                f"{p.name}: dataset1/data1 holds {quantity!r}, not a reflectivity "
                f"({', '.join(_REFLECTIVITY)})"
            )
        return radar_descriptors(dbz)
    if kind == "netcdf":
        from wxai.data.sources.dwd_cth import open_cth

        try:
            ds = open_cth(p)
        except DataFormatError as exc:
            raise DataFormatError(
                f"{p.name}: not a cloud-top height file wxai can describe ({exc})"
            ) from None
        return cloud_top_descriptors(ds["CTH"])
    raise DataFormatError(
        f"{p.name}: a {kind} file; descriptors need an ODIM_H5 radar composite or a CTH NetCDF"
    )


def with_convective_cells(
    dbz: np.ndarray | xr.DataArray,
    n_cells: int,
    radius_px: float,
    cell_dbz: float,
    rng: np.random.Generator,
    *,
    convective_dbz: float = CONVECTIVE_DBZ,
) -> tuple[np.ndarray | xr.DataArray, tuple[int, ...]]:
    """A copy of ``dbz`` with ``n_cells`` discs of ``cell_dbz`` at random places: known cells.

    Each disc (pixels within ``radius_px`` of its centre) lies wholly inside radar
    data, and no two discs, nor a disc and an existing pixel at or above
    ``convective_dbz``, come within one pixel of each other, so the 8-connected cells
    of the result are exactly the discs (plus any cells the field had before).

    Returns
    -------
    (field, sizes):
        The field (same coordinates) and the discs' sizes [pixels], largest first.

    Raises
    ------
    DataFormatError
        ``cell_dbz`` below ``convective_dbz`` or no room for ``n_cells`` discs.
    """
    if cell_dbz < convective_dbz:
        raise DataFormatError(f"cell_dbz {cell_dbz} is below the convective {convective_dbz}")
    values = _field(dbz, "radar reflectivity").copy()
    r = int(np.ceil(radius_px))
    rows, cols = np.indices(values.shape)
    with np.errstate(invalid="ignore"):
        blocked = ~np.isfinite(values) | (values >= convective_dbz)
    # a centre is free when its (2r+3)-square holds neither no-data nor convection
    free = ~ndimage.maximum_filter(blocked, size=2 * r + 3, mode="constant", cval=True)
    sizes = []
    for _ in range(n_cells):
        candidates = np.flatnonzero(free)
        if candidates.size == 0:
            raise DataFormatError(f"no room for {n_cells} cells of radius {radius_px} px")
        y, x = np.unravel_index(rng.choice(candidates), values.shape)
        disc = np.hypot(rows - y, cols - x) <= radius_px
        values[disc] = cell_dbz
        sizes.append(int(disc.sum()))
        free &= ~(np.hypot(rows - y, cols - x) <= 2 * r + 2)
    field = dbz.copy(data=values) if isinstance(dbz, xr.DataArray) else values
    return field, tuple(sorted(sizes, reverse=True))
