"""A FAISS index with int64 ids that switches from exact to approximate search.

:class:`VectorIndex` starts as an exact inner-product index (``IndexFlatIP``
behind ``IndexIDMap2``). When an ``add`` makes it hold more than ``exact_max``
vectors it trains an approximate index once, on every vector it holds, and keeps
adding to that:

* ``"ivf"`` (the ``"auto"`` choice): ``IndexIVFFlat`` with
  ``nlist ~ 4 sqrt(n)`` cells (at most ``n / 39``, FAISS's minimum of training
  points per cell), searched in ``nprobe`` cells. Supports removal natively.
* ``"hnsw"``: ``IndexHNSWFlat`` (``M`` links per node) behind ``IndexIDMap2``.
  FAISS cannot remove from an HNSW graph, so removed ids become *tombstones*:
  searches ask for extra neighbours and drop them, and once tombstones exceed
  a quarter of the index the graph is rebuilt from the live vectors.
* ``"flat"``: stays exact whatever the size.

An approximate index stays approximate if removals shrink it again (no
retraining back and forth). Vectors should be L2-normalised so that scores are
cosine similarities.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Literal

import numpy as np

from wxai.core.errors import ConfigError, DataFormatError

__all__ = ["IndexKind", "VectorIndex"]

IndexKind = Literal["auto", "flat", "ivf", "hnsw"]
_KINDS = ("auto", "flat", "ivf", "hnsw")
_MIN_POINTS_PER_CELL = 39
_TOMBSTONE_FRACTION = 0.25


def _faiss():
    import faiss

    return faiss


def _atomic_replace(write, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


class VectorIndex:
    """Inner-product nearest-neighbour search over vectors with int64 ids.

    Parameters
    ----------
    dim:
        Vector dimension.
    exact_max:
        Largest size kept in the exact (flat) index; above it the approximate
        index is trained (unless ``kind="flat"``).
    kind:
        ``"auto"`` (= ``"ivf"``), ``"ivf"``, ``"hnsw"`` or ``"flat"``.
    nprobe:
        IVF cells visited per query (clipped to ``nlist``); more is slower and
        more exact.
    hnsw_m, ef_search:
        HNSW links per node and search beam width.
    """

    def __init__(
        self,
        dim: int,
        *,
        exact_max: int = 20_000,
        kind: IndexKind = "auto",
        nprobe: int = 16,
        hnsw_m: int = 32,
        ef_search: int = 64,
    ) -> None:
        if kind not in _KINDS:
            raise ConfigError(f"unknown index kind {kind!r}; choose one of {', '.join(_KINDS)}")
        if dim <= 0:
            raise ConfigError(f"dim must be positive, got {dim}")
        self.dim = int(dim)
        self.exact_max = int(exact_max)
        self.requested = kind
        self.nprobe = int(nprobe)
        self.hnsw_m = int(hnsw_m)
        self.ef_search = int(ef_search)
        self._kind: str = "flat"
        self._tombstones: set[int] = set()
        self.meta: dict = {}
        """The sidecar JSON read by :meth:`load` (empty for a new index)."""
        faiss = _faiss()
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    # ------------------------------------------------------------------ properties
    @property
    def kind(self) -> str:
        """The structure in use now: ``"flat"``, ``"ivf"`` or ``"hnsw"``."""
        return self._kind

    @property
    def ntotal(self) -> int:
        """Number of live vectors (removed HNSW vectors excluded)."""
        return int(self._index.ntotal) - len(self._tombstones)

    @property
    def nlist(self) -> int | None:
        """IVF cells, or None if the index is not IVF."""
        return int(self._index.nlist) if self._kind == "ivf" else None

    def __len__(self) -> int:
        return self.ntotal

    # ------------------------------------------------------------------ helpers
    def _check(self, vectors: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ConfigError(f"vectors must have shape (n, {self.dim}), got {vectors.shape}")
        return x

    def _ids_and_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every stored (id, vector), tombstones excluded (flat and HNSW only)."""
        faiss = _faiss()
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        inner = faiss.downcast_index(self._index.index)
        n = int(inner.ntotal)
        vectors = inner.reconstruct_n(0, n) if n else np.zeros((0, self.dim), np.float32)
        if self._tombstones:
            keep = ~np.isin(ids, np.fromiter(self._tombstones, np.int64))
            ids, vectors = ids[keep], vectors[keep]
        return ids, np.ascontiguousarray(vectors, dtype=np.float32)

    def _build_ivf(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        faiss = _faiss()
        n = len(ids)
        nlist = max(1, min(int(4 * math.sqrt(n)), n // _MIN_POINTS_PER_CELL))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.add_with_ids(vectors, ids)
        index.nprobe = min(self.nprobe, nlist)
        self._quantizer = quantizer  # keep the Python object alive with the index
        self._index, self._kind = index, "ivf"

    def _build_hnsw(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        faiss = _faiss()
        inner = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efSearch = self.ef_search
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vectors, ids)
        self._index, self._kind = index, "hnsw"
        self._tombstones = set()

    # ------------------------------------------------------------------ operations
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ``ids`` (int64, unique, not already present).

        Parameters
        ----------
        ids:
            Shape ``(n,)``.
        vectors:
            Shape ``(n, dim)``, float32, ideally unit norm.
        """
        x = self._check(vectors)
        ids = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        if len(ids) != len(x):
            raise ConfigError(f"{len(ids)} ids for {len(x)} vectors")
        if not len(ids):
            return
        if self._tombstones:
            self._tombstones -= set(ids.tolist())
        self._index.add_with_ids(x, ids)
        if self._kind == "flat" and self.requested != "flat" and self.ntotal > self.exact_max:
            all_ids, all_vectors = self._ids_and_vectors()
            if self.requested == "hnsw":
                self._build_hnsw(all_ids, all_vectors)
            else:
                self._build_ivf(all_ids, all_vectors)

    def remove(self, ids: np.ndarray) -> int:
        """Remove the vectors with these ids; unknown ids are ignored.

        Returns
        -------
        int
            How many vectors were removed (for HNSW: newly tombstoned).
        """
        faiss = _faiss()
        ids = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        if not len(ids):
            return 0
        if self._kind == "hnsw":
            present = set(faiss.vector_to_array(self._index.id_map).tolist())
            new = (set(ids.tolist()) & present) - self._tombstones
            self._tombstones |= new
            if len(self._tombstones) > _TOMBSTONE_FRACTION * int(self._index.ntotal):
                self._build_hnsw(*self._ids_and_vectors())
            return len(new)
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best inner products for each query.

        Parameters
        ----------
        vectors:
            Queries, shape ``(q, dim)`` (or ``(dim,)``).
        k:
            Neighbours per query.

        Returns
        -------
        scores, ids:
            Shapes ``(q, k)``, best first; where fewer than ``k`` vectors exist the
            rest is padded with score ``-inf`` and id ``-1``.
        """
        x = self._check(vectors)
        q = len(x)
        scores = np.full((q, k), -np.inf, dtype=np.float32)
        out_ids = np.full((q, k), -1, dtype=np.int64)
        if k <= 0 or self.ntotal == 0:
            return scores, out_ids
        fetch = min(k + len(self._tombstones), int(self._index.ntotal))
        raw_scores, raw_ids = self._index.search(x, fetch)
        for row in range(q):
            keep = raw_ids[row] >= 0
            if self._tombstones:
                keep &= ~np.isin(raw_ids[row], np.fromiter(self._tombstones, np.int64))
            s, i = raw_scores[row][keep][:k], raw_ids[row][keep][:k]
            scores[row, : len(s)], out_ids[row, : len(i)] = s, i
        return scores, out_ids

    # ------------------------------------------------------------------ persistence
    def _meta(self) -> dict:
        return {
            "dim": self.dim,
            "exact_max": self.exact_max,
            "requested": self.requested,
            "kind": self._kind,
            "nprobe": self.nprobe,
            "hnsw_m": self.hnsw_m,
            "ef_search": self.ef_search,
            "tombstones": sorted(self._tombstones),
        }

    def save(self, path: str | os.PathLike, **extra: object) -> Path:
        """Write the index to ``path`` and its settings to ``path + ".json"``, atomically.

        ``extra`` items are stored in the JSON sidecar (a store keeps its version there).
        """
        faiss = _faiss()
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        _atomic_replace(lambda tmp: faiss.write_index(self._index, str(tmp)), p)
        meta = {**self._meta(), **extra}
        sidecar = p.with_name(p.name + ".json")
        _atomic_replace(lambda tmp: tmp.write_text(json.dumps(meta)), sidecar)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> VectorIndex:
        """Read an index written by :meth:`save`.

        Raises
        ------
        DataFormatError
            If the file or its sidecar is missing or unreadable.
        """
        faiss = _faiss()
        p = Path(path)
        try:
            meta = json.loads(p.with_name(p.name + ".json").read_text())
            index = faiss.read_index(str(p))
        except (OSError, ValueError, RuntimeError) as exc:
            raise DataFormatError(f"{p}: cannot read the vector index ({exc})") from exc
        out = cls(
            int(meta["dim"]),
            exact_max=int(meta["exact_max"]),
            kind=meta["requested"],
            nprobe=int(meta["nprobe"]),
            hnsw_m=int(meta["hnsw_m"]),
            ef_search=int(meta["ef_search"]),
        )
        out._index, out._kind = index, meta["kind"]
        out._tombstones = {int(i) for i in meta["tombstones"]}
        if out._kind == "ivf":
            index.nprobe = min(out.nprobe, int(index.nlist))
        elif out._kind == "hnsw":
            faiss.downcast_index(index.index).hnsw.efSearch = out.ef_search
        out.meta = meta
        return out
