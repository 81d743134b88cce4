"""Answers from retrieved context only, with citations, or an honest "not found".

:func:`answer` and :func:`stream_answer` retrieve ``k`` hits, check the relevance
floor, assemble a context of at most ``budget_chars`` characters in which every
block starts with its citation (``[README.md, lines 10-24]``), and ask the provider
to answer from that context alone. When the best hit's cosine similarity is below
``min_score`` the provider is never called and the answer is
``"Not found in these documents."``: a small model given unrelated context
invents an answer, so none is requested.

The floor (:data:`DEFAULT_MIN_SCORE`) was set from MiniLM cosines measured on
questions about the project's documentation against questions on other topics;
see ``docs/retrieval.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from wxai.assistant.llm.types import LLMProvider, Message
from wxai.assistant.rag.types import Hit, Retriever

__all__ = [
    "DEFAULT_BUDGET_CHARS",
    "DEFAULT_MIN_SCORE",
    "NOT_FOUND",
    "SYSTEM_PROMPT",
    "RagAnswer",
    "answer",
    "build_context",
    "build_messages",
    "retrieve_context",
    "stream_answer",
    "without_repeated_lines",
]

NOT_FOUND = "Not found in these documents."
DEFAULT_MIN_SCORE = 0.25
"""Relevance floor on the best hit's cosine similarity (MiniLM)."""
DEFAULT_BUDGET_CHARS = 3000
"""Context budget: about 800-1000 tokens, so prompt and answer fit a 2048-token model."""
_MIN_PARTIAL = 200

SYSTEM_PROMPT = (
    "You answer questions using only the context below. Every context block starts "
    "with its citation in square brackets. Cite the blocks you use with those exact "
    "bracketed citations, for example [README.md, lines 10-24]. If the context does "
    f'not contain the answer, reply exactly: "{NOT_FOUND}" Do not use outside knowledge.'
)


@dataclass
class RagAnswer:
    """An answer and its evidence.

    Attributes
    ----------
    text:
        The model's answer, or :data:`NOT_FOUND`.
    citations:
        Citations of the context blocks given to the model, best first.
    found:
        False when the relevance floor refused the question (the model was not called).
    hits:
        The retrieved hits.
    """

    text: str
    citations: list[str] = field(default_factory=list)
    found: bool = True
    hits: list[Hit] = field(default_factory=list)


def build_context(
    hits: Sequence[Hit], budget_chars: int = DEFAULT_BUDGET_CHARS
) -> tuple[str, list[str]]:
    """Concatenate hits, best first, each prefixed by its citation, within a budget.

    Parameters
    ----------
    hits:
        Retrieved hits; ordered here by decreasing ``score``.
    budget_chars:
        Maximum length of the context. The best block is cut to the budget if it
        does not fit; a later block that does not fit is cut if at least 200
        characters of it fit, otherwise assembly stops there.

    Returns
    -------
    context, citations:
        The context text and the citations of the blocks it contains.
    """
    blocks: list[str] = []
    citations: list[str] = []
    used = 0
    for hit in sorted(hits, key=lambda h: -h.score):
        citation = hit.chunk.citation
        block = f"{citation}\n{hit.chunk.text.strip()}"
        sep = 2 if blocks else 0
        room = budget_chars - used - sep
        if room <= 0:
            break
        if len(block) > room:
            if blocks and room < _MIN_PARTIAL:
                break
            block = block[:room]
        blocks.append(block)
        if citation not in citations:
            citations.append(citation)
        used += sep + len(block)
    return "\n\n".join(blocks), citations


def build_messages(question: str, context: str) -> list[Message]:
    """The system and user messages of a retrieval-augmented question."""
    return [
        Message.system(SYSTEM_PROMPT),
        Message.user(f"Context:\n{context}\n\nQuestion: {question}"),
    ]


