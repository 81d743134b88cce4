"""``/api/sessions``: persistent chat sessions and a chat that runs tools; ``/api/figures``.

Every route takes the caller: another user's session or figure answers 404, like a
missing one. ``POST /api/sessions/{id}/messages`` streams the turn's parts
(:mod:`wxai.cockpit.chat`) as server-sent events, one ``event: <type>`` with
``data: {json}`` each, and ends it with an ``error`` part ``signed out`` when the
caller is disabled or logged out meanwhile.

The turn runs in a thread of the serving process (at most ``WXAI_CHAT_CONCURRENCY``
at once), not in the response: the stream only relays its parts, so a client that
disconnects loses nothing. The answer is in the database from the start (status
``streaming``); ``GET .../messages/{message_id}`` polls it from any server process,
and ``POST .../messages/{message_id}/cancel`` sets the flag the turn checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from wxai.assistant.llm.registry import get_model, get_provider, list_models
from wxai.cockpit.accounts import AccountStore, Principal
from wxai.cockpit.auth import ROUTINE_PARTS, AccountsDep, SignInWatch, UserDep
from wxai.cockpit.chat import run_turn
from wxai.cockpit.chat_tools import ChatToolbox, FigureStore, build_chat_tools
from wxai.cockpit.conversations import ConversationStore, MessageInfo, SessionInfo
from wxai.cockpit.image_tools import VisionRoute
from wxai.cockpit.model_access import ModelNotAllowed, check_allowed, default_for
from wxai.cockpit.rendering import render_markdown
from wxai.cockpit.schemas import ErrorOut

router = APIRouter(tags=["sessions"])
log = logging.getLogger(__name__)
KEEPALIVE_S = 120.0  # an SSE comment when no part came for this long (proxies stay open)
SIGN_IN_CHECK_S = 1.0  # a stream re-checks its user's sign-in at most this often
QUEUED_PER_THREAD = 4  # turns waiting for a thread, per thread, before 503

MAX_TEXT_CHARS = 8000
MAX_SESSIONS_PAGE = 500
_404 = {404: {"model": ErrorOut, "description": "No such session of yours"}}
_400 = {
    400: {"model": ErrorOut},
    403: {"model": ErrorOut, "description": "The model alias is not open to you"},
}


class SessionCreate(BaseModel):
    """A new session."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=120)
    model: str | None = Field(None, max_length=64, description="model alias; default the server's")


class SessionPatch(BaseModel):
    """Changes to a session."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=120)
    model: str | None = Field(None, max_length=64)


class MessageIn(BaseModel):
    """A user's message."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    model: str | None = Field(None, max_length=64)


class SessionOut(BaseModel):
    """A session."""

    id: str
    title: str
    model: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, info: SessionInfo) -> SessionOut:
        return cls(
            id=info.id, title=info.title, model=info.model,
            created_at=info.created_at.isoformat(), updated_at=info.updated_at.isoformat(),
        )  # fmt: skip


class MessageOut(BaseModel):
    """A stored message with its server-rendered HTML and its parts."""

    id: str
    seq: int
    role: str
    text: str
    html: str
    parts: list[dict[str, Any]]
    model: str
    created_at: str
    status: str = Field(description="streaming, complete, failed or cancelled")
    updated_at: str | None = None

    @classmethod
    def of(cls, info: MessageInfo) -> MessageOut:
        return cls(
            id=info.id, seq=info.seq, role=info.role, text=info.text,
            html=render_markdown(info.text), parts=info.parts, model=info.model,
            created_at=info.created_at.isoformat(), status=info.status,
            updated_at=info.updated_at.isoformat() if info.updated_at else None,
        )  # fmt: skip


def _conversations(request: Request) -> ConversationStore:
    return request.app.state.conversations


def check_alias(request: Request, user: Principal, alias: str | None) -> str:
    """A model alias ``user`` may use (None: the default open to them).

    An unknown alias answers 400 listing the valid ones; one closed to the user
    (``WXAI_USER_MODELS``) answers 403 listing theirs.
    """
    settings = request.app.state.settings
    if alias is None or not alias.strip():
        return default_for(settings, user)
    names = [entry.alias for entry in list_models()]
    if alias not in names:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"unknown model alias {alias!r}; valid: {', '.join(names)}",
        )
    try:
        check_allowed(settings, user, alias)
    except ModelNotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    return alias


@router.get("/api/sessions", summary="List your chat sessions")
def list_sessions(
    request: Request,
    user: UserDep,
    q: Annotated[str | None, Query(max_length=200, description="search titles and texts")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SESSIONS_PAGE, description="at most this many")] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9, description="skip this many first")] = 0,
) -> list[SessionOut]:
    """Your sessions, most recently used first; ``q`` searches titles and message texts.

    ``limit`` and ``offset`` page through them (default: the 100 most recent).
    """
    found = _conversations(request).list(user, q, limit=limit, offset=offset)
    return [SessionOut.of(s) for s in found]


