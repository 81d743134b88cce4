"""The typed state the weather workflow's nodes read and update.

Each node returns only the keys it sets; ``errors`` is a list that LangGraph
concatenates across nodes (``operator.add``), so nodes running in parallel
never overwrite each other's errors.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypedDict

from wxai.assistant.agents.weather.fetch import FieldFiles
from wxai.assistant.agents.weather.point import PointValue
from wxai.assistant.agents.weather.schedule import RunChoice
from wxai.assistant.agents.weather.what import VariableChoice
from wxai.assistant.agents.weather.when import ResolvedTime
from wxai.assistant.agents.weather.where import Place

__all__ = ["StepError", "WeatherState"]


@dataclass(frozen=True)
class StepError:
    """A step that failed, in words for the user.

    Attributes
    ----------
    step:
        The node (``time``, ``place``, ``variable``, ``run``, ``fetch``, ``extract``, ``draw``).
    message:
        What went wrong and what to do.
    fatal:
        True when no numbers can be given without this step (a missing figure is
        not fatal).
    """

    step: str
    message: str
    fatal: bool = True


class WeatherState(TypedDict, total=False):
    """Everything known about one forecast question, filled in node by node.

    Attributes
    ----------
    request:
        The question as asked.
    now:
        The current time (timezone-aware); fixed in tests and evaluations.
    timezone:
        The user's IANA time zone (``Europe/Berlin``).
    model:
        ``icon-eu`` or ``ifs``.
    offline:
        Use only the local cache (then synthetic data).
    figure_dir:
        Where the map is written.
    time:
        The valid time asked for, local and UTC.
    place:
        The location (None: none named; a regional map is drawn).
    variable:
        Canonical variable names from :mod:`wxai.vocab`.
    run:
        The run and lead time [h] that answer the time.
    data:
        The GRIB files used and where they came from.
    values:
        Point values in people's units (°C, km/h, mm, hPa, %).
    figure:
        Path of the map (PNG).
    answer:
        The text for the user, with provenance.
    errors:
        Failed steps, in order.
    """

    request: str
    now: datetime
    timezone: str
    model: str
    offline: bool
    figure_dir: str
    time: ResolvedTime | None
    place: Place | None
    variable: VariableChoice | None
    run: RunChoice | None
    data: FieldFiles | None
    values: list[PointValue]
    figure: str | None
    answer: str
    errors: Annotated[list[StepError], operator.add]
