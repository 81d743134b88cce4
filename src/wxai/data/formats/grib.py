"""GRIB: list messages, read whole files into xarray trees, write GRIB2 from xarray.

Readers index every message once with ecCodes (see :mod:`.grib_index` and
:mod:`.grib_cube`) and turn failures into :class:`~wxai.core.errors.DataFormatError`
naming the file and what is wrong. The writer starts every message from the
eccodes ``GRIB2`` sample and sets the keys for a regular lat/lon grid
(template 3.0) or an ICON unstructured grid (template 3.101).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import xarray as xr

from wxai.core.errors import DataFormatError, UnknownNameError, WxaiWarning
from wxai.data.formats._common import atomic_path, existing_file, too_large
from wxai.data.formats.grib_cube import build_group_dataset
from wxai.data.formats.grib_index import _eccodes, plan_groups, scan_messages
from wxai.vocab import from_source, get_variable

__all__ = [
    "GribLayoutWarning",
    "UnstructuredGrid",
    "append_grib",
    "gaussian_latitudes",
    "grib_variable",
    "list_messages",
    "read_grib",
    "read_grib_dataset",
    "write_grib",
]

#: Files larger than this are read lazily by default (fields decoded on access).
LAZY_BYTES = 512 * 2**20

#: Keys reported by :func:`list_messages` (each where the message defines it).
MESSAGE_KEYS: tuple[str, ...] = (
    "shortName",
    "paramId",
    "name",
    "units",
    "typeOfLevel",
    "level",
    "step",
    "stepRange",
    "dataDate",
    "dataTime",
    "validityDate",
    "validityTime",
    "number",
    "gridType",
    "numberOfValues",
    "Ni",
    "Nj",
    "edition",
    "packingType",
)

#: cfgrib's dimension names -> wxai's fixed dimension names.
CANONICAL_DIMS = {
    "number": "member",
    "time": "init_time",
    "step": "lead_time",
    "values": "cell",
}
_PACKING = {
    "simple": "grid_simple",
    "grid_simple": "grid_simple",
    "ccsds": "grid_ccsds",
    "grid_ccsds": "grid_ccsds",
}
_MISSING = 9.999e20


# --------------------------------------------------------------------------- reading


def list_messages(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Header keys of every message in a GRIB file (values are not decoded).

    Parameters
    ----------
    path:
        A GRIB1 or GRIB2 file.

    Returns
    -------
    list of dict
        One dict per message, in file order, with the keys of
        :data:`MESSAGE_KEYS` that the message defines (``validityDate/Time``,
        ``number``, ``Ni``/``Nj`` only where present) plus ``index`` (0-based).

    Raises
    ------
    DataFormatError
        If the file holds no GRIB message, or a message is corrupt or truncated.
    """
    ec = _eccodes()
    p = existing_file(path)
    out: list[dict[str, Any]] = []
    with p.open("rb") as f:
        while True:
            try:
                h = ec.codes_grib_new_from_file(f)
            except ec.GribInternalError as exc:
                raise DataFormatError(
                    f"{p}: GRIB message {len(out)} (at byte {f.tell()}) is corrupt or "
                    f"truncated: {exc}"
                ) from exc
            if h is None:
                break
            try:
                row: dict[str, Any] = {"index": len(out)}
                for key in MESSAGE_KEYS:
                    if ec.codes_is_defined(h, key) and not ec.codes_is_missing(h, key):
                        row[key] = ec.codes_get(h, key)
                out.append(row)
            except ec.GribInternalError as exc:
                raise DataFormatError(f"{p}: GRIB message {len(out)}: {exc}") from exc
            finally:
                ec.codes_release(h)
    if not out:
        raise DataFormatError(f"{p}: no GRIB message found (not a GRIB file, or empty)")
    return out


