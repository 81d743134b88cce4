"""Entry point of the ``wxai`` command: doctor, lab, data, llm, rag, agent, emulator, products,
notebooks, serve, worker, users, db.

Errors and exit codes
---------------------
A :class:`~wxai.core.errors.WxaiError` (something the user can fix: a bad
argument, a bad file, an unknown name) is printed as one red line on stderr;
the exit status is 2 for :class:`~wxai.core.errors.ConfigError` and
:class:`~wxai.core.errors.UnknownNameError` (as for typer's own usage errors)
and 1 otherwise. Any other exception is a bug in wxai: one line says so and how
to see the traceback, ``wxai --debug ...`` (or ``WXAI_DEBUG=1``) prints it.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from wxai import __version__
from wxai.cli import (
    agent,
    data,
    db,
    doctor,
    emulator,
    lab,
    llm,
    notebooks,
    products,
    rag,
    serve,
    users,
    worker,
)
from wxai.core.errors import ConfigError, UnknownNameError, WxaiError

#: Exit status of a bug (an exception that is not a WxaiError).
BUG_EXIT = 1

_TRUE = {"1", "true", "yes", "on"}


def _pass_through() -> tuple[type[BaseException], ...]:
    """Exceptions typer handles itself: Exit, Abort (Ctrl-C) and usage errors."""
    usage = getattr(typer, "TyperException", None)  # typer >= 0.20 vendors click
    if usage is None:  # pragma: no cover - older typer on top of click
        from click import ClickException as usage  # noqa: N813
    return (typer.Exit, typer.Abort, usage)


_PASS_THROUGH = _pass_through()


def debug_from_env() -> bool:
    """Whether ``WXAI_DEBUG`` asks for tracebacks."""
    return os.environ.get("WXAI_DEBUG", "").strip().lower() in _TRUE


def one_line(message: str) -> str:
    """``message`` with its lines joined, so that an error is always one line."""
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


def error_exit_code(exc: WxaiError) -> int:
    """2 for a bad configuration or an unknown name, 1 for other wxai errors."""
    return 2 if isinstance(exc, ConfigError | UnknownNameError) else 1


def print_error(message: str) -> None:
    """Write ``error: <message>`` as one red-labelled line on stderr."""
    line = Text("error: ", style="bold red")
    line.append(one_line(message))
    Console(stderr=True, soft_wrap=True, highlight=False).print(line)


class WxaiGroup(TyperGroup):
    """The root command group: turns exceptions into one line and an exit status."""

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the command; a WxaiError or a bug ends it with one line on stderr."""
        debug = bool(ctx.params.get("debug")) or debug_from_env()
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise  # typer.Exit, Ctrl-C and usage errors: typer prints them as always
        except WxaiError as exc:
            _fail(error_exit_code(exc), str(exc), debug, exc)
        except OSError as exc:
            if exc.filename is None:  # not about a path the user gave: treat as a bug
                _fail(BUG_EXIT, _bug_message(exc, debug), debug, exc)
            # a path that cannot be read or written (missing, read-only, no space)
            where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
            reason = exc.strerror or type(exc).__name__
            _fail(1, f"{where}: {reason}; check the path and its permissions", debug, exc)
        except Exception as exc:
            _fail(BUG_EXIT, _bug_message(exc, debug), debug, exc)


def _bug_message(exc: BaseException, debug: bool) -> str:
    message = (
        f"internal error ({type(exc).__name__}: {exc}); this is a bug in wxai, please report it"
    )
    if debug:
        return message + " with the traceback above"
    return message + "; run again with `wxai --debug ...` (or WXAI_DEBUG=1) to see the traceback"


def _fail(code: int, message: str, debug: bool, exc: BaseException) -> NoReturn:
    """Print the traceback if ``debug``, then ``message`` on one line; exit with ``code``."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print_error(message)
    raise typer.Exit(code) from exc


app = typer.Typer(
    name="wxai",
    cls=WxaiGroup,
    help="wxai: AI/ML for weather, climate and environmental services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("doctor")(doctor.doctor)
app.add_typer(lab.app, name="lab")
app.add_typer(data.app, name="data")
app.add_typer(emulator.app, name="emulator")
app.add_typer(products.app, name="products")
app.add_typer(llm.app, name="llm")
app.add_typer(rag.app, name="rag")
app.add_typer(agent.app, name="agent")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(users.app, name="users")
app.add_typer(db.app, name="db")
app.command("notebooks")(notebooks.notebooks)


def _version(value: bool) -> None:
    if value:
        print(f"wxai {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    debug: bool = typer.Option(
        False,
        "--debug",
        help="Show the full traceback of any error (also: WXAI_DEBUG=1).",
    ),
) -> None:
    """wxai: observation -> forecast -> service, offline by default."""


def main() -> None:
    """Run the CLI (the ``wxai`` console script)."""
    app(prog_name="wxai")
