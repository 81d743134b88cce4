"""Get the GRIB files that answer a forecast question: server, cache, or synthetic.

:func:`fetch_fields` tries, in order,

1. the open-data server (``wxai.data.sources``: ICON-EU from DWD, IFS from
   ECMWF) for the chosen run, then the older runs that also reach the valid
   time when a file is missing there;
2. the local download cache for the same runs (offline, or the server down);
3. a synthetic forecast for the chosen run (:func:`write_synthetic_forecast`),
   marked ``synthetic=True`` so every answer and plot title says so.

Every step that did not work is kept as a note, so the answer can say why it
used the data it used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wxai.assistant.agents.weather.schedule import RunChoice, get_schedule
from wxai.core.errors import WxaiError
from wxai.core.paths import home_dir
from wxai.data.sources.errors import CacheMiss, RemoteNotFound, SourceUnavailable
from wxai.vocab import to_source

__all__ = ["FieldFiles", "fetch_fields", "steps_for"]

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldFiles:
    """Local GRIB files of the fields one answer needs.

    Attributes
    ----------
    model, label:
        Schedule name and display name (``icon-eu``, ``ICON-EU``).
    run:
        Run time [UTC].
    lead_hours:
        Step of the answer [h].
    steps:
        Steps fetched [h] (two for accumulations: start and end of the interval).
    files:
        Canonical variable -> GRIB files holding it (one per step, or one for all).
    origin:
        ``"server"``, ``"cache"`` or ``"synthetic"``.
    synthetic:
        True when the data are not a real forecast.
    notes:
        What did not work on the way (older run used, server down, ...).
    """

    model: str
    label: str
    run: datetime
    lead_hours: int
    steps: tuple[int, ...]
    files: Mapping[str, tuple[Path, ...]]
    origin: str
    synthetic: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> datetime:
        """Valid time of the answer [UTC]."""
        return self.run + timedelta(hours=self.lead_hours)


def steps_for(model: str, run: datetime, lead: int, accumulation_hours: int | None) -> list[int]:
    """Steps to fetch: ``[lead]``, or the published step nearest ``lead - accumulation``
    below ``lead`` and ``lead`` itself for an accumulated quantity (start clipped at 0)."""
    if not accumulation_hours:
        return [lead]
    published = [s for s in get_schedule(model).steps(run.hour) if s < lead]
    if not published:
        return [lead]
    start = min(published, key=lambda s: abs(s - (lead - accumulation_hours)))
    return [start, lead]


def _default_sources() -> dict[str, Any]:
    from wxai.data.sources.icon_eu import IconEuSource
    from wxai.data.sources.ifs import IfsSource

    return {"icon-eu": IconEuSource(), "ifs": IfsSource()}


def _fetch_real(
    source: Any,
    model: str,
    run: datetime,
    steps: list[int],
    names: Sequence[str],
    *,
    offline: bool,
) -> dict[str, tuple[Path, ...]]:
    """One run's files from a source; raises its CacheMiss/RemoteNotFound/SourceUnavailable."""
    if model == "icon-eu":
        return {
            name: tuple(
                source.fetch(
                    variable=to_source(name, "icon").lower(), steps=steps, run=run, offline=offline
                )
            )
            for name in names
        }
    params = [to_source(name, "ifs") for name in names]
    paths = tuple(source.fetch(param=params, step=steps, date=run, time=run.hour, offline=offline))
    return dict.fromkeys(names, paths)


def _marked_synthetic(files: Mapping[str, tuple[Path, ...]]) -> bool:
    """Whether any file carries wxai's synthetic GRIB mark (test servers, samples)."""
    from wxai.data.synthetic.samples import is_synthetic_grib

    return any(is_synthetic_grib(p) for paths in files.values() for p in paths)


