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
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="auto (ICON-EU where it reaches, else IFS), icon-eu or ifs."
        ),
    ] = "auto",
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
            err.print(f"[dim]{_step_line(item)}[/]", highlight=False, soft_wrap=True)
    result = WeatherResult(str(final.get("answer", "")), final, tuple(events))
    if json_output:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result.answer)
    if not result.ok:
        raise typer.Exit(1)


#: Largest notes file `wxai agent report` reads (bytes).
MAX_NOTES_BYTES = 64 * 1024


@app.command("report")
def report_command(  # noqa: PLR0917 -- typer options
    notes: Annotated[Path, typer.Argument(help="Markdown file of bullet points (- or 1.).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")] = Path(
        "report.md"
    ),
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model alias for every role.")
    ] = None,
    max_revisions: Annotated[
        int, typer.Option("--max-revisions", min=0, max=10, help="Checker -> writer rounds.")
    ] = 2,
    roles: Annotated[
        Path | None, typer.Option("--roles", help="Role prompts file (see docs/agent-report.md).")
    ] = None,
    restore: Annotated[
        bool,
        typer.Option(
            "--restore/--no-restore", help="Put dropped notes back (marked) if the check fails."
        ),
    ] = True,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every step.")] = False,
) -> None:
    """Write a Markdown report from bullet notes: planner, writer, impact translator, editor.

    A checker that is not a model verifies that every number, date, time, warning
    level and name of the notes is in the report and no number was invented; the
    verdict is printed, and the exit status is 1 when the final report fails it.
    """
    import os

    from rich.console import Console

    from wxai.assistant.agents.events import AgentEvent
    from wxai.assistant.agents.report import ReportConfig, ReportRoles, parse_bullets, write_report
    from wxai.core.errors import ConfigError

    if not notes.is_file():
        raise ConfigError(f"notes file {notes} does not exist; give a Markdown file of bullets")
    size = notes.stat().st_size
    if size > MAX_NOTES_BYTES:
        raise ConfigError(
            f"notes file {notes} is too large ({size} bytes, at most {MAX_NOTES_BYTES}); "
            "a report takes a page of bullet points"
        )
    try:
        text = notes.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"notes file {notes} is not UTF-8 text; save it as UTF-8") from None
    if not text.strip():
        raise ConfigError(f"notes file {notes} is empty; write one bullet point per fact")
    bullets = parse_bullets(text)
    if not bullets:
        raise ConfigError(
            f"notes file {notes} has no bullet points; write each fact on a line "
            "starting with '- ' or '1. '"
        )
    err = Console(stderr=True)

    def show(event: AgentEvent) -> None:
        if verbose and not json_output:
            err.print(f"[dim]{_step_line(event)}[/]", highlight=False, soft_wrap=True)

    config = ReportConfig(
        roles=ReportRoles.all(model),
        roles_file=roles,
        max_revisions=max_revisions,
        restore=restore,
    )
    result = write_report(bullets, config, on_event=show)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(result.markdown, encoding="utf-8")
        temporary.replace(out)  # atomic on one file system: no half-written report
    finally:
        temporary.unlink(missing_ok=True)
    if json_output:
        print(json.dumps({**result.to_dict(), "out": str(out)}, indent=2, ensure_ascii=False))
    else:
        model_part = (
            f"{result.model_facts}/{result.model_check.n_facts} facts kept by the models, "
            f"{len(result.copied)}/{len(bullets)} notes copied verbatim, "
            f"{result.revisions} revision(s), plan from the {result.plan_source}"
        )
        if result.check.passed and result.model_check.passed:
            verdict = "passed"
        elif result.check.passed:
            verdict = (
                f"passed after repairs ({len(result.restored)} notes restored, "
                f"{len(result.removed)} sentences removed)"
            )
        else:
            verdict = "FAILED: " + "; ".join(result.check.findings())
        print(f"report written to {out}")
        print(f"checker: {verdict}; {model_part}")
    if not result.check.passed:
        raise typer.Exit(1)


@app.command("code")
def code_command(  # noqa: PLR0917 -- typer options
    task: Annotated[str, typer.Argument(help='What the program should do, e.g. "Plot sin(x)".')],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model alias that writes the code.")
    ] = None,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, max=10, help="Programs written at most.")
    ] = 3,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", min=16, help="Length limit of each program (tokens).")
    ] = 512,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the files the program wrote.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every step.")] = False,
) -> None:
    """Have a model write Python for TASK, run it in the bubblewrap sandbox, repair failures.

    Each attempt's program and outcome are printed, then the final code; the exit
    status is 1 when no program ran cleanly. Files the last program wrote go to --out.
    """
    from rich.console import Console

    from wxai.assistant.agents.coder import run_coder
    from wxai.assistant.agents.events import AgentEvent
    from wxai.assistant.llm.registry import get_provider

    err = Console(stderr=True)

    def show(event: AgentEvent) -> None:
        if verbose and not json_output:
            err.print(f"[dim]{_step_line(event)}[/]", highlight=False, soft_wrap=True)

    result = run_coder(
        task,
        get_provider(model),
        max_attempts=max_attempts,
        max_tokens=max_tokens,
        on_event=show,
    )
    written = []
    if out is not None:
        for name, data in result.files.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(str(target))
    if json_output:
        print(json.dumps({**result.to_dict(), "written": written}, indent=2, ensure_ascii=False))
    else:
        for attempt in result.attempts:
            verdict = "passed" if attempt.passed else attempt.failure
            print(f"# attempt {attempt.number}: {verdict}")
            if attempt.outcome is not None and attempt.outcome.stdout.strip():
                print("# output:\n" + attempt.outcome.stdout.rstrip()[-1500:])
        print(f"# stopped: {result.message} ({result.stop_reason})")
        print("# final code:\n" + result.final_code.rstrip())
        for path in written:
            print(f"# wrote {path}")
    if not result.success:
        raise typer.Exit(1)


def _step_line(event: object) -> str:
    """One short line for ``--verbose``: kind, node and the essential detail."""
    data = event.to_dict()["data"]  # type: ignore[attr-defined]
    kind, node = event.kind, event.node  # type: ignore[attr-defined]
    if kind in ("node_started", "node_finished"):
        detail = ", ".join(data.get("updated", [])) if kind == "node_finished" else ""
    elif kind == "tool_called":
        detail = f"{data.get('name')}({data.get('arguments')})"
    elif kind == "tool_result":
        detail = f"{data.get('name')} -> {data.get('result')}"
    else:
        detail = str(data.get("message") or data.get("text") or data)
    detail = " ".join(detail.split())
    return f"{kind:13s} {node:10s} {detail[:110]}"
