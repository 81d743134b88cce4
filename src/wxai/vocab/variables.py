"""Canonical variables and their names in each data source.

The table itself lives in :mod:`wxai.vocab.table`; this module turns it into
:class:`Variable` objects and translates names in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

from wxai.core.errors import DataFormatError, UnknownNameError
from wxai.vocab.table import LEVEL_SHORTCUTS, SOURCES, VARIABLES

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "SourceName",
    "Variable",
    "from_source",
    "get_variable",
    "list_variables",
    "rename_to_canonical",
    "to_source",
]


@dataclass(frozen=True)
class SourceName:
    """A variable's name in one source.

    Attributes
    ----------
    name:
        Native name (GRIB ``shortName``, ICON name, ODIM quantity, CF standard name).
    param_id:
        ECMWF ``paramId`` where the source is GRIB based, else None.
    units:
        Native units.
    factor:
        Multiply native values by this to get canonical units.
    """

    name: str
    param_id: int | None = None
    units: str = ""
    factor: float = 1.0


@dataclass(frozen=True)
class Variable:
    """A canonical wxai variable.

    Attributes
    ----------
    name:
        Canonical name, e.g. ``"t2m"`` or ``"z500"``.
    units:
        Canonical units (UDUNITS spelling, e.g. ``"m s-1"``).
    long_name:
        Human-readable description.
    standard_name:
        CF standard name, or None where CF has none.
    level_type:
        eccodes ``typeOfLevel`` (``surface``, ``heightAboveGround``, ``isobaricInhPa``, ...).
    level:
        Level value in the level type's units (m, hPa), None for a multi-level field.
    base:
        Name of the multi-level field a single-level shortcut comes from
        (``"z"`` for ``"z500"``), else the variable's own name.
    sources:
        Native names by source (``"ifs"``, ``"icon"``, ``"odim"``).
    """

    name: str
    units: str
    long_name: str
    standard_name: str | None
    level_type: str
    level: int | None
    base: str
    sources: dict[str, SourceName] = field(default_factory=dict, compare=False, hash=False)

    def in_source(self, source: str) -> SourceName:
        """This variable's :class:`SourceName` in ``source``.

        Raises
        ------
        UnknownNameError
            If the source is unknown or has no name for this variable.
        """
        source = _check_source(source)
        if source == "cf":
            if self.standard_name is None:
                raise UnknownNameError("cf variable", self.name, _names_in("cf"))
            return SourceName(self.standard_name, None, self.units, 1.0)
        if source not in self.sources:
            raise UnknownNameError(f"{source} variable", self.name, _names_in(source))
        return self.sources[source]


def _check_source(source: str) -> str:
    key = source.lower()
    if key not in SOURCES:
        raise UnknownNameError("source", source, SOURCES)
    return key


@cache
def _registry() -> dict[str, Variable]:
    out: dict[str, Variable] = {}
    for row in VARIABLES:
        sources = {s: SourceName(*row[s]) for s in SOURCES if s in row}
        var = Variable(
            name=row["name"],
            units=row["units"],
            long_name=row["long_name"],
            standard_name=row["standard_name"],
            level_type=row["level_type"],
            level=row["level"],
            base=row["name"],
            sources=sources,
        )
        out[var.name] = var
        for level in LEVEL_SHORTCUTS.get(var.name, ()):
            name = f"{var.name}{level}"
            out[name] = Variable(
                name=name,
                units=var.units,
                long_name=f"{var.long_name} at {level} hPa",
                standard_name=var.standard_name,
                level_type=var.level_type,
                level=level,
                base=var.name,
                sources=sources,
            )
    return out


def _names_in(source: str) -> list[str]:
    reg = _registry()
    if source == "cf":
        return sorted({v.name for v in reg.values() if v.standard_name})
    return sorted({v.name for v in reg.values() if source in v.sources})


def list_variables() -> list[Variable]:
    """All canonical variables, sorted by name."""
    return [v for _, v in sorted(_registry().items())]


def get_variable(name: str) -> Variable:
    """The canonical variable called ``name`` (e.g. ``"t2m"``, ``"z500"``).

    Raises
    ------
    UnknownNameError
        With the valid names and the nearest one.
    """
    reg = _registry()
    if name not in reg:
        raise UnknownNameError("variable", name, reg)
    return reg[name]


def _level_variant(var: Variable, level: float | None) -> Variable:
    """``var`` (a multi-level field) narrowed to ``level`` when a shortcut exists."""
    if level is None or var.level is not None:
        return var
    level_int = round(float(level))
    return _registry().get(f"{var.base}{level_int}", var)


def from_source(source: str, native_name: str | int, level: float | None = None) -> Variable:
    """The canonical variable for a source's native name.

    Parameters
    ----------
    source:
        ``"ifs"`` (GRIB shortName or paramId), ``"icon"`` (case-insensitive),
        ``"odim"`` (radar quantity) or ``"cf"`` (standard name).
    native_name:
        The native name; for ``ifs`` an int or digit string is read as a paramId.
    level:
        Optional level (hPa for pressure levels): ``from_source("ifs", "z", 500)``
        gives ``z500`` rather than the multi-level ``z``.

    Raises
    ------
    UnknownNameError
        If the source or the name is unknown, with the nearest valid name.
    """
    source = _check_source(source)
    reg = _registry()
    bases = [v for v in reg.values() if v.base == v.name]
    text = str(native_name)
    if source == "cf":
        hits = [v for v in bases if v.standard_name == text]
        if hits:
            # A standard name may belong to a near-surface field and a multi-level
            # one (air_temperature: t2m, t); with a level, prefer the shortcut.
            generic = [v for v in hits if v.level is None]
            chosen = generic[0] if generic else hits[0]
            if level is not None and generic:
                return _level_variant(chosen, level)
            return chosen
        valid = sorted({v.standard_name for v in bases if v.standard_name})
        raise UnknownNameError("cf standard name", text, valid)
    for var in bases:
        entry = var.sources.get(source)
        if entry is None:
            continue
        if source == "ifs" and text.isdigit():
            matched = entry.param_id == int(text)
        elif source == "icon":
            matched = entry.name.upper() == text.upper()
        else:
            matched = entry.name == text
        if matched:
            return _level_variant(var, level)
    valid = sorted({v.sources[source].name for v in bases if source in v.sources})
    raise UnknownNameError(f"{source} name", text, valid)


def to_source(canonical: str, source: str) -> str:
    """The native name of canonical variable ``canonical`` in ``source``.

    Examples
    --------
    >>> to_source("t2m", "ifs"), to_source("t2m", "icon"), to_source("z500", "ifs")
    ('2t', 'T_2M', 'z')
    """
    return get_variable(canonical).in_source(source).name


def _scalar_level(da: xr.DataArray) -> float | None:
    for coord in ("isobaricInhPa", "level", "pressure_level", "plev"):
        if coord in da.coords and da.coords[coord].size == 1:
            return float(da.coords[coord].values.reshape(-1)[0])
    return None


def rename_to_canonical(
    ds: xr.Dataset,
    source: str,
    *,
    convert_units: bool = False,
    errors: Literal["raise", "ignore"] = "raise",
) -> xr.Dataset:
    """Rename a dataset's data variables from ``source`` names to canonical names.

    For GRIB-derived datasets (``source="ifs"``) the cfgrib attribute
    ``GRIB_paramId`` is used when present, so cfgrib's own renaming (``2t`` ->
    ``t2m``) does not matter. Each renamed variable gets canonical ``units``,
    ``long_name`` and ``standard_name`` attributes.

    Parameters
    ----------
    ds:
        Dataset whose data variables carry native names.
    source:
        See :func:`from_source`.
    convert_units:
        Multiply by the source's factor so values are in canonical units
        (e.g. IFS ``tp`` m -> kg m-2); otherwise the native units are kept
        in ``units`` and only the names change.
    errors:
        ``"raise"`` (default) on a variable with no canonical name, or
        ``"ignore"`` to leave it as it is.

    Returns
    -------
    xr.Dataset
        A new dataset; ``ds`` is not modified.
    """
    source = _check_source(source)
    out = ds.copy()
    renames: dict[str, str] = {}
    for name, da in ds.data_vars.items():
        native: str | int = str(name)
        if source == "ifs" and "GRIB_paramId" in da.attrs:
            native = int(da.attrs["GRIB_paramId"])
        try:
            var = from_source(source, native, level=_scalar_level(da))
        except UnknownNameError:
            if errors == "ignore":
                continue
            raise
        new = out[name]
        entry = var.in_source(source)
        if convert_units:
            new = new * entry.factor if entry.factor != 1.0 else new
            units = var.units
        else:
            units = entry.units or var.units
        new = new.assign_attrs(
            **{**da.attrs, "units": units, "long_name": var.long_name},
            **({"standard_name": var.standard_name} if var.standard_name else {}),
        )
        out[name] = new
        renames[str(name)] = var.name
    clashes = [n for n in set(renames.values()) if list(renames.values()).count(n) > 1]
    if clashes:
        raise DataFormatError(
            f"several variables map to the canonical name(s) {sorted(clashes)}; "
            "select one level or variable before renaming"
        )
    return out.rename(renames)