def read_grib(
    path: str | os.PathLike,
    *,
    filter_by_keys: dict[str, Any] | None = None,
    canonical_dims: bool = True,
    lazy: bool | None = None,
    **filters: Any,
) -> xr.DataTree:
    """Read every message of a GRIB file into an xarray tree, one node per level type and grid.

    Messages are indexed once with ecCodes and grouped into hypercubes by level
    type and grid, then by parameter; variables keep their own level, step,
    time or member coordinates where they differ (``level`` and ``level_2``).
    A file that forms one group is returned with its data at the root, like a
    NetCDF file without groups; otherwise each group is a child node named after
    its level type (``tree["isobaricInhPa"]``), with the grid appended where a
    level type comes on several grids. Hypercubes that cfgrib can build come out
    with the same values, coordinates and attributes.

    Parameters
    ----------
    path:
        A GRIB1 or GRIB2 file (regular_ll, regular_gg, reduced and rotated
        grids, Lambert, polar stereographic, ICON unstructured, spherical
        harmonics, ...).
    filter_by_keys:
        Keep only messages with these ecCodes key values, e.g.
        ``{"typeOfLevel": "isobaricInhPa", "shortName": ["u", "v"]}``.
    canonical_dims:
        Rename dimensions to wxai's: ``number`` -> ``member``, ``time`` ->
        ``init_time``, ``step`` -> ``lead_time``, ``values`` -> ``cell``, and a
        vertical dimension such as ``isobaricInhPa`` -> ``level`` (its
        ``typeOfLevel`` kept in the ``GRIB_typeOfLevel`` attribute); numbered
        variants keep their number (``step_2`` -> ``lead_time_2``).
    lazy:
        Decode fields on demand instead of reading everything into memory. The
        default (None) is lazy for files over :data:`LAZY_BYTES`.
    **filters:
        More filter keys, merged into ``filter_by_keys``.

    Returns
    -------
    xr.DataTree
        Variables named as cfgrib names them (``t2m``, ``z``), float32 values
        with NaN for missing points, ``GRIB_*`` and CF attributes. Each node's
        ``wxai_layout_notes`` attribute, when present, lists duplicate messages
        (the first is kept) and incomplete hypercubes (filled with NaN).

    Raises
    ------
    DataFormatError
        On a corrupt, truncated or non-GRIB file, or when no message matches
        the filter.
    DataTooLargeError
        (a ``MemoryError``) when the decoded fields do not fit in memory; the
        message names the file and suggests ``lazy=True``.
    """
    p = existing_file(path)
    keys = {**(filter_by_keys or {}), **filters}
    if lazy is None:
        lazy = p.stat().st_size > LAZY_BYTES
    try:
        messages, values = scan_messages(p, decode=not lazy, filter_by_keys=keys)
    except MemoryError as exc:
        raise too_large(p, exc, lazy_hint="read it with read_grib(path, lazy=True)") from exc
    if not messages:
        raise DataFormatError(f"{p}: no GRIB message matches the filter {keys}")
    nodes: dict[str, xr.Dataset] = {}
    geo_cache: dict[str, Any] = {}
    for group in plan_groups(messages):
        raw, notes = build_group_dataset(p, group, values, geo_cache)
        ds = xr.decode_cf(raw, decode_timedelta=True)
        if notes:
            ds.attrs["wxai_layout_notes"] = notes
            warnings.warn(
                f"{p.name}, group {group.name}: "
                + "; ".join(notes[:3])
                + (f" (and {len(notes) - 3} more)" if len(notes) > 3 else ""),
                GribLayoutWarning,
                stacklevel=2,
            )
        nodes[group.name] = _canonical_dims(ds, group.type_of_level) if canonical_dims else ds
    if len(nodes) == 1:
        return xr.DataTree(next(iter(nodes.values())))
    tree = xr.DataTree.from_dict({f"/{name}": ds for name, ds in nodes.items()})
    tree.attrs.update(_common_attrs(list(nodes.values())))
    return tree


def read_grib_dataset(path: str | os.PathLike, **kwargs: Any) -> xr.Dataset:
    """:func:`read_grib` for a selection that forms one group: that group's Dataset.

    Raises
    ------
    DataFormatError
        If the selected messages form several groups; the message lists them
        with the ``typeOfLevel`` filter that picks each.
    """
    tree = read_grib(path, **kwargs)
    if tree.children:
        groups = ", ".join(
            f"{name} (typeOfLevel={_type_of_level(node.to_dataset())!r})"
            for name, node in tree.children.items()
        )
        raise DataFormatError(
            f"{path}: the selected messages form several groups: {groups}. "
            "Select one with typeOfLevel=..., or use read_grib() for the whole tree."
        )
    return tree.to_dataset()


