"""Retrieval backends side by side: FAISS in the process against pgvector in PostgreSQL.

Usage::

    python benchmarks/rag_backends.py [--sizes 10000 100000 1000000] [--queries 200]
                                      [--ef-search 40 100] [--hnsw-m 16] [--ef-construction 64]
                                      [--nprobe 16] [--pg-url postgresql://...] [--quick]

For each size N, in one run and on the same vectors and queries:

* FAISS flat (exact, the reference) and FAISS IVF (``nlist ~ 4 sqrt(N)``, ``--nprobe``
  cells visited; default ``max(16, nlist / 128)``), built with
  :class:`~wxai.assistant.rag.vector_index.VectorIndex` in this process;
* pgvector: rows ``(id, body, embedding vector(dim))`` written to the table
  ``bench_chunks`` by binary ``COPY`` in batches of ``--batch`` rows (the ingestion
  rate), then an HNSW index (``vector_cosine_ops``, ``--hnsw-m``, ``--ef-construction``;
  ``--maintenance-work-mem``, ``--build-workers`` parallel workers) built on them
  (the build time), queried through SQLAlchemy at each ``--ef-search``.

It reports single-query latency p50/p95 [ms] over ``--queries`` queries (FAISS on
``--threads`` thread(s); pgvector over a Unix socket, so its figure includes a
client-server round trip) and recall@k against flat, prints one Markdown table and
a line saying where each backend wins. PostgreSQL is a throw-away ``pgserver`` in a
temporary folder (its default settings: shared_buffers 128 MB) unless ``--pg-url``
names a server with the pgvector extension; the table is dropped at the end.

Vectors scatter around ``--topics`` random topic centres (text embeddings cluster by
topic; uniform noise on the sphere is unrealistically hard for any approximate
index), each topic varying in a random ``--subspace-dim``-dimensional subspace plus
``--isotropic-noise`` (``--subspace-dim 0``: isotropic Gaussian clusters, where
neighbours within a topic are hardly nearer than the rest of it); queries are stored
vectors moved by ``--query-noise`` and normalised; each chunk gets ``--words`` words
of generated weather text, so rows have a realistic size.
"""

from __future__ import annotations

import argparse
import math
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from wxai.assistant.rag.search_timing import clustered_unit_vectors, thread_limit
from wxai.assistant.rag.vector_index import VectorIndex, auto_nprobe, recall_at_k
from wxai.core.errors import ConfigError

TABLE = "bench_chunks"
INDEX = "bench_chunks_hnsw"
#: Recall@k that counts as "good enough" when saying which backend wins (the issue's goal).
RECALL_GOAL = 0.95
#: pgvector latency goal at 10^6 chunks [ms] (issue 21).
P50_GOAL_MS = 50.0
GOAL_N = 1_000_000

_WORD_TEXT = (
    "front trough ridge cyclone anticyclone jet inversion convection shower thunderstorm "
    "drizzle fog stratus cumulus cirrus gust wind pressure temperature dewpoint humidity "
    "precipitation radar satellite forecast ensemble member analysis assimilation "
    "observation station warning snow rain hail frost heat boundary layer lapse rate "
    "instability shear vorticity advection model grid resolution lead time spread skill "
    "bias verification the a of in over with during after before north south east west"
)
#: Vocabulary of the generated chunk texts.
WORDS = np.array(_WORD_TEXT.split(), dtype=object)

SEARCH_SQL = f"SELECT id FROM {TABLE} ORDER BY embedding <=> :q LIMIT :k"


# ---------------------------------------------------------------------- synthetic data
def topic_centres(rng: np.random.Generator, topics: int, dim: int) -> np.ndarray:
    """Random unit topic centres, float32 (topics, dim)."""
    centres = rng.standard_normal((topics, dim), dtype=np.float32)
    return centres / np.linalg.norm(centres, axis=1, keepdims=True)


def topic_bases(rng: np.random.Generator, topics: int, dim: int, sub: int) -> np.ndarray:
    """An orthonormal basis of a random ``sub``-dimensional subspace per topic.

    Returns float32 (topics, dim, sub).
    """
    gauss = rng.standard_normal((topics, dim, sub), dtype=np.float32)
    return np.linalg.qr(gauss)[0].astype(np.float32)


