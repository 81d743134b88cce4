"""``wxai db``: the cockpit database's schema (upgrade, current, history).

Works on the database of the settings in effect (``WXAI_DATABASE_URL`` or
``<wxai home>/cockpit.db``). Servers and workers upgrade it themselves when they start;
run ``wxai db upgrade`` once before starting many processes, or as a deployment step.
"""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Cockpit database schema: upgrade, current, history.", no_args_is_help=True)


@app.callback()
def _db() -> None:
    """Migrate the cockpit database (Alembic scripts shipped with wxai)."""


def _engine():
    from sqlalchemy.engine import make_url

    from wxai.cockpit.db import make_engine
    from wxai.core.settings import get_settings

    url = get_settings().resolved_database_url
    return make_engine(url), make_url(url).render_as_string(hide_password=True)


@app.command()
def upgrade() -> None:
    """Bring the database to the newest schema (an old database is stamped first)."""
    from wxai.cockpit.db import current_revision, migrate

    engine, shown = _engine()
    try:
        before = current_revision(engine)
        after = migrate(engine)
    finally:
        engine.dispose()
    console = Console()
    if before == after:
        console.print(f"{shown}: already at {after}", highlight=False)
    else:
        console.print(f"{shown}: upgraded from {before or 'nothing'} to {after}", highlight=False)


@app.command()
def current() -> None:
    """Show the database's revision and the newest one this wxai knows."""
    from wxai.cockpit.db import current_revision, head_revision

    engine, shown = _engine()
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if revision == head else "run `wxai db upgrade`"
    Console().print(
        f"{shown}: at {revision or 'no revision'}; newest {head} ({state})", highlight=False
    )


@app.command()
def history() -> None:
    """List the migrations, oldest first."""
    from alembic.script import ScriptDirectory

    from wxai.cockpit.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    console = Console()
    for revision in reversed(list(script.walk_revisions())):
        title = (revision.doc or "").strip().splitlines()[0] if revision.doc else ""
        console.print(f"{revision.revision}  {title}", highlight=False)
