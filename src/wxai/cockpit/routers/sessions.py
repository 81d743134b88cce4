"""``/api/sessions``: persistent chat sessions and a chat that runs tools; ``/api/figures``.

Every route takes the caller: another user's session or figure answers 404, like a
missing one. ``POST /api/sessions/{id}/messages`` streams the turn's parts
(:mod:`wxai.cockpit.chat`) as server-sent events, one ``event: <type>`` with
``data: {json}`` each, and ends it with an ``error`` part ``signed out`` when the
caller is disabled or logged out meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from wxai.assistant.llm.registry import default_alias, get_model, get_provider, list_models
from wxai.cockpit.accounts import AccountStore, Principal
from wxai.cockpit.auth import AccountsDep, UserDep, still_signed_in
from wxai.cockpit.chat import run_turn
from wxai.cockpit.chat_tools import ChatToolbox, FigureStore, build_chat_tools
from wxai.cockpit.conversations import ConversationStore, MessageInfo, SessionInfo
from wxai.cockpit.rendering import render_markdown
from wxai.cockpit.schemas import ErrorOut

router = APIRouter(tags=["sessions"])

MAX_TEXT_CHARS = 8000
_404 = {404: {"model": ErrorOut, "description": "No such session of yours"}}
_400 = {400: {"model": ErrorOut}}


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

    @classmethod
    def of(cls, info: MessageInfo) -> MessageOut:
        return cls(
            id=info.id, seq=info.seq, role=info.role, text=info.text,
            html=render_markdown(info.text), parts=info.parts, model=info.model,
            created_at=info.created_at.isoformat(),
        )  # fmt: skip


def _conversations(request: Request) -> ConversationStore:
    return request.app.state.conversations


def check_alias(alias: str | None) -> str:
    """A registered model alias (default when None); an unknown one answers 400 with the valid."""
    if alias is None or not alias.strip():
        return default_alias()
    names = [entry.alias for entry in list_models()]
    if alias not in names:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"unknown model alias {alias!r}; valid: {', '.join(names)}",
        )
    return alias


@router.get("/api/sessions", summary="List your chat sessions")
def list_sessions(
    request: Request,
    user: UserDep,
    q: Annotated[str | None, Query(max_length=200, description="search titles and texts")] = None,
) -> list[SessionOut]:
    """Your sessions, most recently used first; ``q`` searches titles and message texts."""
    return [SessionOut.of(s) for s in _conversations(request).list(user, q)]


@router.post(
    "/api/sessions", status_code=status.HTTP_201_CREATED, summary="Create a session", responses=_400
)
def create_session(
    request: Request, user: UserDep, body: SessionCreate | None = None
) -> SessionOut:
    """A new, empty session (an unknown model alias answers 400 listing the valid ones)."""
    body = body or SessionCreate()
    alias = check_alias(body.model)
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
    alias = check_alias(body.model) if body.model is not None else None
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


def toolbox_for(request: Request, user: Principal) -> ChatToolbox:
    """The chat tools of ``user`` (``app.state.chat_toolbox(request, user)`` replaces them)."""
    factory = getattr(request.app.state, "chat_toolbox", None)
    if factory is not None:
        return factory(request, user)
    now = getattr(request.app.state, "chat_now", None)
    return build_chat_tools(request.app.state, user, request.app.state.settings.home, now=now)


def _sse(part: dict[str, Any]) -> str:
    return f"event: {part['type']}\ndata: {json.dumps(part, ensure_ascii=False)}\n\n"


def _stream(
    parts: Iterator[dict[str, Any]], accounts: AccountStore, user: Principal
) -> Iterator[str]:
    try:
        for part in parts:
            if not still_signed_in(accounts, user):
                yield _sse({"type": "error", "message": "signed out"})
                return
            yield _sse(part)
    finally:
        parts.close()  # type: ignore[attr-defined]


@router.post(
    "/api/sessions/{session_id}/messages",
    summary="Send a message; the answer streams",
    responses={
        **_404, **_400,
        200: {"description": "`text/event-stream` of parts", "content": {"text/event-stream": {}}},
    },
)  # fmt: skip
def post_message(
    request: Request, user: UserDep, accounts: AccountsDep, session_id: str, body: MessageIn
) -> StreamingResponse:
    """Answer ``text`` in the session with tools on real data, streamed as server-sent events."""
    conversations = _conversations(request)
    info = conversations.get(user, session_id)  # 404 before the stream starts
    alias = check_alias(body.model or info.model or None)
    if body.model and body.model != info.model:
        conversations.update(user, session_id, alias=alias)
    capabilities = get_model(alias).capabilities
    max_tokens = int(getattr(request.app.state, "chat_max_tokens", 384))
    budget = max(256, capabilities.context_length - max_tokens - 600)
    parts = run_turn(
        conversations, user, session_id, body.text, alias=alias,
        toolbox=toolbox_for(request, user),
        provider_factory=getattr(request.app.state, "chat_provider", None) or get_provider,
        now=getattr(request.app.state, "chat_now", None), budget_tokens=budget,
        max_tokens=max_tokens, data_files=_data_files(request, user),
    )  # fmt: skip
    return StreamingResponse(
        _stream(parts, accounts, user),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _data_files(request: Request, user: Principal) -> Callable[[], list[Any]]:
    """The caller's readable GRIB/NetCDF files, listed only when a rule needs them."""
    store = getattr(request.app.state, "dataspaces", None)
    return (lambda: store.list_data_files(user)) if store is not None else list


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
