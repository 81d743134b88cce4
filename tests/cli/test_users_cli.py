"""`wxai users`: accounts from the command line, then used against the cockpit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from wxai.cockpit.app import create_app
from wxai.core.settings import reload_settings

WXAI = [sys.executable, "-m", "wxai.cli"]


def users(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "WXAI_HOME": str(home)}
    env.pop("WXAI_DATABASE_URL", None)
    return subprocess.run(
        [*WXAI, "users", *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_users_made_on_the_command_line_sign_in_to_the_cockpit(tmp_path, monkeypatch):
    home = tmp_path / "home"
    added = users(
        home, "add", "alice", "-g", "forecasters", "--password-stdin", stdin="s3cret-pw\n"
    )
    assert added.returncode == 0, added.stderr
    linked = users(home, "add", "bob", "--no-password")
    assert linked.returncode == 0, linked.stderr
    token = re.search(r"/auth/link\?token=([\w-]+)", linked.stdout).group(1)
    assert users(home, "disable", "bob").returncode == 0

    listing = users(home, "list").stdout
    assert re.search(r"alice\s.*user\s.*active\s.*forecasters", listing)
    assert re.search(r"bob\s.*disabled", listing)

    bad = users(home, "add", "../root", "--no-password")
    assert bad.returncode != 0 and "invalid user name" in bad.stderr
    short = users(home, "add", "carol", "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr

    monkeypatch.setenv("WXAI_HOME", str(home))
    with TestClient(create_app(reload_settings(), start_worker=False)) as client:
        form = {"username": "alice", "password": "s3cret-pw"}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        assert client.get("/api/me").json()["groups"] == ["forecasters"]
        client.cookies.clear()
        assert client.get(f"/auth/link?token={token}").status_code == 401  # bob is disabled
        assert users(home, "enable", "bob").returncode == 0
        assert client.get(f"/auth/link?token={token}", follow_redirects=False).status_code == 303
        assert client.get("/api/me").json()["name"] == "bob"
    reload_settings()
