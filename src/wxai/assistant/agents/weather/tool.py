"""The weather workflow as one tool a language model can call: ``get_weather_forecast``.

The model passes the user's question as it stands (plus, optionally, the
model to use); the workflow does the rest by rules and data, so the model
never has to turn "Monday 4pm" into a date or a city into coordinates.
:func:`weather_forecast_tool` binds the run settings (offline, figure folder,
data sources) that the caller, not the model, decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from wxai.assistant.agents.weather.graph import run_weather_workflow
from wxai.assistant.llm.tools.tool import Tool, tool

__all__ = ["weather_forecast_tool"]

_REQUESTS = (
    "What is the weather tomorrow at 3pm in Frankfurt?",
    "Wie warm wird es morgen um 15 Uhr in München?",
    "Will it rain in Hamburg on Saturday afternoon?",
    "Wind in Kiel heute Abend",
    "Temperature in Vienna next Monday at 9",
    "Regnet es übermorgen in Köln?",
)
_EXAMPLES = (
    ("What is the temperature in Berlin tomorrow at noon?",
     {"question": "What is the temperature in Berlin tomorrow at noon?"}),
    ("Wie windig ist es Montag 16 Uhr in Hamburg laut IFS?",
     {"question": "Wie windig ist es Montag 16 Uhr in Hamburg laut IFS?", "model": "ifs"}),
)  # fmt: skip


def weather_forecast_tool(
    *,
    offline: bool = False,
    figure_dir: str | Path | None = None,
    timezone: str = "Europe/Berlin",
    now: Callable[[], datetime] | None = None,
    sources: Mapping[str, Any] | None = None,
) -> Tool:
    """A ``get_weather_forecast`` tool bound to these run settings.

    Parameters
    ----------
    offline:
        Only cached or synthetic data.
    figure_dir:
        Where maps are written (the cockpit passes a per-session folder).
    timezone:
        The user's time zone.
    now:
        Clock (tests pass a fixed one).
    sources:
        Data sources per model (tests pass local servers).
    """

    def get_weather_forecast(
        question: str, model: Literal["auto", "icon-eu", "ifs"] = "auto"
    ) -> dict[str, Any]:
        """Forecast for a place and time from numerical weather prediction open data.

        Use it for any question about the weather to come at a place: temperature,
        wind and gusts, rain or snow amounts, pressure, cloud cover, humidity, for
        a time such as "tomorrow at 3pm", "Monday 16 Uhr" or "in 6 hours". It
        returns the values with model, run, lead time and a map.

        Parameters
        ----------
        question:
            The user's question, unchanged, in English or German.
        model:
            "auto" (ICON-EU where it reaches, else IFS), "icon-eu" (Europe, 7 km, up
            to 5 days) or "ifs" (global, 25 km, up to 10 days).
        """
        result = run_weather_workflow(
            question,
            now=now() if now else None,
            timezone=timezone,
            model=model,
            offline=offline,
            figure_dir=figure_dir,
            sources=sources,
        )
        return result.to_dict()

    return tool(examples=_EXAMPLES, requests=_REQUESTS)(get_weather_forecast)