def grib_variable(
    tree: xr.DataTree,
    name: str | None = None,
    *,
    level: float | None = None,
    level_type: str | None = None,
) -> xr.DataArray:
    """One variable of a tree from :func:`read_grib`, found by name and level.

    Parameters
    ----------
    tree:
        From :func:`read_grib`.
    name:
        The variable's name in the tree (``t2m``), its GRIB ``shortName``
        (``2t``) or a canonical wxai name that implies a level (``z500``, see
        :mod:`wxai.vocab`); None takes the first variable.
    level:
        Keep only the variable on this level (in its level type's units, hPa,
        m, model level).
    level_type:
        Keep only the variable on this ecCodes ``typeOfLevel`` (``hybrid``,
        ``isobaricInhPa``); needed when the name exists on several level types.

    Returns
    -------
    xr.DataArray
        Selected at ``level`` when given (the level becomes a scalar coordinate).

    Raises
    ------
    UnknownNameError
        For a name that is in no group, listing the names there are.
    DataFormatError
        When the name and level still match several variables; the message
        lists them with their levels.
    """
    found: list[tuple[str, xr.DataArray, float | None]] = []
    known: set[str] = set()
    for node in tree.subtree:
        for var_name in node.to_dataset(inherit=False).data_vars:
            da = node[str(var_name)]
            short = str(da.attrs.get("GRIB_shortName", var_name))
            known |= {str(var_name), short}
            if level_type is not None and da.attrs.get("GRIB_typeOfLevel") != level_type:
                continue
            implied = _implied_level(short, da, name)
            if name is None or name in (var_name, short) or implied is not None:
                found.append((node.path, da, implied if implied is not None else level))
    if not found and level_type is not None and name in known:
        raise DataFormatError(f"no {name!r} on level type {level_type!r}")
    if not found:
        raise UnknownNameError("GRIB variable", str(name), known)
    matches = []
    for path, da, wanted in found:
        coord = _level_coord(da)
        if wanted is None:
            matches.append((path, da))
        elif coord is not None and wanted in np.atleast_1d(da[coord].values):
            matches.append((path, da.sel({coord: wanted}) if coord in da.dims else da))
    if not matches:
        levels = {
            f"{p} {da.name}": np.atleast_1d(da[c].values).tolist()
            for p, da, _ in found
            if (c := _level_coord(da)) is not None
        }
        raise DataFormatError(f"no {name!r} on level {level}; levels there are: {levels}")
    if len(matches) > 1 and name is not None:
        where = ", ".join(f"{p} ({_type_of_level(da.to_dataset())})" for p, da in matches)
        raise DataFormatError(
            f"{name!r} is in several groups: {where}; choose one by its level type "
            "(level_type=..., --level-type in the CLI) or its level"
        )
    return matches[0][1]


def _level_coord(da: xr.DataArray) -> str | None:
    """Name of the variable's vertical coordinate (``level``, ``isobaricInhPa_2``, ...)."""
    bases = {"level", str(da.attrs.get("GRIB_typeOfLevel", "level"))}
    for name in (*da.dims, *da.coords):
        base, _, number = str(name).rpartition("_")
        if str(name) in bases or (number.isdigit() and base in bases):
            return str(name)
    return None


def _implied_level(short_name: str, da: xr.DataArray, name: str | None) -> float | None:
    """The level a canonical name such as ``z500`` implies for this variable, if any."""
    coord = _level_coord(da)
    if name is None or coord is None:
        return None
    for value in np.atleast_1d(da[coord].values):
        try:
            canonical = from_source("ifs", short_name, float(value)).name
        except UnknownNameError:
            return None
        if canonical == name and canonical != short_name:
            return float(value)
    return None


def _type_of_level(ds: xr.Dataset) -> str:
    for da in ds.data_vars.values():
        return str(da.attrs.get("GRIB_typeOfLevel", "unknown"))
    return "unknown"


class GribLayoutWarning(WxaiWarning):
    """A GRIB file has duplicate messages or incomplete hypercubes (still read)."""


def _common_attrs(datasets: list[xr.Dataset]) -> dict[str, Any]:
    first = datasets[0].attrs
    return {
        k: v
        for k, v in first.items()
        if not k.startswith("wxai_") and all(ds.attrs.get(k) == v for ds in datasets[1:])
    }


