"""``wxai llm chat`` and ``wxai llm models``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from wxai.assistant.llm.local import LocalProvider
from wxai.assistant.llm.types import Message
from wxai.cli.app import app

PROMPT = "What is a cold front?"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("WXAI_LLM_MODEL", raising=False)


def wxai(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wxai.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_one_shot_chat_streams_the_local_answer():
    expected = LocalProvider().chat(
        [Message.system("Answer briefly."), Message.user(PROMPT)], max_tokens=12
    )
    result = CliRunner().invoke(
        app,
        ["llm", "chat", "--prompt", PROMPT, "--system", "Answer briefly.", "--max-tokens", "12"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == expected.content + "\n"


def test_repl_keeps_history_and_exits():
    result = CliRunner().invoke(
        app, ["llm", "chat", "--max-tokens", "6"], input=f"{PROMPT}\n\nAnd a warm front?\n/exit\n"
    )
    assert result.exit_code == 0, result.output
    local = LocalProvider()
    first = local.chat([Message.user(PROMPT)], max_tokens=6).content
    second = local.chat(
        [Message.user(PROMPT), Message.assistant(first), Message.user("And a warm front?")],
        max_tokens=6,
    ).content
    assert first in result.stdout and second in result.stdout
    # end of input ends the chat as well
    assert CliRunner().invoke(app, ["llm", "chat"], input="").exit_code == 0


def test_models_table_and_json(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    rows = json.loads(CliRunner().invoke(app, ["llm", "models", "--json"]).stdout)
    by_alias = {row["alias"]: row for row in rows}
    assert by_alias["local-fast"]["default"] is True
    assert by_alias["local-fast"]["api_key_set"] is None
    assert by_alias["openai-core"]["api_key_set"] is True
    assert by_alias["mistral-core"]["api_key_set"] is False
    assert by_alias["ollama-pro"]["capabilities"]["vision"] is True
    table = wxai("llm", "models", OPENAI_API_KEY="sk-x").stdout
    assert "local-fast *" in table and "OPENAI_API_KEY set" in table
    assert "MISTRAL_API_KEY unset" in table and "sk-x" not in table


def test_unknown_alias_exits_2_with_a_suggestion():
    out = wxai("llm", "chat", "--model", "openai-cor", "--prompt", "hi")
    assert out.returncode == 2
    assert "did you mean 'openai-core'" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_unreachable_provider_exits_1_with_one_line(dead_url):
    out = wxai("llm", "chat", "-m", "ollama-fast", "-p", "hi", WXAI_OLLAMA_URL=dead_url)
    assert out.returncode == 1
    assert f"cannot connect to {dead_url}/api/chat" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_chat_against_a_configured_server(openai_server, monkeypatch):
    monkeypatch.setenv("WXAI_LMSTUDIO_URL", openai_server.url)
    result = CliRunner().invoke(app, ["llm", "chat", "-m", "lmstudio-core", "-p", "-"], input="fog")
    assert result.exit_code == 0, result.output
    assert result.stdout == "You said: fog\n"
