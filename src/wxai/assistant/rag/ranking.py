"""Lexical ranking (BM25 through :mod:`bm25s`) and reciprocal-rank fusion.

BM25 finds exact terms that an embedding blurs: a variable short name (``t2m``),
an error class (``DataFormatError``), a file name. Vector search finds paraphrases
that share no term with the query. Reciprocal-rank fusion (Cormack et al., 2009)
combines the two rankings without calibrating their scores against each other::

    rrf(d) = sum over rankings r of 1 / (k + rank_r(d)),   k = 60
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["RRF_K", "BM25Index", "reciprocal_rank_fusion"]

RRF_K = 60


def _tokenize(texts: list[str], *, return_ids: bool):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", return_ids=return_ids, show_progress=False)


class BM25Index:
    """BM25 over a fixed list of texts; rebuild it when the texts change (it is cheap).

    Parameters
    ----------
    ids:
        An id per text (chunk ids), returned by :meth:`search`.
    texts:
        The documents.
    """

    def __init__(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)
        self._retriever = bm25s.BM25()
        if len(self.ids):
            self._retriever.index(_tokenize(list(texts), return_ids=True), show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query``, shape ``(len(self),)``."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        tokens = _tokenize([query], return_ids=False)[0]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` ``(id, score)`` pairs with a positive score, best first."""
        scores = self.scores(query)
        if not len(scores):
            return []
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(self.ids[i]), float(scores[i])) for i in order if scores[i] > 0]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], *, k: int = RRF_K
) -> list[tuple[int, float]]:
    """Fuse rankings of ids by reciprocal rank.

    Parameters
    ----------
    rankings:
        Each a list of ids, best first.
    k:
        Damping constant; 60 is the value of the original paper.

    Returns
    -------
    list of (id, score)
        Every id that appears in some ranking, by decreasing fused score; ties
        keep the order in which ids were first seen.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])
