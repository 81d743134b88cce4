"""``wxai doctor``: what this installation has and lacks."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

_STYLE = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[bold red]FAIL[/]"}


def doctor(
    json_output: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check Python, packages, accelerators, offline assets, directories, tools and ecCodes.

    ecCodes' checks include ``ECCODES_DEFINITION_PATH`` when it is set (e.g.
    DWD's edzw definitions first). Exits with status 1 when something required
    is missing; warnings are listed but do not fail.
    """
    import json
    from dataclasses import asdict

    from wxai.core.diagnostics import run_checks

    checks = [*run_checks(), _sandbox_check()]
    failed = [check for check in checks if check.status == "fail"]
    if json_output:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        table = Table(title="wxai doctor", show_lines=False)
        for column in ("group", "check", "status", "detail"):
            table.add_column(column, overflow="fold")
        for check in checks:
            table.add_row(check.group, check.name, _STYLE[check.status], check.detail)
        console = Console()
        console.print(table)
        warned = [check for check in checks if check.status == "warn"]
        for check in warned:
            line = escape(f"{check.group}/{check.name}: {check.detail}")
            console.print(f"[yellow]warning[/] {line}", soft_wrap=True)
        if failed:
            names = ", ".join(f"{check.group}/{check.name}" for check in failed)
            console.print(f"[bold red]{len(failed)} required check(s) failed:[/] {names}")
        else:
            console.print("[green]All required checks passed.[/]")
    if failed:
        raise typer.Exit(1)


def _sandbox_check():
    """Whether generated code can run in the bubblewrap sandbox (a warning when not)."""
    from wxai.assistant.agents.sandbox import sandbox_status
    from wxai.core.diagnostics import Check

    status = sandbox_status()
    level = "ok" if status.startswith("ok") else "warn"
    return Check("tools", "sandbox", level, status.removeprefix("ok: "))