def subspace_unit_vectors(
    rng: np.random.Generator,
    n: int,
    centres: np.ndarray,
    bases: np.ndarray,
    *,
    spread: float,
    noise: float,
) -> np.ndarray:
    """``n`` unit vectors, each a topic centre plus an offset of norm ~``spread`` inside
    the topic's subspace plus isotropic noise of norm ~``noise``, float32 (n, dim).

    Text embeddings vary along few directions within a topic (low intrinsic dimension),
    so neighbours are distinctly nearer than the rest; drawn in blocks of 100,000.
    """
    topics, dim, sub = bases.shape
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        topic = rng.integers(0, topics, stop - start)
        z = rng.standard_normal((stop - start, sub), dtype=np.float32) * (spread / math.sqrt(sub))
        x = centres[topic]
        for t in np.unique(topic):
            rows = topic == t
            x[rows] += z[rows] @ bases[t].T
        x += rng.standard_normal((stop - start, dim), dtype=np.float32) * (noise / math.sqrt(dim))
        out[start:stop] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def make_vectors(
    args: argparse.Namespace, n: int, centres: np.ndarray, bases: np.ndarray | None
) -> np.ndarray:
    """The ``n`` stored vectors of the run (seeded by ``--seed`` and ``n``), float32 (n, dim)."""
    rng = np.random.default_rng([args.seed, n])
    if bases is None:
        return clustered_unit_vectors(rng, n, centres, args.spread, args.dim)
    return subspace_unit_vectors(
        rng, n, centres, bases, spread=args.spread, noise=args.isotropic_noise
    )


def queries_near(
    rng: np.random.Generator, data: np.ndarray, count: int, noise: float
) -> np.ndarray:
    """``count`` unit queries, each a random stored vector plus noise of norm ~``noise``.

    Returns float32 (count, dim).
    """
    dim = data.shape[1]
    rows = rng.choice(len(data), size=count, replace=len(data) < count)
    x = data[rows] + rng.standard_normal((count, dim), dtype=np.float32) * (noise / math.sqrt(dim))
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def chunk_texts(rng: np.random.Generator, count: int, words: int) -> list[str]:
    """``count`` chunks of ``words`` random weather words each (about 7 bytes a word)."""
    return [" ".join(row) for row in WORDS[rng.integers(0, len(WORDS), (count, words))]]


