"""Retrieval labs: sentence vectors and semantic search inside a PDF (unit U5).

The labs compose :mod:`wxai.assistant.rag` (MiniLM embeddings, the FAISS
:class:`~wxai.assistant.rag.vector_index.VectorIndex`, the
:class:`~wxai.assistant.rag.store.RagStore`, :func:`~wxai.assistant.rag.answer.answer`)
with the embedded local LLM. The texts they search (sentences, PDF pages, questions)
live in each lab's ``configs/labs/<name>/config.yaml``, so a user can swap in their own.
``faiss-scaling`` (search time against database size) is in
:mod:`wxai.labs.retrieval_scaling`, ``rag-answer`` in :mod:`wxai.labs.rag_answer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from wxai.core.errors import ConfigError, WxaiError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    from wxai.assistant.rag.embedding import Embedder

U5 = "U5 Retrieval-augmented generation"
#: Lecture 7 (RAG) and its lab are on the second course day, after the LLM lecture.
DAY_RAG = 2


#: Embedding batches on one torch thread: on a busy 2-core machine a second thread made
#: MiniLM 1.3x slower on batches and ~3.5x on single queries (docs/retrieval.md, Scaling).
THREADS_HELP = "intra-op torch threads of the MiniLM embedder (null: torch default)"


def lab_embedder(ctx: LabContext, threads: int | None) -> Embedder:
    """The MiniLM embedder on the run's device with ``threads`` torch threads."""
    from wxai.assistant.rag.embedding import Embedder

    return Embedder(device=str(ctx.device), threads=threads)


# --------------------------------------------------------------------------- vector-db
class VectorDbElementaryConfig(LabConfig):
    """Settings of ``vector-db-elementary``."""

    sentences: list[str] = Field(min_length=2, description="stored sentences")
    queries: list[str] = Field(
        min_length=1, description="query i is a paraphrase of sentence i, sharing few words"
    )
    distractors: list[str] = Field(default_factory=list, description="unpaired sentences")
    n_distractors: int = Field(ge=0, description="how many distractors are stored as well")
    top_k: int = Field(ge=1, description="rankings compared between NumPy and FAISS")
    min_top1: float = Field(gt=0, le=1, description="acceptance: top-1 accuracy at least this")
    torch_threads: int | None = Field(default=1, ge=1, description=THREADS_HELP)

    @model_validator(mode="after")
    def _paired(self) -> VectorDbElementaryConfig:
        if len(self.queries) > len(self.sentences):
            raise ConfigError(
                "there are more queries than sentences to paraphrase; drop queries or add sentences"
            )
        if self.n_distractors > len(self.distractors):
            raise ConfigError(
                f"n_distractors > the {len(self.distractors)} distractors listed; "
                "lower it or list more"
            )
        return self


