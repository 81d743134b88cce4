"""Turn planned GRIB groups into CF-encoded xarray Datasets, eager or lazy.

The coordinates, attributes and dimension order follow cfgrib's conventions
(so a hypercube cfgrib can build comes out identical), but every group of a
file is built from the one index of :mod:`wxai.data.formats.grib_index`:
variables keep their own level, step, time and member coordinates where they
differ (``isobaricInhPa_2`` beside ``isobaricInhPa``), and lazily read fields
are decoded on demand from their byte offsets.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from wxai.data.formats.grib_index import (
    AXES,
    MISSING_MARKER,
    GribGroup,
    GribMessage,
    GribVariable,
    _eccodes,
    decode_values,
    field_values,
)

__all__ = ["build_group_dataset"]

_GLOBAL_KEYS = ("edition", "centre", "centreDescription", "subCentre")
_UNIQUE_KEYS = (
    "paramId",
    "dataType",
    "numberOfPoints",
    "typeOfLevel",
    "stepUnits",
    "stepType",
    "gridType",
    "uvRelativeToGrid",
)
_EXTRA_KEYS = (
    "shortName",
    "units",
    "name",
    "cfName",
    "cfVarName",
    "totalNumber",
    "numberOfDirections",
    "numberOfFrequencies",
    "NV",
    "gridDefinitionDescription",
)
_LL = ("iDirectionIncrementInDegrees", "iScansNegatively", "jDirectionIncrementInDegrees")
_FIRST_LAST = (
    "latitudeOfFirstGridPointInDegrees",
    "latitudeOfLastGridPointInDegrees",
    "longitudeOfFirstGridPointInDegrees",
    "longitudeOfLastGridPointInDegrees",
)
_SCAN = ("iScansNegatively", "jPointsAreConsecutive", "jScansPositively")
_ROTATION = (
    "angleOfRotationInDegrees",
    "latitudeOfSouthernPoleInDegrees",
    "longitudeOfSouthernPoleInDegrees",
)
#: Grid keys copied into ``GRIB_*`` attributes, per grid type (cfgrib's selection).
GRID_KEYS: dict[str, tuple[str, ...]] = {
    "regular_ll": ("Nx", "Ny", *_LL, *_FIRST_LAST, *_SCAN),
    "rotated_ll": ("Nx", "Ny", *_LL, *_FIRST_LAST, *_SCAN, *_ROTATION),
    "reduced_ll": ("Ny", "jDirectionIncrementInDegrees", *_FIRST_LAST[:2], *_SCAN[1:]),
    "regular_gg": ("N", "Ni", "Nj", *_LL[:2], *_FIRST_LAST, *_SCAN),
    "rotated_gg": ("Nx", "Ny", "N", *_LL[:2], *_FIRST_LAST, *_SCAN, *_ROTATION),
    "lambert": (
        "LaDInDegrees",
        "LoVInDegrees",
        *_SCAN,
        "latitudeOfFirstGridPointInDegrees",
        "latitudeOfSouthernPoleInDegrees",
        "longitudeOfFirstGridPointInDegrees",
        "longitudeOfSouthernPoleInDegrees",
        "DyInMetres",
        "DxInMetres",
        "Latin2InDegrees",
        "Latin1InDegrees",
        "Ny",
        "Nx",
    ),
    "reduced_gg": ("N", "pl"),
    "sh": ("M", "K", "J"),
}
_DIMENSION_GRIDS = frozenset({"regular_ll", "regular_gg"})
_PROJECTED_GRIDS = frozenset(
    {
        "rotated_ll",
        "rotated_gg",
        "lambert",
        "lambert_azimuthal_equal_area",
        "albers",
        "polar_stereographic",
    }
)
_EPOCH_UNITS = "seconds since 1970-01-01T00:00:00"
COORD_ATTRS: dict[str, dict[str, str]] = {
    "latitude": {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude"},
    "longitude": {"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude"},
    "depthBelowLand": {"units": "m", "positive": "down", "long_name": "soil depth"},
    "depthBelowLandLayer": {"units": "m", "positive": "down", "long_name": "soil depth"},
    "hybrid": {
        "units": "1",
        "positive": "down",
        "long_name": "hybrid level",
        "standard_name": "atmosphere_hybrid_sigma_pressure_coordinate",
    },
    "heightAboveGround": {
        "units": "m",
        "positive": "up",
        "long_name": "height above the surface",
        "standard_name": "height",
    },
    "isobaricInhPa": {
        "units": "hPa",
        "positive": "down",
        "stored_direction": "decreasing",
        "standard_name": "air_pressure",
        "long_name": "pressure",
    },
    "isobaricInPa": {
        "units": "Pa",
        "positive": "down",
        "stored_direction": "decreasing",
        "standard_name": "air_pressure",
        "long_name": "pressure",
    },
    "isobaricLayer": {
        "units": "Pa",
        "positive": "down",
        "standard_name": "air_pressure",
        "long_name": "pressure",
    },
    "number": {
        "units": "1",
        "standard_name": "realization",
        "long_name": "ensemble member numerical id",
    },
    "step": {
        "units": "hours",
        "standard_name": "forecast_period",
        "long_name": "time since forecast_reference_time",
    },
    "time": {
        "units": _EPOCH_UNITS,
        "calendar": "proleptic_gregorian",
        "standard_name": "forecast_reference_time",
        "long_name": "initial time of forecast",
    },
    "valid_time": {
        "units": _EPOCH_UNITS,
        "calendar": "proleptic_gregorian",
        "standard_name": "time",
        "long_name": "time",
    },
}
for _depth in ("depthBelowLand", "depthBelowLandLayer"):
    COORD_ATTRS[_depth]["standard_name"] = "depth"


def _open_message(path: Path, message: GribMessage) -> tuple[Any, Any]:
    """(eccodes module, handle) of one message read from its byte offset."""
    ec = _eccodes()
    with path.open("rb") as f:
        f.seek(message.offset)
        data = f.read(message.length)
    return ec, ec.codes_new_from_message(data)


def _key(ec: Any, h: Any, key: str) -> Any:
    """A key's value as cfgrib reports it: scalar, list for arrays, None if undefined."""
    try:
        if ec.codes_get_size(h, key) > 1:
            return ec.codes_get_array(h, key).tolist()
        return ec.codes_get(h, key)
    except ec.KeyValueNotFoundError:
        return None


