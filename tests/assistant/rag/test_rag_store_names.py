"""Store names are names: ``~``, ``.``, ``..`` and hidden names never open a directory."""

from __future__ import annotations

import pytest

from wxai.assistant.rag.store import RagStore
from wxai.core.errors import ConfigError


@pytest.mark.parametrize("name", ["~", "~root", ".", "..", ".hidden", "~.wxai", "-x", ""])
def test_names_that_would_be_paths_are_refused(name, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ConfigError, match="invalid store name"):
        RagStore.open(name)
    assert list(home.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_plain_names_and_explicit_paths_still_open(tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    named = RagStore.open("docs.v2", embedder=embedder)
    assert named.directory.parent.name == "rag" and named.directory.name == "docs.v2"
    assert RagStore.open("./here", embedder=embedder).directory.resolve() == tmp_path / "here"
    tilde = RagStore.open("~/stores/x", embedder=embedder)
    assert tilde.directory == tmp_path / "home" / "stores" / "x"
    assert RagStore.open(tmp_path / "obj", embedder=embedder).db_path.is_file()
