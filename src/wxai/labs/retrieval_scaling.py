"""The ``faiss-scaling`` lab (unit U5): one query against N vectors, five ways.

A Python loop over cosines (the lecture's first search), NumPy brute force, and
:class:`~wxai.assistant.rag.vector_index.VectorIndex` as exact FAISS flat, IVF
(with an ``nprobe`` sweep, set through :attr:`VectorIndex.nprobe`) and HNSW, on
clustered random unit vectors standing in for text embeddings. Query time and
recall@k against exact search are plotted against N.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from pydantic import Field

from wxai.core.errors import ConfigError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.retrieval import DAY_RAG, U5

if TYPE_CHECKING:
    import numpy as np


class FaissScalingConfig(LabConfig):
    """Settings of ``faiss-scaling``."""

    sizes: list[int] = Field(min_length=1, description="database sizes N, increasing")
    dim: int = Field(ge=2, description="vector dimension (384 as MiniLM)")
    n_topics: int = Field(ge=1, description="random topic centres the vectors scatter around")
    spread: float = Field(gt=0, description="scatter around a topic (norm of the offset)")
    n_queries: int = Field(ge=1, description="queries timed one at a time per method")
    k: int = Field(ge=1, description="neighbours per query; recall@k against exact search")
    loop_max: int = Field(ge=0, description="largest N searched with the Python loop")
    loop_queries: int = Field(ge=1, description="queries timed with the Python loop")
    hnsw_max: int = Field(ge=0, description="largest N indexed with HNSW (0: none)")
    hnsw_m: int = Field(ge=4, description="HNSW links per node")
    ef_search: int = Field(ge=1, description="HNSW search beam")
    nprobe: int = Field(ge=1, description="IVF cells searched at every size")
    nprobe_sweep: list[int] = Field(min_length=1, description="IVF nprobe values at the largest N")
    min_recall: float = Field(gt=0, le=1, description="recall@k the IVF speedup is taken at")
    min_speedup: float = Field(gt=0, description="acceptance: IVF speedup over exact flat")
    threads: int | None = Field(
        ge=1, description="BLAS/OpenMP threads of NumPy and FAISS while timing (null: all)"
    )


def _topic_vectors(
    rng: np.random.Generator, centres: np.ndarray, n: int, spread: float, block: int = 100_000
) -> np.ndarray:
    """``n`` unit vectors scattered around random rows of ``centres``, float32 (n, dim)."""
    import numpy as np

    dim = centres.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        x = rng.standard_normal((stop - start, dim), dtype=np.float32) * (spread / math.sqrt(dim))
        x += centres[rng.integers(0, len(centres), stop - start)]
        out[start:stop] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def _per_query_ms(search: Callable[[np.ndarray], Any], queries: np.ndarray) -> float:
    """Median wall time in ms of ``search(q)`` over single queries ``q`` of shape (1, dim)."""
    import numpy as np

    times = []
    for i in range(len(queries)):
        clock = time.perf_counter()
        search(queries[i : i + 1])
        times.append(time.perf_counter() - clock)
    return 1e3 * float(np.median(times))


def _loop_search(database: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """The lecture's first search: one cosine per stored vector in a Python loop, then sort."""
    import numpy as np

    q = query.ravel()
    q_norm = float(np.linalg.norm(q))
    scores = []
    for i, z in enumerate(database):
        scores.append((float(np.dot(q, z)) / (q_norm * float(np.linalg.norm(z))), i))
    scores.sort(reverse=True)
    return [i for _, i in scores[:k]]


@contextmanager
def _thread_limit(threads: int | None) -> Iterator[None]:
    """At most ``threads`` FAISS OpenMP and NumPy BLAS threads inside the block (None: all).

    On a busy machine, threads that wait for each other make one query 10-20x slower
    (measured: FAISS flat at N = 20,000 with 2 threads on a loaded 2-core CPU).
    """
    from wxai.assistant.rag.vector_index import faiss_threads

    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # NumPy keeps its BLAS threads
        limits: Any = nullcontext()
    else:
        limits = threadpool_limits(limits=threads)
    with faiss_threads(threads), limits:
        yield


