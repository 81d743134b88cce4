"""One MiniLM embedder for the documentation corpus, shared by both recall gates.

The file backend's gate (tests/assistant/rag_quality) and the PostgreSQL backend's
(tests/assistant/rag/test_pg_store.py) index the same corpus. This module is imported
under one name by both, so the second gate reuses the first one's vectors.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from wxai.assistant.rag.embedding import Embedder


class _RememberingEmbedder(Embedder):
    """MiniLM that keeps each text's vector: both recall gates (file and PostgreSQL
    backends) index this corpus, so the second one reuses the first one's work."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if new:
            self._vectors.update(zip(new, super().encode(new), strict=True))
        if not texts:
            return super().encode(texts)
        return np.stack([self._vectors[t] for t in texts])


@functools.cache
def docs_embedder() -> Embedder:
    """The embedder of the documentation corpus, one per test session."""
    return _RememberingEmbedder()
