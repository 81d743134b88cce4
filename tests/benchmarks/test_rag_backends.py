"""``benchmarks/rag_backends.py`` at a tiny size: its table is measured and sane.

Runs in process against one throw-away pgserver (a few seconds in all): FAISS flat is the
reference (recall 1), pgvector's HNSW index is really used and finds the exact
neighbours at 2,000 chunks, every timing and rate is positive, and bad options and
servers fail with a clear error.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wxai.core.errors import ConfigError

pytest.importorskip("faiss")
pytest.importorskip("pgserver")
pytest.importorskip("pgvector")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "rag_backends.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rag_backends", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throw-away PostgreSQL with pgvector for this module."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def quick_run(bench: ModuleType, pg_url: str) -> tuple[list, str]:
    """The rows and stdout of one tiny run (2,000 chunks, 20 queries, two ef_search)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rows = bench.main(
            ["--quick", "--ef-search", "20", "100", "--batch", "500", "--pg-url", pg_url]
        )
    return rows, out.getvalue()


def test_every_backend_is_measured(quick_run: tuple[list, str]) -> None:
    rows, _ = quick_run
    assert [(r["backend"], r["n"]) for r in rows] == [
        ("faiss flat", 2000),
        ("faiss ivf", 2000),
        ("pgvector hnsw", 2000),
        ("pgvector hnsw", 2000),
    ]


def test_recall_against_exact_search(quick_run: tuple[list, str]) -> None:
    rows, _ = quick_run
    flat, ivf, hnsw_low, hnsw_high = rows
    assert flat["recall"] == 1.0
    assert 0.0 < ivf["recall"] <= 1.0
    assert hnsw_high["recall"] >= 0.9
    assert hnsw_low["recall"] <= hnsw_high["recall"]  # a wider beam finds at least as much
    assert hnsw_low["index_used"] and hnsw_high["index_used"]


def test_timings_are_positive(quick_run: tuple[list, str]) -> None:
    rows, _ = quick_run
    for r in rows:
        assert 0 < r["p50_ms"] <= r["p95_ms"] < 1000, r
        assert r["build_s"] > 0, r
    for r in rows[2:]:
        assert r["ingest_rows_s"] > 0, r


def test_markdown_table_and_verdict_are_printed(quick_run: tuple[list, str]) -> None:
    rows, stdout = quick_run
    table = [line for line in stdout.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(rows)  # header, rule, one line per row
    assert re.search(r"^\| 2,000 \| pgvector hnsw \| m 16, ef_construction 64, ef_search 100 \|"
                     r" [\d,]+ \|", stdout, re.MULTILINE)  # fmt: skip
    assert "where each wins: fastest query at recall@k >= 0.95: N 2,000:" in stdout
    assert "goal at N 1,000,000" in stdout and "not measured" in stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "5"], "at least --k"),
        (["--ef-search", "4"], "at least --k"),
        (["--queries", "0"], "--queries must be at least 1"),
    ],
)
def test_bad_options_are_refused(bench: ModuleType, argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        bench.parse_args(argv)


def test_unreachable_server_is_explained(bench: ModuleType) -> None:
    url = "postgresql://nobody@/nothing?host=/nonexistent-socket-dir"
    with pytest.raises(ConfigError, match=r"cannot connect to PostgreSQL at .*nonexistent"):
        bench.vector_engine(url)


def test_server_without_pgvector_is_explained(bench: ModuleType, pg_url: str) -> None:
    # a plain user on a fresh database: pgvector is not there and only a superuser may add it
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_plain")
        admin.execute("DROP ROLE IF EXISTS bench_plain_user")
        admin.execute("CREATE ROLE bench_plain_user LOGIN NOSUPERUSER")
        admin.execute("CREATE DATABASE bench_plain OWNER bench_plain_user")
    url = make_url(pg_url).set(username="bench_plain_user", password=None, database="bench_plain")
    with pytest.raises(ConfigError, match=r"no pgvector extension.*Install pgvector"):
        bench.vector_engine(url.render_as_string(hide_password=False))
