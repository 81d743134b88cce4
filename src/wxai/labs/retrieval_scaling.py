"""The ``faiss-scaling`` lab (unit U5): one query against N vectors, five ways.

A Python loop over cosines (the lecture's first search), NumPy brute force, and
:class:`~wxai.assistant.rag.vector_index.VectorIndex` as exact FAISS flat, IVF
(with an ``nprobe`` sweep, set through :attr:`VectorIndex.nprobe`) and HNSW, on
clustered random unit vectors standing in for text embeddings. Query time and
recall@k against exact search are plotted against N.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

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


def _median_ms(search, queries: np.ndarray) -> float:
    """Median wall time [ms] of single-query searches."""
    import numpy as np

    from wxai.assistant.rag.search_timing import query_latencies_ms

    return float(np.median(query_latencies_ms(search, queries)))


def _measure_size(
    cfg: FaissScalingConfig, database: np.ndarray, queries: np.ndarray, last: bool
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Time and recall of every method at one database size; the nprobe sweep if ``last``.

    Orchestration of library calls only (one block per method, hence the length).
    """
    import numpy as np

    from wxai.assistant.rag.search_timing import brute_force_search, loop_search
    from wxai.assistant.rag.vector_index import VectorIndex, recall_at_k

    n, k = len(database), cfg.k
    ids = np.arange(n, dtype=np.int64)
    row: dict[str, float] = {"n": float(n)}
    flat = VectorIndex(cfg.dim, kind="flat", threads=cfg.threads)
    flat.add(ids, database)
    _, exact = flat.search(queries, k)
    row["flat_ms"] = _median_ms(lambda q, f=flat: f.search(q, k), queries)
    del flat

    row["numpy_ms"] = _median_ms(lambda q: brute_force_search(database, q, k), queries)
    numpy_ids = np.stack([brute_force_search(database, q, k) for q in queries])
    row["numpy_recall"] = recall_at_k(numpy_ids, exact)
    if n <= cfg.loop_max:
        loop_q = queries[: cfg.loop_queries]
        row["loop_ms"] = _median_ms(lambda q: loop_search(database, q, k), loop_q)
        loop_ids = np.array([loop_search(database, q, k) for q in loop_q[:1]])
        row["loop_recall"] = recall_at_k(loop_ids, exact[:1])

    clock = time.perf_counter()
    ivf = VectorIndex(cfg.dim, kind="ivf", exact_max=0, nprobe=cfg.nprobe, threads=cfg.threads)
    ivf.add(ids, database)
    row["ivf_build_s"] = time.perf_counter() - clock
    row["ivf_nlist"] = float(ivf.nlist or 0)
    row["ivf_ms"] = _median_ms(lambda q, i=ivf: i.search(q, k), queries)
    row["ivf_recall"] = recall_at_k(ivf.search(queries, k)[1], exact)
    sweep = []
    for nprobe in cfg.nprobe_sweep if last else ():
        ivf.nprobe = nprobe
        ms = _median_ms(lambda q, i=ivf: i.search(q, k), queries)
        recall = recall_at_k(ivf.search(queries, k)[1], exact)
        sweep.append({"nprobe": float(nprobe), "ms": ms, "recall": recall})
    del ivf

    if n <= cfg.hnsw_max:
        clock = time.perf_counter()
        hnsw = VectorIndex(
            cfg.dim, kind="hnsw", exact_max=0, hnsw_m=cfg.hnsw_m, ef_search=cfg.ef_search,
            threads=cfg.threads,
        )  # fmt: skip
        hnsw.add(ids, database)
        row["hnsw_build_s"] = time.perf_counter() - clock
        row["hnsw_ms"] = _median_ms(lambda q, h=hnsw: h.search(q, k), queries)
        row["hnsw_recall"] = recall_at_k(hnsw.search(queries, k)[1], exact)
    return row, sweep


@lab(
    "faiss-scaling",
    title="Nearest-neighbour search from a Python loop to FAISS flat, IVF and HNSW",
    topic=U5,
    day=DAY_RAG,
    config=FaissScalingConfig,
)
def faiss_scaling(cfg: FaissScalingConfig, ctx: LabContext) -> LabOutcome:
    """Time one query against N vectors with five searches; recall of IVF and HNSW vs exact.

    Long only through the steps of the exercise written out in order and its LabOutcome
    (metrics, acceptance, summary); every computation is a library call.
    """
    import numpy as np

    from wxai.assistant.rag.search_timing import clustered_unit_vectors, thread_limit
    from wxai.viz.retrieval_plots import search_scaling_figure

    if sorted(cfg.sizes) != list(cfg.sizes):
        raise ConfigError(f"faiss-scaling: sizes must increase, got {cfg.sizes}")
    centres = ctx.rng.standard_normal((cfg.n_topics, cfg.dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    queries = clustered_unit_vectors(ctx.rng, cfg.n_queries, centres, cfg.spread, cfg.dim)
    rows: list[dict[str, float]] = []
    sweep: list[dict[str, float]] = []
    with thread_limit(cfg.threads):
        for step, n in enumerate(cfg.sizes):
            ctx.progress(step / len(cfg.sizes), f"N = {n:,}")
            database = clustered_unit_vectors(ctx.rng, n, centres, cfg.spread, cfg.dim)
            row, swept = _measure_size(cfg, database, queries, last=n == cfg.sizes[-1])
            del database
            rows.append(row)
            sweep.extend(swept)
            ctx.log_metrics({f"{key}": value for key, value in row.items() if key != "n"}, step=n)

    largest = rows[-1]
    flat_ms = largest["flat_ms"]
    good = [p for p in sweep if p["recall"] >= cfg.min_recall]
    best = min(good, key=lambda p: p["ms"]) if good else None
    speedup = flat_ms / best["ms"] if best else 0.0

    names = {
        "loop": "Python loop",
        "numpy": "NumPy brute force",
        "flat": "FAISS flat (exact)",
        "ivf": f"FAISS IVF (nprobe {cfg.nprobe})",
        "hnsw": f"FAISS HNSW (M {cfg.hnsw_m})",
    }
    fig = search_scaling_figure(rows, sweep, names, k=cfg.k, dim=cfg.dim, min_recall=cfg.min_recall)
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
