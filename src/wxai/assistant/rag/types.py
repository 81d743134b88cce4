"""The ``Retriever`` role and the :class:`Hit` it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from wxai.assistant.rag.documents import Chunk

__all__ = ["Hit", "Retriever"]


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk and why it was retrieved.

    Attributes
    ----------
    chunk:
        The chunk, with its source and citation.
    score:
        Reciprocal-rank-fusion score, ``sum over rankings of 1 / (60 + rank)``;
        in a single mode (``"vector"``, ``"bm25"``) the sum has one term. Higher is
        better; comparable only within one result list.
    vector_score:
        Cosine similarity between query and chunk embeddings, or None where the
        retriever has no embeddings (web search).
    bm25_score:
        BM25 score of the chunk for the query (0.0 if it shares no term), or None
        where not computed.
    rank:
        1-based position in the result list.
    """

    chunk: Chunk
    score: float
    vector_score: float | None = None
    bm25_score: float | None = None
    rank: int = 0


@runtime_checkable
class Retriever(Protocol):
    """Anything that returns the chunks most relevant to a query, best first."""

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` best hits for ``query``."""
        ...
