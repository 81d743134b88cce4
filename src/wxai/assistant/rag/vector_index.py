"""A FAISS index with int64 ids that switches from exact to approximate search.

:class:`VectorIndex` starts as an exact inner-product index (``IndexFlatIP``
behind ``IndexIDMap2``). When an ``add`` makes it hold more than ``exact_max``
vectors it builds an approximate index once, from every vector it holds, and keeps
adding to that:

* ``"ivf"`` (the ``"auto"`` choice): ``IndexIVFFlat`` with
  ``nlist ~ 4 sqrt(n)`` cells (at most ``n / 39``, FAISS's minimum of training
  points per cell), searched in :attr:`VectorIndex.nprobe` cells. k-means is
  trained on a seeded random sample of at most ``train_per_cell * nlist``
  vectors (standard FAISS practice: 30-256 per cell), then every vector is
  added; at 10^6 x 384 (nlist 4000) the build took 163 s on one core of a busy
  machine instead of ~20 min.
  Supports removal natively.
* ``"hnsw"``: ``IndexHNSWFlat`` (``M`` links per node) behind ``IndexIDMap2``.
  FAISS cannot remove from an HNSW graph, so removed ids become *tombstones*:
  searches ask for extra neighbours and drop them, and once tombstones exceed
  a quarter of the index the graph is rebuilt from the live vectors.
* ``"flat"``: stays exact whatever the size.

An approximate index stays approximate if removals shrink it again (no
retraining back and forth). Vectors should be L2-normalised so that scores are
cosine similarities.

Threads: FAISS parallelises with OpenMP over *queries*, so a single query gains
nothing from more threads, while on a busy 2-core machine the extra thread's
synchronisation made one query many times slower (measurements in
``docs/retrieval.md``, "Scaling"). Searches of fewer than ``_PARALLEL_MIN_QUERIES``
queries therefore run on one thread; larger batches, training and adding use
``threads`` (default: FAISS's own default, every core). The setting is applied
around each call and restored afterwards, never at import.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np

from wxai.core.errors import ConfigError, DataFormatError

__all__ = ["IndexKind", "VectorIndex", "faiss_threads", "recall_at_k"]

IndexKind = Literal["auto", "flat", "ivf", "hnsw"]
_KINDS = ("auto", "flat", "ivf", "hnsw")
_MIN_POINTS_PER_CELL = 39
_TOMBSTONE_FRACTION = 0.25
#: Searches with fewer queries than this run on one OpenMP thread (see the module notes).
_PARALLEL_MIN_QUERIES = 20


def _faiss():
    import faiss

    return faiss


@contextmanager
def faiss_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` FAISS OpenMP threads, then restore the number before.

    ``None`` leaves the setting alone. OpenMP keeps the number per calling thread, so
    concurrent server threads do not change each other's setting.
    """
    if threads is None:
        yield
        return
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(int(threads))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _atomic_replace(write, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def auto_nprobe(nlist: int) -> int:
    """The default IVF ``nprobe`` for ``nlist`` cells: ``max(16, ceil(nlist / 128))``."""
    return max(16, -(-int(nlist) // 128))


def _positive(name: str, value: int) -> int:
    if int(value) < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return int(value)


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
        more exact. ``None`` (default) grows with the index:
        ``max(16, ceil(nlist / 128))``, which kept recall@10 at 0.985-1.0 from
        10^4 to 10^6 vectors in ``benchmarks/rag_scaling.py``. Can be changed at any
        time through :attr:`nprobe`.
    hnsw_m, ef_search:
        HNSW links per node and search beam width (:attr:`ef_search`).
    train_per_cell:
        IVF k-means trains on at most ``train_per_cell * nlist`` vectors drawn at
        random (at least 39, FAISS's minimum; FAISS itself caps it at 256).
    seed:
        Seed of that training sample, so that a rebuild gives the same index.
    threads:
        FAISS OpenMP threads for training, adding and batches of queries; ``None``
        keeps FAISS's default (every core). Small searches always use one thread.
    """

    def __init__(
        self,
        dim: int,
        *,
        exact_max: int = 20_000,
        kind: IndexKind = "auto",
        nprobe: int | None = None,
        hnsw_m: int = 32,
        ef_search: int = 64,
        train_per_cell: int = 64,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        if kind not in _KINDS:
            raise ConfigError(f"unknown index kind {kind!r}; choose one of {', '.join(_KINDS)}")
        if dim <= 0:
            raise ConfigError(f"dim must be positive, got {dim}")
        if train_per_cell < _MIN_POINTS_PER_CELL:
            raise ConfigError(
                f"train_per_cell must be at least {_MIN_POINTS_PER_CELL}, got {train_per_cell}"
            )
        if threads is not None and threads < 1:
            raise ConfigError(f"threads must be positive or None, got {threads}")
        self.dim = int(dim)
        self.exact_max = int(exact_max)
        self.requested = kind
        self.hnsw_m = int(hnsw_m)
        self.train_per_cell = int(train_per_cell)
        self.seed = int(seed)
        self.threads = threads
        self._nprobe = None if nprobe is None else _positive("nprobe", nprobe)
        self._ef_search = _positive("ef_search", ef_search)
        self.trained_on = 0
        """Vectors the IVF k-means was trained on (0 until an IVF index is built)."""
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

    @property
    def nprobe(self) -> int:
        """IVF cells visited per query; setting it applies to the next search.

        Values above :attr:`nlist` search every cell (exact); ``None`` restores the
        automatic choice, ``max(16, ceil(nlist / 128))``.
        """
        if self._nprobe is not None:
            return self._nprobe
        return auto_nprobe(self.nlist or 0)

    @nprobe.setter
    def nprobe(self, value: int | None) -> None:
        self._nprobe = None if value is None else _positive("nprobe", value)
        self._apply_search_params()

    @property
    def ef_search(self) -> int:
        """HNSW search beam width (``efSearch``); setting it applies to the next search."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = _positive("ef_search", value)
        self._apply_search_params()

    def __len__(self) -> int:
        return self.ntotal

    # ------------------------------------------------------------------ helpers
    def _apply_search_params(self) -> None:
        """Push :attr:`nprobe` / :attr:`ef_search` into the FAISS index in use."""
        if self._kind == "ivf":
            self._index.nprobe = min(self.nprobe, int(self._index.nlist))
        elif self._kind == "hnsw":
            _faiss().downcast_index(self._index.index).hnsw.efSearch = self._ef_search

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
        n_train = self.trained_on = min(n, self.train_per_cell * nlist)
        if n_train < n:
            rows = np.random.default_rng(self.seed).choice(n, n_train, replace=False)
            sample = np.ascontiguousarray(vectors[np.sort(rows)])
        else:
            sample = vectors
        with faiss_threads(self.threads):
            index.train(sample)
            del sample
            index.add_with_ids(vectors, ids)
        self._quantizer = quantizer  # keep the Python object alive with the index
        self._index, self._kind = index, "ivf"
        self._apply_search_params()

    def _build_hnsw(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        faiss = _faiss()
        inner = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            with faiss_threads(self.threads):
                index.add_with_ids(vectors, ids)
        self._index, self._kind = index, "hnsw"
        self._tombstones = set()
        self._apply_search_params()

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
        growing = self.ntotal + len(ids) > self.exact_max
        if self._kind == "flat" and self.requested != "flat" and growing:
            # Build the approximate index from old + new vectors directly, without
            # first copying the new ones into the flat index.
            old_ids, old_vectors = self._ids_and_vectors()
            if len(old_ids):
                ids = np.concatenate([old_ids, ids])
                x = np.concatenate([old_vectors, x])
            if self.requested == "hnsw":
                self._build_hnsw(ids, x)
            else:
                self._build_ivf(ids, x)
            return
        with faiss_threads(self.threads):
            self._index.add_with_ids(x, ids)

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
        with faiss_threads(1 if q < _PARALLEL_MIN_QUERIES else self.threads):
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
            "nprobe": self._nprobe,
            "hnsw_m": self.hnsw_m,
            "ef_search": self.ef_search,
            "train_per_cell": self.train_per_cell,
            "seed": self.seed,
            "trained_on": self.trained_on,
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
    def load(cls, path: str | os.PathLike, *, threads: int | None = None) -> VectorIndex:
        """Read an index written by :meth:`save`; ``threads`` as in the constructor.

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
            nprobe=None if meta.get("nprobe") is None else int(meta["nprobe"]),
            hnsw_m=int(meta["hnsw_m"]),
            ef_search=int(meta["ef_search"]),
            train_per_cell=int(meta.get("train_per_cell", 64)),
            seed=int(meta.get("seed", 0)),
            threads=threads,
        )
        out._index, out._kind = index, meta["kind"]
        out._tombstones = {int(i) for i in meta["tombstones"]}
        out.trained_on = int(meta.get("trained_on", 0))
        out._apply_search_params()
        out.meta = meta
        return out


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact neighbours that a search found.

    Parameters
    ----------
    found:
        Ids returned by the search under test, shape ``(q, k')``.
    exact:
        The true ``k`` nearest ids of the same queries, shape ``(q, k)``.

    Returns
    -------
    float
        ``mean_i |found_i & exact_i| / k``, in [0, 1].
    """
    k = exact.shape[1]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact, strict=True)]))
