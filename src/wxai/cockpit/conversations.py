"""Persistent chat sessions: the tables and :class:`ConversationStore`.

A session belongs to one user (``owner_id``) and holds numbered messages. An
assistant message keeps, besides its text, the ``parts`` of its turn (tool calls
with their arguments, tool results, figures, citations, errors) as JSON, so the
cockpit can show again what was run. Every method takes the owner: another
user's session id answers :class:`SessionNotFound`, exactly like a missing one.

An answer being written is stored when its turn starts, with ``status``
``streaming``; its text is updated while it streams and it ends ``complete``,
``failed`` or ``cancelled``. A cancel request is a flag in the database, so any
server process can stop a turn that another process runs. An answer whose process
died stays ``streaming`` without updates; read after ``stale_after_s`` it is
marked ``failed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    delete,
    false,
    func,
    or_,
    select,
    update,
)  # fmt: skip
from sqlalchemy.orm import Mapped, Session, mapped_column

from wxai.assistant.llm.types import Message
from wxai.cockpit.accounts import Principal
from wxai.cockpit.db import Base, DatabaseStore, UTCDateTime, utcnow
from wxai.core.errors import ConfigError, WxaiError

__all__ = [
    "ContextWindow",
    "ConversationStore",
    "MessageInfo",
    "MessageNotFound",
    "SessionInfo",
    "SessionNotFound",
    "estimate_tokens",
]

MAX_TITLE_CHARS = 120
Owner = Principal | str
MessageStatus = Literal["streaming", "complete", "failed", "cancelled"]
STALE_NOTE = "the server process writing this answer stopped; ask again"


class SessionNotFound(WxaiError, LookupError):
    """No chat session with that id among the caller's sessions."""


class MessageNotFound(WxaiError, LookupError):
    """No message with that id in the caller's session."""


class ChatSessionRecord(Base):
    """One conversation of one user."""

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS), default="")
    model: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ChatMessageRecord(Base):
    """One message of a session: the user's text, or the assistant's text and parts."""

    __tablename__ = "chat_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="complete", server_default="complete")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class SessionInfo:
    """A session as the API shows it."""

    id: str
    owner_id: str
    title: str
    model: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MessageInfo:
    """A stored message."""

    id: str
    session_id: str
    seq: int
    role: str
    text: str
    parts: list[dict[str, Any]]
    model: str
    created_at: datetime
    status: str = "complete"
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ContextWindow:
    """The history of a session as model messages that fit a token budget.

    Attributes
    ----------
    messages:
        Oldest first; when turns were dropped, the first is a system message with a
        short extractive summary of them.
    dropped_turns:
        How many of the oldest turns (a user message and its answers) were left out.
    tokens:
        Estimated tokens of ``messages``.
    """

    messages: list[Message] = field(default_factory=list)
    dropped_turns: int = 0
    tokens: int = 0


def estimate_tokens(text: str) -> int:
    """A rough token count: four characters a token, plus a few for the message frame."""
    return len(text) // 4 + 4


def _owner_id(owner: Owner) -> str:
    return owner.id if isinstance(owner, Principal) else str(owner)


def _session_info(record: ChatSessionRecord) -> SessionInfo:
    return SessionInfo(
        record.id, record.owner_id, record.title, record.model, record.created_at,
        record.updated_at,
    )  # fmt: skip


def _message_info(record: ChatMessageRecord) -> MessageInfo:
    return MessageInfo(
        record.id, record.session_id, record.seq, record.role, record.text,
        list(record.parts or []), record.model, record.created_at, record.status or "complete",
        record.updated_at,
    )  # fmt: skip


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:59].rstrip() + "…"