def _canonical_dims(ds: xr.Dataset, type_of_level: str) -> xr.Dataset:
    """Rename cfgrib's dimension names to wxai's (see :func:`read_grib`)."""
    names: dict[str, str] = {}
    for name in list(ds.dims) + list(ds.coords):
        base, _, number = str(name).partition("_")
        suffix = f"_{number}" if number.isdigit() else ""
        if not suffix:
            base = str(name)
        if base in CANONICAL_DIMS:
            names[str(name)] = CANONICAL_DIMS[base] + suffix
        elif base == type_of_level and name in ds.dims and "level" + suffix not in ds.variables:
            names[str(name)] = "level" + suffix
    ds = ds.rename(names)
    for new in names.values():
        if new.startswith("level"):
            ds[new].attrs["GRIB_typeOfLevel"] = type_of_level
    return ds


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class UnstructuredGrid:
    """An ICON horizontal grid, as referenced by GRIB2 template 3.101.

    Attributes
    ----------
    number_of_grid_used:
        ICON grid number (``numberOfGridUsed``), e.g. 26 for the global R03B07 grid.
    number_of_grid_in_reference:
        ``numberOfGridInReference`` (1 for the cell-centre grid).
    uuid:
        ``uuidOfHGrid``, 32 hex digits (dashes allowed).
    """

    number_of_grid_used: int
    number_of_grid_in_reference: int
    uuid: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-fA-F]{32}", self.uuid.replace("-", "")):
            raise DataFormatError(f"uuidOfHGrid must be 32 hex digits, got {self.uuid!r}")


def _grib_param(name: str, da: xr.DataArray) -> tuple[int, str, int | None, float]:
    """(paramId, typeOfLevel, fixed level or None, factor canonical->native) for a variable."""
    if "GRIB_paramId" in da.attrs:
        pid = int(da.attrs["GRIB_paramId"])
        type_of_level = str(da.attrs.get("GRIB_typeOfLevel", ""))
        try:
            var = from_source("ifs", pid)
        except UnknownNameError:
            return pid, type_of_level, None, 1.0
        return pid, type_of_level or var.level_type, var.level, 1.0
    try:
        var = get_variable(name)
    except UnknownNameError:
        try:
            var = from_source("ifs", name)
        except UnknownNameError:
            raise UnknownNameError("variable (GRIB writable)", name, _writable()) from None
        entry = var.in_source("ifs")
        return int(entry.param_id or 0), var.level_type, var.level, 1.0
    entry = var.sources.get("ifs")
    if entry is None or entry.param_id is None:
        raise UnknownNameError("variable (GRIB writable)", name, _writable())
    return entry.param_id, var.level_type, var.level, 1.0 / entry.factor


def _writable() -> list[str]:
    from wxai.vocab import list_variables

    return [v.name for v in list_variables() if "ifs" in v.sources]


def _regular_ll_keys(lat: np.ndarray, lon: np.ndarray) -> dict[str, Any]:
    if lat.size < 2 or lon.size < 2:
        raise DataFormatError("a regular lat/lon grid needs at least 2 latitudes and 2 longitudes")
    dlat, dlon = np.diff(lat), np.diff(lon)
    if not (np.allclose(dlat, dlat[0], atol=1e-6) and np.allclose(dlon, dlon[0], atol=1e-6)):
        raise DataFormatError("latitude/longitude are not equally spaced: not a regular_ll grid")
    if dlon[0] <= 0:
        raise DataFormatError("longitude must increase (sort the data by longitude first)")
    return {
        "Ni": int(lon.size),
        "Nj": int(lat.size),
        "iScansNegatively": 0,
        "jScansPositively": int(dlat[0] > 0),
        "latitudeOfFirstGridPointInDegrees": float(lat[0]),
        "longitudeOfFirstGridPointInDegrees": float(lon[0]),
        "latitudeOfLastGridPointInDegrees": float(lat[-1]),
        "longitudeOfLastGridPointInDegrees": float(lon[-1]),
        "iDirectionIncrementInDegrees": float(abs(dlon[0])),
        "jDirectionIncrementInDegrees": float(abs(dlat[0])),
    }


def gaussian_latitudes(n_lat: int) -> np.ndarray:
    """Latitudes [degrees], north to south, of the regular Gaussian grid with ``n_lat`` rows."""
    nodes = np.polynomial.legendre.leggauss(n_lat)[0]
    return np.rad2deg(np.arcsin(nodes))[::-1]


