"""Sentence embeddings with the offline MiniLM model.

The model directory comes from :func:`wxai.core.assets.resolve` (an installed
package); nothing is fetched from a model hub. The loaded model is cached per
process and device, so many :class:`Embedder` objects share one copy.

Threads: a query (a few short texts) is embedded on one torch thread. Its
matrices are too small to split, and on a busy 2-core machine a second thread
made each query ~3.5x slower (120 ms -> 420 ms; batches of 87 chunks 1.3x
slower). Larger batches use :attr:`Embedder.threads` (``None``: torch's
setting). The thread count is set around each call and restored afterwards
(torch keeps one count per process, so calls that change it are serialised).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Embedder", "load_sentence_model"]

#: Fewer texts than this are embedded on one torch thread (see the module notes).
_PARALLEL_MIN_TEXTS = 8
_THREADS_LOCK = threading.Lock()


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """``threads`` torch threads inside the block; one such block at a time per process."""
    from wxai.core.device import torch_threads

    with _THREADS_LOCK, torch_threads(threads):
        yield


@lru_cache(maxsize=4)
def load_sentence_model(asset: str = "all-minilm-l6-v2", device: str = "cpu") -> Any:
    """The ``sentence_transformers.SentenceTransformer`` of ``asset``, loaded once.

    Raises
    ------
    AssetNotFound
        If the package that ships the model is not installed (the message names it).
    """
    from wxai.core.assets import resolve

    path = resolve(asset)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start
    try:
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    finally:
        if bars:
            hf_logging.enable_progress_bar()


class Embedder:
    """Text -> unit vectors, so that inner product equals cosine similarity.

    Parameters
    ----------
    asset:
        A sentence-transformers asset of :mod:`wxai.core.assets`.
    device:
        Torch device (``"cpu"``, ``"cuda"``).
    batch_size:
        Texts per forward pass.
    threads:
        Intra-op torch threads for batches of ``_PARALLEL_MIN_TEXTS`` texts or more
        (CPU only); ``None`` keeps torch's setting. Smaller calls use one thread.

    Examples
    --------
    >>> emb = Embedder()  # doctest: +SKIP
    >>> emb.encode(["rain over the city"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self,
        asset: str = "all-minilm-l6-v2",
        device: str = "cpu",
        batch_size: int = 64,
        threads: int | None = None,
    ) -> None:
        self.asset = asset
        self.device = device
        self.batch_size = batch_size
        self.threads = threads

    @property
    def model(self) -> Any:
        """The loaded sentence-transformers model (loaded on first use)."""
        return load_sentence_model(self.asset, self.device)

    @property
    def dim(self) -> int:
        """Embedding dimension (384 for MiniLM-L6)."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None)
        if getter is None:  # sentence-transformers < 5
            getter = model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``.

        Returns
        -------
        np.ndarray
            float32, shape ``(len(texts), dim)``, each row of unit L2 norm.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        threads = 1 if len(texts) < _PARALLEL_MIN_TEXTS else self.threads
        cpu = str(self.device).startswith("cpu")
        with _torch_threads(threads) if cpu and threads is not None else nullcontext():
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
