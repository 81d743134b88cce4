"""``wxai users``: the cockpit's accounts from the command line (add, list, passwd, disable).

Works on the cockpit database of the settings in effect (``WXAI_DATABASE_URL`` or
``<wxai home>/cockpit.db``), with or without a running server.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Cockpit accounts: add, list, passwd, disable, link.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


@app.callback()
def _users() -> None:
    """Manage who may sign in to the cockpit, and their groups."""


def _store():
    from wxai.cockpit.accounts import AccountStore
    from wxai.core.settings import get_settings

    store = AccountStore(get_settings().resolved_database_url)
    store.create_tables()
    return store


def _password(from_stdin: bool, *, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (a letter, then letters/digits/._-).")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Add to this group (repeatable).")
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No password: print a sign-in link instead.")
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; groups that do not exist yet are created."""
    from wxai.cockpit.accounts import AccountNotFound

    store = _store()
    password = None if no_password else _password(password_stdin)
    info = store.add_user(name, password, "admin" if admin else "user")
    for group_name in group or []:
        try:
            store.group_id(group_name)
        except AccountNotFound:
            store.add_group(group_name)
        store.set_member(group_name, info.id)
    typer.echo(f"added {info.name} ({'admin' if admin else 'user'})")
    if no_password:
        _print_link(store, name)


@app.command("list")
def list_users() -> None:
    """Every user with role, state and groups."""
    table = Table("name", "role", "state", "groups", "created")
    for info in _store().list_users():
        state = "disabled" if info.disabled else "active"
        created = info.created_at.strftime("%Y-%m-%d %H:%M")
        table.add_row(info.name, info.role, state, ", ".join(info.groups), created)
    Console().print(table)


@app.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password (their browser sessions end)."""
    _store().set_password(name, _password(password_stdin))
    typer.echo(f"password of {name} changed")


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Disable a user: every login, API key and open stream of theirs stops working."""
    _store().set_disabled(name, True)
    typer.echo(f"{name} is disabled")


@app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Enable a disabled user again."""
    _store().set_disabled(name, False)
    typer.echo(f"{name} is enabled")


@app.command("link")
def link(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Print a one-time sign-in link for a user (valid 24 h)."""
    _print_link(_store(), name)


def _print_link(store, name: str) -> None:
    from wxai.core.settings import get_settings

    issued = store.create_login_link(name)
    url = f"{get_settings().cockpit_url}/auth/link?token={issued.token}"
    typer.echo(f"one-time sign-in link for {name} (24 h): {url}")