@lab(
    "vector-db-elementary",
    title="Sentences as MiniLM vectors: paraphrases found by cosine similarity, no keywords",
    topic=U5,
    day=DAY_RAG,
    config=VectorDbElementaryConfig,
)
def vector_db_elementary(cfg: VectorDbElementaryConfig, ctx: LabContext) -> LabOutcome:
    """Embed sentences, retrieve each paraphrase query by explicit cosine and by FAISS."""
    import numpy as np

    from wxai.assistant.rag.vector_index import VectorIndex
    from wxai.verify.retrieval import (
        cosine_similarity,
        target_margin,
        target_ranks,
        top_k_accuracy,
    )
    from wxai.viz.retrieval_plots import similarity_figure

    stored = [*cfg.sentences, *cfg.distractors[: cfg.n_distractors]]
    embedder = lab_embedder(ctx, cfg.torch_threads)
    ctx.progress(0.1, "embedding sentences")
    z = embedder.encode(stored)  # (N, 384)
    zq = embedder.encode(cfg.queries)  # (Q, 384)
    n, n_q = len(stored), len(cfg.queries)

    # The lecture's formula: sim = (zq . z) / (|zq| |z|); query i paraphrases sentence i.
    cosine = cosine_similarity(zq, z)
    targets = np.arange(n_q)
    ranking = np.argsort(-cosine, axis=1, kind="stable")
    top1, top3 = top_k_accuracy(cosine, targets, 1), top_k_accuracy(cosine, targets, 3)
    rank_of_target = target_ranks(cosine, targets)
    margin = target_margin(cosine, targets)

    # The same search through the FAISS flat (exact inner-product) index.
    k = min(cfg.top_k, n)
    index = VectorIndex(embedder.dim, kind="flat")
    index.add(np.arange(n, dtype=np.int64), z)
    faiss_scores, faiss_ids = index.search(zq, k)
    same_order = float(np.mean(np.all(faiss_ids == ranking[:, :k], axis=1)))
    score_diff = float(np.max(np.abs(faiss_scores - np.take_along_axis(cosine, ranking[:, :k], 1))))

    ctx.progress(0.7, "drawing the similarity matrices")
    fig = similarity_figure(cosine_similarity(z, z), cosine, stored, cfg.queries, ranking[:, 0])
    ctx.save_figure(fig, "similarity_matrix.png")

    rows = [
        {
            "query": q,
            "target": cfg.sentences[i],
            "retrieved": stored[int(ranking[i, 0])],
            "cosine_target": float(cosine[i, i]),
            "rank_of_target": int(rank_of_target[i]),
        }
        for i, q in enumerate(cfg.queries)
    ]
    ctx.tracker.log_dict({"queries": rows}, "retrieval.json")

    random_top1 = 1.0 / n
    return LabOutcome(
        metrics={
            "top1_accuracy": top1,
            "top3_accuracy": top3,
            "random_top1": random_top1,
            "mean_margin": margin,
            "faiss_same_ranking": same_order,
            "faiss_max_score_diff": score_diff,
            "n_stored": float(n),
            "n_queries": float(n_q),
        },
        acceptance=Acceptance(
            metric="top1_accuracy",
            value=top1,
            comparison=">=",
            threshold=cfg.min_top1,
            baseline=f"paraphrase retrieval vs random choice among {n} sentences",
            baseline_value=random_top1,
        ),
        summary=(
            f"{n_q} paraphrases among {n} sentences: top-1 {top1:.2f} (random {random_top1:.3f}); "
            f"FAISS flat ranks like NumPy cosine for {same_order:.0%} of the queries "
            f"(max score difference {score_diff:.1e})."
        ),
    )


# --------------------------------------------------------------------------- pdf-search
class PdfSearchConfig(LabConfig):
    """Settings of ``pdf-search``."""

    page_titles: list[str] = Field(min_length=2, description="one topic per PDF page")
    page_texts: list[str] = Field(min_length=2, description="body text of each page")
    queries: list[str] = Field(min_length=1, description="questions avoiding the page's words")
    query_pages: list[int] = Field(min_length=1, description="1-based page answering query i")
    n_queries: int = Field(ge=1, description="how many of the queries are asked")
    top_k: int = Field(ge=1, description="recall is counted within the best top_k pages")
    min_top1: float = Field(gt=0, le=1, description="acceptance: top-1 page accuracy at least")
    torch_threads: int | None = Field(default=1, ge=1, description=THREADS_HELP)

    @model_validator(mode="after")
    def _consistent(self) -> PdfSearchConfig:
        if len(self.page_titles) != len(self.page_texts):
            raise ConfigError(
                "page_titles and page_texts differ in length; give one title per page"
            )
        if len(self.queries) != len(self.query_pages):
            raise ConfigError("queries and query_pages differ in length; give one page per query")
        if self.n_queries > len(self.queries):
            raise ConfigError(
                f"n_queries > the {len(self.queries)} queries listed; lower it or list more"
            )
        if not all(1 <= p <= len(self.page_texts) for p in self.query_pages):
            raise ConfigError(f"query_pages must lie in 1..{len(self.page_texts)}")
        return self