# --------------------------------------------------------------------------- geography


def _geography(
    ec: Any, h: Any, path: Path, message: GribMessage
) -> tuple[tuple[str, ...], tuple[int, ...], dict[str, Any]]:
    """Horizontal dims, shape and latitude/longitude coordinate variables of a grid.

    Regular grids get 1D ``latitude``/``longitude`` dimension coordinates; other
    grids get 2D ``(y, x)`` or 1D ``(values,)`` point coordinates, computed by
    ecCodes on first access (a 1 km regional grid has millions of points).
    """
    grid_type = ec.codes_get_string(h, "gridType")
    coords: dict[str, xr.Variable] = {}
    if grid_type in _DIMENSION_GRIDS:
        shape = (ec.codes_get_long(h, "Ny"), ec.codes_get_long(h, "Nx"))
        lat = np.array(ec.codes_get_array(h, "distinctLatitudes"), ndmin=1)
        lat_attrs = dict(COORD_ATTRS["latitude"])
        if lat[0] > lat[-1]:
            lat_attrs["stored_direction"] = "decreasing"
        lon = _regular_longitudes(ec, h, shape[1])
        coords["latitude"] = xr.Variable(("latitude",), lat, lat_attrs)
        coords["longitude"] = xr.Variable(("longitude",), lon, COORD_ATTRS["longitude"])
        return ("latitude", "longitude"), shape, coords
    if grid_type in _PROJECTED_GRIDS:
        dims: tuple[str, ...] = ("y", "x")
        shape = (ec.codes_get_long(h, "Ny"), ec.codes_get_long(h, "Nx"))
    else:
        dims, shape = ("values",), (ec.codes_get_size(h, "values"),)
    if not ec.codes_is_defined(h, "latitudes") or grid_type == "sh":
        return dims, shape, coords  # spherical harmonics and other grids without points
    for name in ("latitude", "longitude"):
        points = indexing.LazilyIndexedArray(GridPoints(path, message, name + "s", shape))
        coords[name] = xr.Variable(dims, points, COORD_ATTRS[name])
    return dims, shape, coords


