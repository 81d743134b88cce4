"""Read an Anemoi-layout emulator dataset (Zarr format 2) for training."""

from __future__ import annotations

import datetime as dt
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from wxai.core.errors import DataFormatError, UnknownNameError
from wxai.data.formats._common import MissingFileError
from wxai.emulator.datasets.build import PARTIAL_SUFFIX
from wxai.emulator.datasets.recipe import parse_frequency

__all__ = ["REQUIRED_ARRAYS", "REQUIRED_ATTRS", "EmulatorDataset", "open_dataset", "open_group"]

REQUIRED_ARRAYS = (
    "data",
    "dates",
    "latitudes",
    "longitudes",
    "mean",
    "stdev",
    "minimum",
    "maximum",
    "sums",
    "squares",
    "count",
    "has_nans",
)
REQUIRED_ATTRS = (
    "variables",
    "name_to_index",
    "frequency",
    "resolution",
    "field_shape",
    "start_date",
    "end_date",
    "statistics_start_date",
    "statistics_end_date",
    "ensemble_dimension",
    "flatten_grid",
    "missing",
    "recipe",
    "version",
    "variables_metadata",
)


def open_group(path: str | os.PathLike) -> zarr.Group:
    """The store's root group, read-only.

    Raises
    ------
    DataFormatError
        (``MissingFileError`` when absent) for a missing path, a ``.partial``
        store (an unfinished build) or something that is not a Zarr v2 group.
    """
    p = Path(path)
    if p.name.endswith(PARTIAL_SUFFIX):
        raise DataFormatError(
            f"{p}: an unfinished build (.partial); run the build again to resume it"
        )
    if not p.exists():
        partial = p.with_name(p.name + PARTIAL_SUFFIX)
        hint = f" ({partial.name} exists: an unfinished build)" if partial.exists() else ""
        raise MissingFileError(f"{p}: no such dataset{hint}")
    try:
        return zarr.open_group(str(p), mode="r", zarr_format=2)
    except Exception as exc:
        raise DataFormatError(
            f"{p}: not a readable Zarr format 2 store ({type(exc).__name__}: {exc})"
        ) from exc


class EmulatorDataset:
    """An opened dataset; fields are read lazily, a time range at a time.

    Attributes
    ----------
    path, variables, name_to_index, dates (datetime64[s] (T,)), frequency,
    latitudes, longitudes (degrees (N,)), statistics ({"mean", "stdev",
    "minimum", "maximum"} -> (V,) float64), forcing_variables (computed forcings
    and static fields: inputs only), attrs.
    """

    def __init__(self, path: Path, group: zarr.Group) -> None:
        self.path = path
        self._group = group
        self.attrs: dict[str, Any] = dict(group.attrs)
        missing = [a for a in REQUIRED_ARRAYS if a not in group]
        absent = [a for a in REQUIRED_ATTRS if a not in self.attrs]
        if missing or absent:
            raise DataFormatError(
                f"{path}: not an emulator dataset: missing arrays {missing}, attributes {absent}"
            )
        try:
            self.variables: list[str] = list(self.attrs["variables"])
            self.name_to_index: dict[str, int] = dict(self.attrs["name_to_index"])
            self.frequency: dt.timedelta = parse_frequency(self.attrs["frequency"])
            self.dates: np.ndarray = group["dates"][:].astype("datetime64[s]")
            self.latitudes: np.ndarray = group["latitudes"][:]
            self.longitudes: np.ndarray = group["longitudes"][:]
            self.statistics: dict[str, np.ndarray] = {
                k: group[k][:] for k in ("mean", "stdev", "minimum", "maximum")
            }
        except Exception as exc:
            raise DataFormatError(f"{path}: corrupt store ({type(exc).__name__}: {exc})") from exc
        self._data = group["data"]
        t, v, _, n = self._data.shape
        problems = []
        if t != self.dates.size:
            problems.append(f"data has {t} dates, dates has {self.dates.size}")
        if v != len(self.variables):
            problems.append(f"data has {v} variables, attributes list {len(self.variables)}")
        if n != self.latitudes.size or n != self.longitudes.size:
            problems.append(f"data has {n} cells, latitudes/longitudes {self.latitudes.size}")
        if np.isnat(self.dates).any():
            problems.append("dates holds missing values (a deleted or damaged dates array)")
        if not (np.isfinite(self.latitudes).all() and np.isfinite(self.longitudes).all()):
            problems.append("latitudes/longitudes hold missing values")
        for k, s in self.statistics.items():
            if s.shape != (v,):
                problems.append(f"statistics {k} has shape {s.shape}, expected ({v},)")
        if problems:
            raise DataFormatError(f"{path}: inconsistent dataset: " + "; ".join(problems))
        meta = self.attrs.get("variables_metadata", {})
        self.forcing_variables: list[str] = [
            name
            for name in self.variables
            if meta.get(name, {}).get("computed_forcing")
            or meta.get(name, {}).get("constant_in_time")
        ]

    @cached_property
    def shape(self) -> tuple[int, int, int]:
        """(T, V, N)."""
        t, v, _, n = self._data.shape
        return t, v, n

    def __len__(self) -> int:
        return int(self.dates.size)

    def fields(self, start: int, stop: int) -> np.ndarray:
        """Fields of dates ``start``..``stop - 1``: float32 (stop - start, V, N), member 0."""
        return np.asarray(self._data[start:stop, :, 0, :], dtype=np.float32)

    def date_index(self, date: Any) -> int:
        """Index of ``date`` (anything ``np.datetime64`` takes); UnknownNameError if absent."""
        d = np.datetime64(date, "s")
        hits = np.flatnonzero(self.dates == d)
        if not hits.size:
            raise UnknownNameError("date", str(d), [str(self.dates[0]), "...", str(self.dates[-1])])
        return int(hits[0])

    def __repr__(self) -> str:
        t, v, n = self.shape
        return (
            f"EmulatorDataset({self.path}, {t} dates {self.dates[0]}..{self.dates[-1]} "
            f"every {self.attrs['frequency']}, {v} variables, {n} cells)"
        )


def open_dataset(path: str | os.PathLike) -> EmulatorDataset:
    """Open a finished dataset.

    Raises
    ------
    DataFormatError
        Missing path (``MissingFileError``), ``.partial`` store, corrupt or
        inconsistent store (array lengths that disagree, missing arrays or attributes).
    """
    p = Path(path)
    return EmulatorDataset(p, open_group(p))