def _synthetic(
    model: str, run: datetime, steps: list[int], names: Sequence[str], seed: int
) -> dict[str, tuple[Path, ...]]:
    import numpy as np

    from wxai.data.synthetic.samples import write_synthetic_forecast

    stamp = "_".join(str(s) for s in steps)
    path = (
        home_dir()
        / "cache"
        / "synthetic"
        / model
        / f"{run:%Y%m%d%H}_{stamp}_{'-'.join(sorted(names))}_s{seed}.grib2"
    )
    if not path.is_file():
        write_synthetic_forecast(
            path,
            grid=model,
            run=np.datetime64(run.replace(tzinfo=None), "ns"),
            steps=steps,
            names=list(names),
            seed=seed,
        )
    return dict.fromkeys(names, (path,))


def fetch_fields(
    choice: RunChoice,
    names: Sequence[str],
    *,
    accumulation_hours: int | None = None,
    offline: bool = False,
    synthetic_fallback: bool = True,
    sources: Mapping[str, Any] | None = None,
    max_older_runs: int = 2,
    seed: int = 0,
) -> FieldFiles:
    """Local files of ``names`` for the run of ``choice``, from the best place there is.

    Parameters
    ----------
    choice:
        From :func:`~wxai.assistant.agents.weather.schedule.choose_run`.
    names:
        Canonical variable names (``t2m``, ``u10``, ``tp``, ...).
    accumulation_hours:
        For accumulated fields (``tp``): the interval asked [h]; two steps are fetched.
    offline:
        Never touch the network: cache, then synthetic.
    synthetic_fallback:
        Write a synthetic forecast when no real data can be had; False raises instead.
    sources:
        Model name -> source object (tests pass sources pointed at a local server).
    max_older_runs:
        How many older runs to try when the newest run's files are missing.
    seed:
        Of the synthetic atmosphere.

    Raises
    ------
    CacheMiss, SourceUnavailable, RemoteNotFound
        Only when ``synthetic_fallback`` is False and no real data were found.
    """
    schedule = get_schedule(choice.model)
    source = (sources or _default_sources())[choice.model]
    runs = [(choice.run, choice.lead_hours), *choice.older_runs[:max_older_runs]]
    notes: list[str] = []
    last_error: WxaiError | None = None
    modes = [("cache", True)] if offline else [("server", False), ("cache", True)]
    for origin, use_cache_only in modes:
        for run, lead in runs:
            steps = steps_for(choice.model, run, lead, accumulation_hours)
            try:
                files = _fetch_real(source, choice.model, run, steps, names, offline=use_cache_only)
            except RemoteNotFound as exc:
                notes.append(f"run {run:%Y-%m-%d %H} UTC not on the server ({exc.what})")
                last_error = exc
                continue
            except CacheMiss as exc:
                last_error = exc
                continue
            except SourceUnavailable as exc:
                notes.append(f"{schedule.label} server unreachable ({exc.cause})")
                last_error = exc
                break
            if run != choice.run:
                notes.append(f"used the older run {run:%Y-%m-%d %H} UTC")
            marked = _marked_synthetic(files)
            if marked:
                notes.append("the files are marked synthetic (GRIB generatingProcessIdentifier)")
            return FieldFiles(
                choice.model, schedule.label, run, lead, tuple(steps), files, origin, marked,
                tuple(notes),
            )  # fmt: skip
        if origin == "cache" and last_error is not None:
            notes.append(f"no {schedule.label} files for these runs in the local cache")
    if not synthetic_fallback:
        assert last_error is not None
        raise last_error
    steps = steps_for(choice.model, choice.run, choice.lead_hours, accumulation_hours)
    LOG.info("%s: no real data; writing a synthetic forecast", schedule.label)
    notes.append("no real data could be had: the values come from wxai's synthetic atmosphere")
    files = _synthetic(choice.model, choice.run, steps, names, seed)
    return FieldFiles(
        choice.model, schedule.label, choice.run, choice.lead_hours, tuple(steps), files,
        "synthetic", True, tuple(notes),
    )  # fmt: skip
