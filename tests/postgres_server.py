"""A throwaway PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

Use through the fixtures of ``tests/conftest.py`` (``postgres_url``,
``fresh_database_url``, ``database_url``); this module only knows how to start, use and
remove one cluster::

    server = PostgresServer.start()
    url = server.create_database("mine")        # postgresql+psycopg://wxai@127.0.0.1:PORT/mine
    server.stop()

PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as the
unprivileged ``postgres`` user (created by Debian's ``postgresql`` package, which
``scripts/system-deps.sh`` installs). Authentication is ``trust`` on loopback only.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The superuser of the throwaway cluster (no password: trust on 127.0.0.1 only).
USER = "wxai"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the cluster did not start."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first).

    Raises
    ------
    PostgresUnavailable
        If no PostgreSQL server binaries are installed.
    """
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install them with "
        "`apt-get install postgresql` (scripts/system-deps.sh does it as root)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _valid_name(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"database name {name!r}: use lower-case letters, digits, '_'")
    return name


@dataclass
class PostgresServer:
    """A running throwaway cluster; :meth:`stop` removes it with all its data."""

    root: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @classmethod
    def start(cls) -> PostgresServer:
        """Create and start a cluster listening on a free loopback port (tuned for speed).

        Raises
        ------
        PostgresUnavailable
            If the binaries are missing or the server did not start.
        """
        bin_dir = find_bin_dir()
        run_as = None
        root = Path(tempfile.mkdtemp(prefix="wxai-pg-"))
        if os.geteuid() == 0:
            run_as = "postgres"
            try:
                entry = pwd.getpwnam(run_as)
            except KeyError as error:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable(
                    "running as root needs the unprivileged 'postgres' user "
                    "(apt-get install postgresql creates it)"
                ) from error
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = cls(root=root, port=_free_port(), bin_dir=bin_dir, run_as=run_as)
        try:
            server._init_and_start()
        except (OSError, subprocess.CalledProcessError) as error:
            log = server.log_text()
            server.stop()
            raise PostgresUnavailable(f"PostgreSQL did not start: {error}\n{log}") from error
        return server

    def _command(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return [*prefix, *args]

    def _init_and_start(self) -> None:
        data = self.root / "data"
        subprocess.run(
            self._command(
                str(self.bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        subprocess.run(
            self._command(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
            timeout=90,
        )

    def log_text(self) -> str:
        """The server's log so far (empty if there is none)."""
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text(errors="replace")
        return ""

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (``CREATE/DROP DATABASE``)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given) and return its URL."""
        sql = f"CREATE DATABASE {_valid_name(name)}"
        if template:
            sql += f" TEMPLATE {_valid_name(template)}"
        self.execute(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing the connections other processes still hold to it."""
        self.execute(f"DROP DATABASE IF EXISTS {_valid_name(name)} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server at once and delete the cluster."""
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                self._command(
                    str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"
                ),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)
