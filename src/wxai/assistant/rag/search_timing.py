"""Measuring nearest-neighbour search: test vectors, reference searches, latency, threads.

Shared by the ``faiss-scaling`` lab and ``benchmarks/rag_scaling.py``, which time
:class:`~wxai.assistant.rag.vector_index.VectorIndex` against the exact searches here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

from wxai.assistant.rag.vector_index import faiss_threads
from wxai.core.errors import ConfigError

__all__ = [
    "brute_force_search",
    "clustered_unit_vectors",
    "loop_search",
    "query_latencies_ms",
    "thread_limit",
]

_BLOCK = 100_000


def clustered_unit_vectors(
    rng: np.random.Generator, n: int, centres: np.ndarray | None, spread: float, dim: int
) -> np.ndarray:
    """``n`` random unit vectors standing in for text embeddings, float32 (n, dim).

    Parameters
    ----------
    rng
        Source of randomness (drawn in blocks of 100,000 vectors).
    n
        Number of vectors.
    centres
        Topic centres, shape (n_topics, dim): each vector is a random centre plus a
        Gaussian offset of norm about ``spread``, normalised. ``None``: isotropic,
        uniform on the unit sphere.
    spread
        Scatter around a centre (ignored when isotropic).
    dim
        Vector dimension.
    """
    if centres is not None and centres.shape[1] != dim:
        raise ConfigError(f"centres have dimension {centres.shape[1]}, expected {dim}")
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        x = rng.standard_normal((stop - start, dim), dtype=np.float32)
        if centres is not None:
            x *= spread / math.sqrt(dim)
            x += centres[rng.integers(0, len(centres), stop - start)]
        out[start:stop] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def query_latencies_ms(search: Callable[[np.ndarray], Any], queries: np.ndarray) -> np.ndarray:
    """Wall time [ms] of ``search(q)`` for each single query ``q`` of shape (1, dim).

    Returns
    -------
    numpy.ndarray
        Shape (n_queries,); take the median or percentiles.
    """
    out = np.empty(len(queries))
    for i in range(len(queries)):
        clock = time.perf_counter()
        search(queries[i : i + 1])
        out[i] = 1e3 * (time.perf_counter() - clock)
    return out


def loop_search(database: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """The first search of the RAG lecture: one cosine per stored vector in a Python loop.

    Parameters
    ----------
    database
        Stored vectors, shape (n, dim).
    query
        One query, shape (dim,) or (1, dim).
    k
        Neighbours returned.

    Returns
    -------
    list of int
        Row indices of the ``k`` most cosine-similar vectors, best first.
    """
    q = query.ravel()
    q_norm = float(np.linalg.norm(q))
    scores = [
        (float(np.dot(q, z)) / (q_norm * float(np.linalg.norm(z))), i)
        for i, z in enumerate(database)
    ]
    scores.sort(reverse=True)
    return [i for _, i in scores[:k]]


def brute_force_search(database: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Exact top-``k`` inner-product search with NumPy (cosine for unit vectors).

    Parameters
    ----------
    database
        Stored vectors, shape (n, dim), n >= k.
    query
        One query, shape (1, dim) or (dim,).
    k
        Neighbours returned.

    Returns
    -------
    numpy.ndarray
        Row indices (k,), best first.
    """
    scores = database @ query.ravel()
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


@contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """At most ``threads`` FAISS OpenMP and NumPy BLAS threads inside the block (None: all).

    On a busy machine, threads that wait for each other make one query 10-20x slower
    (measured: FAISS flat at N = 20,000 with 2 threads on a loaded 2-core CPU). Without
    ``threadpoolctl`` installed, NumPy keeps its BLAS threads.
    """
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits: Any = nullcontext()
    else:
        limits = threadpool_limits(limits=threads)
    with faiss_threads(threads), limits:
        yield
