"""Sentence embeddings with the offline MiniLM model.

The model directory comes from :func:`wxai.core.assets.resolve` (an installed
package); nothing is fetched from a model hub. The loaded model is cached per
process and device, so many :class:`Embedder` objects share one copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Embedder", "load_sentence_model"]


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

    Examples
    --------
    >>> emb = Embedder()  # doctest: +SKIP
    >>> emb.encode(["rain over the city"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self, asset: str = "all-minilm-l6-v2", device: str = "cpu", batch_size: int = 64
    ) -> None:
        self.asset = asset
        self.device = device
        self.batch_size = batch_size

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
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
