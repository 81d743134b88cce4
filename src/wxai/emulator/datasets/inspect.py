"""Inspect a dataset: ranges, shapes, statistics, NaNs and a list of problems."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wxai.emulator.datasets.reader import REQUIRED_ARRAYS, REQUIRED_ATTRS, open_group
from wxai.emulator.datasets.recipe import parse_frequency

__all__ = ["DatasetReport", "format_report", "inspect_dataset"]


@dataclass
class DatasetReport:
    """What :func:`inspect_dataset` found; ``problems`` empty means consistent."""

    path: Path
    start: str | None = None
    end: str | None = None
    frequency: str | None = None
    n_dates: int = 0
    variables: list[str] = field(default_factory=list)
    shape: tuple[int, ...] = ()
    chunks: tuple[int, ...] = ()
    size_bytes: int = 0
    statistics: dict[str, dict[str, float]] = field(default_factory=dict)
    statistics_period: tuple[str, str] | None = None
    missing_dates: list[str] = field(default_factory=list)
    nan_counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def inspect_dataset(path: str | os.PathLike, *, block: int = 64) -> DatasetReport:
    """Check a dataset and summarise it (reads the data once, ``block`` dates at a time).

    Raises
    ------
    DataFormatError
        For a missing path, a ``.partial`` store or a store zarr cannot open;
        every other inconsistency is a line in ``report.problems``.
    """
    p = Path(path)
    g = open_group(p)
    report = DatasetReport(path=p, size_bytes=_size(p))
    attrs: dict[str, Any] = dict(g.attrs)
    problems = report.problems
    problems += [f"missing array {a!r}" for a in REQUIRED_ARRAYS if a not in g]
    problems += [f"missing attribute {a!r}" for a in REQUIRED_ATTRS if a not in attrs]
    variables = list(attrs.get("variables", []))
    report.variables = variables
    report.frequency = attrs.get("frequency")
    if "data" in g:
        report.shape = tuple(g["data"].shape)
        report.chunks = tuple(g["data"].chunks)
    if "dates" in g:
        dates = g["dates"][:].astype("datetime64[s]")
        report.n_dates = int(dates.size)
        if np.isnat(dates).any():
            problems.append(
                f"dates holds {int(np.isnat(dates).sum())} missing value(s) (damaged dates array)"
            )
            dates = dates[~np.isnat(dates)]
        if dates.size:
            report.start, report.end = str(dates[0]), str(dates[-1])
            if attrs.get("start_date") not in (None, report.start):
                problems.append(f"start_date {attrs['start_date']} but dates start {report.start}")
            if attrs.get("end_date") not in (None, report.end):
                problems.append(f"end_date {attrs['end_date']} but dates end {report.end}")
        if report.frequency and dates.size > 1:
            step = np.timedelta64(int(parse_frequency(report.frequency).total_seconds()), "s")
            gaps = np.diff(dates)
            bad = np.flatnonzero(gaps != step)
            if bad.size:
                problems.append(
                    f"{bad.size} date step(s) differ from the frequency {report.frequency}, "
                    f"first after {dates[bad[0]]} ({gaps[bad[0]]})"
                )
                expected = np.arange(dates[0], dates[-1] + step, step)
                report.missing_dates = [str(d) for d in np.setdiff1d(expected, dates)]
        if report.shape and report.shape[0] != dates.size:
            problems.append(f"data has {report.shape[0]} dates, dates has {dates.size}")
    if report.shape and len(variables) != report.shape[1]:
        problems.append(f"data has {report.shape[1]} variables, attributes list {len(variables)}")
    if attrs.get("name_to_index") not in (None, {n: i for i, n in enumerate(variables)}):
        problems.append("name_to_index does not match variables")
    n_vars = len(variables)
    stats = {}
    for name in ("mean", "stdev", "minimum", "maximum", "sums", "squares", "count", "has_nans"):
        if name in g:
            values = g[name][:]
            if values.shape != (n_vars,):
                problems.append(
                    f"statistics {name!r} has shape {values.shape}, expected ({n_vars},)"
                )
            else:
                stats[name] = values
    if "statistics_start_date" in attrs:
        report.statistics_period = (attrs["statistics_start_date"], attrs["statistics_end_date"])
    if {"mean", "stdev", "minimum", "maximum"} <= stats.keys():
        report.statistics = {
            v: {k: float(stats[k][i]) for k in ("mean", "stdev", "minimum", "maximum")}
            for i, v in enumerate(variables)
        }
        if np.any(stats["stdev"] < 0) or np.any(stats["minimum"] > stats["maximum"]):
            problems.append("statistics: negative stdev or minimum above maximum")
    if "data" in g and report.shape and len(report.shape) == 4 and report.shape[1] == n_vars:
        data = g["data"]
        nans = np.zeros(n_vars, np.int64)
        for s in range(0, report.shape[0], block):
            nans += np.isnan(data[s : s + block]).sum(axis=(0, 2, 3))
        report.nan_counts = {v: int(c) for v, c in zip(variables, nans, strict=True)}
        if "has_nans" in stats:
            wrong = [
                v for v, c, f in zip(variables, nans, stats["has_nans"], strict=True) if c and not f
            ]
            if wrong:
                problems.append(f"NaNs in {wrong} whose has_nans is False")
    return report


def format_report(report: DatasetReport, *, max_variables: int = 60) -> str:
    """A plain-text summary of a :class:`DatasetReport`."""
    lines = [
        f"dataset      {report.path}",
        f"dates        {report.start} .. {report.end} every {report.frequency} "
        f"({report.n_dates} dates)",
        f"shape        {report.shape} (time, variable, ensemble, cell), chunks {report.chunks}",
        f"size on disk {report.size_bytes / 2**20:.1f} MiB",
        f"statistics   {report.statistics_period[0]} .. {report.statistics_period[1]}"
        if report.statistics_period
        else "statistics   (no period)",
        f"missing      {len(report.missing_dates)} date(s)"
        + (f": {', '.join(report.missing_dates[:5])}" if report.missing_dates else ""),
        "",
        f"{'variable':<16}{'mean':>14}{'stdev':>14}{'minimum':>14}{'maximum':>14}{'NaNs':>8}",
    ]
    for v in report.variables[:max_variables]:
        s = report.statistics.get(v, {})
        cells = "".join(
            f"{s.get(k, float('nan')):>14.5g}" for k in ("mean", "stdev", "minimum", "maximum")
        )
        lines.append(f"{v:<16}{cells}{report.nan_counts.get(v, 0):>8}")
    if len(report.variables) > max_variables:
        lines.append(f"... and {len(report.variables) - max_variables} more")
    lines.append("")
    if report.problems:
        lines.append(f"PROBLEMS ({len(report.problems)}):")
        lines += [f"  - {p}" for p in report.problems]
    else:
        lines.append("no problems found")
    return "\n".join(lines)
