"""Vector search at scale with :class:`wxai.assistant.rag.vector_index.VectorIndex`.

Usage::

    python benchmarks/rag_scaling.py [--sizes 10000 100000 1000000] [--data clustered]
                                     [--nprobe 8 16 32] [--hnsw-max 100000] [--threads 1]
                                     [--build-threads 0] [--embed-threads 0]
                                     [--ingest README.md src/wxai] [--no-ingest]

For each size N it measures, in the same run, single-query latency (p50/p95 over
``--queries`` queries, ``--threads`` BLAS/OpenMP threads) and recall@k against the
exact answer for: the exact FAISS flat index (the reference), IVF at each
``--nprobe`` (set through ``VectorIndex.nprobe``) and HNSW (up to ``--hnsw-max``);
the Python loop of the lecture runs at the smallest size only (``--loop-queries``
queries). Builds use ``--build-threads`` (0: every thread); IVF k-means trains on a
seeded sample of ``--train-per-cell`` vectors per cell. Ratios are to flat at the
same N. Then it ingests real files (``--ingest``) into a temporary
:class:`~wxai.assistant.rag.store.RagStore` with the MiniLM model
(``--embed-threads`` torch threads) and reports chunks per second.

``--data clustered`` (default) scatters unit vectors around ``--topics`` random topic
centres, as text embeddings cluster by topic; ``--data isotropic`` draws them
uniformly on the sphere, where every neighbour is about as far as any other and no
approximate index can find the exact ones cheaply.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from wxai.assistant.rag.search_timing import (
    clustered_unit_vectors,
    loop_search,
    query_latencies_ms,
    thread_limit,
)

REPO = Path(__file__).resolve().parents[1]


def row(name: str, n: int, *, build_s: float, ms: np.ndarray, rec: float, flat_p50: float) -> str:
    """One line of the result table."""
    p50, p95 = np.percentile(ms, [50, 95])
    ratio = p50 / flat_p50
    return f"{n:>9,} {name:<18} {build_s:>9.1f} {p50:>9.3f} {p95:>9.3f} {rec:>9.3f} {ratio:>10.3g}"


def bench_size(
    args: argparse.Namespace, rng: np.random.Generator, centres, n: int, first: bool
) -> None:
    """Measure every index kind at size ``n`` and print its rows."""
    from wxai.assistant.rag.vector_index import VectorIndex
    from wxai.assistant.rag.vector_index import recall_at_k as recall

    queries = clustered_unit_vectors(rng, args.queries, centres, args.spread, args.dim)
    clock = time.perf_counter()
    data = clustered_unit_vectors(rng, n, centres, args.spread, args.dim)
    ids = np.arange(n, dtype=np.int64)
    print(
        f"# N = {n:,}: {data.nbytes / 1e9:.2f} GB of vectors made in "
        f"{time.perf_counter() - clock:.1f} s",
        flush=True,
    )

    clock = time.perf_counter()
    flat = VectorIndex(args.dim, kind="flat", threads=args.build_threads)
    flat.add(ids, data)
    build = time.perf_counter() - clock
    with thread_limit(args.threads):
        ms = query_latencies_ms(lambda q, f=flat: f.search(q, args.k), queries)
        exact = flat.search(queries, args.k)[1]
    flat_p50 = float(np.median(ms))
    print(row("flat (exact)", n, build_s=build, ms=ms, rec=1.0, flat_p50=flat_p50), flush=True)
    del flat

    if first and args.loop_queries:
        loop_q = queries[: args.loop_queries]
        with thread_limit(args.threads):
            ms = query_latencies_ms(lambda q: loop_search(data, q, args.k), loop_q)
        found = np.array([loop_search(data, q, args.k) for q in loop_q[:1]])
        print(
            row(
                "python loop",
                n,
                build_s=0.0,
                ms=ms,
                rec=recall(found, exact[:1]),
                flat_p50=flat_p50,
            ),
            flush=True,
        )

    clock = time.perf_counter()
    ivf = VectorIndex(
        args.dim,
        kind="ivf",
        exact_max=0,
        nprobe=args.nprobe[0],
        train_per_cell=args.train_per_cell,
        threads=args.build_threads,
    )
    ivf.add(ids, data)
    build = time.perf_counter() - clock
    print(f"# IVF nlist {ivf.nlist}: k-means trained on {ivf.trained_on:,} vectors", flush=True)
    for nprobe in args.nprobe:
        ivf.nprobe = nprobe
        with thread_limit(args.threads):
            ms = query_latencies_ms(lambda q, i=ivf: i.search(q, args.k), queries)
            rec = recall(ivf.search(queries, args.k)[1], exact)
        label = f"ivf {ivf.nlist}/{nprobe}"
        print(row(label, n, build_s=build, ms=ms, rec=rec, flat_p50=flat_p50), flush=True)
        build = 0.0
    del ivf

    if n <= args.hnsw_max:
        clock = time.perf_counter()
        hnsw = VectorIndex(
            args.dim,
            kind="hnsw",
            exact_max=0,
            hnsw_m=args.hnsw_m,
            ef_search=args.ef_search,
            threads=args.build_threads,
        )
        hnsw.add(ids, data)
        build = time.perf_counter() - clock
        with thread_limit(args.threads):
            ms = query_latencies_ms(lambda q, h=hnsw: h.search(q, args.k), queries)
            rec = recall(hnsw.search(queries, args.k)[1], exact)
        print(
            row(
                f"hnsw M{args.hnsw_m}/ef{args.ef_search}",
                n,
                build_s=build,
                ms=ms,
                rec=rec,
                flat_p50=flat_p50,
            ),
            flush=True,
        )
        del hnsw


def bench_ingest(paths: list[str], embed_threads: int | None) -> None:
    """Chunks per second of RagStore.add (read, chunk, embed with MiniLM, index, store)."""
    from wxai.assistant.rag.embedding import Embedder
    from wxai.assistant.rag.store import RagStore

    embedder = Embedder(threads=embed_threads)
    embedder.encode(["warm-up"])  # model loading is not ingestion
    with tempfile.TemporaryDirectory() as tmp:
        store = RagStore.open(Path(tmp) / "store", embedder=embedder)
        clock = time.perf_counter()
        report = store.add([REPO / p for p in paths])
        seconds = time.perf_counter() - clock
    print(f"# ingestion of {', '.join(paths)}: {report.summary()}")
    print(
        f"ingestion: {report.n_chunks} chunks in {seconds:.1f} s = "
        f"{report.n_chunks / seconds:.1f} chunks/s (MiniLM on CPU, "
        f"{embed_threads or 'default'} torch thread(s))"
    )


def main() -> None:
    """Parse the options, run the measurements, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", choices=["clustered", "isotropic"], default="clustered")
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--spread", type=float, default=2.0)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--train-per-cell", type=int, default=64)
    parser.add_argument("--hnsw-max", type=int, default=100_000)
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-search", type=int, default=64)
    parser.add_argument("--loop-queries", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=1, help="threads while querying (0: all); builds use all"
    )
    parser.add_argument(
        "--build-threads", type=int, default=0, help="FAISS threads while building (0: all)"
    )
    parser.add_argument(
        "--embed-threads", type=int, default=0, help="torch threads for ingestion (0: default)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ingest", nargs="+", default=["README.md", "docs", "src/wxai"])
    parser.add_argument("--no-ingest", action="store_true")
    args = parser.parse_args()
    args.threads = args.threads or None
    args.build_threads = args.build_threads or None
    args.embed_threads = args.embed_threads or None

    rng = np.random.default_rng(args.seed)
    centres = None
    if args.data == "clustered":
        centres = rng.standard_normal((args.topics, args.dim), dtype=np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    print(
        f"# {args.data} {args.dim}-d unit vectors"
        + (f" ({args.topics} topics, spread {args.spread})" if centres is not None else "")
        + f"; {args.queries} single queries, top-{args.k}, {args.threads or 'all'} thread(s)"
    )
    print(
        f"{'N':>9} {'index':<18} {'build s':>9} {'p50 ms':>9} {'p95 ms':>9} "
        f"{'recall':>9} {'p50/flat':>10}"
    )
    for i, n in enumerate(sorted(args.sizes)):
        bench_size(args, rng, centres, n, first=i == 0)
    if not args.no_ingest:
        bench_ingest(args.ingest, args.embed_threads)


if __name__ == "__main__":
    main()
