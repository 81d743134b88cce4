"""``wxai rag``: index documents into a store, search it, ask questions of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

app = typer.Typer(help="Retrieval over your documents: index, search, ask.", no_args_is_help=True)

StoreOption = Annotated[
    str,
    typer.Option("--store", "-s", help="Store name (under <wxai home>/rag/) or a directory path."),
]


@app.callback()
def _rag() -> None:
    """Index text, Markdown, code, PDF, HTML, NetCDF and GRIB files; search and ask."""


def _open(store: str, *, create: bool = False):
    from wxai.assistant.rag.store import RagStore

    return RagStore.open(store, create=create)


@app.command("index")
def index_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to index.")],
    store: StoreOption,
) -> None:
    """Add or update documents; unchanged files are skipped, unreadable ones reported."""
    rag = _open(store, create=True)
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]indexing"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[source]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # piped: no progress bar, no stray blank line
    ) as bar:
        task = bar.add_task("index", total=None, source="")

        def progress(source: str, i: int, n: int) -> None:
            bar.update(task, total=n, completed=i, source=escape(source))

        report = rag.add(paths, progress=progress)
    out = Console(highlight=False)
    for label, items in (("added", report.added), ("updated", report.updated)):
        for source in items:
            out.print(f"  {label:8s} {escape(source)}")
    for source, reason in report.failed:
        out.print(f"  [red]failed[/]   {escape(source)}: {escape(reason)}")
    out.print(f"store {escape(rag.name)} ({rag.directory}): {report.summary()}; {len(rag)} chunks")
    if report.failed:
        raise typer.Exit(1)


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    store: StoreOption,
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, vector or bm25.")] = "hybrid",
    json_output: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Print the chunks most relevant to QUERY with their citations and scores."""
    hits = _open(store).search(query, k, mode=mode)  # type: ignore[arg-type]
    if json_output:
        rows = [
            {
                "rank": h.rank,
                "citation": h.chunk.citation,
                "source": h.chunk.source,
                "kind": h.chunk.kind,
                "start_line": h.chunk.start_line,
                "end_line": h.chunk.end_line,
                "page": h.chunk.page,
                "section": h.chunk.section,
                "score": h.score,
                "vector_score": h.vector_score,
                "bm25_score": h.bm25_score,
                "text": h.chunk.text,
            }
            for h in hits
        ]
        print(json.dumps(rows, indent=2))
        return
    out = Console(highlight=False)
    if not hits:
        out.print("no hits")
    for h in hits:
        cosine = f"{h.vector_score:.3f}" if h.vector_score is not None else "-"
        bm25 = f"{h.bm25_score:.2f}" if h.bm25_score is not None else "-"
        out.print(
            f"[bold]{h.rank}. {escape(h.chunk.citation)}[/]  "
            f"rrf={h.score:.4f} cosine={cosine} bm25={bm25}"
        )
        if h.chunk.section:
            out.print(f"   section: {escape(h.chunk.section)}")
        snippet = " ".join(h.chunk.text.split())
        out.print(f"   {escape(snippet[:200])}{'...' if len(snippet) > 200 else ''}")


@app.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help="The question.")],
    store: StoreOption,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model alias (see `wxai llm models`).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Chunks retrieved.")] = 5,
    min_score: Annotated[
        float | None, typer.Option(help="Relevance floor (best cosine); default 0.25.")
    ] = None,
) -> None:
    """Answer QUESTION from the store's documents only, streamed, then the citations."""
    from wxai.assistant.llm.registry import get_provider
    from wxai.assistant.rag.answer import DEFAULT_MIN_SCORE, stream_answer

    rag = _open(store)
    provider = get_provider(model)
    floor = DEFAULT_MIN_SCORE if min_score is None else min_score
    for delta in stream_answer(question, rag, provider, k=k, min_score=floor):
        print(delta, end="", flush=True)
    print()


@app.command("ls")
def ls_command(store: StoreOption) -> None:
    """List the documents of a store."""
    rag = _open(store)
    out = Console(highlight=False)
    docs = rag.documents()
    for doc in docs:
        out.print(f"{doc['n_chunks']:6d}  {doc['kind']:8s}  {escape(doc['source'])}")
    out.print(f"{len(docs)} documents, {len(rag)} chunks in {rag.directory}")


