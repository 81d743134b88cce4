"""Retrieval-augmented generation: ingest documents, search them, answer from them.

:class:`RagStore` keeps chunks of text, Markdown, code, PDF, HTML and summaries of
NetCDF/GRIB files with their MiniLM embeddings (SQLite + FAISS) and ranks them by
BM25, by vector similarity, or by both fused (hybrid). :func:`answer` and
:func:`stream_answer` put the best chunks, with citations, into the prompt of any
:class:`~wxai.assistant.llm.types.LLMProvider`, and refuse ("Not found in these
documents.") when nothing is similar enough. Any object with
``search(query, k) -> list[Hit]`` is a :class:`Retriever`.
"""

from wxai.assistant.rag.answer import (
    DEFAULT_BUDGET_CHARS,
    DEFAULT_MIN_SCORE,
    NOT_FOUND,
    RagAnswer,
    answer,
    build_context,
    stream_answer,
)
from wxai.assistant.rag.documents import Chunk, load_chunks
from wxai.assistant.rag.embedding import Embedder
from wxai.assistant.rag.store import IngestReport, RagStore, list_stores
from wxai.assistant.rag.types import Hit, Retriever
from wxai.assistant.rag.vector_index import VectorIndex
from wxai.assistant.rag.web import WebSearchRetriever

__all__ = [
    "DEFAULT_BUDGET_CHARS",
    "DEFAULT_MIN_SCORE",
    "NOT_FOUND",
    "Chunk",
    "Embedder",
    "Hit",
    "IngestReport",
    "RagAnswer",
    "RagStore",
    "Retriever",
    "VectorIndex",
    "WebSearchRetriever",
    "answer",
    "build_context",
    "list_stores",
    "load_chunks",
    "stream_answer",
]
