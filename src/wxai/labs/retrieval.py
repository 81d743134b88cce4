"""Retrieval labs: sentence vectors, PDF page search, RAG answers (unit U5).

The labs compose :mod:`wxai.assistant.rag` (MiniLM embeddings, the FAISS
:class:`~wxai.assistant.rag.vector_index.VectorIndex`, the
:class:`~wxai.assistant.rag.store.RagStore`, :func:`~wxai.assistant.rag.answer.answer`)
with the embedded local LLM. The texts they search (sentences, PDF pages, questions)
live in each lab's ``configs/labs/<name>/config.yaml``, so a user can swap in their own.
``faiss-scaling`` (search time against database size) is in
:mod:`wxai.labs.retrieval_scaling`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from wxai.core.errors import WxaiError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

if TYPE_CHECKING:
    from wxai.assistant.rag.embedding import Embedder

U5 = "U5 Retrieval-augmented generation"
#: Lecture 7 (RAG) and its lab are on the second course day, after the LLM lecture.
DAY_RAG = 2


#: Embedding batches on one torch thread: on a busy 2-core machine a second thread made
#: MiniLM 1.3x slower on batches and ~3.5x on single queries (docs/retrieval.md, Scaling).
_THREADS_HELP = "intra-op torch threads of the MiniLM embedder (null: torch default)"


def _embedder(ctx: LabContext, threads: int | None) -> Embedder:
    """The MiniLM embedder on the run's device with ``threads`` torch threads."""
    from wxai.assistant.rag.embedding import Embedder

    return Embedder(device=str(ctx.device), threads=threads)


def _short(text: str, width: int = 34) -> str:
    """``text`` cut to ``width`` characters for axis labels."""
    return text if len(text) <= width else text[: width - 1] + "\u2026"


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
    torch_threads: int | None = Field(default=1, ge=1, description=_THREADS_HELP)

    @model_validator(mode="after")
    def _paired(self) -> VectorDbElementaryConfig:
        if len(self.queries) > len(self.sentences):
            raise ValueError("there are more queries than sentences to paraphrase")
        if self.n_distractors > len(self.distractors):
            raise ValueError(f"n_distractors > the {len(self.distractors)} distractors listed")
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
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.assistant.rag.vector_index import VectorIndex

    stored = [*cfg.sentences, *cfg.distractors[: cfg.n_distractors]]
    embedder = _embedder(ctx, cfg.torch_threads)
    ctx.progress(0.1, "embedding sentences")
    z = embedder.encode(stored)  # (N, 384)
    zq = embedder.encode(cfg.queries)  # (Q, 384)
    n, n_q = len(stored), len(cfg.queries)

    # The lecture's formula, written out: sim = (zq . z) / (|zq| |z|).
    cosine = (zq @ z.T) / np.outer(np.linalg.norm(zq, axis=1), np.linalg.norm(z, axis=1))
    targets = np.arange(n_q)
    ranking = np.argsort(-cosine, axis=1, kind="stable")
    top1 = float(np.mean(ranking[:, 0] == targets))
    rank_of_target = np.argmax(ranking == targets[:, None], axis=1) + 1
    top3 = float(np.mean(rank_of_target <= 3))
    others = cosine.copy()
    others[targets, targets] = -np.inf
    margin = float(np.mean(cosine[targets, targets] - others.max(axis=1)))

    # The same search through the FAISS flat (exact inner-product) index.
    k = min(cfg.top_k, n)
    index = VectorIndex(embedder.dim, kind="flat")
    index.add(np.arange(n, dtype=np.int64), z)
    faiss_scores, faiss_ids = index.search(zq, k)
    same_order = float(np.mean(np.all(faiss_ids == ranking[:, :k], axis=1)))
    score_diff = float(np.max(np.abs(faiss_scores - np.take_along_axis(cosine, ranking[:, :k], 1))))

    ctx.progress(0.7, "drawing the similarity matrices")
    sentence_sim = (z @ z.T) / np.outer(np.linalg.norm(z, axis=1), np.linalg.norm(z, axis=1))
    fig, (ax_s, ax_q) = plt.subplots(
        1, 2, figsize=(16, 7.5), gridspec_kw={"width_ratios": [1, 1]}, constrained_layout=True
    )
    labels = [_short(s) for s in stored]
    image = ax_s.imshow(sentence_sim, cmap="viridis", vmin=-0.1, vmax=1.0)
    ax_s.set_xticks(range(n), labels, rotation=90, fontsize=6)
    ax_s.set_yticks(range(n), labels, fontsize=6)
    ax_s.set_title("Cosine similarity between stored sentences")
    ax_q.imshow(cosine, cmap="viridis", vmin=-0.1, vmax=1.0, aspect="auto")
    ax_q.scatter(targets, targets, marker="s", s=40, facecolors="none", edgecolors="white")
    ax_q.scatter(ranking[:, 0], targets, marker="x", s=30, c="red", label="retrieved (top-1)")
    ax_q.set_xticks(range(n), [str(i) for i in range(n)], fontsize=6)
    ax_q.set_yticks(range(n_q), [_short(q) for q in cfg.queries], fontsize=6)
    ax_q.set_xlabel("stored sentence (index as on the left)")
    ax_q.set_title(f"Paraphrase queries: top-1 {top1:.2f} (white square: the paraphrased one)")
    ax_q.legend(loc="upper right", bbox_to_anchor=(1.0, -0.07), fontsize=7)
    fig.colorbar(image, ax=[ax_s, ax_q], shrink=0.6, label="cosine similarity")
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
    torch_threads: int | None = Field(default=1, ge=1, description=_THREADS_HELP)

    @model_validator(mode="after")
    def _consistent(self) -> PdfSearchConfig:
        if len(self.page_titles) != len(self.page_texts):
            raise ValueError("page_titles and page_texts differ in length")
        if len(self.queries) != len(self.query_pages):
            raise ValueError("queries and query_pages differ in length")
        if self.n_queries > len(self.queries):
            raise ValueError(f"n_queries > the {len(self.queries)} queries listed")
        if not all(1 <= p <= len(self.page_texts) for p in self.query_pages):
            raise ValueError(f"query_pages must lie in 1..{len(self.page_texts)}")
        return self


