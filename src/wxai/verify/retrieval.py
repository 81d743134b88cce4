"""Scores of retrieval: cosine similarity, rank of the right item, top-k accuracy, margin."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError

__all__ = ["cosine_similarity", "target_margin", "target_ranks", "top_k_accuracy"]


def cosine_similarity(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    ``sim[i, j] = (a_i . b_j) / (|a_i| |b_j|)``.

    Parameters
    ----------
    a, b
        Vectors, shapes (m, d) and (n, d).

    Returns
    -------
    numpy.ndarray
        Shape (m, n), values in [-1, 1].
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ConfigError(f"need (m, d) and (n, d) vectors, got {a.shape} and {b.shape}")
    return (a @ b.T) / np.outer(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))


def _check(scores: ArrayLike, targets: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s, t = np.asarray(scores, dtype=float), np.asarray(targets, dtype=int)
    if s.ndim != 2 or t.shape != (s.shape[0],) or np.any((t < 0) | (t >= s.shape[1])):
        raise ConfigError(
            f"need scores (q, n) and one target index in [0, n) per row, got {s.shape}, {t}"
        )
    return s, t


def target_ranks(scores: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """1-based rank of each query's target among its scores (higher score ranks first).

    Ties are broken by index (a stable sort), as a search returning ids in order would.

    Parameters
    ----------
    scores
        Query-vs-item scores, shape (q, n).
    targets
        Index of the right item of each query, shape (q,).

    Returns
    -------
    numpy.ndarray
        Integer ranks in 1..n, shape (q,).
    """
    s, t = _check(scores, targets)
    ranking = np.argsort(-s, axis=1, kind="stable")
    return np.argmax(ranking == t[:, None], axis=1) + 1


def top_k_accuracy(scores: ArrayLike, targets: ArrayLike, k: int = 1) -> float:
    """Fraction of queries whose target is among their ``k`` best-scored items."""
    return float(np.mean(target_ranks(scores, targets) <= k))


def target_margin(scores: ArrayLike, targets: ArrayLike) -> float:
    """Mean of (target score - best other score) over queries; > 0 when targets win."""
    s, t = _check(scores, targets)
    rows = np.arange(len(t))
    others = s.copy()
    others[rows, t] = -np.inf
    return float(np.mean(s[rows, t] - others.max(axis=1)))
