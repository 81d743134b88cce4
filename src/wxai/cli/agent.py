"""``wxai agent``: agents that act on real data: forecast questions, code, reports."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Agents: weather questions on open data, sandboxed code, multi-role reports.",
    no_args_is_help=True,
)


@app.callback()
def _agent() -> None:
    """Run an agent from the command line; add --json for machine-readable output."""