def _write_pdf(path: Path, titles: list[str], texts: list[str]) -> Path:
    """A PDF with one titled page per topic (fpdf2, core Helvetica font)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Weather and machine learning: twelve short topics")
    pdf.set_author("wxai pdf-search lab")
    for number, (title, text) in enumerate(zip(titles, texts, strict=True), start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=18)
        pdf.multi_cell(0, 10, f"{number}. {title}")
        pdf.ln(4)
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 7, text)
    tmp = path.with_suffix(".tmp.pdf")
    pdf.output(str(tmp))
    tmp.replace(path)
    return path


@lab(
    "pdf-search",
    title="Semantic search inside a PDF: pages found from questions that avoid their words",
    topic=U5,
    day=DAY_RAG,
    config=PdfSearchConfig,
)
def pdf_search(cfg: PdfSearchConfig, ctx: LabContext) -> LabOutcome:
    """Write a PDF, ingest it page by page (pypdf) into a RagStore, search it three ways."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.assistant.rag.store import RagStore

    n_pages = len(cfg.page_texts)
    pdf = _write_pdf(ctx.run_dir / "topics.pdf", cfg.page_titles, cfg.page_texts)
    ctx.tracker.log_artifact(pdf)
    ctx.progress(0.1, "reading the PDF back and embedding its pages")
    store = RagStore.open(ctx.run_dir / "store", embedder=_embedder(ctx, cfg.torch_threads))
    report = store.add([pdf])
    if not report.ok or report.n_chunks == 0:
        raise WxaiError(f"pdf-search: the generated PDF was not ingested ({report.summary()})")

    queries = cfg.queries[: cfg.n_queries]
    truth = np.asarray(cfg.query_pages[: cfg.n_queries])
    modes = ("vector", "bm25", "hybrid")
    first: dict[str, np.ndarray] = {m: np.zeros(len(queries), dtype=int) for m in modes}
    in_top_k = np.zeros(len(queries), dtype=bool)
    similarity = np.full((len(queries), n_pages), np.nan)  # best chunk cosine per page
    for i, query in enumerate(queries):
        for mode in modes:
            hits = store.search(query, k=report.n_chunks, mode=mode)
            first[mode][i] = hits[0].chunk.page if hits else 0
            if mode == "vector":
                pages = [h.chunk.page for h in hits]
                in_top_k[i] = truth[i] in pages[: cfg.top_k]
                for hit in hits:
                    col = int(hit.chunk.page) - 1
                    similarity[i, col] = np.fmax(similarity[i, col], hit.vector_score)
        ctx.progress(0.2 + 0.6 * (i + 1) / len(queries), f"query {i + 1}/{len(queries)}")
    accuracy = {m: float(np.mean(first[m] == truth)) for m in modes}
    recall_k = float(np.mean(in_top_k))

    fig, ax = plt.subplots(figsize=(11, 0.45 * len(queries) + 2.5), constrained_layout=True)
    image = ax.imshow(similarity, cmap="magma", aspect="auto")
    ax.scatter(
        truth - 1,
        np.arange(len(queries)),
        marker="s",
        s=90,
        facecolors="none",
        edgecolors="cyan",
        linewidths=1.5,
        label="page that answers",
    )
    ax.scatter(
        first["vector"] - 1,
        np.arange(len(queries)),
        marker="x",
        c="lime",
        s=40,
        label="best page (vector)",
    )
    ax.set_xticks(
        range(n_pages),
        [f"{p + 1}. {_short(t, 22)}" for p, t in enumerate(cfg.page_titles)],
        rotation=40,
        ha="right",
        fontsize=7,
    )
    ax.set_yticks(range(len(queries)), [_short(q, 60) for q in queries], fontsize=7)
    ax.set_title(
        f"Query-page cosine similarity (MiniLM): top-1 vector {accuracy['vector']:.2f}, "
        f"BM25 {accuracy['bm25']:.2f}, hybrid {accuracy['hybrid']:.2f}"
    )
    fig.legend(loc="outside lower center", ncol=2, fontsize=8)
    fig.colorbar(image, ax=ax, label="cosine similarity")
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


