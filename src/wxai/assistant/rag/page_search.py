"""Which page of a document a search finds first, per search mode, for labelled questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from wxai.assistant.rag.types import Hit

__all__ = ["PageSearchResult", "evaluate_page_search"]


class _ModalSearch(Protocol):
    def search(self, query: str, k: int = 5, *, mode: str = "hybrid") -> list[Hit]: ...


@dataclass(frozen=True)
class PageSearchResult:
    """Pages found for q questions over an n-page document.

    Attributes
    ----------
    first
        Mode -> 1-based page of the best hit of each question (0: no hit), shape (q,).
    in_top_k
        Whether the answering page is among the pages of the ``top_k`` best vector hits,
        shape (q,).
    similarity
        Best vector (cosine) score of any chunk of each page, NaN where none was
        returned, shape (q, n).
    """

    first: dict[str, np.ndarray]
    in_top_k: np.ndarray
    similarity: np.ndarray

    def accuracy(self, truth: np.ndarray) -> dict[str, float]:
        """Mode -> fraction of questions whose first page is the answering page."""
        return {mode: float(np.mean(pages == truth)) for mode, pages in self.first.items()}


def evaluate_page_search(
    store: _ModalSearch,
    queries: Sequence[str],
    truth: np.ndarray,
    *,
    n_pages: int,
    n_chunks: int,
    top_k: int,
    modes: Sequence[str] = ("vector", "bm25", "hybrid"),
    progress: Callable[[float, str], None] | None = None,
) -> PageSearchResult:
    """Search every question in every mode over all ``n_chunks`` chunks; record the pages.

    Parameters
    ----------
    store
        A :class:`~wxai.assistant.rag.store.RagStore` (``search(query, k, mode=...)``)
        holding chunks with a 1-based ``page``.
    queries
        The q questions.
    truth
        1-based page answering each question, shape (q,).
    n_pages, n_chunks
        Pages of the document and chunks in the store (every chunk is ranked).
    top_k
        Depth of the vector-search recall.
    modes
        Search modes; ``"vector"`` must be among them.
    progress
        Called with (fraction done, message) after each question.
    """
    first = {m: np.zeros(len(queries), dtype=int) for m in modes}
    in_top_k = np.zeros(len(queries), dtype=bool)
    similarity = np.full((len(queries), n_pages), np.nan)
    for i, query in enumerate(queries):
        for mode in modes:
            hits = store.search(query, k=n_chunks, mode=mode)
            first[mode][i] = hits[0].chunk.page if hits else 0
            if mode != "vector":
                continue
            in_top_k[i] = truth[i] in [h.chunk.page for h in hits][:top_k]
            for hit in hits:
                col = int(hit.chunk.page) - 1
                similarity[i, col] = np.fmax(similarity[i, col], hit.vector_score)
        if progress is not None:
            progress((i + 1) / len(queries), f"query {i + 1}/{len(queries)}")
    return PageSearchResult(first, in_top_k, similarity)