@router.post(
    "/api/sessions", status_code=status.HTTP_201_CREATED, summary="Create a session", responses=_400
)
def create_session(
    request: Request, user: UserDep, body: SessionCreate | None = None
) -> SessionOut:
    """A new, empty session (an unknown model alias answers 400 listing the valid ones)."""
    body = body or SessionCreate()
    alias = check_alias(request, user, body.model)
    return SessionOut.of(_conversations(request).create(user, body.title, alias))


@router.get("/api/sessions/{session_id}", summary="Get a session", responses=_404)
def get_session(request: Request, user: UserDep, session_id: str) -> SessionOut:
    """One of your sessions."""
    return SessionOut.of(_conversations(request).get(user, session_id))


@router.patch("/api/sessions/{session_id}", summary="Rename a session or change its model",
              responses={**_404, **_400})  # fmt: skip
def patch_session(
    request: Request, user: UserDep, session_id: str, body: SessionPatch
) -> SessionOut:
    """Change the title and/or the model alias of one of your sessions."""
    alias = check_alias(request, user, body.model) if body.model is not None else None
    return SessionOut.of(
        _conversations(request).update(user, session_id, title=body.title, alias=alias)
    )


@router.delete("/api/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a session", responses=_404)  # fmt: skip
def delete_session(request: Request, user: UserDep, session_id: str) -> None:
    """Delete one of your sessions with its messages."""
    _conversations(request).delete(user, session_id)


@router.get("/api/sessions/{session_id}/messages", summary="Read a session", responses=_404)
def list_messages(request: Request, user: UserDep, session_id: str) -> list[MessageOut]:
    """The messages of one of your sessions, oldest first, with HTML and parts."""
    return [MessageOut.of(m) for m in _conversations(request).messages(user, session_id)]


@router.get(
    "/api/sessions/{session_id}/messages/{message_id}", summary="Read one message",
    responses=_404,
)  # fmt: skip
def get_message(request: Request, user: UserDep, session_id: str, message_id: str) -> MessageOut:
    """One message; poll an answer with status ``streaming`` until it is final."""
    return MessageOut.of(_conversations(request).message(user, session_id, message_id))


@router.post(
    "/api/sessions/{session_id}/messages/{message_id}/cancel",
    summary="Stop an answer being written", responses=_404,
)  # fmt: skip
def cancel_message(request: Request, user: UserDep, session_id: str, message_id: str) -> MessageOut:
    """Ask the turn writing this answer to stop, on whichever server process runs it.

    The turn stops within about half a second (between two parts) and stores what it
    wrote with status ``cancelled``; a final answer is returned unchanged.
    """
    return MessageOut.of(_conversations(request).request_cancel(user, session_id, message_id))


def toolbox_for(request: Request, user: Principal, alias: str | None = None) -> ChatToolbox:
    """The chat tools of ``user`` (``app.state.chat_toolbox(request, user)`` replaces them);
    ``alias``: the session's model, which reads uploaded images if it can."""
    factory = getattr(request.app.state, "chat_toolbox", None)
    if factory is not None:
        return factory(request, user)
    now = getattr(request.app.state, "chat_now", None)
    providers = getattr(request.app.state, "chat_provider", None) or get_provider
    vision = VisionRoute(alias, providers) if alias else None
    return build_chat_tools(
        request.app.state, user, request.app.state.settings.home, now=now, vision=vision
    )


def _sse(part: dict[str, Any]) -> str:
    return f"event: {part['type']}\ndata: {json.dumps(part, ensure_ascii=False)}\n\n"