def without_repeated_lines(deltas: Iterable[str]) -> Iterator[str]:
    """Pass text deltas through, stopping where a line repeats the previous one.

    Small models decoding greedily can loop on one sentence. A line that starts
    like the previous non-blank line is held back until it differs; if it ends
    identical, the stream stops there, so a loop is never shown.
    """
    buf, sent, prev = "", 0, None
    for delta in deltas:
        for piece in re.split(r"(\n)", delta):
            if piece == "\n":
                line = buf.strip()
                if line and line == prev:
                    return
                yield buf[sent:] + "\n"
                prev = line or prev
                buf, sent = "", 0
            elif piece:
                buf += piece
                line = buf.strip()
                if not (line and prev is not None and prev.startswith(line)):
                    yield buf[sent:]
                    sent = len(buf)
    if buf.strip() != prev and buf[sent:]:
        yield buf[sent:]


def _is_relevant(hits: Sequence[Hit], min_score: float) -> bool:
    if not hits:
        return False
    cosines = [h.vector_score for h in hits if h.vector_score is not None]
    if not cosines:  # a retriever without embeddings (web search): trust its ranking
        return True
    return max(cosines) >= min_score


def retrieve_context(
    question: str, retriever: Retriever, k: int, min_score: float, budget_chars: int
) -> tuple[list[Hit], bool, list[Message], list[str]]:
    """Retrieve for ``question``: ``(hits, found, messages for the model, citations)``.

    ``found`` is False below the relevance floor; then there are no messages.
    """
    hits = list(retriever.search(question, k=k))
    if not _is_relevant(hits, min_score):
        return hits, False, [], []
    context, citations = build_context(hits, budget_chars)
    return hits, True, build_messages(question, context), citations


def answer(
    question: str,
    retriever: Retriever,
    provider: LLMProvider,
    *,
    k: int = 5,
    min_score: float = DEFAULT_MIN_SCORE,
    budget_chars: int = DEFAULT_BUDGET_CHARS,
    max_tokens: int = 256,
) -> RagAnswer:
    """Answer ``question`` from the documents of ``retriever``.

    Parameters
    ----------
    question:
        The question.
    retriever:
        A :class:`~wxai.assistant.rag.store.RagStore` or any :class:`Retriever`.
    provider:
        Any :class:`~wxai.assistant.llm.types.LLMProvider`.
    k:
        Hits retrieved.
    min_score:
        Relevance floor on the best hit's cosine similarity; below it the answer is
        :data:`NOT_FOUND` and the provider is not called.
    budget_chars:
        Context budget in characters.
    max_tokens:
        Length limit of the answer.

    Returns
    -------
    RagAnswer
    """
    hits, found, messages, citations = retrieve_context(
        question, retriever, k, min_score, budget_chars
    )
    if not found:
        return RagAnswer(NOT_FOUND, [], False, hits)
    response = provider.chat(messages, max_tokens=max_tokens, temperature=0.0)
    text = "".join(without_repeated_lines([response.content])).strip()
    return RagAnswer(text, citations, True, hits)


def stream_answer(
    question: str,
    retriever: Retriever,
    provider: LLMProvider,
    *,
    k: int = 5,
    min_score: float = DEFAULT_MIN_SCORE,
    budget_chars: int = DEFAULT_BUDGET_CHARS,
    max_tokens: int = 256,
    citations: bool = True,
) -> Iterator[str]:
    """Like :func:`answer`, streamed: yields text deltas, then the citations.

    The last item (when ``citations`` is true and the answer was found) is
    ``"\\n\\nSources:\\n[a]\\n[b]"``. Below the relevance floor the only item is
    :data:`NOT_FOUND`.
    """
    _, found, messages, cited = retrieve_context(question, retriever, k, min_score, budget_chars)
    if not found:
        yield NOT_FOUND
        return
    deltas = (
        chunk.delta
        for chunk in provider.stream(messages, max_tokens=max_tokens, temperature=0.0)
        if chunk.delta
    )
    yield from without_repeated_lines(deltas)
    if citations and cited:
        yield "\n\nSources:\n" + "\n".join(cited)
