"""Index every message of a GRIB file once and plan the hypercubes it forms.

One pass over the file with ecCodes reads the keys that place a message in a
hypercube (parameter, level type and level, dates, step, member, grid) and, when
asked, decodes its values in the same pass. :func:`plan_groups` then sorts the
messages into groups, one per level type and grid, and inside each group into
variables with their own coordinate values, so a file whose variables have
different level sets, steps or members is still read whole. Messages that repeat
a (variable, member, time, step, level) slot are reported, not silently merged.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wxai.core.errors import DataFormatError

__all__ = [
    "AXES",
    "GribGroup",
    "GribMessage",
    "GribVariable",
    "plan_groups",
    "scan_messages",
]

#: Outer axes of a GRIB hypercube, in cfgrib's order: member, init time, step, level.
AXES: tuple[str, ...] = ("number", "time", "step", "level")

#: Level types whose coordinate is stored from the surface upwards in pressure.
DECREASING_LEVELS = frozenset({"isobaricInhPa", "isobaricInPa"})

#: Seconds per unit of the ecCodes ``stepUnits`` code table (None: not a fixed length).
STEP_UNIT_SECONDS: dict[int, int] = {
    0: 60,
    1: 3600,
    2: 86400,
    10: 10800,
    11: 21600,
    12: 43200,
    13: 1,
    14: 900,
    15: 1800,
}

_EPOCH = dt.datetime(1970, 1, 1)
#: Marker that ecCodes writes for missing points once we set it (cfgrib's convention).
MISSING_MARKER = float(np.finfo(np.float32).max)


@dataclass(frozen=True, slots=True)
class GribMessage:
    """The keys that place one GRIB message in a hypercube.

    ``time`` is the reference time in seconds since 1970-01-01 and ``step`` the
    end of the forecast step in hours, as cfgrib encodes them.
    """

    index: int
    offset: int
    length: int
    param_id: int
    short_name: str
    var_name: str
    type_of_level: str
    level: float
    time: int
    step: float
    number: int | None
    grid: str
    grid_type: str
    data_type: str
    step_type: str
    number_of_points: int
    alternate_rows: bool = False

    def axis_value(self, axis: str) -> Any:
        """Value of this message on one of :data:`AXES`."""
        return getattr(self, axis)


@dataclass
class GribVariable:
    """Messages of one parameter inside a group, with its own axis values.

    ``axes`` maps each axis of :data:`AXES` the variable has to its sorted
    values; ``slots[i]`` is the position of ``messages[i]`` along those axes.
    """

    name: str
    messages: list[GribMessage]
    axes: dict[str, tuple[Any, ...]]
    slots: list[tuple[int, ...]]
    duplicates: list[tuple[int, int]] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        """Sizes of the outer axes, in the order of ``axes``."""
        return tuple(len(v) for v in self.axes.values())

    @property
    def first(self) -> GribMessage:
        """The first message of the variable in file order."""
        return self.messages[0]


@dataclass
class GribGroup:
    """Variables on one level type and one grid: a node of the tree."""

    name: str
    type_of_level: str
    grid: str
    variables: list[GribVariable]


def _eccodes():
    """The ecCodes module, imported on first use (not at wxai import)."""
    import eccodes

    return eccodes


def _get(ec: Any, h: Any, key: str, getter: Any, default: Any = None) -> Any:
    try:
        return getter(h, key)
    except ec.KeyValueNotFoundError:
        return default


def _seconds(date: int, hhmm: int) -> int:
    when = dt.datetime(date // 10000, date // 100 % 100, date % 100, hhmm // 100, hhmm % 100)
    return int((when - _EPOCH).total_seconds())


#: Raw keys that decide a message's concept keys (paramId, shortName, cfVarName,
#: stepType) in each GRIB edition. ecCodes evaluates concepts by
#: scanning its definition tables, ~1 ms per key and message; messages with the
#: same raw keys share their concepts, so they are evaluated once per fingerprint.
FINGERPRINT_KEYS: dict[int, tuple[str, ...]] = {
    1: (
        "centre",
        "subCentre",
        "table2Version",
        "indicatorOfParameter",
        "indicatorOfTypeOfLevel",
        "level",
        "timeRangeIndicator",
        "localDefinitionNumber",
        "marsType",
    ),
    2: (
        "centre",
        "subCentre",
        "discipline",
        "parameterCategory",
        "parameterNumber",
        "productDefinitionTemplateNumber",
        "typeOfFirstFixedSurface",
        "scaleFactorOfFirstFixedSurface",
        "scaledValueOfFirstFixedSurface",
        "typeOfSecondFixedSurface",
        "scaleFactorOfSecondFixedSurface",
        "scaledValueOfSecondFixedSurface",
        "typeOfStatisticalProcessing",
        "tablesVersion",
        "localTablesVersion",
        "typeOfProcessedData",
        "typeOfGeneratingProcess",
        "constituentType",
        "aerosolType",
        "localDefinitionNumber",
    ),
}


#: Level-type codes (GRIB1 indicatorOfTypeOfLevel, GRIB2 typeOfFirstFixedSurface)
#: whose level value never changes paramId, shortName or stepType: pressure,
#: sigma, hybrid, theta and PV levels, generalised vertical height. Leaving their
#: value out of the fingerprint evaluates a model-level variable's concepts once.
NUMBERED_LEVEL_TYPES: dict[int, frozenset[int]] = {
    1: frozenset({100, 107, 109, 113, 117, 119}),
    2: frozenset({100, 104, 105, 107, 109, 118, 150}),
}
_LEVEL_TYPE_KEY = {1: "indicatorOfTypeOfLevel", 2: "typeOfFirstFixedSurface"}
_LEVEL_VALUE_KEYS = frozenset(
    {
        "level",
        "scaleFactorOfFirstFixedSurface",
        "scaledValueOfFirstFixedSurface",
        "scaleFactorOfSecondFixedSurface",
        "scaledValueOfSecondFixedSurface",
    }
)


#: Fingerprint keys that decide typeOfLevel (a subset of :data:`FINGERPRINT_KEYS`).
_LEVEL_KEYS: dict[int, tuple[str, ...]] = {
    1: ("centre", "indicatorOfTypeOfLevel", "level"),
    2: (
        "centre",
        "typeOfFirstFixedSurface",
        "scaleFactorOfFirstFixedSurface",
        "scaledValueOfFirstFixedSurface",
        "typeOfSecondFixedSurface",
        "scaleFactorOfSecondFixedSurface",
        "scaledValueOfSecondFixedSurface",
    ),
}
#: Integer keys every message needs, read together after the edition.
_MESSAGE_LONGS = (
    "stepUnits",
    "offset",
    "totalLength",
    "dataDate",
    "dataTime",
    "endStep",
    "number",
    "numberOfPoints",
    "alternativeRowScanning",
)


class _RawLongs:
    """Integer keys of a message through ecCodes' C ``grib_get_long``.

    The Python bindings' ``codes_get_long`` costs several microseconds of type
    checks and allocations per call, and an exception for an undefined key;
    reading ~25 keys per message that way costs as much as decoding a small
    field. Undefined keys give None.
    """

    def __init__(self) -> None:
        from gribapi.bindings import ffi, lib

        self.ffi, self.lib = ffi, lib
        self.value = ffi.new("long*")
        self.names: dict[str, bytes] = {}

    def get(self, h: Any, keys: tuple[str, ...]) -> list[int | None]:
        handle = self.ffi.cast("grib_handle*", h)
        out: list[int | None] = []
        for key in keys:
            name = self.names.get(key)
            if name is None:
                name = self.names[key] = key.encode()
            err = self.lib.grib_get_long(handle, name, self.value)
            out.append(int(self.value[0]) if err == 0 else None)
        return out


def _concepts(ec: Any, h: Any) -> tuple[int, str, str, str]:
    """(paramId, shortName, variable name, stepType) of a message."""
    get_str = ec.codes_get_string
    short_name = get_str(h, "shortName")
    var_name = _get(ec, h, "cfVarName", get_str, "unknown")
    return (
        ec.codes_get_long(h, "paramId"),
        short_name,
        short_name if var_name in ("undef", "unknown") else var_name,
        _get(ec, h, "stepType", get_str, "unknown"),
    )


class _KeyReader:
    """Reads the hypercube keys of messages, evaluating concepts once per fingerprint.

    ``concepts`` caches (paramId, shortName, variable name, stepType) by
    fingerprint; ``levels`` caches typeOfLevel by the raw level-type keys with
    their values (``isobaricInhPa`` or ``isobaricInPa`` depends on the value).
    """

    def __init__(self, ec: Any) -> None:
        self.ec = ec
        self.raw = _RawLongs()
        self.concepts: dict[tuple[int | None, ...], tuple[int, str, str, str]] = {}
        self.levels: dict[tuple[int | None, ...], str] = {}
        self.grids: dict[str, str] = {}

    def _cached_concepts(self, h: Any, edition: int) -> tuple[tuple[int, str, str, str], str]:
        ec = self.ec
        keys = FINGERPRINT_KEYS.get(edition)
        if keys is None:  # GRIB3 or unknown: ask ecCodes every time
            level = _get(ec, h, "typeOfLevel", ec.codes_get_string, "unknown")
            return _concepts(ec, h), level
        raw = dict(zip(keys, self.raw.get(h, keys), strict=True))
        level_key = (edition, *(raw[k] for k in _LEVEL_KEYS[edition]))
        if raw[_LEVEL_TYPE_KEY[edition]] in NUMBERED_LEVEL_TYPES[edition]:
            raw.update(dict.fromkeys(_LEVEL_VALUE_KEYS & raw.keys()))
        fingerprint = (edition, *raw.values())
        concepts = self.concepts.get(fingerprint)
        if concepts is None:
            concepts = self.concepts[fingerprint] = _concepts(ec, h)
        level = self.levels.get(level_key)
        if level is None:
            level = _get(ec, h, "typeOfLevel", ec.codes_get_string, "unknown")
            self.levels[level_key] = level
        return concepts, level

    def read(self, h: Any, index: int) -> GribMessage:
        ec = self.ec
        (edition,) = self.raw.get(h, ("edition",))
        concepts, type_of_level = self._cached_concepts(h, int(edition or 0))
        param_id, short_name, var_name, step_type = concepts
        grid = _get(ec, h, "md5GridSection", ec.codes_get_string, "")
        if grid not in self.grids:
            self.grids[grid] = ec.codes_get_string(h, "gridType")
        values = dict(zip(_MESSAGE_LONGS, self.raw.get(h, _MESSAGE_LONGS), strict=True))
        seconds = STEP_UNIT_SECONDS.get(values["stepUnits"] or 1)
        if seconds is None:
            raise DataFormatError(
                f"GRIB message {index}: unsupported stepUnits code {values['stepUnits']}"
            )
        return GribMessage(
            index=index,
            offset=int(values["offset"] or 0),
            length=int(values["totalLength"] or 0),
            param_id=param_id,
            short_name=short_name,
            var_name=var_name,
            type_of_level=type_of_level,
            level=float(_get(ec, h, "level", ec.codes_get_double, 0.0)),
            time=_seconds(int(values["dataDate"] or 0), int(values["dataTime"] or 0)),
            step=(values["endStep"] or 0) * seconds / 3600.0,
            number=values["number"],
            grid=grid,
            grid_type=self.grids[grid],
            data_type=_get(ec, h, "dataType", ec.codes_get_string, "unknown"),
            step_type=step_type,
            number_of_points=int(values["numberOfPoints"] or 0),
            alternate_rows=bool(values["alternativeRowScanning"]),
        )


def decode_values(ec: Any, h: Any) -> np.ndarray:
    """Values of an open message as float32 in storage order, NaN where missing.

    Returns
    -------
    np.ndarray
        Shape ``(numberOfPoints,)``; see :func:`field_values` for the grid shape.
    """
    # Missing points (a bitmap, or complex packing's missing-value management) come
    # out as missingValue; a marker no real field holds makes them unambiguous.
    ec.codes_set_double(h, "missingValue", MISSING_MARKER)
    values = ec.codes_get_values(h).astype(np.float32)
    values[values == np.float32(MISSING_MARKER)] = np.nan
    return values


def field_values(
    values: np.ndarray, message: GribMessage, geo_shape: tuple[int, ...]
) -> np.ndarray:
    """A decoded field in the grid's shape; on a 2D grid scanned in alternating row
    directions, odd rows are turned around so every row runs the same way."""
    field = values.reshape(geo_shape)
    if message.alternate_rows and len(geo_shape) == 2:
        field[1::2] = field[1::2, ::-1].copy()
    return field


def _selected(ec: Any, h: Any, keys: dict[str, Any]) -> bool:
    """Whether a message passes a ``filter_by_keys`` selection (scalar or list values)."""
    for key, wanted in keys.items():
        accepted = wanted if isinstance(wanted, list | tuple | set) else [wanted]
        try:
            value = ec.codes_get(h, key)
        except ec.KeyValueNotFoundError:
            return False
        if value not in accepted:
            return False
    return True


def scan_messages(
    path: str | os.PathLike, *, decode: bool, filter_by_keys: dict[str, Any] | None = None
) -> tuple[list[GribMessage], dict[int, np.ndarray] | None]:
    """Read the hypercube keys of every message, and its values if ``decode``.

    Parameters
    ----------
    path:
        A GRIB1 or GRIB2 file.
    decode:
        Decode the values in the same pass (eager reading); otherwise only the
        headers are read and fields are decoded later from their byte offsets.
    filter_by_keys:
        Keep only messages whose ecCodes keys have these values (a list of
        values accepts any of them); the others are not decoded.

    Returns
    -------
    messages, values
        One :class:`GribMessage` per selected message in file order (``index``
        counts all messages), and their values by that index (float32,
        ``(numberOfPoints,)``) when ``decode``, else None.

    Raises
    ------
    DataFormatError
        If the file holds no GRIB message, or a message is corrupt or truncated.
    MemoryError
        Re-raised as is when the values do not fit in memory.
    """
    ec = _eccodes()
    p = Path(path)
    keys = filter_by_keys or {}
    messages: list[GribMessage] = []
    values: dict[int, np.ndarray] | None = {} if decode else None
    count = 0
    reader = _KeyReader(ec)
    with p.open("rb") as f:
        while True:
            try:
                h = ec.codes_grib_new_from_file(f, headers_only=not decode)
            except ec.GribInternalError as exc:
                raise DataFormatError(
                    f"{p}: GRIB message {count} (at byte {f.tell()}) is corrupt or truncated: {exc}"
                ) from exc
            if h is None:
                break
            try:
                if _selected(ec, h, keys):
                    messages.append(reader.read(h, count))
                    if values is not None:
                        values[count] = decode_values(ec, h)
            except ec.GribInternalError as exc:
                raise DataFormatError(f"{p}: GRIB message {count}: {exc}") from exc
            finally:
                ec.codes_release(h)
            count += 1
    if not count:
        raise DataFormatError(f"{p}: no GRIB message found (not a GRIB file, or empty)")
    return messages, values


# --------------------------------------------------------------------------- planning


def _sorted_axis(axis: str, values: set[Any], type_of_level: str) -> tuple[Any, ...]:
    return tuple(sorted(values, reverse=axis == "level" and type_of_level in DECREASING_LEVELS))


def _variable(name: str, messages: list[GribMessage]) -> GribVariable:
    type_of_level = messages[0].type_of_level
    axes: dict[str, tuple[Any, ...]] = {}
    for axis in AXES:
        seen = {m.axis_value(axis) for m in messages}
        if seen == {None}:
            continue  # e.g. no ensemble member number in deterministic GRIB2
        axes[axis] = _sorted_axis(axis, seen, type_of_level)
    lookup = {axis: {v: i for i, v in enumerate(vals)} for axis, vals in axes.items()}
    kept: list[GribMessage] = []
    slots: list[tuple[int, ...]] = []
    first_at: dict[tuple[int, ...], int] = {}
    duplicates: list[tuple[int, int]] = []
    for m in messages:
        slot = tuple(lookup[axis][m.axis_value(axis)] for axis in axes)
        if slot in first_at:
            duplicates.append((first_at[slot], m.index))
            continue
        first_at[slot] = m.index
        kept.append(m)
        slots.append(slot)
    return GribVariable(name, kept, axes, slots, duplicates)


def _variables(messages: list[GribMessage]) -> list[GribVariable]:
    """Split one group's messages into variables; names unique within the group."""
    by_param: dict[tuple[int, str, str], list[GribMessage]] = defaultdict(list)
    for m in messages:
        # an ensemble's control (cf) and perturbed (pf) members form one variable
        data_type = "cf/pf" if m.data_type in ("cf", "pf") else m.data_type
        by_param[(m.param_id, data_type, m.step_type)].append(m)
    variants: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (_, data_type, step_type), ms in by_param.items():
        variants[ms[0].var_name].append((data_type, step_type))
    out = []
    for (_, data_type, step_type), ms in by_param.items():
        name = ms[0].var_name
        seen = variants[name]
        if len(seen) > 1:  # one parameter as analysis and forecast, or instant and mean
            if len({d for d, _ in seen}) > 1:
                name += f"_{data_type}"
            if len({s for _, s in seen}) > 1:
                name += f"_{step_type}"
        out.append(_variable(name, ms))
    return out


def plan_groups(messages: list[GribMessage]) -> list[GribGroup]:
    """Group messages by level type and grid, then by parameter.

    Parameters
    ----------
    messages:
        From :func:`scan_messages`, possibly filtered.

    Returns
    -------
    list of GribGroup
        In order of first appearance. A group is named after its level type;
        where one level type comes on several grids, the grid type and point
        count are appended (``surface_regular_ll_7320``), then a counter if
        still ambiguous.
    """
    by_group: dict[tuple[str, str], list[GribMessage]] = defaultdict(list)
    for m in messages:
        by_group[(m.type_of_level, m.grid or f"{m.grid_type}:{m.number_of_points}")].append(m)
    grids_per_level = Counter(level for level, _ in by_group)
    groups: list[GribGroup] = []
    taken: set[str] = set()
    for (type_of_level, grid), ms in by_group.items():
        name = type_of_level
        if grids_per_level[type_of_level] > 1:
            name = f"{type_of_level}_{ms[0].grid_type}_{ms[0].number_of_points}"
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        groups.append(GribGroup(name, type_of_level, grid, _variables(ms)))
    return groups