def _regular_longitudes(ec: Any, h: Any, nx: int) -> np.ndarray:
    """Longitudes [degrees] of the columns of a regular grid, in the order of the data.

    ecCodes' ``distinctLongitudes`` are sorted in [0, 360), which is the data's order
    unless the grid crosses the Greenwich meridian from the west (first longitude 354,
    last 2, as GRIB2 stores -6 .. 2): then its columns run 354, 356, 358, 0, 2 and the
    sorted values would put 0 and 2 first. Where ecCodes' values disagree with the
    columns' order, such a grid gets ``first - 360 .. last`` (-6 .. 2) instead; cfgrib
    labels these columns with the sorted values.
    """
    distinct = np.array(ec.codes_get_array(h, "distinctLongitudes"), ndmin=1)
    first = ec.codes_get_double(h, "longitudeOfFirstGridPointInDegrees")
    last = ec.codes_get_double(h, "longitudeOfLastGridPointInDegrees")
    eastward = not ec.codes_get_long(h, "iScansNegatively")
    if not (eastward and nx > 1 and last < first and distinct.size == nx):
        return distinct
    in_order = np.linspace(first - 360.0, last, nx)
    gap = np.abs((distinct - in_order + 180.0) % 360.0 - 180.0)
    return distinct if gap.max() < 1e-6 else in_order


class GridPoints(BackendArray):
    """Latitudes or longitudes of every grid point [degrees], computed once on access."""

    def __init__(self, path: Path, message: GribMessage, key: str, shape: tuple[int, ...]):
        self.path, self.message, self.key = path, message, key
        self.shape = shape
        self.dtype = np.dtype("float64")
        self._points: np.ndarray | None = None

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._getitem
        )

    def _getitem(self, key: tuple[Any, ...]) -> np.ndarray:
        if self._points is None:
            ec, h = _open_message(self.path, self.message)
            try:
                self._points = ec.codes_get_array(h, self.key).reshape(self.shape)
            finally:
                ec.codes_release(h)
        return self._points[key]


# --------------------------------------------------------------------------- data arrays


class LazyGribArray(BackendArray):
    """Fields of one variable decoded on demand from their byte offsets.

    Shape: the variable's outer axes followed by its horizontal shape; float32,
    NaN where a field or a point is missing.
    """

    def __init__(
        self,
        path: Path,
        variable: GribVariable,
        geo_shape: tuple[int, ...],
        drop_axes: tuple[int, ...],
    ) -> None:
        self.path = path
        self.variable = variable
        self.geo_shape = geo_shape
        self.drop_axes = drop_axes
        full = variable.shape
        self.shape = tuple(n for i, n in enumerate(full) if i not in drop_axes) + geo_shape
        self.dtype = np.dtype("float32")

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._getitem
        )

    def _getitem(self, key: tuple[Any, ...]) -> np.ndarray:
        n_outer = len(self.shape) - len(self.geo_shape)
        wanted = [np.arange(self.shape[i])[k] for i, k in enumerate(key[:n_outer])]
        lists = [np.atleast_1d(w) for w in wanted]
        where = [{int(v): j for j, v in enumerate(lst)} for lst in lists]
        out = np.full((*(len(lst) for lst in lists), *self.geo_shape), np.nan, np.float32)
        ec = _eccodes()
        with self.path.open("rb") as f:
            for message, slot in zip(self.variable.messages, self.variable.slots, strict=True):
                kept = [s for i, s in enumerate(slot) if i not in self.drop_axes]
                try:
                    target = tuple(where[i][s] for i, s in enumerate(kept))
                except KeyError:
                    continue
                f.seek(message.offset)
                h = ec.codes_new_from_message(f.read(message.length))
                try:
                    out[target] = field_values(decode_values(ec, h), message, self.geo_shape)
                finally:
                    ec.codes_release(h)
        for axis, k in enumerate(key[n_outer:], start=n_outer):
            out = out[(slice(None),) * axis + (k,)]
        squeeze = tuple(i for i, w in enumerate(wanted) if np.ndim(w) == 0)
        return out.squeeze(axis=squeeze) if squeeze else out