@lab(
    "pdf-search",
    title="Semantic search inside a PDF: pages found from questions that avoid their words",
    topic=U5,
    day=DAY_RAG,
    config=PdfSearchConfig,
)
def pdf_search(cfg: PdfSearchConfig, ctx: LabContext) -> LabOutcome:
    """Write a PDF, ingest it page by page (pypdf) into a RagStore, search it three ways.

    Long only through the steps of the exercise written out in order and its LabOutcome
    (metrics, acceptance, summary); every computation is a library call.
    """
    import numpy as np

    from wxai.assistant.rag.page_search import evaluate_page_search
    from wxai.assistant.rag.pdf_writer import write_topic_pdf
    from wxai.assistant.rag.store import RagStore
    from wxai.viz.retrieval_plots import page_similarity_figure

    n_pages = len(cfg.page_texts)
    pdf = write_topic_pdf(
        ctx.run_dir / "topics.pdf", cfg.page_titles, cfg.page_texts,
        title="Weather and machine learning: twelve short topics", author="wxai pdf-search lab",
    )  # fmt: skip
    ctx.tracker.log_artifact(pdf)
    ctx.progress(0.1, "reading the PDF back and embedding its pages")
    store = RagStore.open(ctx.run_dir / "store", embedder=lab_embedder(ctx, cfg.torch_threads))
    report = store.add([pdf])
    if not report.ok or report.n_chunks == 0:
        raise WxaiError(f"pdf-search: the generated PDF was not ingested ({report.summary()})")

    queries = cfg.queries[: cfg.n_queries]
    truth = np.asarray(cfg.query_pages[: cfg.n_queries])
    found = evaluate_page_search(
        store, queries, truth, n_pages=n_pages, n_chunks=report.n_chunks, top_k=cfg.top_k,
        progress=lambda done, text: ctx.progress(0.2 + 0.6 * done, text),
    )  # fmt: skip
    modes, first, similarity = tuple(found.first), found.first, found.similarity
    accuracy = found.accuracy(truth)
    recall_k = float(np.mean(found.in_top_k))

    fig = page_similarity_figure(
        similarity, truth, first["vector"], cfg.page_titles, queries,
        title=f"Query-page cosine similarity (MiniLM): top-1 vector {accuracy['vector']:.2f}, "
        f"BM25 {accuracy['bm25']:.2f}, hybrid {accuracy['hybrid']:.2f}",
    )  # fmt: skip
    ctx.save_figure(fig, "page_similarity.png")

    ctx.tracker.log_dict(
        {
            "queries": [
                {
                    "query": q,
                    "page": int(truth[i]),
                    **{f"top1_{m}": int(first[m][i]) for m in modes},
                }
                for i, q in enumerate(queries)
            ]
        },
        "queries.json",
    )
    random_top1 = 1.0 / n_pages
    return LabOutcome(
        metrics={
            "top1_accuracy": accuracy["vector"],
            "top1_bm25": accuracy["bm25"],
            "top1_hybrid": accuracy["hybrid"],
            f"recall_at_{cfg.top_k}": recall_k,
            "random_top1": random_top1,
            "n_pages": float(n_pages),
            "n_chunks": float(report.n_chunks),
        },
        acceptance=Acceptance(
            metric="top1_accuracy",
            value=accuracy["vector"],
            comparison=">=",
            threshold=cfg.min_top1,
            baseline=f"vector page search vs a random page among {n_pages}",
            baseline_value=random_top1,
        ),
        summary=(
            f"{len(queries)} questions over a {n_pages}-page PDF: the right page first for "
            f"{accuracy['vector']:.0%} by vectors, {accuracy['bm25']:.0%} by BM25 keywords, "
            f"{accuracy['hybrid']:.0%} hybrid; recall@{cfg.top_k} {recall_k:.0%}."
        ),
    )