def _horizontal_keys(lat: np.ndarray, lon: np.ndarray) -> dict[str, Any]:
    """Grid keys of a regular lat/lon (template 3.0) or regular Gaussian (3.40) grid."""
    dlat = np.diff(lat)
    if lat.size % 2 == 0 and lat.size >= 2 and not np.allclose(dlat, dlat[0], atol=1e-6):
        gauss = gaussian_latitudes(lat.size)
        if np.allclose(np.sort(lat)[::-1], gauss, atol=1e-4):
            keys = _regular_ll_keys(np.linspace(lat[0], lat[-1], lat.size), lon)
            del keys["jDirectionIncrementInDegrees"]
            return {"gridType": "regular_gg", "N": lat.size // 2, **keys}
    return _regular_ll_keys(lat, lon)


def _step_hours(value: Any) -> int:
    td = np.asarray(value).astype("timedelta64[s]").astype(np.int64)
    if td % 3600:
        raise DataFormatError(f"lead time {value} is not a whole number of hours")
    return int(td // 3600)


def _date_time(value: Any) -> tuple[int, int]:
    t = np.datetime64(value, "m").astype(object)
    return t.year * 10000 + t.month * 100 + t.day, t.hour * 100 + t.minute


def write_grib(
    data: xr.Dataset | xr.DataArray,
    path: str | os.PathLike,
    *,
    packing: str = "grid_simple",
    bits_per_value: int = 16,
    type_of_level: str | None = None,
    grid: UnstructuredGrid | None = None,
    centre: str = "ecmf",
) -> Path:
    """Write GRIB2 messages from xarray, one per (init time, lead time, level, variable).

    Parameters
    ----------
    data:
        Variables named canonically (``t2m``, ``z500``, ``z``; see
        :mod:`wxai.vocab`) or carrying cfgrib's ``GRIB_paramId`` attribute,
        values in canonical units (converted to the paramId's units).
        Horizontal dims: ``(latitude, longitude)`` with equally spaced 1D
        coordinates [degrees] for a regular lat/lon grid, or ``(cell,)`` for
        an ICON grid (``grid`` required). Optional dims/coords:
        ``init_time`` (or ``time``) datetime64, ``lead_time`` (or ``step``)
        timedelta64 in whole hours, ``level`` (or ``isobaricInhPa``) in the
        level type's units (hPa, m). NaN values are written through a bitmap.
    path:
        Output file, written atomically.
    packing:
        ``"grid_simple"`` or ``"grid_ccsds"`` (``"simple"``/``"ccsds"`` accepted).
    bits_per_value:
        Packing precision; the absolute error is at most
        ``(max - min) / 2**bits_per_value`` per field.
    type_of_level:
        Override the eccodes ``typeOfLevel`` (default: from the vocabulary).
    grid:
        The ICON grid for ``cell`` data (template 3.101).
    centre:
        Originating centre (``"ecmf"``, ``"edzw"``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DataFormatError
        For grids or dimensions GRIB2 cannot take.
    UnknownNameError
        For a variable without a GRIB paramId.
    """
    ds = data.to_dataset(name=data.name or "data") if isinstance(data, xr.DataArray) else data
    packing_type = _PACKING.get(packing)
    if packing_type is None:
        raise UnknownNameError("packing", packing, _PACKING)
    with atomic_path(path) as tmp, tmp.open("wb") as out:
        _write_messages(ds, out, packing_type, bits_per_value, type_of_level, grid, centre)
    return Path(path)


def append_grib(
    data: xr.Dataset | xr.DataArray,
    out: BinaryIO,
    *,
    packing: str = "grid_simple",
    bits_per_value: int = 16,
    type_of_level: str | None = None,
    grid: UnstructuredGrid | None = None,
    centre: str = "ecmf",
) -> None:
    """:func:`write_grib` to an open binary file: appends the messages of ``data``.

    A GRIB file is a sequence of messages, so a forecast can be streamed one step
    at a time; the caller owns the file and its atomic rename.
    """
    ds = data.to_dataset(name=data.name or "data") if isinstance(data, xr.DataArray) else data
    packing_type = _PACKING.get(packing)
    if packing_type is None:
        raise UnknownNameError("packing", packing, _PACKING)
    _write_messages(ds, out, packing_type, bits_per_value, type_of_level, grid, centre)


def _write_messages(ds, out, packing_type, bits, type_of_level, grid, centre):  # noqa: PLR0917
    ec = _eccodes()
    ds = ds.rename(
        {k: v for k, v in {"time": "init_time", "step": "lead_time"}.items() if k in ds.variables}
    )
    if "isobaricInhPa" in ds.variables and "level" not in ds.variables:
        ds = ds.rename({"isobaricInhPa": "level"})
    for name, da in ds.data_vars.items():
        for handle in _messages(ec, str(name), da, packing_type, bits, type_of_level, grid, centre):
            try:
                ec.codes_write(handle, out)
            finally:
                ec.codes_release(handle)


def _messages(ec, name, da, packing_type, bits, type_of_level, grid, centre):  # noqa: PLR0917
    param_id, level_type, fixed_level, factor = _grib_param(name, da)
    level_type = type_of_level or level_type or "surface"
    if "cell" in da.dims:
        if grid is None:
            raise DataFormatError(f"{name}: data on 'cell' needs grid=UnstructuredGrid(...)")
        horiz: tuple[str, ...] = ("cell",)
        grid_keys: dict[str, Any] = {}
    elif "latitude" in da.dims and "longitude" in da.dims:
        horiz = ("latitude", "longitude")
        grid_keys = _horizontal_keys(da["latitude"].values, da["longitude"].values)
    else:
        raise DataFormatError(
            f"{name}: needs dims (latitude, longitude) or (cell,), has {tuple(da.dims)}"
        )
    outer = [d for d in da.dims if d not in horiz]
    unknown = [d for d in outer if d not in ("init_time", "lead_time", "level", "member")]
    if unknown:
        raise DataFormatError(f"{name}: dimension(s) {unknown} cannot be written to GRIB")
    da = da.transpose(*outer, *horiz)
    for idx in np.ndindex(*[da.sizes[d] for d in outer]):
        field = da[dict(zip(outer, idx, strict=True))]
        h = ec.codes_grib_new_from_samples("GRIB2")
        ec.codes_set(h, "centre", centre)
        if grid is not None and horiz == ("cell",):
            ec.codes_set(h, "gridDefinitionTemplateNumber", 101)
            ec.codes_set(h, "numberOfDataPoints", int(field.size))
            ec.codes_set(h, "numberOfGridUsed", grid.number_of_grid_used)
            ec.codes_set(h, "numberOfGridInReference", grid.number_of_grid_in_reference)
            ec.codes_set_string(h, "uuidOfHGrid", grid.uuid.replace("-", "").lower())
        else:
            for key, value in grid_keys.items():
                ec.codes_set(h, key, value)
        if "init_time" in field.coords:
            date, time = _date_time(field["init_time"].values)
            ec.codes_set(h, "dataDate", date)
            ec.codes_set(h, "dataTime", time)
        ec.codes_set(h, "paramId", param_id)
        ec.codes_set(h, "typeOfLevel", level_type)
        level = field["level"].values if "level" in field.coords else fixed_level
        if level is not None:
            ec.codes_set(h, "level", float(level) if level_type != "isobaricInhPa" else int(level))
        if "member" in field.coords:
            instant = ec.codes_get(h, "stepType") == "instant"
            ec.codes_set(h, "productDefinitionTemplateNumber", 1 if instant else 11)
            ec.codes_set(h, "numberOfForecastsInEnsemble", int(da.sizes.get("member", 1)))
            ec.codes_set(h, "perturbationNumber", int(field["member"].values))
        ec.codes_set(h, "stepUnits", 1)
        step = _step_hours(field["lead_time"].values) if "lead_time" in field.coords else 0
        if ec.codes_get(h, "stepType") == "instant":
            ec.codes_set(h, "step", step)
        else:
            ec.codes_set_string(h, "stepRange", f"0-{step}")
        ec.codes_set(h, "packingType", packing_type)
        ec.codes_set(h, "bitsPerValue", int(bits))
        values = np.asarray(field.values, dtype=np.float64).reshape(-1) * factor
        if np.isnan(values).any():
            ec.codes_set(h, "missingValue", _MISSING)
            ec.codes_set(h, "bitmapPresent", 1)
            values = np.where(np.isnan(values), _MISSING, values)
        ec.codes_set_values(h, values)
        yield h
