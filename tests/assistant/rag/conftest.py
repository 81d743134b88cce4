"""Shared fixtures: one MiniLM embedder for the whole session."""

from __future__ import annotations

import pytest

from wxai.assistant.rag.embedding import Embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real MiniLM model, loaded once."""
    emb = Embedder()
    assert emb.dim == 384
    return emb
