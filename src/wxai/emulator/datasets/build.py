"""Build an Anemoi-layout Zarr (format 2) dataset from a recipe, block by block.

The store is written as ``<out>.partial`` and renamed to ``<out>`` when
complete. After every block the number of dates written and the running
statistics accumulators (sums, squares, count, minimum, maximum over the
statistics period; NaN counts over all dates) are saved in one write of the
store's attributes (``wxai_build``), so an interrupted build resumes after the
last complete block and never counts a block twice. A simulator source also
saves its spectral state after each block (``<out>.sim-state-<k>.npz`` beside
the store, outside it), so a resumed or appended run continues the same trajectory.

Running a recipe whose ``dates.end`` is later than a finished dataset's
appends the new dates (the store is ``.partial`` meanwhile); statistics keep
covering the declared statistics period only.

Memory is bounded by one block: ``chunking.block`` dates x variables x cells.
File sources read each block through dask (:meth:`.sources.FilesSource.blocks`);
the simulator yields blocks as it integrates.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.datasets.forcings import compute_forcing
from wxai.emulator.datasets.recipe import (
    FORCINGS,
    Recipe,
    frequency_string,
    load_recipe,
)
from wxai.emulator.datasets.sources import Source, make_source
from wxai.emulator.datasets.targets import Remapper, target_grid

__all__ = ["FORMAT_VERSION", "PARTIAL_SUFFIX", "build_dataset"]

PARTIAL_SUFFIX = ".partial"
FORMAT_VERSION = "0.30"
_STATE_INFIX = ".sim-state-"
Progress = Callable[[int, int], None]


def _wxai_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wxai")
    except PackageNotFoundError:
        return "unknown"


def _recipe_json(recipe: Recipe) -> dict[str, Any]:
    return recipe.model_dump(mode="json")


def _comparable(recipe_json: dict[str, Any]) -> dict[str, Any]:
    """The recipe without what an append may change (end date, description)."""
    out = {k: v for k, v in recipe_json.items() if k != "description"}
    out["dates"] = {k: v for k, v in recipe_json["dates"].items() if k != "end"}
    return out


def _empty_accumulators(n_vars: int) -> dict[str, list]:
    return {
        "sums": [0.0] * n_vars,
        "squares": [0.0] * n_vars,
        "count": [0] * n_vars,
        "minimum": [None] * n_vars,
        "maximum": [None] * n_vars,
        "nans": [0] * n_vars,
        "running_mean": [0.0] * n_vars,
        "m2": [0.0] * n_vars,
    }


def _accumulate(acc: dict[str, list], block: np.ndarray, in_period: np.ndarray) -> None:
    """Add a block (B, V, N) to the accumulators; statistics over ``in_period`` dates only.

    The standard deviation comes from a pairwise-updated sum of squared deviations
    (``m2``), not from ``squares / count - mean**2``, which cancels catastrophically
    for fields like surface pressure (mean 1e5 Pa, spread 1e2 Pa).
    """
    nans = np.isnan(block).sum(axis=(0, 2))
    acc["nans"] = [int(a + b) for a, b in zip(acc["nans"], nans, strict=True)]
    if not in_period.any():
        return
    x = block[in_period].astype(np.float64)
    finite = ~np.isnan(x)
    count = finite.sum(axis=(0, 2))
    sums = np.where(finite, x, 0.0).sum(axis=(0, 2))
    squares = np.where(finite, x * x, 0.0).sum(axis=(0, 2))
    lo = np.where(finite, x, np.inf).min(axis=(0, 2))
    hi = np.where(finite, x, -np.inf).max(axis=(0, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        block_mean = sums / count
        block_m2 = np.where(finite, (x - block_mean[None, :, None]) ** 2, 0.0).sum(axis=(0, 2))
    for v in range(x.shape[1]):
        n_a, n_b = acc["count"][v], int(count[v])
        if n_b:  # Chan et al. pairwise update of the mean and the sum of squared deviations
            delta = float(block_mean[v]) - acc["running_mean"][v]
            n = n_a + n_b
            acc["running_mean"][v] += delta * n_b / n
            acc["m2"][v] += float(block_m2[v]) + delta * delta * n_a * n_b / n
        acc["sums"][v] += float(sums[v])
        acc["squares"][v] += float(squares[v])
        acc["count"][v] += int(count[v])
        if count[v]:
            old_lo, old_hi = acc["minimum"][v], acc["maximum"][v]
            acc["minimum"][v] = float(lo[v]) if old_lo is None else min(old_lo, float(lo[v]))
            acc["maximum"][v] = float(hi[v]) if old_hi is None else max(old_hi, float(hi[v]))


def _statistics(acc: dict[str, list]) -> dict[str, np.ndarray]:
    count = np.asarray(acc["count"], np.int64)
    sums = np.asarray(acc["sums"], np.float64)
    squares = np.asarray(acc["squares"], np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / count
        var = np.asarray(acc["m2"], np.float64) / count  # not squares/count - mean**2
    none_nan = lambda xs: np.array([np.nan if x is None else x for x in xs], np.float64)  # noqa: E731
    return {
        "mean": mean,
        "stdev": np.sqrt(var),
        "minimum": none_nan(acc["minimum"]),
        "maximum": none_nan(acc["maximum"]),
        "sums": sums,
        "squares": squares,
        "count": count,
        "has_nans": np.asarray(acc["nans"]) > 0,
    }


def _iso(date: np.datetime64) -> str:
    return str(np.datetime64(date, "s"))


class _Builder:
    def __init__(self, recipe: Recipe, out: Path, progress: Progress | None) -> None:
        self.recipe = recipe
        self.out = out
        self.partial = out.with_name(out.name + PARTIAL_SUFFIX)
        self.progress = progress
        self.dates = recipe.dates.values()
        self.source: Source = make_source(recipe)
        src = self.source
        self.target = target_grid(
            recipe.grid, src.latitudes, src.longitudes, src.field_shape, src.resolution
        )
        self.remap = (
            None
            if recipe.grid == "source"
            else Remapper(src.latitudes, src.longitudes, self.target, recipe.remap)
        )
        self.forcings = list(recipe.forcings)
        self.variables = [*src.variables, *self.forcings]
        self.static = {
            name: self._regrid(src.static(name)[None, None, :])[0, 0]
            for name in self.forcings
            if name not in FORCINGS
        }
        step = int(recipe.chunking.time)
        self.block = -(-recipe.chunking.block // step) * step

    def _regrid(self, fields: np.ndarray) -> np.ndarray:
        return fields if self.remap is None else self.remap(fields)

    # -- store layout ------------------------------------------------------

    def _metadata(self) -> dict[str, dict[str, Any]]:
        meta = {
            name: {**m, "computed_forcing": False, "constant_in_time": False}
            for name, m in self.source.metadata.items()
        }
        for name in self.forcings:
            meta[name] = {
                "param": name,
                "level": None,
                "levtype": "sfc",
                "units": "m2 s-2" if name == "z" else "1",
                "computed_forcing": name in FORCINGS,
                "constant_in_time": name not in FORCINGS
                or name in ("cos_latitude", "sin_latitude", "cos_longitude", "sin_longitude"),
            }
        return meta

    def _attrs(self, n_dates: int) -> dict[str, Any]:
        recipe = self.recipe
        start, end = recipe.statistics_period
        meta = self._metadata()
        return {
            "layout": "gridded",
            "version": FORMAT_VERSION,
            "variables": self.variables,
            "name_to_index": {n: i for i, n in enumerate(self.variables)},
            "frequency": frequency_string(recipe.dates.delta),
            "resolution": self.target.resolution,
            "field_shape": list(self.target.field_shape),
            "start_date": _iso(self.dates[0]),
            "end_date": _iso(self.dates[n_dates - 1]),
            "statistics_start_date": _iso(start),
            "statistics_end_date": _iso(end),
            "ensemble_dimension": 1,
            "flatten_grid": True,
            "missing": [],
            "missing_dates": [],
            "constant_fields": [n for n, m in meta.items() if m["constant_in_time"]],
            "recipe": _recipe_json(recipe),
            "description": recipe.description,
            "variables_metadata": meta,
            "wxai": {
                "version": _wxai_version(),
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "source": recipe.source.kind,
                "remap": None if self.remap is None else recipe.remap,
            },
        }

    def _create(self) -> zarr.Group:
        n, v, t = self.target.latitudes.size, len(self.variables), self.dates.size
        g = zarr.open_group(str(self.partial), mode="w", zarr_format=2)
        g.create_array(
            "data",
            shape=(t, v, 1, n),
            chunks=(self.recipe.chunking.time, v, 1, n),
            dtype="float32",
            fill_value=np.nan,
        )
        g.create_array("dates", shape=(t,), chunks=(max(t, 1),), dtype="datetime64[s]")
        g["dates"][:] = self.dates
        for name, values in (
            ("latitudes", self.target.latitudes),
            ("longitudes", self.target.longitudes),
        ):
            g.create_array(name, shape=values.shape, chunks=values.shape, dtype="float64")
            g[name][:] = values
        attrs = self._attrs(t)
        attrs["wxai_build"] = {"dates_written": 0, "state": None, **_empty_accumulators(v)}
        g.attrs.update(attrs)
        return g

    def _check_same(self, g: zarr.Group, *, append: bool) -> None:
        stored = g.attrs.get("recipe")
        if stored is None or "wxai_build" not in g.attrs:
            raise DataFormatError(f"{self.partial}: not a wxai emulator dataset (no build record)")
        new = _recipe_json(self.recipe)
        if _comparable(stored) != _comparable(new) or (not append and stored != new):
            raise ConfigError(
                f"{self.partial if not append else self.out} was built from another recipe "
                f"(stored {stored.get('name')!r}); only dates.end may grow. Delete it or use "
                "the recipe it was built with"
            )

    def _open_for_append(self) -> zarr.Group | None:
        g = zarr.open_group(str(self.out), mode="r+", zarr_format=2, use_consolidated=False)
        self._check_same(g, append=True)
        old = g["dates"][:]
        if self.dates.size < old.size or not np.array_equal(self.dates[: old.size], old):
            raise ConfigError(
                f"{self.out}: dates.end {self.recipe.dates.end} is before the dataset's end "
                f"{_iso(old[-1])}; an append can only add later dates"
            )
        if self.dates.size == old.size:
            return None
        self.out.rename(self.partial)
        g = zarr.open_group(str(self.partial), mode="r+", zarr_format=2, use_consolidated=False)
        g["data"].resize((self.dates.size, *g["data"].shape[1:]))
        dates = zarr.open_array(
            str(self.partial / "dates"), mode="r+", zarr_format=2, use_consolidated=False
        )
        dates.resize((self.dates.size,))
        dates[:] = self.dates
        build = dict(g.attrs["wxai_build"])
        attrs = self._attrs(self.dates.size)
        attrs["wxai"]["created"] = g.attrs["wxai"]["created"]
        attrs["wxai"]["appended"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        g.attrs.update({**attrs, "wxai_build": build})
        return g

    # -- the loop ----------------------------------------------------------

    def _state_path(self, index: int) -> Path:
        return self.out.with_name(f"{self.out.name}{_STATE_INFIX}{index}.npz")

    def run(self) -> Path:
        if self.partial.exists():
            g = zarr.open_group(str(self.partial), mode="r+", zarr_format=2, use_consolidated=False)
            self._check_same(g, append=False)
        elif self.out.exists():
            g = self._open_for_append()
            if g is None:
                return self.out
        else:
            g = self._create()
        build = dict(g.attrs["wxai_build"])
        first = int(build["dates_written"])
        state = None
        if build.get("state"):
            with np.load(self.out.with_name(build["state"])) as npz:
                state = self.source.load_state(dict(npz))
        total = self.dates.size
        period = self.recipe.statistics_period
        if self.progress:
            self.progress(first, total)
        data = g["data"]
        k = first
        for fields, new_state in self.source.blocks(self.dates, first, self.block, state):
            b = fields.shape[0]
            block_dates = self.dates[k : k + b]
            values = np.empty((b, len(self.variables), self.target.latitudes.size), np.float32)
            nsrc = len(self.source.variables)
            values[:, :nsrc] = self._regrid(fields)
            for i, name in enumerate(self.forcings):
                if name in FORCINGS:
                    values[:, nsrc + i] = compute_forcing(
                        name, block_dates, self.target.latitudes, self.target.longitudes
                    )
                else:
                    values[:, nsrc + i] = self.static[name]
            data[k : k + b, :, 0, :] = values
            in_period = (block_dates >= period[0]) & (block_dates <= period[1])
            _accumulate(build, values, in_period)
            k += b
            saved = self.source.save_state(new_state)
            old_state = build.get("state")
            if saved is not None:
                path = self._state_path(k)
                tmp = path.with_suffix(".tmp.npz")
                np.savez(tmp, **saved)
                tmp.replace(path)
                build["state"] = path.name
            build["dates_written"] = k
            g.attrs["wxai_build"] = build  # the commit point of the block
            if old_state and old_state != build.get("state"):
                self.out.with_name(old_state).unlink(missing_ok=True)
            if self.progress:
                self.progress(k, total)
        return self._finish(g, build)

    def _finish(self, g: zarr.Group, build: dict[str, Any]) -> Path:
        stats = _statistics(build)
        if not np.all(np.asarray(build["count"]) > 0):
            raise ConfigError(
                "statistics: the period "
                f"{_iso(self.recipe.statistics_period[0])}..{_iso(self.recipe.statistics_period[1])}"
                " contains no date of the dataset"
            )
        for name, values in stats.items():
            if name in g:
                del g[name]
            g.create_array(name, shape=values.shape, chunks=values.shape, dtype=values.dtype)
            g[name][:] = values
        g.attrs["variables_with_nans"] = [
            v for v, flag in zip(self.variables, stats["has_nans"], strict=True) if flag
        ]
        zarr.consolidate_metadata(str(self.partial), zarr_format=2)
        self.partial.rename(self.out)
        return self.out


def build_dataset(
    recipe: str | os.PathLike | dict[str, Any] | Recipe,
    output: str | os.PathLike,
    *,
    progress: Progress | None = None,
) -> Path:
    """Build (or resume, or extend) the dataset of ``recipe`` at ``output``.

    ``<output>.partial`` present -> resume it (same recipe required); ``output``
    present -> append the recipe's later dates (only ``dates.end`` may differ;
    nothing to do if it is the same); otherwise a new build.

    Parameters
    ----------
    recipe:
        YAML path, mapping or :class:`~wxai.emulator.datasets.recipe.Recipe`.
    output:
        The Zarr store to write (a directory, e.g. ``hs-t21.zarr``).
    progress:
        Called as ``progress(dates_done, dates_total)`` at the start and after
        every block.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    ConfigError
        Invalid recipe, a recipe that does not match the existing store, a
        statistics period without dates.
    MissingExtra
        A simulator recipe without the ``emulator`` extra (dinosaur, jax).
    """
    return _Builder(load_recipe(recipe), Path(output), progress).run()