# ---------------------------------------------------------------------- timing
def timed_searches(
    search: Callable[[np.ndarray], Sequence[int]], queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``search`` on each query (shape (dim,)) alone.

    Returns
    -------
    ms, ids:
        Wall time of each search [ms], shape (q,); ids found, shape (q, k), -1 padded.
    """
    ms = np.empty(len(queries))
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    for i, query in enumerate(queries):
        clock = time.perf_counter()
        found = search(query)
        ms[i] = 1e3 * (time.perf_counter() - clock)
        ids[i, : len(found)] = np.asarray(found, dtype=np.int64)[:k]
    return ms, ids


def result_row(
    n: int,
    backend: str,
    settings: str,
    *,
    build_s: float,
    ms: np.ndarray,
    recall: float,
    ingest_rows_s: float | None = None,
    index_used: bool | None = None,
) -> dict[str, Any]:
    """One measured configuration (latencies in ms, build in s, ingestion in rows/s)."""
    p50, p95 = np.percentile(ms, [50, 95])
    return {
        "n": n,
        "backend": backend,
        "settings": settings,
        "ingest_rows_s": ingest_rows_s,
        "build_s": float(build_s),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "recall": float(recall),
        "index_used": index_used,
    }


# ---------------------------------------------------------------------- FAISS
def bench_faiss(
    args: argparse.Namespace, n: int, data: np.ndarray, queries: np.ndarray
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """FAISS flat and IVF rows at size ``n``, and the exact top-k ids (q, k)."""
    ids = np.arange(n, dtype=np.int64)
    rows = []

    clock = time.perf_counter()
    flat = VectorIndex(args.dim, kind="flat")
    flat.add(ids, data)
    build = time.perf_counter() - clock
    with thread_limit(args.threads):
        ms, _ = timed_searches(lambda q, i=flat: i.search(q, args.k)[1][0], queries, args.k)
    exact = flat.search(queries, args.k)[1]
    del flat
    rows.append(result_row(n, "faiss flat", "exact", build_s=build, ms=ms, recall=1.0))
    progress(rows[-1])

    clock = time.perf_counter()
    ivf = VectorIndex(args.dim, kind="ivf", exact_max=0, seed=args.seed)
    ivf.add(ids, data)
    build = time.perf_counter() - clock
    for nprobe in args.nprobe or [auto_nprobe(ivf.nlist or 0)]:
        ivf.nprobe = nprobe
        with thread_limit(args.threads):
            ms, found = timed_searches(lambda q: ivf.search(q, args.k)[1][0], queries, args.k)
        settings = f"nlist {ivf.nlist}, nprobe {min(nprobe, ivf.nlist or nprobe)}"
        rec = recall_at_k(found, exact)
        rows.append(result_row(n, "faiss ivf", settings, build_s=build, ms=ms, recall=rec))
        progress(rows[-1])
    return rows, exact


# ---------------------------------------------------------------------- PostgreSQL
@contextmanager
def postgres_url(url: str | None) -> Iterator[str]:
    """``url``, or that of a throw-away pgserver in a temporary folder (stopped after)."""
    if url:
        yield url
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="rag_backends_") as tmp:
        clock = time.perf_counter()
        server = pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        print(f"# pgserver started in {time.perf_counter() - clock:.1f} s", flush=True)
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def sqlalchemy_url(url: str) -> str:
    """``postgresql://...`` with the psycopg 3 driver named, as SQLAlchemy needs it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def vector_engine(url: str) -> Any:
    """A SQLAlchemy engine whose connections send numpy vectors as pgvector ``vector``.

    Raises
    ------
    ConfigError
        If the server cannot be reached, or lacks pgvector and this user cannot create it.
    """
    from pgvector.psycopg import register_vector
    from sqlalchemy import create_engine, event, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(sqlalchemy_url(url), pool_size=2, max_overflow=0)
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise ConfigError(f"cannot connect to PostgreSQL at {where}: {exc.orig}") from exc
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            version = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            ).scalar_one()
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0]
        raise ConfigError(
            f"PostgreSQL at {where} has no pgvector extension and this user cannot create it "
            f"({reason}). Install pgvector on the server (e.g. Debian's postgresql-NN-pgvector) "
            "and run CREATE EXTENSION vector there as a superuser, or leave out --pg-url "
            "to use a throw-away pgserver."
        ) from exc
    engine.dispose()  # the vector type now exists: later connections can register it
    print(f"# pgvector {version}", flush=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        register_vector(dbapi_conn)
        dbapi_conn.add_notice_handler(_print_notice)

    return engine


def _print_notice(diagnostic: Any) -> None:
    """Print a server notice (e.g. an HNSW graph outgrowing maintenance_work_mem)."""
    message = diagnostic.message_primary or ""
    if not message.endswith(", skipping"):  # DROP ... IF EXISTS on a fresh database
        print(f"# postgres: {message}", flush=True)


def create_table(engine: Any, dim: int) -> None:
    """(Re)create the empty table ``bench_chunks`` without an index."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(
            text(
                f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, body text NOT NULL, "
                f"embedding vector({int(dim)}) NOT NULL)"
            )
        )


def ingest(engine: Any, args: argparse.Namespace, data: np.ndarray, n: int) -> float:
    """Write every row by binary COPY, one transaction per batch; return the seconds.

    Only the COPY is timed, not the generation of the text.
    """
    rng = np.random.default_rng([args.seed, n, 1])
    seconds = 0.0
    raw = engine.raw_connection()
    try:
        pg = raw.driver_connection
        for start in range(0, n, args.batch):
            stop = min(start + args.batch, n)
            bodies = chunk_texts(rng, stop - start, args.words)
            clock = time.perf_counter()
            with pg.cursor() as cursor:
                copy_sql = f"COPY {TABLE} (id, body, embedding) FROM STDIN WITH (FORMAT BINARY)"
                with cursor.copy(copy_sql) as copy:
                    copy.set_types(["int8", "text", "vector"])
                    for i, body in zip(range(start, stop), bodies, strict=True):
                        copy.write_row((i, body, data[i]))
            pg.commit()
            seconds += time.perf_counter() - clock
            if stop % args.progress_rows == 0 and stop < n:
                print(f"# ingested {stop:,} rows: {stop / seconds:,.0f} rows/s", flush=True)
    finally:
        raw.close()
    return seconds


def _report_build_progress(engine: Any, done: threading.Event, every_s: float) -> None:
    """Print the HNSW build's progress (pg_stat_progress_create_index) until ``done``."""
    from sqlalchemy import text

    clock = time.perf_counter()
    with engine.connect() as conn:
        while not done.wait(every_s):
            state = conn.execute(
                text(
                    "SELECT phase, tuples_done, tuples_total FROM pg_stat_progress_create_index "
                    "WHERE relid = CAST(:table AS regclass)"
                ),
                {"table": TABLE},
            ).first()
            conn.rollback()
            if state is not None:
                of = f" of {state.tuples_total:,}" if state.tuples_total else ""
                print(
                    f"# {time.perf_counter() - clock:6.0f} s: {state.phase}, "
                    f"{state.tuples_done:,}{of} tuples",
                    flush=True,
                )


def build_hnsw(engine: Any, args: argparse.Namespace) -> float:
    """Build the HNSW index on ``bench_chunks``; return the seconds (ANALYZE excluded)."""
    from sqlalchemy import text

    setting = text("SELECT set_config(:name, :value, false)")
    with engine.connect() as conn:
        conn.execute(setting, {"name": "maintenance_work_mem", "value": args.maintenance_work_mem})
        conn.execute(
            setting,
            {"name": "max_parallel_maintenance_workers", "value": str(args.build_workers)},
        )
        # m and ef_construction are storage parameters (no bound parameters possible);
        # they are integers checked by argparse, never text from a user.
        create = text(
            f"CREATE INDEX {INDEX} ON {TABLE} USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {int(args.hnsw_m)}, ef_construction = {int(args.ef_construction)})"
        )
        done = threading.Event()
        reporter = threading.Thread(
            target=_report_build_progress, args=(engine, done, args.progress_s), daemon=True
        )
        reporter.start()
        clock = time.perf_counter()
        try:
            conn.execute(create)
            conn.commit()
        finally:
            seconds = time.perf_counter() - clock
            done.set()
            reporter.join()
        conn.execute(text(f"ANALYZE {TABLE}"))
        conn.commit()
    return seconds


def bench_pgvector(
    engine: Any,
    args: argparse.Namespace,
    n: int,
    *,
    data: np.ndarray,
    queries: np.ndarray,
    exact: np.ndarray,
) -> list[dict[str, Any]]:
    """Ingest, build HNSW and query pgvector at size ``n``; one row per ``--ef-search``."""
    from sqlalchemy import text

    create_table(engine, args.dim)
    ingest_s = ingest(engine, args, data, n)
    rate = n / ingest_s
    print(f"# pgvector: {n:,} rows by COPY in {ingest_s:.1f} s = {rate:,.0f} rows/s", flush=True)
    build_s = build_hnsw(engine, args)
    print(f"# pgvector: HNSW index built in {build_s:.1f} s", flush=True)

    warmup = queries_near(np.random.default_rng([args.seed, n, 2]), data, args.warmup, 0.5)
    search = text(SEARCH_SQL)
    setting = text("SELECT set_config(:name, :value, false)")
    rows = []
    with engine.connect() as conn:
        # the planner may prefer a sequential scan on small tables: measure the index
        conn.execute(setting, {"name": "enable_seqscan", "value": "off"})
        for ef in args.ef_search:
            conn.execute(setting, {"name": "hnsw.ef_search", "value": str(ef)})

            def one(q: np.ndarray, c: Any = conn) -> Sequence[int]:
                return c.execute(search, {"q": q, "k": args.k}).scalars().all()

            plan = conn.execute(text("EXPLAIN " + SEARCH_SQL), {"q": queries[0], "k": args.k})
            index_used = INDEX in "\n".join(plan.scalars())
            timed_searches(one, warmup, args.k)
            ms, found = timed_searches(one, queries, args.k)
            rows.append(
                result_row(
                    n,
                    "pgvector hnsw",
                    f"m {args.hnsw_m}, ef_construction {args.ef_construction}, ef_search {ef}",
                    build_s=build_s,
                    ms=ms,
                    recall=recall_at_k(found, exact),
                    ingest_rows_s=rate,
                    index_used=index_used,
                )
            )
            progress(rows[-1])
        conn.rollback()
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {TABLE}"))
    return rows


# ---------------------------------------------------------------------- report
def progress(row: dict[str, Any]) -> None:
    """One measured row as a comment line, as soon as it is measured."""
    print(
        f"# N {row['n']:,} {row['backend']} ({row['settings']}): build {row['build_s']:.2f} s, "
        f"p50 {row['p50_ms']:.3f} ms, p95 {row['p95_ms']:.3f} ms, "
        f"recall@k {row['recall']:.3f}",
        flush=True,
    )


def markdown_table(rows: list[dict[str, Any]], k: int) -> str:
    """The rows as a Markdown table, with each p50 relative to flat at the same N."""
    flat = {r["n"]: r["p50_ms"] for r in rows if r["backend"] == "faiss flat"}
    lines = [
        f"| N | backend | settings | ingest rows/s | build s | p50 ms | p95 ms "
        f"| recall@{k} | p50 / flat |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ingest = "" if r["ingest_rows_s"] is None else f"{r['ingest_rows_s']:,.0f}"
        ratio = r["p50_ms"] / flat[r["n"]] if r["n"] in flat else float("nan")
        lines.append(
            f"| {r['n']:,} | {r['backend']} | {r['settings']} | {ingest} | {r['build_s']:.2f} "
            f"| {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {r['recall']:.3f} | {ratio:.3g} |"
        )
    return "\n".join(lines)


def verdict(rows: list[dict[str, Any]]) -> str:
    """Where each backend wins, from the measured rows (one line)."""
    parts = []
    for n in sorted({r["n"] for r in rows}):
        good = [r for r in rows if r["n"] == n and r["recall"] >= RECALL_GOAL]
        best = min(good, key=lambda r: r["p50_ms"])
        pg = [r for r in good if r["backend"] == "pgvector hnsw"]
        pg_text = (
            f"pgvector {min(r['p50_ms'] for r in pg):.2f} ms"
            if pg
            else "pgvector below the recall goal"
        )
        parts.append(
            f"N {n:,}: {best['backend']} ({best['settings']}) {best['p50_ms']:.2f} ms, {pg_text}"
        )
    return (
        f"where each wins: fastest query at recall@k >= {RECALL_GOAL}: "
        + "; ".join(parts)
        + ". FAISS wins on latency and build time in one process; pgvector wins where "
        "several workers or machines share one index with transactional, concurrent writes "
        "(not timed here)."
    )


def goal_line(rows: list[dict[str, Any]]) -> str:
    """Whether pgvector met the issue's goal at 10^6 chunks."""
    pg = [r for r in rows if r["backend"] == "pgvector hnsw" and r["n"] >= GOAL_N]
    if not pg:
        return (
            f"goal at N {GOAL_N:,} (pgvector p50 <= {P50_GOAL_MS:g} ms, recall@k >= "
            f"{RECALL_GOAL}): not measured in this run"
        )
    met = [r for r in pg if r["p50_ms"] <= P50_GOAL_MS and r["recall"] >= RECALL_GOAL]
    verdict_text = f"met with {met[0]['settings']}" if met else "not met"
    return (
        f"goal at N {GOAL_N:,} (pgvector p50 <= {P50_GOAL_MS:g} ms, recall@k >= {RECALL_GOAL}, "
        f"index built in {pg[0]['build_s']:.0f} s): {verdict_text}"
    )


# ---------------------------------------------------------------------- main
def _sizes(text: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text.split(",") if s]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=_sizes, nargs="+", default=[[10_000, 100_000, 1_000_000]],
        help="chunk counts, space or comma separated",
    )  # fmt: skip
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10, help="untimed queries per setting")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--spread", type=float, default=2.0, help="scatter around a topic")
    parser.add_argument(
        "--subspace-dim", type=int, default=16,
        help="dimensions a topic varies in (0: every one, isotropic Gaussian clusters)",
    )  # fmt: skip
    parser.add_argument("--isotropic-noise", type=float, default=0.2)
    parser.add_argument("--query-noise", type=float, default=0.5)
    parser.add_argument("--words", type=int, default=60, help="words of text per chunk")
    parser.add_argument("--nprobe", type=int, nargs="+", default=None, help="default: auto")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 400])
    parser.add_argument("--maintenance-work-mem", default="2GB")
    parser.add_argument("--build-workers", type=int, default=2, help="parallel HNSW builders")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per COPY transaction")
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads while querying")
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL with pgvector")
    parser.add_argument("--progress-s", type=float, default=30.0)
    parser.add_argument("--progress-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,000 chunks, 20 queries")
    args = parser.parse_args(argv)
    args.sizes = sorted({n for group in args.sizes for n in group})
    if args.quick:
        args.sizes, args.queries, args.warmup = [2_000], 20, 2
    for name in ("queries", "k", "dim", "topics", "words", "batch", "hnsw_m", "ef_construction"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    if min(args.sizes) < args.k or min(args.ef_search) < args.k:
        raise ConfigError(f"every --sizes and --ef-search must be at least --k ({args.k})")
    return args


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark, print the Markdown table and verdict; return the rows.

    Each row: ``n``, ``backend``, ``settings``, ``ingest_rows_s`` (pgvector only),
    ``build_s``, ``p50_ms``, ``p95_ms``, ``recall`` (recall@k against flat) and
    ``index_used`` (pgvector: whether the plan used the HNSW index).
    """
    args = parse_args(argv)
    topic_rng = np.random.default_rng(args.seed)
    centres = topic_centres(topic_rng, args.topics, args.dim)
    bases = None
    shape = "isotropic Gaussian clusters"
    if args.subspace_dim:
        bases = topic_bases(topic_rng, args.topics, args.dim, args.subspace_dim)
        shape = f"{args.subspace_dim}-d subspaces + noise {args.isotropic_noise}"
    print(
        f"# {args.dim}-d unit vectors around {args.topics} topics ({shape}, spread "
        f"{args.spread}), "
        f"{args.words} words of text each; {args.queries} single queries (noise "
        f"{args.query_noise}), top-{args.k}; FAISS on {args.threads} thread(s)",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    with postgres_url(args.pg_url) as url:
        engine = vector_engine(url)
        try:
            for n in args.sizes:
                clock = time.perf_counter()
                data = make_vectors(args, n, centres, bases)
                rng = np.random.default_rng([args.seed, n, 3])
                queries = queries_near(rng, data, args.queries, args.query_noise)
                print(
                    f"# N = {n:,}: {data.nbytes / 1e9:.2f} GB of vectors made in "
                    f"{time.perf_counter() - clock:.1f} s",
                    flush=True,
                )
                faiss_rows, exact = bench_faiss(args, n, data, queries)
                rows += faiss_rows
                rows += bench_pgvector(engine, args, n, data=data, queries=queries, exact=exact)
                del data
        finally:
            engine.dispose()
    print(markdown_table(rows, args.k))
    print(goal_line(rows))
    print(verdict(rows))
    return rows


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    """Turn ``timeout``'s SIGTERM into an exception, so that pgserver is stopped."""
    raise SystemExit(f"stopped by signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    main()
