"""``wxai lab``: list, run and report the course labs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="List, run and report the course labs.", no_args_is_help=True)


@app.command("list")
def list_command(
    json_output: bool = typer.Option(False, "--json", help="Print the labs as JSON."),
) -> None:
    """List the labs with their course day, topic and last result."""
    import json

    from wxai.labs.framework.registry import list_labs
    from wxai.labs.framework.store import latest_results

    labs = list_labs()
    results = latest_results()
    if json_output:
        rows = []
        for spec in labs:
            last = results.get(spec.name)
            rows.append(
                {
                    "name": spec.name,
                    "title": spec.title,
                    "topic": spec.topic,
                    "day": spec.day,
                    "last_passed": last.passed if last else None,
                }
            )
        print(json.dumps(rows, indent=2))
        return
    # Lab names are what users type: never cut them (an 80-column terminal or a pipe
    # gets wrapped topics and titles instead).
    name_width = max((len(spec.name) for spec in labs), default=3)
    table = Table(title="wxai labs")
    table.add_column("day", justify="right", no_wrap=True)
    table.add_column("lab", no_wrap=True, min_width=name_width)
    table.add_column("topic")
    table.add_column("title")
    table.add_column("result", no_wrap=True)
    for spec in labs:
        last = results.get(spec.name)
        verdict = "-" if last is None else ("[green]PASS[/]" if last.passed else "[red]FAIL[/]")
        table.add_row(str(spec.day), spec.name, spec.topic, spec.title, verdict)
    Console().print(table)


@app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="Lab name, see `wxai lab list`.")],
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="Hydra overrides, e.g. preset=smoke epochs=100 model=deep."),
    ] = None,
    json_output: bool = typer.Option(
        False, "--json", help="Print the LabResult as JSON on stdout (progress goes to stderr)."
    ),
) -> None:
    """Run a lab; exits 0 when it reaches its acceptance figure, 3 when it does not."""
    from wxai.labs.framework.runner import run_lab

    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # piped: no progress bar, no stray blank line
    ) as bar:
        task = bar.add_task(name, total=1.0, message="")

        def report(fraction: float, message: str = "") -> None:
            bar.update(task, completed=fraction, message=message)

        result = run_lab(name, overrides or [], progress=report)
    if json_output:
        print(result.to_json())
    else:
        out = Console()
        verdict = "[green]PASS[/]" if result.passed else "[bold red]FAIL[/]"
        out.print(f"[bold]{result.lab}[/] ({result.preset}, {result.duration_s:.1f} s): {verdict}")
        out.print(f"  {result.acceptance.describe()}")
        for key, value in result.metrics.items():
            out.print(f"  {key} = {value:.5g}")
        for figure in result.figures:
            out.print(f"  figure: {figure}")
        out.print(f"  run: {result.run_id} ({result.tracking_uri})")
    if not result.passed:
        raise typer.Exit(3)


@app.command("report")
def report_command(
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: <wxai home>/report).")
    ] = None,
) -> None:
    """Write a static HTML gallery of the latest result of every lab."""
    from wxai.labs.framework.report import build_report

    index = build_report(out)
    Console().print(f"report written: {index}")