# --------------------------------------------------------------------------- rag-answer
class RagAnswerConfig(LabConfig):
    """Settings of ``rag-answer``."""

    corpus: list[str] = Field(
        min_length=1, description="files or globs relative to the repository root"
    )
    questions: list[str] = Field(min_length=1, description="questions about the corpus")
    expected_sources: list[str] = Field(
        min_length=1, description='file answering question i; alternatives split by "|"'
    )
    n_questions: int = Field(ge=1, description="how many of the questions are asked")
    out_of_scope: str = Field(description="a question the corpus cannot answer")
    k: int = Field(ge=1, description="chunks retrieved per question")
    min_score: float = Field(ge=-1, le=1, description="relevance floor on the best cosine")
    budget_chars: int = Field(ge=200, description="context budget in characters")
    max_tokens: int = Field(ge=8, description="length limit of each answer (tokens)")
    min_cited: float = Field(gt=0, le=1, description="acceptance: fraction citing the source")
    torch_threads: int | None = Field(default=1, ge=1, description=_THREADS_HELP)

    @model_validator(mode="after")
    def _consistent(self) -> RagAnswerConfig:
        if len(self.questions) != len(self.expected_sources):
            raise ValueError("questions and expected_sources differ in length")
        if self.n_questions > len(self.questions):
            raise ValueError(f"n_questions > the {len(self.questions)} questions listed")
        return self


def _repo_root() -> Path:
    """The source checkout wxai runs from (the folder holding pyproject.toml and src/wxai)."""
    import wxai

    root = Path(wxai.__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "wxai").is_dir():
        return root
    raise WxaiError(
        "rag-answer indexes wxai's own documentation (README.md, docs/) and needs a "
        f"source checkout; wxai is installed at {root} without one. Run it from a clone "
        "of the repository (pip install -e .)."
    )


def _corpus_files(root: Path, patterns: list[str]) -> list[Path]:
    """Files matching ``patterns`` under ``root``, sorted, without duplicates."""
    files: dict[Path, None] = {}
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                files[path] = None
    if not files:
        raise WxaiError(f"rag-answer: no file under {root} matches {patterns}")
    return list(files)


def _is_source(path: str, expected: str) -> bool:
    """Whether ``path`` is one of the files ``expected`` names (``"a.md|docs/b.md"``)."""
    return any(path == name or path.endswith("/" + name) for name in expected.split("|"))


def _cites(citations: list[str], expected: str) -> bool:
    """Whether one of ``citations`` (``"[path, lines a-b]"``) names an ``expected`` file."""
    return any(_is_source(c.strip("[]").rsplit(",", 1)[0].strip(), expected) for c in citations)