def _first_sentence(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    for stop in (". ", "? ", "! ", "\n"):
        if stop in line:
            line = line[: line.index(stop) + 1]
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class ConversationStore(DatabaseStore):
    """Chat sessions and their messages in the cockpit database.

    Parameters
    ----------
    url:
        SQLAlchemy URL (the cockpit's ``resolved_database_url``).
    """

    def __init__(self, url: str, *, stale_after_s: float = 300.0) -> None:
        super().__init__(url)
        self.stale_after_s = stale_after_s

    def _record(self, session: Session, owner: Owner, session_id: str) -> ChatSessionRecord:
        record = session.get(ChatSessionRecord, str(session_id)[:64])
        if record is None or record.owner_id != _owner_id(owner):
            raise SessionNotFound(
                f"no chat session {session_id!r}; list yours with GET /api/sessions"
            )
        return record

    # ------------------------------------------------------------------ sessions

    def create(self, owner: Owner, title: str = "", alias: str = "") -> SessionInfo:
        """A new, empty session of ``owner``."""
        now = utcnow()
        record = ChatSessionRecord(
            id=uuid.uuid4().hex, owner_id=_owner_id(owner), title=_title(title),
            model=alias, created_at=now, updated_at=now,
        )  # fmt: skip
        with self.session() as session:
            session.add(record)
        return _session_info(record)

    def list(
        self, owner: Owner, q: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[SessionInfo]:
        """The owner's sessions, most recently used first; ``q`` searches titles and texts.

        ``limit``/``offset`` page through them (a forecaster's year of sessions is
        thousands; listing all on every page load cost more than the page).
        """
        query = select(ChatSessionRecord).where(ChatSessionRecord.owner_id == _owner_id(owner))
        if q and q.strip():
            needle = f"%{q.strip().lower()}%"
            in_text = select(ChatMessageRecord.session_id).where(
                func.lower(ChatMessageRecord.text).like(needle)
            )
            query = query.where(
                or_(
                    func.lower(ChatSessionRecord.title).like(needle),
                    ChatSessionRecord.id.in_(in_text),
                )
            )
        query = query.order_by(ChatSessionRecord.updated_at.desc(), ChatSessionRecord.id)
        query = query.offset(offset).limit(limit)
        with self.session() as session:
            return [_session_info(r) for r in session.scalars(query)]

    def get(self, owner: Owner, session_id: str) -> SessionInfo:
        """One session of ``owner``."""
        with self.session() as session:
            return _session_info(self._record(session, owner, session_id))

    def update(
        self, owner: Owner, session_id: str, *, title: str | None = None, alias: str | None = None
    ) -> SessionInfo:
        """Change a session's title and/or model alias."""
        with self.session() as session:
            record = self._record(session, owner, session_id)
            if title is not None:
                record.title = _title(title)
            if alias is not None:
                record.model = alias
            record.updated_at = utcnow()
            return _session_info(record)

    def rename(self, owner: Owner, session_id: str, title: str) -> SessionInfo:
        """Give a session a new title."""
        return self.update(owner, session_id, title=title)

    def delete(self, owner: Owner, session_id: str) -> None:
        """Delete a session and its messages."""
        with self.session() as session:
            record = self._record(session, owner, session_id)
            session.execute(
                delete(ChatMessageRecord).where(ChatMessageRecord.session_id == record.id)
            )
            session.delete(record)

    # ------------------------------------------------------------------ messages

    def append(
        self,
        owner: Owner,
        session_id: str,
        role: Literal["user", "assistant"],
        text: str,
        *,
        parts: Sequence[dict[str, Any]] = (),
        model: str = "",
        status: MessageStatus = "complete",
    ) -> MessageInfo:
        """Add a message at the end of a session; the first user message names an untitled one."""
        if role not in ("user", "assistant"):
            raise ConfigError(f"message role must be 'user' or 'assistant', not {role!r}")
        with self.session() as session:
            record = self._record(session, owner, session_id)
            return _message_info(
                self._add(session, record, role, text, parts=parts, model=model, status=status)
            )

    def begin_turn(
        self, owner: Owner, session_id: str, text: str, *, model: str = ""
    ) -> tuple[SessionInfo, MessageInfo, MessageInfo]:
        """Store the user's ``text`` and an empty ``streaming`` answer, in one transaction.

        Returns the session (titled by ``text`` when it had no title), the user's
        message and the answer the turn fills (:meth:`save_progress`, :meth:`save_answer`).
        """
        with self.session() as session:
            record = self._record(session, owner, session_id)
            asked = self._add(session, record, "user", text, model=model)
            answer = self._add(session, record, "assistant", "", model=model, status="streaming")
            return _session_info(record), _message_info(asked), _message_info(answer)

    @staticmethod
    def _add(
        session: Session,
        record: ChatSessionRecord,
        role: Literal["user", "assistant"],
        text: str,
        *,
        parts: Sequence[dict[str, Any]] = (),
        model: str = "",
        status: MessageStatus = "complete",
    ) -> ChatMessageRecord:
        """Add a message at the end of ``record`` within ``session`` (flushed, not committed)."""
        last = session.scalar(
            select(func.max(ChatMessageRecord.seq)).where(ChatMessageRecord.session_id == record.id)
        )
        now = utcnow()
        message = ChatMessageRecord(
            id=uuid.uuid4().hex, session_id=record.id, seq=(last or 0) + 1, role=role,
            text=text, parts=list(parts), model=model, created_at=now, status=status,
            cancel_requested=False, updated_at=now,
        )  # fmt: skip
        session.add(message)
        session.flush()  # the next message's max(seq) sees this one
        record.updated_at = now
        if role == "user" and not record.title:
            record.title = _title(text)
        return message

    def messages(self, owner: Owner, session_id: str) -> list[MessageInfo]:
        """The messages of a session, oldest first (stale ``streaming`` ones marked failed)."""
        with self.session() as session:
            record = self._record(session, owner, session_id)
            rows = list(
                session.scalars(
                    select(ChatMessageRecord)
                    .where(ChatMessageRecord.session_id == record.id)
                    .order_by(ChatMessageRecord.seq)
                )
            )
            for row in rows:
                self._fail_if_stale(row)
            return [_message_info(r) for r in rows]

    def message(self, owner: Owner, session_id: str, message_id: str) -> MessageInfo:
        """One message of the owner's session (a stale ``streaming`` one marked failed)."""
        with self.session() as session:
            row = self._message(session, owner, session_id, message_id)
            self._fail_if_stale(row)
            return _message_info(row)

    def _message(
        self, session: Session, owner: Owner, session_id: str, message_id: str
    ) -> ChatMessageRecord:
        record = self._record(session, owner, session_id)
        row = session.get(ChatMessageRecord, str(message_id)[:64])
        if row is None or row.session_id != record.id:
            raise MessageNotFound(
                f"no message {message_id!r} in this session; "
                f"list them with GET /api/sessions/{record.id}/messages"
            )
        return row

    def _fail_if_stale(self, row: ChatMessageRecord) -> None:
        """Mark ``row`` failed when it streams without an update for ``stale_after_s``."""
        if row.status != "streaming":
            return
        last = row.updated_at or row.created_at
        if utcnow() - last > timedelta(seconds=self.stale_after_s):
            row.status = "failed"
            row.parts = [*(row.parts or []), {"type": "error", "message": STALE_NOTE}]
            row.updated_at = utcnow()

    def start_answer(self, owner: Owner, session_id: str, *, model: str = "") -> MessageInfo:
        """Store an empty assistant message with status ``streaming`` (the turn fills it)."""
        return self.append(owner, session_id, "assistant", "", model=model, status="streaming")

    def save_answer(
        self,
        message_id: str,
        text: str,
        parts: Sequence[dict[str, Any]],
        status: MessageStatus | None = None,
    ) -> bool:
        """Update an answer's text and parts (and status); False when it is gone (deleted).

        Only the turn that started the answer calls this, with the id it got from
        :meth:`begin_turn`; a final status is never overwritten by ``streaming``.
        """
        values: dict[str, Any] = {"text": text, "parts": list(parts), "updated_at": utcnow()}
        if status is not None:
            values["status"] = status
        with self.session() as session:
            done = session.execute(
                update(ChatMessageRecord)
                .where(ChatMessageRecord.id == message_id)
                .where(ChatMessageRecord.status.in_(["streaming", "failed"]))
                .values(**values)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def save_progress(self, message_id: str, text: str, parts: Sequence[dict[str, Any]]) -> bool:
        """Store a streaming answer's text so far; whether its turn should go on.

        False when someone asked to stop it (:meth:`request_cancel`) or it is gone or
        final: one statement both writes the progress and reads the cancel flag.
        """
        with self.session() as session:
            flag = session.execute(
                update(ChatMessageRecord)
                .where(ChatMessageRecord.id == message_id)
                .where(ChatMessageRecord.status == "streaming")
                .values(text=text, parts=list(parts), updated_at=utcnow())
                .returning(ChatMessageRecord.cancel_requested)
            ).scalar()
            return flag is not None and not flag

    def request_cancel(self, owner: Owner, session_id: str, message_id: str) -> MessageInfo:
        """Ask the turn writing an answer to stop (any server process sees the flag)."""
        with self.session() as session:
            row = self._message(session, owner, session_id, message_id)
            if row.status == "streaming":
                row.cancel_requested = True
            return _message_info(row)

    def context(
        self, owner: Owner, session_id: str, budget_tokens: int, *, skip_last: int = 0
    ) -> ContextWindow:
        """The session's history as model messages within ``budget_tokens``.

        The newest turns are kept whole; older ones are dropped and summarised in one
        system message (the first sentence of each dropped question) when it fits.
        ``skip_last`` leaves out the newest messages (the question being answered).
        """
        stored = self.messages(owner, session_id)
        if skip_last:
            stored = stored[: max(0, len(stored) - skip_last)]
        turns: list[list[MessageInfo]] = []
        for message in stored:
            if message.role == "user" or not turns:
                turns.append([])
            turns[-1].append(message)
        kept: list[list[MessageInfo]] = []
        used = 0
        for turn in reversed(turns):
            cost = sum(estimate_tokens(m.text) for m in turn)
            if used + cost > budget_tokens:
                break
            kept.insert(0, turn)
            used += cost
        dropped = turns[: len(turns) - len(kept)]
        out = [Message(m.role, m.text) for turn in kept for m in turn]  # type: ignore[arg-type]
        if dropped:
            asked = [_first_sentence(m.text) for turn in dropped for m in turn if m.role == "user"]
            summary = "Earlier in this conversation the user asked: " + " | ".join(asked)
            while asked and used + estimate_tokens(summary) > budget_tokens:
                asked.pop(0)
                summary = "Earlier in this conversation the user asked: " + " | ".join(asked)
            if asked:
                out.insert(0, Message.system(summary))
                used += estimate_tokens(summary)
        return ContextWindow(out, len(dropped), used)
