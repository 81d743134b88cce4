"""Entry point of the ``wxai`` command: doctor, lab, serve."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from wxai import __version__
from wxai.cli import data, doctor, lab, llm, rag, serve
from wxai.core.errors import ConfigError, UnknownNameError, WxaiError

app = typer.Typer(
    name="wxai",
    help="wxai: AI/ML for weather, climate and environmental services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("doctor")(doctor.doctor)
app.add_typer(lab.app, name="lab")
app.add_typer(data.app, name="data")
app.add_typer(llm.app, name="llm")
app.add_typer(rag.app, name="rag")
app.command("serve")(serve.serve)


def _version(value: bool) -> None:
    if value:
        print(f"wxai {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """wxai: observation -> forecast -> service, offline by default."""


def main() -> None:
    """Run the CLI; wxai errors become one clear line on stderr and a non-zero exit."""
    try:
        app()
    except (ConfigError, UnknownNameError) as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except WxaiError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