def _eager_array(
    variable: GribVariable,
    values: dict[int, np.ndarray],
    geo_shape: tuple[int, ...],
    drop_axes: tuple[int, ...],
) -> np.ndarray:
    out = np.full((*variable.shape, *geo_shape), np.nan, np.float32)
    for message, slot in zip(variable.messages, variable.slots, strict=True):
        out[slot] = field_values(values[message.index], message, geo_shape)
    return out.squeeze(axis=drop_axes) if drop_axes else out


# --------------------------------------------------------------------------- naming


def _axis_names(variables: list[GribVariable]) -> tuple[dict[tuple[str, str], str], set[str]]:
    """Coordinate names of each (variable, axis), and the axes the variables disagree on.

    The most common value set of an axis keeps the plain name (``step``), others
    are numbered (``step_2``) in order of appearance. On an axis where variables
    disagree (a missing axis counts as a value set), every variable keeps the
    axis as a dimension, even of length 1, so that no scalar coordinate attaches
    to a variable it does not describe.
    """
    names: dict[tuple[str, str], str] = {}
    disputed: set[str] = set()
    for axis in AXES:
        having = [v for v in variables if axis in v.axes]
        counts = Counter(v.axes[axis] for v in having)
        if len(counts) > 1 or (having and len(having) < len(variables)):
            disputed.add(axis)
        order = [values for values, _ in counts.most_common()]
        for v in having:
            k = order.index(v.axes[axis])
            names[(v.name, axis)] = axis if k == 0 else f"{axis}_{k + 1}"
    return names, disputed


def _coord_name(axis_name: str, type_of_level: str) -> str:
    """``level``/``level_2`` become the level type's name, as in cfgrib."""
    if axis_name == "level" or axis_name.startswith("level_"):
        return type_of_level + axis_name[len("level") :]
    return axis_name


def _axis_variable(axis: str, values: tuple[Any, ...], dims: tuple[str, ...], tol: str) -> Any:
    key = tol if axis == "level" else axis
    attrs = {"long_name": f"original GRIB coordinate for key: {axis}({key})", "units": "1"}
    attrs.update(COORD_ATTRS.get(key, {}))
    data = np.array(values)
    if not dims:
        data = data[0]
    return xr.Variable(dims, data, attrs)


# --------------------------------------------------------------------------- building


