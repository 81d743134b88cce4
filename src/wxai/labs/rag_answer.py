"""The ``rag-answer`` lab (unit U5): answers about wxai from its own documentation.

wxai's README and docs are indexed into a :class:`~wxai.assistant.rag.store.RagStore`;
the embedded local LLM answers the configured questions through
:func:`~wxai.assistant.rag.answer.answer`, which cites the retrieved blocks or says
"not found". The lab checks that the citations name the file holding the answer.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from wxai.core.errors import ConfigError, WxaiError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.retrieval import DAY_RAG, THREADS_HELP, U5, lab_embedder


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
    torch_threads: int | None = Field(default=1, ge=1, description=THREADS_HELP)

    @model_validator(mode="after")
    def _consistent(self) -> RagAnswerConfig:
        if len(self.questions) != len(self.expected_sources):
            raise ConfigError(
                "questions and expected_sources differ in length; give one source per question"
            )
        if self.n_questions > len(self.questions):
            raise ConfigError(
                f"n_questions > the {len(self.questions)} questions listed; lower it or list more"
            )
        return self


@lab(
    "rag-answer",
    title="Answers about wxai from its own docs: retrieve, cite, or say 'not found'",
    topic=U5,
    day=DAY_RAG,
    config=RagAnswerConfig,
)
def rag_answer(cfg: RagAnswerConfig, ctx: LabContext) -> LabOutcome:
    """Index wxai's README and docs, answer questions with the local LLM, check citations.

    Long only through the steps of the exercise written out in order and its LabOutcome
    (metrics, acceptance, summary); every computation is a library call.
    """
    import numpy as np

    from wxai.assistant.llm.local import LocalProvider
    from wxai.assistant.llm.types import Message
    from wxai.assistant.rag.answer import answer
    from wxai.assistant.rag.citations import (
        answer_record,
        bracketed,
        cites,
        corpus_files,
        is_source,
        source_checkout,
    )
    from wxai.assistant.rag.store import RagStore
    from wxai.viz.retrieval_plots import chunk_scores_figure

    root = source_checkout()
    files = corpus_files(root, cfg.corpus)
    ctx.progress(0.05, f"indexing {len(files)} documents")
    store = RagStore.open(ctx.run_dir / "store", embedder=lab_embedder(ctx, cfg.torch_threads))
    report = store.add(files)
    if not report.ok:
        raise WxaiError(f"rag-answer: indexing failed: {report.failed}")
    provider = LocalProvider()
    questions = cfg.questions[: cfg.n_questions]
    expected = [str(Path(s).as_posix()) for s in cfg.expected_sources[: cfg.n_questions]]
    ask = functools.partial(
        answer, retriever=store, provider=provider, k=cfg.k, min_score=cfg.min_score,
        budget_chars=cfg.budget_chars, max_tokens=cfg.max_tokens,
    )  # fmt: skip
    records: list[dict[str, Any]] = []
    for i, (question, source) in enumerate(zip(questions, expected, strict=True)):
        ctx.progress(0.1 + 0.7 * i / len(questions), f"question {i + 1}/{len(questions)}")
        records.append(answer_record(question, source, ask(question)))
    ctx.progress(0.85, "out-of-scope question and the retrieval-free baseline")
    outside = ask(cfg.out_of_scope)
    # The baseline: the same model asked without retrieved context cites nothing.
    bare = provider.chat([Message.user(questions[0])], max_tokens=cfg.max_tokens)
    baseline_cites = float(cites(bracketed(bare.content), expected[0]))

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

    hits = [
        *(zip(r["hit_cosines"], r["hit_sources"], strict=True) for r in records),
        ((h.vector_score, h.chunk.source) for h in outside.hits),
    ]
    rows = [
        [(cos, row < len(records) and is_source(src, expected[row])) for cos, src in found]
        for row, found in enumerate(hits)
    ]
    fig = chunk_scores_figure(
        rows, [r["question"] for r in records] + [cfg.out_of_scope], min_score=cfg.min_score,
        title=f"rag-answer: {cited:.0%} of answers cite the right file; out-of-scope "
        f"{'refused' if refused else 'answered'}",
    )  # fmt: skip
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
