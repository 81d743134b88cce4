"""``/api/rag``: document stores, uploads, search and answers with citations.

Stores live under ``<WXAI home>/rag/<name>/`` and are shared with ``wxai rag``.
Uploaded files are kept in the store's ``uploads/`` folder under their own name,
which is also their source name in citations.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from wxai.assistant.llm.registry import default_alias, get_provider
from wxai.assistant.rag.answer import (
    DEFAULT_BUDGET_CHARS,
    DEFAULT_MIN_SCORE,
    NOT_FOUND,
    answer,
    retrieve_context,
    without_repeated_lines,
)
from wxai.assistant.rag.documents import SUFFIX_KINDS
from wxai.assistant.rag.store import RagStore, list_stores
from wxai.cockpit.schemas import (
    AnswerOut,
    AskIn,
    DocumentOut,
    ErrorOut,
    HitOut,
    IngestOut,
    StoreOut,
)
from wxai.core.errors import DataFormatError, UnknownNameError, WxaiError

router = APIRouter(prefix="/api/rag", tags=["rag"])

#: Largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$")
_BINARY = {"type": "string", "format": "binary"}
_NOT_FOUND = {404: {"model": ErrorOut, "description": "Unknown store or document"}}


def _open(name: str, *, create: bool = False) -> RagStore:
    return RagStore.open(name, create=create)


@router.get("/stores", summary="List the document stores")
def stores() -> list[StoreOut]:
    """Every store under the wxai home with its document and chunk counts."""
    out = []
    for name in list_stores():
        store = _open(name)
        out.append(StoreOut(name=name, documents=len(store.sources()), chunks=len(store)))
    return out


@router.get("/stores/{store}/documents", summary="List a store's documents", responses=_NOT_FOUND)
def documents(store: str) -> list[DocumentOut]:
    """The documents of ``store``, with kind, chunk count and size."""
    return [
        DocumentOut(source=d["source"], kind=d["kind"], chunks=d["n_chunks"], size=d["size"])
        for d in _open(store).documents()
    ]


@router.put(
    "/stores/{store}/documents/{filename}",
    summary="Upload and index a document",
    status_code=status.HTTP_200_OK,
    responses={
        400: {"model": ErrorOut, "description": "Bad name or type, or a file that cannot be read"},
        413: {"model": ErrorOut, "description": "Larger than the upload limit"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": _BINARY}},
        }
    },
)
async def upload(store: str, filename: str, request: Request, response: Response) -> IngestOut:
    """Index the request body as document ``filename`` (created if the store is new).

    Send the file's bytes as the body. A file that cannot be read (a corrupt PDF or
    NetCDF file, a binary file) answers 400 and leaves the store as it was.
    """
    suffix = Path(filename).suffix.lower()
    if not _FILENAME.match(filename) or suffix not in SUFFIX_KINDS:
        kinds = ", ".join(sorted(SUFFIX_KINDS))
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"invalid document name {filename!r}: use a plain file name ending in one of {kinds}",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise _too_large()
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_UPLOAD_BYTES:
            raise _too_large()
    if not body:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the request body is empty: send the file")
    rag = _open(store, create=True)
    result = await run_in_threadpool(_ingest, rag, filename, bytes(body))
    if result.status == "added":
        response.status_code = status.HTTP_201_CREATED
    return result


def _too_large() -> HTTPException:
    limit = MAX_UPLOAD_BYTES // (1024 * 1024)
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"the upload is larger than {limit} MiB"
    )


def _ingest(store: RagStore, filename: str, data: bytes) -> IngestOut:
    """Write the upload next to the store and index it; on failure restore the old file."""
    uploads = store.directory / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    final = uploads / filename
    backup = uploads / f".{filename}.previous"
    had_old = final.exists()
    if had_old:
        final.replace(backup)
    partial = uploads / f".{filename}.partial"
    partial.write_bytes(data)
    partial.replace(final)
    report = store.add_document(final, filename)
    if report.failed:
        final.unlink()
        if had_old:
            backup.replace(final)
        raise DataFormatError(f"{filename}: {report.failed[0][1]}")
    backup.unlink(missing_ok=True)
    state: Literal["added", "updated", "unchanged"] = (
        "added" if report.added else "updated" if report.updated else "unchanged"
    )
    return IngestOut(source=filename, status=state, chunks=report.n_chunks)


@router.delete(
    "/stores/{store}/documents/{filename}",
    summary="Remove a document",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def remove(store: str, filename: str) -> Response:
    """Remove the document and its chunks from the store (and its uploaded file)."""
    rag = _open(store)
    if filename not in rag.sources():
        raise UnknownNameError(f"document of store {store!r}", filename, rag.sources())
    rag.remove(filename)
    if _FILENAME.match(filename):
        (rag.directory / "uploads" / filename).unlink(missing_ok=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/stores/{store}/search", summary="Search a store", responses=_NOT_FOUND)
def search(
    store: str,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="the query")],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid",
) -> list[HitOut]:
    """The ``k`` best passages for ``q``: BM25 and vector rankings fused (``hybrid``)."""
    return [
        HitOut(
            rank=hit.rank,
            citation=hit.chunk.citation,
            source=hit.chunk.source,
            score=hit.score,
            cosine=hit.vector_score,
            bm25=hit.bm25_score,
            text=hit.chunk.text,
        )
        for hit in _open(store).search(q, k=k, mode=mode)
    ]


@router.post(
    "/stores/{store}/ask",
    summary="Answer a question from a store's documents",
    response_model=AnswerOut,
    responses={
        **_NOT_FOUND,
        502: {"model": ErrorOut, "description": "The model's service failed or is down"},
        200: {
            "description": "The answer; with `stream: true` a `text/event-stream` of "
            '`data: {"delta": ...}` events closed by `data: {"done": true, "found": ..., '
            '"citations": [...]}`',
            "content": {"text/event-stream": {}},
        },
    },
)
def ask(store: str, body: AskIn) -> AnswerOut | StreamingResponse:
    """Answer from the retrieved passages only, citing them; below the relevance floor
    the answer is "Not found in these documents." and no model is asked."""
    rag = _open(store)
    provider = get_provider(body.model or default_alias())
    if not body.stream:
        result = answer(body.question, rag, provider, k=body.k, max_tokens=body.max_tokens)
        return AnswerOut(answer=result.text, found=result.found, citations=result.citations)
    _, found, messages, citations = retrieve_context(
        body.question, rag, body.k, DEFAULT_MIN_SCORE, DEFAULT_BUDGET_CHARS
    )
    if not found:
        events = iter([_event({"delta": NOT_FOUND}), _done(False, [])])
        return _sse(events)
    chunks = provider.stream(messages, max_tokens=body.max_tokens, temperature=0.0)
    first = next(chunks, None)  # a provider that is down still answers 502
    deltas = (c.delta for c in itertools.chain([first] if first else [], chunks) if c.delta)
    return _sse(_answer_events(without_repeated_lines(deltas), citations))


def _event(data: dict) -> str:
    return f"data: {json.dumps(data)}\n\n"


def _done(found: bool, citations: list[str]) -> str:
    return _event({"done": True, "found": found, "citations": citations})


def _answer_events(deltas: Iterator[str], citations: list[str]) -> Iterator[str]:
    try:
        for delta in deltas:
            yield _event({"delta": delta})
    except WxaiError as exc:
        yield f"event: error\ndata: {json.dumps({'detail': str(exc)})}\n\n"
        return
    yield _done(True, citations)


def _sse(events: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