class _Turns:
    """The chat threads of one server process, with a bound on waiting turns."""

    def __init__(self, threads: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wxai-chat")
        self.slots = threading.BoundedSemaphore(threads * (1 + QUEUED_PER_THREAD))


_TURNS_LOCK = threading.Lock()


def _turns(app: FastAPI) -> _Turns:
    with _TURNS_LOCK:
        turns = getattr(app.state, "chat_turns", None)
        if turns is None:
            turns = _Turns(int(app.state.settings.chat_concurrency))
            app.state.chat_turns = turns
        return turns


def stop_turns(app: FastAPI) -> None:
    """At shutdown: take no new turns; running ones finish before the process exits."""
    turns = getattr(app.state, "chat_turns", None)
    if turns is not None:
        turns.pool.shutdown(wait=False, cancel_futures=True)


def _run(
    parts: Iterator[dict[str, Any]],
    deliver: Callable[[dict[str, Any] | None], None],
    on_done: Callable[[int], None],
) -> None:
    """Run a turn to its end in this thread, handing each part to ``deliver``."""
    tokens = 0
    try:
        for part in parts:
            if part["type"] == "done":
                tokens = int(part.get("usage", {}).get("tokens", 0))
            deliver(part)
    except Exception as exc:  # the database went away, or a bug: the client sees it
        log.exception("chat turn failed")
        deliver({"type": "error", "message": f"the answer failed ({type(exc).__name__}); "
                 "reload the session to see what was stored"})  # fmt: skip
    finally:
        parts.close()  # type: ignore[attr-defined]
        deliver(None)
        on_done(tokens)


async def _relay(
    queue: asyncio.Queue[dict[str, Any] | None],
    accounts: AccountStore,
    user: Principal,
    cancel: Callable[[str], None],
) -> AsyncIterator[str]:
    """SSE of the parts a turn thread puts on ``queue``; ends at its end or on sign-out.

    The sign-in is checked before every part that brings a result (tool results,
    citations, errors), and before the routine ones (text deltas, ``done``) at most
    every ``SIGN_IN_CHECK_S`` (a database query per delta cost more than the delta).
    """
    message_id = ""
    watch = SignInWatch(accounts, user, SIGN_IN_CHECK_S)
    while True:
        try:
            part = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        if part is None:
            return
        message_id = message_id or str(part.get("message_id") or "")
        signed_in = True
        if watch.due(important=part["type"] not in ROUTINE_PARTS):
            try:
                signed_in = await run_in_threadpool(watch.check)
            except Exception:  # the database is away a moment: the turn retries its writes
                log.warning("could not check the sign-in of %s during a stream", user.name)
        if not signed_in:
            if message_id:
                with contextlib.suppress(Exception):  # the turn ends anyway; it is stored
                    await run_in_threadpool(cancel, message_id)
            yield _sse({"type": "error", "message": "signed out"})
            return
        yield _sse(part)


@router.post(
    "/api/sessions/{session_id}/messages",
    summary="Send a message; the answer streams",
    responses={
        **_404, **_400,
        200: {"description": "`text/event-stream` of parts", "content": {"text/event-stream": {}}},
        503: {"model": ErrorOut, "description": "Too many answers being written; retry"},
    },
)  # fmt: skip
async def post_message(
    request: Request, user: UserDep, accounts: AccountsDep, session_id: str, body: MessageIn
) -> StreamingResponse:
    """Answer ``text`` in the session with tools on real data, streamed as server-sent events.

    The answer is written to its end even when the client goes away; its id comes in
    the first part (``session``), to poll or cancel it.
    """
    conversations = _conversations(request)
    info = await run_in_threadpool(conversations.get, user, session_id)  # 404 before streaming
    alias = check_alias(request, user, body.model or info.model or None)
    if body.model and body.model != info.model:
        await run_in_threadpool(conversations.update, user, session_id, alias=alias)
    capabilities = get_model(alias).capabilities
    max_tokens = int(getattr(request.app.state, "chat_max_tokens", 384))
    budget = max(256, capabilities.context_length - max_tokens - 600)
    toolbox = await run_in_threadpool(toolbox_for, request, user, alias)
    turns = _turns(request.app)
    if not turns.slots.acquire(blocking=False):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "this server is writing too many answers right now; retry in a few seconds",
            headers={"Retry-After": "5"},
        )
    parts = run_turn(
        conversations, user, session_id, body.text, alias=alias, toolbox=toolbox,
        provider_factory=getattr(request.app.state, "chat_provider", None) or get_provider,
        now=getattr(request.app.state, "chat_now", None), budget_tokens=budget,
        max_tokens=max_tokens, data_files=_data_files(request, user),
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    quotas = getattr(request.app.state, "quotas", None)

    def deliver(part: dict[str, Any] | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: the database has it
            loop.call_soon_threadsafe(queue.put_nowait, part)

    def on_done(tokens: int) -> None:
        turns.slots.release()
        if quotas is not None and tokens:
            try:
                quotas.charge_tokens(user, tokens)
            except Exception:
                log.exception("could not charge %d tokens to %s", tokens, user.name)

    def cancel(message_id: str) -> None:
        conversations.request_cancel(user, session_id, message_id)

    try:
        turns.pool.submit(_run, parts, deliver, on_done)
    except RuntimeError as exc:  # the pool is shut down: the server is stopping
        turns.slots.release()
        parts.close()  # type: ignore[attr-defined]
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the server is shutting down; retry shortly",
            headers={"Retry-After": "5"},
        ) from exc  # fmt: skip
    return StreamingResponse(
        _relay(queue, accounts, user, cancel),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _data_files(request: Request, user: Principal) -> Callable[[], list[Any]]:
    """The caller's readable data files and images, listed only when a rule needs them."""
    store = getattr(request.app.state, "dataspaces", None)
    return (lambda: store.list_data_files(user, ("data", "image"))) if store is not None else list


@router.get(
    "/api/figures/{figure_id}",
    summary="A figure of a chat answer",
    response_class=FileResponse,
    responses={404: {"model": ErrorOut}, 200: {"content": {"image/png": {}}}},
)
def get_figure(request: Request, user: UserDep, figure_id: str) -> FileResponse:
    """A PNG a chat tool drew for you (404 for anyone else's or an unknown id)."""
    path = FigureStore(request.app.state.settings.home, user.id).find(figure_id)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such figure of yours")
    return FileResponse(path, media_type="image/png")