@lab(
    "faiss-scaling",
    title="Nearest-neighbour search from a Python loop to FAISS flat, IVF and HNSW",
    topic=U5,
    day=DAY_RAG,
    config=FaissScalingConfig,
)
def faiss_scaling(cfg: FaissScalingConfig, ctx: LabContext) -> LabOutcome:
    """Time one query against N vectors with five searches; recall of IVF and HNSW vs exact."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.assistant.rag.vector_index import VectorIndex, recall_at_k

    if sorted(cfg.sizes) != list(cfg.sizes):
        raise ConfigError(f"faiss-scaling: sizes must increase, got {cfg.sizes}")
    centres = ctx.rng.standard_normal((cfg.n_topics, cfg.dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    queries = _topic_vectors(ctx.rng, centres, cfg.n_queries, cfg.spread)
    rows: list[dict[str, float]] = []
    sweep: list[dict[str, float]] = []
    with _thread_limit(cfg.threads):
        for step, n in enumerate(cfg.sizes):
            ctx.progress(step / len(cfg.sizes), f"N = {n:,}")
            database = _topic_vectors(ctx.rng, centres, n, cfg.spread)
            ids = np.arange(n, dtype=np.int64)
            row: dict[str, float] = {"n": float(n)}

            flat = VectorIndex(cfg.dim, kind="flat", threads=cfg.threads)
            flat.add(ids, database)
            _, exact = flat.search(queries, cfg.k)
            row["flat_ms"] = _per_query_ms(lambda q, f=flat: f.search(q, cfg.k), queries)

            def numpy_search(q: np.ndarray, db: np.ndarray = database) -> np.ndarray:
                scores = db @ q[0]
                top = np.argpartition(-scores, cfg.k - 1)[: cfg.k]
                return top[np.argsort(-scores[top])]

            row["numpy_ms"] = _per_query_ms(numpy_search, queries)
            numpy_ids = np.stack([numpy_search(queries[i : i + 1]) for i in range(len(queries))])
            row["numpy_recall"] = recall_at_k(numpy_ids, exact)
            if n <= cfg.loop_max:
                loop_q = queries[: cfg.loop_queries]
                row["loop_ms"] = _per_query_ms(
                    lambda q, db=database: _loop_search(db, q, cfg.k), loop_q
                )
                loop_ids = np.array([_loop_search(database, q, cfg.k) for q in loop_q[:1]])
                row["loop_recall"] = recall_at_k(loop_ids, exact[:1])
            del flat

            clock = time.perf_counter()
            ivf = VectorIndex(
                cfg.dim, kind="ivf", exact_max=0, nprobe=cfg.nprobe, threads=cfg.threads
            )
            ivf.add(ids, database)
            row["ivf_build_s"] = time.perf_counter() - clock
            row["ivf_nlist"] = float(ivf.nlist or 0)
            row["ivf_ms"] = _per_query_ms(lambda q, i=ivf: i.search(q, cfg.k), queries)
            row["ivf_recall"] = recall_at_k(ivf.search(queries, cfg.k)[1], exact)
            if n == cfg.sizes[-1]:
                for nprobe in cfg.nprobe_sweep:
                    ivf.nprobe = nprobe
                    sweep.append(
                        {
                            "nprobe": float(nprobe),
                            "ms": _per_query_ms(lambda q, i=ivf: i.search(q, cfg.k), queries),
                            "recall": recall_at_k(ivf.search(queries, cfg.k)[1], exact),
                        }
                    )
            del ivf

            if n <= cfg.hnsw_max:
                clock = time.perf_counter()
                hnsw = VectorIndex(
                    cfg.dim,
                    kind="hnsw",
                    exact_max=0,
                    hnsw_m=cfg.hnsw_m,
                    ef_search=cfg.ef_search,
                    threads=cfg.threads,
                )
                hnsw.add(ids, database)
                row["hnsw_build_s"] = time.perf_counter() - clock
                row["hnsw_ms"] = _per_query_ms(lambda q, h=hnsw: h.search(q, cfg.k), queries)
                row["hnsw_recall"] = recall_at_k(hnsw.search(queries, cfg.k)[1], exact)
                del hnsw
            del database
            rows.append(row)
            ctx.log_metrics({f"{key}": value for key, value in row.items() if key != "n"}, step=n)

    largest = rows[-1]
    flat_ms = largest["flat_ms"]
    good = [p for p in sweep if p["recall"] >= cfg.min_recall]
    best = min(good, key=lambda p: p["ms"]) if good else None
    speedup = flat_ms / best["ms"] if best else 0.0

    fig, (ax_t, ax_r, ax_s) = plt.subplots(1, 3, figsize=(16, 4.6), constrained_layout=True)
    sizes = np.array([r["n"] for r in rows])
    styles = {"loop": "C3o-", "numpy": "C1s-", "flat": "C0D-", "ivf": "C2^-", "hnsw": "C4v-"}
    names = {
        "loop": "Python loop",
        "numpy": "NumPy brute force",
        "flat": "FAISS flat (exact)",
        "ivf": f"FAISS IVF (nprobe {cfg.nprobe})",
        "hnsw": f"FAISS HNSW (M {cfg.hnsw_m})",
    }
    for key, style in styles.items():
        have = [r for r in rows if f"{key}_ms" in r]
        if have:
            ax_t.loglog(
                [r["n"] for r in have], [r[f"{key}_ms"] for r in have], style, label=names[key]
            )
    ax_t.set(
        xlabel="stored vectors N",
        ylabel="time per query [ms]",
        title=f"One query, top-{cfg.k}, d = {cfg.dim}",
    )
    ax_t.grid(alpha=0.3, which="both")
    ax_t.legend(fontsize=8)
    for key in ("ivf", "hnsw"):
        have = [r for r in rows if f"{key}_recall" in r]
        if have:
            ax_r.semilogx(
                [r["n"] for r in have],
                [r[f"{key}_recall"] for r in have],
                styles[key],
                label=names[key],
            )
    ax_r.axhline(cfg.min_recall, color="grey", ls="--", lw=1, label=f"{cfg.min_recall:g}")
    ax_r.set(
        xlabel="stored vectors N",
        ylabel=f"recall@{cfg.k} vs exact",
        ylim=(0, 1.05),
        title="Approximate search quality",
        xlim=(sizes.min() / 1.5, sizes.max() * 1.5),
    )
    ax_r.grid(alpha=0.3)
    ax_r.legend(fontsize=8)
    ax_s.plot([p["ms"] for p in sweep], [p["recall"] for p in sweep], "C2^-")
    for p in sweep:
        ax_s.annotate(
            f"{int(p['nprobe'])}",
            (p["ms"], p["recall"]),
            fontsize=7,
            textcoords="offset points",
            xytext=(3, -9),
        )
    ax_s.axvline(flat_ms, color="C0", ls="--", label=f"exact flat {flat_ms:.2f} ms")
    ax_s.axhline(cfg.min_recall, color="grey", ls=":", lw=1)
    ax_s.set_xscale("log")
    ax_s.set(
        xlabel="time per query [ms]",
        ylabel=f"recall@{cfg.k}",
        ylim=(0, 1.05),
        title=f"IVF at N = {int(largest['n']):,}, nlist {int(largest['ivf_nlist'])}: nprobe",
    )
    ax_s.grid(alpha=0.3, which="both")
    ax_s.legend(fontsize=8)
    for ax in (ax_t, ax_r):
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ctx.save_figure(fig, "scaling.png")
    ctx.tracker.log_dict({"sizes": rows, "nprobe_sweep": sweep}, "timings.json")

    metrics: dict[str, float] = {
        "ivf_speedup_over_flat": speedup,
        "ivf_nprobe_used": best["nprobe"] if best else 0.0,
        "ivf_recall_used": best["recall"] if best else 0.0,
        "flat_ms": flat_ms,
        "largest_n": largest["n"],
    }
    for key in (
        "numpy_ms",
        "ivf_ms",
        "ivf_recall",
        "hnsw_ms",
        "hnsw_recall",
        "ivf_build_s",
        "hnsw_build_s",
    ):
        if key in largest:
            metrics[key] = largest[key]
    looped = [r for r in rows if "loop_ms" in r]
    if looped:
        metrics["loop_over_flat"] = looped[-1]["loop_ms"] / looped[-1]["flat_ms"]
        metrics["loop_n"] = looped[-1]["n"]
    verdict = (
        f"IVF reaches recall@{cfg.k} {best['recall']:.3f} with nprobe {int(best['nprobe'])} "
        f"in {best['ms']:.3f} ms, {speedup:.1f}x faster than exact flat ({flat_ms:.2f} ms)"
        if best
        else f"no nprobe in {cfg.nprobe_sweep} reaches recall@{cfg.k} {cfg.min_recall}"
    )
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="ivf_speedup_over_flat",
            value=speedup,
            comparison=">=",
            threshold=cfg.min_speedup,
            baseline=(
                f"IVF query time vs exact FAISS flat at N = {int(largest['n']):,}, at the "
                f"cheapest nprobe with recall@{cfg.k} >= {cfg.min_recall} (0 if none)"
            ),
            baseline_value=1.0,
        ),
        summary=f"N = {int(largest['n']):,} vectors of {cfg.dim} dims: {verdict}.",
    )
