"""Which forecast run can answer a valid time: model schedules, availability, lead time.

Every model publishes runs at fixed hours, each with its own list of forecast
steps, some hours after the nominal run time. :func:`choose_run` turns "now"
and a wanted valid time into the newest run that is already published and
reaches that time, and the lead time in whole hours; it is calendar
arithmetic, no network. A valid time between two published steps is moved to
the nearest step and the move is reported.

>>> from datetime import UTC, datetime
>>> c = choose_run("icon-eu", datetime(2026, 12, 4, 14, tzinfo=UTC),
...                now=datetime(2026, 12, 3, 12, tzinfo=UTC))
>>> c.run.hour, c.lead_hours
(9, 29)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from wxai.core.errors import ConfigError, RequestNotUnderstood, UnknownNameError
from wxai.data.sources.icon_eu import run_steps as icon_eu_run_steps
from wxai.data.sources.ifs import IFS_AVAILABILITY_DELAY_H, IFS_RUN_HOURS, ifs_run_steps

__all__ = ["MODELS", "ModelSchedule", "RunChoice", "choose_run", "get_schedule"]


@dataclass(frozen=True)
class ModelSchedule:
    """When a model runs and how far each run reaches.

    Attributes
    ----------
    name, label:
        Identifier (``icon-eu``) and the name people know (``ICON-EU``).
    run_hours:
        Nominal run hours [UTC].
    steps:
        Run hour -> published forecast steps [h].
    availability_delay_h:
        Hours after the nominal run time until the run is published.
    resolution:
        Grid spacing, for answers (``0.0625 deg (about 7 km)``).
    domain:
        (lon0, lon1, lat0, lat1) [degrees] of a regional model; None for a global one.
    """

    name: str
    label: str
    run_hours: tuple[int, ...]
    steps: Callable[[int], list[int]]
    availability_delay_h: float
    resolution: str
    domain: tuple[float, float, float, float] | None = None

    def covers(self, latitude: float, longitude: float) -> bool:
        """Whether the model's grid contains the point [degrees north, east]."""
        if self.domain is None:
            return True
        lon0, lon1, lat0, lat1 = self.domain
        lon = ((longitude + 180.0) % 360.0) - 180.0
        return lat0 <= latitude <= lat1 and lon0 <= lon <= lon1

    def range_text(self) -> str:
        """The longest reach per run hour, for error messages (``+120 h from 00/06/12/18``)."""
        reach: dict[int, list[int]] = {}
        for hour in self.run_hours:
            reach.setdefault(self.steps(hour)[-1], []).append(hour)
        parts = [
            f"+{top} h from its {'/'.join(f'{h:02d}' for h in hours)} UTC runs"
            for top, hours in sorted(reach.items(), reverse=True)
        ]
        return "; ".join(parts)


MODELS: dict[str, ModelSchedule] = {
    "icon-eu": ModelSchedule(
        "icon-eu",
        "ICON-EU",
        tuple(range(0, 24, 3)),
        icon_eu_run_steps,
        2.0,
        "0.0625 deg (about 7 km), Europe",
        (-23.5, 62.5, 29.5, 70.5),
    ),
    "ifs": ModelSchedule(
        "ifs",
        "IFS",
        IFS_RUN_HOURS,
        ifs_run_steps,
        IFS_AVAILABILITY_DELAY_H,
        "0.25 deg (about 25 km), global",
    ),
}


def get_schedule(model: str) -> ModelSchedule:
    """The schedule of ``model`` (``icon-eu`` or ``ifs``, any case)."""
    key = model.strip().lower()
    if key not in MODELS:
        raise UnknownNameError("forecast model", model, MODELS)
    return MODELS[key]


@dataclass(frozen=True)
class RunChoice:
    """A run and step that answer a wanted valid time.

    Attributes
    ----------
    model:
        The model's schedule name.
    run:
        Nominal run time [UTC].
    lead_hours:
        Forecast step [h]; ``valid = run + lead_hours``.
    valid:
        Valid time of that step [UTC]; may differ from ``wanted`` by the step spacing.
    wanted:
        The valid time asked for [UTC].
    older_runs:
        Earlier published runs that also reach ``wanted``, newest first, as
        (run, lead) pairs: fall-backs when the newest run's file is missing.
    """

    model: str
    run: datetime
    lead_hours: int
    valid: datetime
    wanted: datetime
    older_runs: tuple[tuple[datetime, int], ...] = ()

    @property
    def shifted(self) -> bool:
        """Whether the answer's valid time differs from the one asked for."""
        return self.valid != self.wanted


def _nearest_step(steps: list[int], hours: float) -> int | None:
    """The published step nearest to ``hours`` (ties to the later), None outside the range."""
    if hours < steps[0] - 0.5 or hours > steps[-1] + 0.5:
        return None
    return min(steps, key=lambda s: (abs(s - hours), -s))


def choose_run(
    model: str,
    valid: datetime,
    *,
    now: datetime,
    lookback_h: float = 24.0,
) -> RunChoice:
    """The newest published run of ``model`` that reaches ``valid``.

    Parameters
    ----------
    model:
        ``icon-eu`` or ``ifs``.
    valid:
        Wanted valid time (timezone-aware).
    now:
        The current time (timezone-aware); runs younger than the model's
        availability delay are not yet published.
    lookback_h:
        How far back from the newest published run older runs are listed as
        fall-backs [h].

    Raises
    ------
    RequestNotUnderstood
        ``field="time"``: the valid time lies before the newest run or beyond the
        model's range; the message states the range.
    ConfigError
        For naive datetimes.
    """
    schedule = get_schedule(model)
    if valid.tzinfo is None or now.tzinfo is None:
        raise ConfigError("choose_run needs timezone-aware datetimes (valid and now)")
    valid_utc, now_utc = valid.astimezone(UTC), now.astimezone(UTC)
    newest = (now_utc - timedelta(hours=schedule.availability_delay_h)).replace(
        minute=0, second=0, microsecond=0
    )
    while newest.hour not in schedule.run_hours:
        newest -= timedelta(hours=1)
    if valid_utc < newest:
        raise RequestNotUnderstood(
            "time",
            f"{valid_utc:%Y-%m-%d %H:%M} UTC lies before the newest {schedule.label} run "
            f"({newest:%Y-%m-%d %H} UTC): that is the past, not a forecast; ask for a later time",
        )
    found: list[tuple[datetime, int]] = []
    run = newest
    while run >= newest - timedelta(hours=lookback_h):
        if run.hour in schedule.run_hours:
            hours = (valid_utc - run).total_seconds() / 3600.0
            step = _nearest_step(schedule.steps(run.hour), hours)
            if step is not None:
                found.append((run, step))
        run -= timedelta(hours=1)
    if not found:
        lead = (valid_utc - newest).total_seconds() / 3600.0
        raise RequestNotUnderstood(
            "time",
            f"{valid_utc:%Y-%m-%d %H:%M} UTC is +{lead:.0f} h after the newest published "
            f"{schedule.label} run ({newest:%Y-%m-%d %H} UTC); {schedule.label} reaches "
            f"{schedule.range_text()}. Ask for an earlier time"
            + (" or use the IFS model" if schedule.name != "ifs" else ""),
        )
    (run, step), older = found[0], tuple(found[1:])
    return RunChoice(
        model=schedule.name,
        run=run,
        lead_hours=step,
        valid=run + timedelta(hours=step),
        wanted=valid_utc,
        older_runs=older,
    )
