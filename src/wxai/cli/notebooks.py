"""``wxai notebooks``: write the course notebooks as ``.ipynb``, open JupyterLab or run them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wxai.core.errors import ConfigError


def notebooks(  # noqa: PLR0917 -- typer options
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="JupyterLab's port on 127.0.0.1.")
    ] = 8888,
    no_lab: Annotated[bool, typer.Option("--no-lab", help="Only write the .ipynb files.")] = False,
    execute: Annotated[
        bool, typer.Option("--execute", help="Run every notebook headless and report.")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="With --execute: full presets.")] = False,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="With --execute: just this notebook (day1..day5; repeat)."),
    ] = None,
    cell_timeout: Annotated[
        int, typer.Option("--cell-timeout", min=1, help="With --execute: seconds per cell.")
    ] = 600,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Rewrite .ipynb files even if newer than the .py.")
    ] = False,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Notebooks folder (default: the checkout's).")
    ] = None,
) -> None:
    """Write notebooks/*.ipynb from the jupytext files, then start JupyterLab.

    JupyterLab listens on 127.0.0.1 only and needs the token of the printed URL; on a
    remote machine, forward the port with: ssh -N -L PORT:127.0.0.1:PORT user@host.
    --execute runs the notebooks instead (exit status 1 if one fails).
    """
    from wxai.labs.notebooks import write_ipynb

    if (full or only) and not execute:
        raise ConfigError("--full and --only apply to --execute; add --execute")
    console = Console(highlight=False)
    for item in write_ipynb(directory, overwrite=overwrite):
        console.print(f"{item.status:9s} {escape(str(item.target))}")
    if execute:
        _execute(console, directory, only or [], full=full, cell_timeout=cell_timeout)
    elif not no_lab:
        _serve(console, directory, port)


def _execute(
    console: Console, directory: Path | None, only: list[str], *, full: bool, cell_timeout: int
) -> None:
    """Run the notebooks one by one, save them executed, print a table; exit 1 on a failure."""
    import nbformat

    from wxai.core.paths import ensure_dir, home_dir
    from wxai.labs.notebooks import (
        NotebookError,
        execute_notebook,
        find_notebook,
        notebook_sources,
    )

    sources = [find_notebook(name, directory) for name in only] or notebook_sources(directory)
    out_dir = ensure_dir(home_dir() / "notebooks" / "executed")
    mode = "full" if full else "smoke"
    table = Table(title=f"course notebooks ({mode})")
    for column in ("notebook", "seconds", "result"):
        table.add_column(column)
    failures = []
    for source in sources:
        console.print(f"running {source.name} ({mode}) ...")
        try:
            run = execute_notebook(source, smoke=not full, cell_timeout=cell_timeout)
        except NotebookError as exc:
            failures.append(str(exc))
            table.add_row(source.stem, "-", "[bold red]FAILED[/]")
            continue
        nbformat.write(run.notebook, out_dir / f"{run.name}.ipynb")
        table.add_row(run.name, f"{run.seconds:.1f}", "[green]ok[/]")
    console.print(table)
    for failure in failures:
        console.print(f"[bold red]error:[/] {escape(failure)}")
    console.print(f"executed notebooks saved in {escape(str(out_dir))}")
    if failures:
        raise typer.Exit(1)


def _serve(console: Console, directory: Path | None, port: int) -> None:
    """Start JupyterLab, print its URL once and wait until Ctrl-C."""
    from wxai.labs.jupyter import start_jupyterlab

    console.print("starting JupyterLab on 127.0.0.1 ...")
    server = start_jupyterlab(directory, port=port)
    try:
        console.print(f"\nOpen {server.url}\n", soft_wrap=True)
        console.print(
            f"Remote machine? On your laptop run `ssh -N -L {port}:127.0.0.1:{port} user@host`,\n"
            f"then open the URL above there. Server log: {escape(str(server.log))}\n"
            "Ctrl-C stops JupyterLab.",
            soft_wrap=True,
        )
        server.process.wait()
    except KeyboardInterrupt:
        console.print("stopping JupyterLab")
    finally:
        server.stop()