@lab(
    "rag-answer",
    title="Answers about wxai from its own docs: retrieve, cite, or say 'not found'",
    topic=U5,
    day=DAY_RAG,
    config=RagAnswerConfig,
)
def rag_answer(cfg: RagAnswerConfig, ctx: LabContext) -> LabOutcome:
    """Index wxai's README and docs, answer questions with the local LLM, check citations."""
    import matplotlib.pyplot as plt
    import numpy as np

    from wxai.assistant.llm.local import LocalProvider
    from wxai.assistant.llm.types import Message
    from wxai.assistant.rag.answer import answer
    from wxai.assistant.rag.store import RagStore

    root = _repo_root()
    files = _corpus_files(root, cfg.corpus)
    ctx.progress(0.05, f"indexing {len(files)} documents")
    store = RagStore.open(ctx.run_dir / "store", embedder=_embedder(ctx, cfg.torch_threads))
    report = store.add(files)
    if not report.ok:
        raise WxaiError(f"rag-answer: indexing failed: {report.failed}")
    provider = LocalProvider()
    questions = cfg.questions[: cfg.n_questions]
    expected = [str(Path(s).as_posix()) for s in cfg.expected_sources[: cfg.n_questions]]
    records: list[dict[str, Any]] = []
    for i, (question, source) in enumerate(zip(questions, expected, strict=True)):
        ctx.progress(0.1 + 0.7 * i / len(questions), f"question {i + 1}/{len(questions)}")
        result = answer(
            question,
            store,
            provider,
            k=cfg.k,
            min_score=cfg.min_score,
            budget_chars=cfg.budget_chars,
            max_tokens=cfg.max_tokens,
        )
        records.append(
            {
                "question": question,
                "expected_source": source,
                "answer": result.text,
                "found": result.found,
                "citations": result.citations,
                "cites_expected": result.found and _cites(result.citations, source),
                "first_cites_expected": result.found and _cites(result.citations[:1], source),
                "text_cites_expected": _cites(
                    [c + "]" for c in result.text.split("[")[1:] if "]" in c], source
                ),
                "hit_sources": [h.chunk.source for h in result.hits],
                "hit_cosines": [h.vector_score for h in result.hits],
            }
        )
    ctx.progress(0.85, "out-of-scope question and the retrieval-free baseline")
    outside = answer(
        cfg.out_of_scope,
        store,
        provider,
        k=cfg.k,
        min_score=cfg.min_score,
        budget_chars=cfg.budget_chars,
        max_tokens=cfg.max_tokens,
    )
    # The baseline: the same model asked without retrieved context cites nothing.
    bare = provider.chat([Message.user(questions[0])], max_tokens=cfg.max_tokens)
    baseline_cites = float(_cites([c + "]" for c in bare.content.split("[")[1:]], expected[0]))

    cited = float(np.mean([r["cites_expected"] for r in records]))
    first_cited = float(np.mean([r["first_cites_expected"] for r in records]))
    text_cited = float(np.mean([r["text_cites_expected"] for r in records]))
    refused = float(not outside.found)
    artifact = {
        "corpus": [f.relative_to(root).as_posix() for f in files],
        "answers": records,
        "out_of_scope": {
            "question": cfg.out_of_scope,
            "answer": outside.text,
            "found": outside.found,
            "best_cosine": max((h.vector_score or -1.0 for h in outside.hits), default=None),
        },
        "no_retrieval_baseline": {"question": questions[0], "answer": bare.content},
    }
    (ctx.run_dir / "answers.json").write_text(json.dumps(artifact, indent=2))
    ctx.tracker.log_artifact(ctx.run_dir / "answers.json")

    fig, ax = plt.subplots(figsize=(10, 0.5 * (len(records) + 1) + 2), constrained_layout=True)
    labels = [*(_short(r["question"], 50) for r in records), _short(cfg.out_of_scope, 50)]
    all_hits = [
        *(zip(r["hit_cosines"], r["hit_sources"], strict=True) for r in records),
        ((h.vector_score, h.chunk.source) for h in outside.hits),
    ]
    for row, hits in enumerate(all_hits):
        target = expected[row] if row < len(records) else None
        for rank, (cosine, source) in enumerate(hits):
            right = target is not None and _is_source(source, target)
            ax.scatter(
                cosine,
                row + 0.12 * (rank - cfg.k / 2) / cfg.k,
                s=60 if rank == 0 else 25,
                c="C2" if right else "C7",
                edgecolors="k" if rank == 0 else "none",
            )
    ax.axvline(cfg.min_score, color="C3", ls="--", label=f"relevance floor {cfg.min_score:g}")
    ax.scatter([], [], c="C2", label="chunk from the expected file")
    ax.scatter([], [], c="C7", label="other chunk (big dot: rank 1)")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set(
        xlabel="cosine similarity of retrieved chunks to the question",
        title=f"rag-answer: {cited:.0%} of answers cite the right file; out-of-scope "
        f"{'refused' if refused else 'answered'}",
    )
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="lower right")
    ctx.save_figure(fig, "retrieval_scores.png")

    accepted = cited if refused else 0.0
    return LabOutcome(
        metrics={
            "cited_source_fraction": cited,
            "first_citation_fraction": first_cited,
            "answer_text_cites_fraction": text_cited,
            "out_of_scope_refused": refused,
            "no_retrieval_cites": baseline_cites,
            "n_chunks": float(len(store)),
            "n_documents": float(len(files)),
        },
        acceptance=Acceptance(
            metric="cited_source_fraction_and_refusal",
            value=accepted,
            comparison=">=",
            threshold=cfg.min_cited,
            baseline=(
                "fraction of answers citing the file that holds the answer (0 unless the "
                "out-of-scope question is refused) vs the LLM alone, which cites nothing"
            ),
            baseline_value=baseline_cites,
        ),
        summary=(
            f"{len(records)} questions over {len(files)} documents ({len(store)} chunks): "
            f"{cited:.0%} cite the right file ({first_cited:.0%} as first source, "
            f"{text_cited:.0%} in the answer text); out-of-scope question "
            f"{'answered with ' + repr(outside.text[:40]) if outside.found else 'refused'}."
        ),
    )