@app.command("rm")
def rm_command(
    source: Annotated[str, typer.Argument(help="Source to remove (as listed by `ls`).")],
    store: StoreOption,
) -> None:
    """Remove a document and its chunks from a store."""
    rag = _open(store)
    n = rag.remove(source)
    Console(highlight=False).print(f"removed {escape(source)} ({n} chunks)")


@app.command("stores")
def stores_command() -> None:
    """List the stores under the wxai home."""
    from wxai.assistant.rag.store import list_stores

    for name in list_stores():
        print(name)


PgUrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="PostgreSQL URL with pgvector; default WXAI_RAG_DATABASE_URL, else the "
        "cockpit database (WXAI_DATABASE_URL).",
    ),
]


def _postgres_url(url: str | None) -> str:
    """The retrieval database: ``--url``, else the settings' (ConfigError if not PostgreSQL)."""
    from wxai.assistant.rag.backend import rag_database_url
    from wxai.core.settings import get_settings

    settings = get_settings()
    target = rag_database_url(
        "postgres",
        url or settings.resolved_database_url,
        None if url else settings.rag_database_url,
    )
    assert target is not None
    return target


@app.command("migrate")
def migrate_command(
    to: Annotated[str, typer.Option("--to", help="Target backend (only `postgres`).")],
    url: PgUrlOption = None,
) -> None:
    """Move the cockpit's dataspace indexes from files to PostgreSQL (no re-embedding).

    Counts are compared per document afterwards; run it again after an interruption.
    Then start the cockpit with WXAI_RAG_BACKEND=postgres (or auto).
    """
    from sqlalchemy import create_engine

    from wxai.assistant.rag.migrate import dataspace_indexes, migrate_to_postgres
    from wxai.core.errors import ConfigError
    from wxai.core.settings import get_settings

    if to != "postgres":
        raise ConfigError(f"--to {to!r}: the only target is postgres")
    settings = get_settings()
    target = _postgres_url(url)
    indexes = dataspace_indexes(settings.home / "dataspaces")
    out = Console(highlight=False, soft_wrap=True)
    if not indexes:
        out.print(f"no dataspace indexes under {settings.home / 'dataspaces'}: nothing to move")
        return
    engine = create_engine(target)
    try:
        moved = migrate_to_postgres(
            indexes, engine, progress=lambda space, i, n: out.print(f"[{i}/{n}] {space}")
            if space else None,
        )  # fmt: skip
    finally:
        engine.dispose()
    for row in moved:
        out.print(
            f"  {row.space}  {row.documents:5d} documents  {row.chunks:7d} chunks  "
            f"{row.written:7d} written  verified"
        )
    total = sum(r.chunks for r in moved)
    out.print(f"{len(moved)} dataspaces, {total} chunks in PostgreSQL; counts verified")


@app.command("reindex")
def reindex_command(
    url: PgUrlOption = None,
    m: Annotated[
        int | None, typer.Option("--m", help="Links per node; default WXAI_RAG_HNSW_M.")
    ] = None,
    ef_construction: Annotated[
        int | None,
        typer.Option(
            "--ef-construction",
            help="Candidate list while building; default WXAI_RAG_HNSW_EF_CONSTRUCTION.",
        ),
    ] = None,
) -> None:
    """Rebuild the PostgreSQL vector (HNSW) index of the dataspaces with new parameters.

    Searches are exact, and slower, while it builds; uploads wait for it.
    """
    from sqlalchemy import create_engine, text

    from wxai.assistant.rag.pg_schema import HnswParams, hnsw_in_use, rebuild_hnsw
    from wxai.cockpit.dataspaces import hnsw_params
    from wxai.core.settings import get_settings

    target = _postgres_url(url)
    configured = hnsw_params(get_settings())
    wanted = HnswParams(
        m=m or configured.m, ef_construction=ef_construction or configured.ef_construction
    )
    out = Console(highlight=False, soft_wrap=True)
    engine = create_engine(target)
    try:
        before = hnsw_in_use(engine)
        if before is None:
            out.print("no retrieval tables in this database yet: nothing to rebuild")
            return
        seconds = rebuild_hnsw(engine, wanted)
        with engine.connect() as connection:
            n_chunks = connection.scalar(text("SELECT count(*) FROM rag_chunks"))
    finally:
        engine.dispose()
    out.print(
        f"HNSW index rebuilt over {n_chunks} chunks in {seconds:.1f} s: "
        f"m {before.m} -> {wanted.m}, ef_construction {before.ef_construction} -> "
        f"{wanted.ef_construction}"
    )
