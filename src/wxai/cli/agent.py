"""``wxai agent``: agents that act on real data: forecast questions, code, reports."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Agents: weather questions on open data, sandboxed code, multi-role reports.",
    no_args_is_help=True,
)


@app.callback()
def _agent() -> None:
    """Run an agent from the command line; add --json for machine-readable output."""


@app.command("forecast")
def forecast_command(  # noqa: PLR0917 -- typer options
    question: Annotated[
        str, typer.Argument(help='The question, e.g. "Wind in Kiel morgen 18 Uhr".')
    ],
    now: Annotated[
        str | None,
        typer.Option("--now", help="Pretend the current time is this ISO time (with offset)."),
    ] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="icon-eu or ifs.")] = "icon-eu",
    timezone: Annotated[
        str, typer.Option("--tz", help="Your time zone for relative times.")
    ] = "Europe/Berlin",
    offline: Annotated[
        bool, typer.Option("--offline", help="Only the local cache, then synthetic data.")
    ] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the map.")] = Path(),
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every step.")] = False,
) -> None:
    """Answer a forecast question from ICON-EU or IFS open data, with a map."""
    from rich.console import Console

    from wxai.assistant.agents.events import AgentEvent, FinalState
    from wxai.assistant.agents.weather.graph import WeatherResult, stream_weather_workflow
    from wxai.core.errors import ConfigError

    when = None
    if now is not None:
        try:
            when = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"--now {now!r} is not an ISO time such as 2026-12-03T14:00+01:00"
            ) from None
    err = Console(stderr=True)
    events: list[AgentEvent] = []
    final: dict = {}
    for item in stream_weather_workflow(
        question, now=when, timezone=timezone, model=model, offline=offline, figure_dir=out
    ):
        if isinstance(item, FinalState):
            final = dict(item.state)
            continue
        events.append(item)
        if verbose and not json_output:
            detail = ", ".join(f"{k}={v}" for k, v in item.to_dict()["data"].items())
            err.print(f"[dim]{item.kind:13s} {item.node:9s} {detail[:160]}[/]", highlight=False)
    result = WeatherResult(str(final.get("answer", "")), final, tuple(events))
    if json_output:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result.answer)
    if not result.ok:
        raise typer.Exit(1)