def _variable_attrs(ec: Any, h: Any, messages: list[GribMessage]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for key in _UNIQUE_KEYS:
        value = _key(ec, h, key)
        if value is not None and value not in ("undef", "unknown"):
            attrs[f"GRIB_{key}"] = value
    grid_type = ec.codes_get_string(h, "gridType")
    for key in sorted((*_EXTRA_KEYS, "missingValue", *GRID_KEYS.get(grid_type, ()))):
        value = MISSING_MARKER if key == "missingValue" else _key(ec, h, key)
        if value is not None:
            attrs[f"GRIB_{key}"] = value
    if len({m.data_type for m in messages}) > 1:
        attrs.pop("GRIB_dataType", None)  # control and perturbed members together
    attrs["GRIB_stepUnits"] = 1  # steps are always given in hours (cfgrib's convention)
    attrs["long_name"] = attrs.get("GRIB_name", f"original GRIB paramId: {messages[0].param_id}")
    attrs["units"] = attrs.get("GRIB_units", "1")
    if "GRIB_cfName" in attrs:
        attrs["standard_name"] = attrs["GRIB_cfName"]
    return attrs


def _global_attrs(path: Path, group: GribGroup, firsts: list[Any]) -> dict[str, Any]:
    ec = _eccodes()
    attrs: dict[str, Any] = {}
    for key in _GLOBAL_KEYS:
        seen = {_key(ec, h, key) for h in firsts}
        if len(seen) == 1 and (value := seen.pop()) not in (None, "undef", "unknown"):
            attrs[f"GRIB_{key}"] = value
    attrs["Conventions"] = "CF-1.7"
    if "GRIB_centreDescription" in attrs:
        attrs["institution"] = attrs["GRIB_centreDescription"]
    stamp = dt.datetime.now().isoformat(timespec="minutes")
    attrs["history"] = (
        f"{stamp} GRIB to CF by wxai.read_grib via ecCodes-{ec.codes_get_api_version()} "
        f"from {path.name} (group {group.name})"
    )
    return attrs


def _layout_notes(group: GribGroup) -> list[str]:
    notes = []
    for v in group.variables:
        for first, again in v.duplicates:
            notes.append(
                f"{v.name}: message {again} repeats message {first} (same member, time, "
                f"step and level); the first was kept"
            )
        present, total = len(v.messages), int(np.prod(v.shape))
        if present < total:
            notes.append(f"{v.name}: {present} of {total} fields present; the rest are NaN")
    return notes


def build_group_dataset(
    path: str | os.PathLike,
    group: GribGroup,
    values: dict[int, np.ndarray] | None,
    geo_cache: dict[str, Any] | None = None,
) -> tuple[xr.Dataset, list[str]]:
    """One group as a CF-encoded Dataset (times as numbers), plus layout notes.

    Parameters
    ----------
    path:
        The GRIB file the group was indexed from.
    group:
        From :func:`~wxai.data.formats.grib_index.plan_groups`.
    values:
        Decoded fields by message index (eager), or None to read lazily.
    geo_cache:
        Geography by grid checksum, shared between the groups of one file so a
        grid's latitudes and longitudes are computed once.

    Returns
    -------
    dataset, notes
        The undecoded Dataset (pass it to :func:`xarray.decode_cf`), and one
        line per duplicate message or incomplete hypercube.
    """
    p = Path(path)
    names, disputed = _axis_names(group.variables)
    data_vars: dict[str, xr.Variable] = {}
    coords: dict[str, xr.Variable] = {}
    firsts = []
    geo_cache = {} if geo_cache is None else geo_cache
    try:
        for v in group.variables:
            ec, h = _open_message(p, v.first)
            firsts.append(h)
            if group.grid not in geo_cache or not group.grid:
                geo_cache[group.grid] = _geography(ec, h, p, v.first)
            geo_dims, geo_shape, geo_coords = geo_cache[group.grid]
            coords.update(geo_coords)
            outer, drop = [], []
            var_coords = []
            for i, (axis, axis_values) in enumerate(v.axes.items()):
                name = _coord_name(names[(v.name, axis)], group.type_of_level)
                dims = (name,) if len(axis_values) > 1 or axis in disputed else ()
                if not dims:
                    drop.append(i)
                outer.extend(dims)
                coords[name] = _axis_variable(axis, axis_values, dims, group.type_of_level)
                var_coords.append(name)
            _add_valid_time(v, names, set(outer), coords, var_coords)
            var_coords.extend(geo_coords)
            attrs = _variable_attrs(ec, h, v.messages)
            attrs["coordinates"] = " ".join(var_coords)
            if values is None:
                data: Any = indexing.LazilyIndexedArray(LazyGribArray(p, v, geo_shape, tuple(drop)))
            else:
                data = _eager_array(v, values, geo_shape, tuple(drop))
            data_vars[v.name] = xr.Variable((*outer, *geo_dims), data, attrs)
        ds_attrs = _global_attrs(p, group, firsts)
    finally:
        for h in firsts:
            _eccodes().codes_release(h)
    return xr.Dataset(data_vars, coords, ds_attrs), _layout_notes(group)


def _add_valid_time(
    v: GribVariable,
    names: dict[tuple[str, str], str],
    dims_used: set[str],
    coords: dict,
    var_coords: list[str],
) -> None:
    """valid_time = time + step on the variable's time and step dims (cfgrib's rule)."""
    if "time" not in v.axes or "step" not in v.axes:
        return
    t_name, s_name = names[(v.name, "time")], names[(v.name, "step")]
    times = np.array(v.axes["time"], dtype=np.int64)
    steps = np.array(v.axes["step"], dtype=np.float64) * 3600
    dims = tuple(n for n in (t_name, s_name) if n in dims_used)
    if len(dims) == 2:
        data = times[:, None] + steps[None, :]
    else:
        data = (times[:, None] + steps[None, :]).reshape(-1)
        data = data if dims else data[0]
    suffix = "".join(n[len(a) :] for n, a in ((t_name, "time"), (s_name, "step")))
    name = f"valid_time{suffix}"
    coords[name] = xr.Variable(dims, data, COORD_ATTRS["valid_time"])
    var_coords.append(name)
