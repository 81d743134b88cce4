"""The radar reading as a chat tool: "what does the radar show now?".

``radar_reading`` runs :func:`wxai.assistant.agents.weather.radar.radar_reading` for the
time asked (newest composite by default), adopts its map into the user's
:class:`~wxai.cockpit.chat_tools.FigureStore` and answers in Markdown with the data's
origin (DWD server, local cache, or SYNTHETIC). :func:`radar_call` is the chat rule that
routes a request about the radar to the tool.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import datetime
from typing import Any

from wxai.assistant.llm.tools.tool import Tool, tool
from wxai.cockpit.chat_tools import FigureStore, clock_now
from wxai.cockpit.image_tools import VisionRoute, no_vision_note

__all__ = ["radar_call", "radar_tools"]

_RADAR = re.compile(
    r"\b(?:radar|radarbild\w*|niederschlagsradar\w*|regenradar\w*|wetterradar\w*)\b",
    re.IGNORECASE,
)
# uploads of radar files, radar charts (a plot type), and questions about the future
_NOT_RADAR_READING = re.compile(
    r"\.(?:h5|hdf5?|hd5)\b|\b(?:files?|upload\w*|attach\w*|datei\w*)\b|"
    r"\bradar\s+(?:chart|plot|diagram)s?\b|\bspider\b|"
    r"\b(?:forecast\w*|tomorrow|tonight|later|next|vorhersage\w*|prognose\w*)\b|"
    r"\bin \d+ (?:minutes?|hours?|days?)\b",
    re.IGNORECASE,
)


def radar_call(text: str) -> tuple[str, dict[str, Any]] | None:
    """``("radar_reading", {"when": ...})`` for a request about the weather radar, else None.

    ``when`` is the time the request names (see
    :func:`~wxai.assistant.agents.weather.radar.radar_time_phrase`), or ``"now"``.
    Requests about radar files (uploads), radar charts, or the future (forecasts) are
    left to other tools.
    """
    from wxai.assistant.agents.weather.radar import radar_time_phrase

    if not _RADAR.search(text) or _NOT_RADAR_READING.search(text):
        return None
    return "radar_reading", {"when": radar_time_phrase(text) or "now"}


def radar_tools(
    figures: FigureStore,
    *,
    offline: bool,
    now: Callable[[], datetime] | None = None,
    vision: VisionRoute | None = None,
) -> list[Tool]:
    """The ``radar_reading`` tool for the user of ``figures``.

    Parameters
    ----------
    figures:
        Where the radar map goes (its URL is returned under ``"figures"``).
    offline:
        Use only the local cache, then the synthetic composite; no network.
    now:
        The clock (default: the system's, UTC).
    vision:
        The session's model: it reads the map when it accepts images; otherwise (or
        None) the answer is the measured descriptors' text, saying so.
    """

    def current() -> datetime:
        return clock_now(now)

    @tool(
        requests=(
            "what does the radar show now?",
            "radar at 2026-12-04 15:00 UTC",
            "describe the current precipitation radar",
            "where is it raining right now in Germany",
        )
    )
    def radar_reading(when: str = "now") -> dict[str, Any]:
        """Read the DWD weather radar over Germany: where it rains or snows now, how much
        area is wet, how intense it is and whether there are convective cells, with the
        radar map.

        Use it for precipitation OBSERVED now or at a past time (radar shows no future);
        for rain to come use the forecast tool.

        Parameters
        ----------
        when:
            "now" for the newest radar image, or a past time in UTC such as
            "2026-12-04 15:00" or "30 minutes ago".
        """
        from wxai.assistant.agents.weather.radar import radar_reading as read_radar

        provider = vision.provider() if vision else None
        alias = vision.alias if vision and provider is None else None
        scratch = figures.scratch()
        try:
            made = read_radar(
                when, now=current(), offline=offline, figure_dir=scratch, provider=provider,
                alias=alias,
            )  # fmt: skip
            urls = [figures.adopt(made.figure)]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return {
            "time": f"{made.time:%Y-%m-%dT%H:%M}",
            "origin": made.origin,
            "file": made.file,
            "descriptors": made.descriptors.as_dict(),
            "used_vision": made.reading.used_vision,
            "text": made.markdown()
            + ("" if made.reading.used_vision else f"\n\n_{no_vision_note(vision)}._"),
            "figures": urls,
        }

    return [radar_reading]
