"""Rate limits and token quotas per user and per API key, counted in the database.

Two limits: **requests per minute** and **model tokens per UTC day**. Defaults come
from the settings (``WXAI_RATE_LIMIT_PER_MINUTE``, ``WXAI_TOKEN_QUOTA_PER_DAY``;
0 = unlimited); an admin may override them per user, and a user may give one of
their API keys its own, lower, limits (the user's limits always apply as well).

Counters live in fixed windows (the minute, the UTC day) in ``quota_counters`` and
are incremented by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement
(SQLite and PostgreSQL alike), so every server process counts the same requests.

:class:`QuotaMiddleware` sits right behind the guard: over a limit it answers 429
with ``Retry-After`` (OpenAI's error shape under ``/v1/``). Static files, pages,
sign-in and health are not counted, nor GET requests of browser sessions (a page's
own polling). Tokens are charged after a request that set
``request.state.usage_tokens`` and by chat turns (:meth:`QuotaStore.charge_tokens`).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Integer, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wxai.cockpit.accounts import Principal
from wxai.cockpit.auth import AccountsDep, AdminDep, UserDep
from wxai.cockpit.db import Base, DatabaseStore, UTCDateTime, utcnow
from wxai.cockpit.errors import error_content
from wxai.core.errors import ConfigError

__all__ = ["Limits", "QuotaMiddleware", "QuotaStore", "Verdict", "router"]

MINUTE_S = 60
DAY_S = 86400
KEEP_WINDOWS_S = 2 * DAY_S  # older counters are pruned

#: Requests that make a model write (checked against the day's tokens first).
TOKEN_PATHS = re.compile(
    r"^(/v1/chat/completions|/v1/completions|/api/llm/chat|/api/sessions/[^/]+/messages)$"
)
EXEMPT_PATHS = frozenset({"/api/health", "/favicon.ico", "/login", "/logout", "/auth/link"})


class QuotaLimitRecord(Base):
    """Limits set for one subject (``user:<id>`` or ``key:<credential id>``); NULL = default."""

    __tablename__ = "quota_limits"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_per_day: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuotaCounterRecord(Base):
    """How much one subject used in one window (``kind`` ``requests`` or ``tokens``)."""

    __tablename__ = "quota_counters"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch s
    value: Mapped[int] = mapped_column(BigInteger, default=0)


@dataclass(frozen=True)
class Limits:
    """Limits of one subject: None = not set here (the default applies), 0 = unlimited."""

    requests_per_minute: int | None = None
    tokens_per_day: int | None = None


@dataclass(frozen=True)
class Verdict:
    """Whether a request may pass; when not, for how long (s) and why."""

    allowed: bool
    retry_after: int = 0
    detail: str = ""
    code: str = ""
    limit: int = 0
    remaining: int | None = None


def _subjects(principal: Principal) -> list[str]:
    subjects = [f"user:{principal.id}"]
    if principal.via == "api_key":
        subjects.append(f"key:{principal.credential_id}")
    return subjects


class QuotaStore(DatabaseStore):
    """Limits and counters in the cockpit database.

    Parameters
    ----------
    url:
        SQLAlchemy URL (the cockpit's ``resolved_database_url``).
    requests_per_minute, tokens_per_day:
        Defaults for users without an override; 0 = unlimited.
    clock:
        Seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        url: str,
        *,
        requests_per_minute: int = 0,
        tokens_per_day: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(url)
        self.defaults = Limits(requests_per_minute, tokens_per_day)
        self.clock = clock
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        self._insert = insert

    # -- limits ---------------------------------------------------------------------------

    def limits_of(self, subject: str) -> Limits:
        """The limits stored for ``subject`` (both None when none are set)."""
        with self.session() as session:
            row = session.get(QuotaLimitRecord, subject)
            return Limits() if row is None else Limits(row.requests_per_minute, row.tokens_per_day)

    def set_limits(self, subject: str, limits: Limits) -> Limits:
        """Store ``limits`` for ``subject`` (both None removes the override)."""
        for value in (limits.requests_per_minute, limits.tokens_per_day):
            if value is not None and value < 0:
                raise ConfigError(f"a limit must be 0 (unlimited) or more, not {value}")
        with self.session() as session:
            row = session.get(QuotaLimitRecord, subject)
            if limits == Limits():
                if row is not None:
                    session.delete(row)
                return limits
            if row is None:
                row = QuotaLimitRecord(subject=subject)
                session.add(row)
            row.requests_per_minute = limits.requests_per_minute
            row.tokens_per_day = limits.tokens_per_day
            row.updated_at = utcnow()
        return limits

    def effective(self, principal: Principal, session: Session | None = None) -> dict[str, Limits]:
        """The limits that apply to each subject of ``principal`` (user, then key); one query.

        ``session``: an open one to use (no second connection for the same request).
        """
        user, *key = subjects = _subjects(principal)
        query = select(QuotaLimitRecord).where(QuotaLimitRecord.subject.in_(subjects))
        if session is None:
            with self.session() as own_session:
                rows = list(own_session.scalars(query))
        else:
            rows = list(session.scalars(query))
        stored = {r.subject: Limits(r.requests_per_minute, r.tokens_per_day) for r in rows}
        own = stored.get(user, Limits())
        out = {
            user: Limits(
                _pick(own.requests_per_minute, self.defaults.requests_per_minute),
                _pick(own.tokens_per_day, self.defaults.tokens_per_day),
            )
        }
        for subject in key:
            mine = stored.get(subject, Limits())
            out[subject] = Limits(mine.requests_per_minute or 0, mine.tokens_per_day or 0)
        return out

    # -- counters -------------------------------------------------------------------------

    def _add(self, session: Session, subject: str, kind: str, start: int, amount: int) -> int:
        table = QuotaCounterRecord.__table__
        statement = self._insert(table).values(
            subject=subject, kind=kind, window_start=start, value=amount
        )
        statement = statement.on_conflict_do_update(
            index_elements=["subject", "kind", "window_start"],
            set_={"value": table.c.value + amount},
        ).returning(table.c.value)
        return int(session.execute(statement).scalar_one())

    def _used(self, session: Session, subject: str, kind: str, start: int) -> int:
        value = session.scalar(
            select(QuotaCounterRecord.value).where(
                QuotaCounterRecord.subject == subject,
                QuotaCounterRecord.kind == kind,
                QuotaCounterRecord.window_start == start,
            )
        )
        return int(value or 0)

    def admit(self, principal: Principal, *, needs_tokens: bool = False) -> Verdict:
        """Count one request of ``principal``; refuse it when a limit is exceeded.

        Requests are counted only for subjects with a per-minute limit; with
        ``needs_tokens`` the day's tokens must not be used up.
        """
        now = self.clock()
        minute = int(now // MINUTE_S) * MINUTE_S
        day = int(now // DAY_S) * DAY_S
        best = Verdict(True)
        with self.session() as session:
            for subject, limits in self.effective(principal, session).items():
                who = "your API key" if subject.startswith("key:") else "you"
                if needs_tokens and limits.tokens_per_day:
                    used = self._used(session, subject, "tokens", day)
                    if used >= limits.tokens_per_day:
                        wait = math.ceil(day + DAY_S - now)
                        return Verdict(
                            False, wait, f"{who} used today's {limits.tokens_per_day} model "
                            f"tokens; the quota resets at 00:00 UTC (in {wait} s), or ask an "
                            "admin to raise it", "insufficient_quota", limits.tokens_per_day, 0,
                        )  # fmt: skip
                if limits.requests_per_minute:
                    count = self._add(session, subject, "requests", minute, 1)
                    wait = math.ceil(minute + MINUTE_S - now)
                    remaining = max(0, limits.requests_per_minute - count)
                    if count > limits.requests_per_minute:
                        return Verdict(
                            False, wait, f"{who} made more than {limits.requests_per_minute} "
                            f"requests this minute; retry in {wait} s",
                            "rate_limit_exceeded", limits.requests_per_minute, 0,
                        )  # fmt: skip
                    if best.remaining is None or remaining < best.remaining:
                        best = Verdict(True, 0, "", "", limits.requests_per_minute, remaining)
        return best

    def charge_tokens(self, principal: Principal, tokens: int) -> None:
        """Add ``tokens`` to today's count of the user and of the key used."""
        if tokens <= 0:
            return
        now = self.clock()
        day = int(now // DAY_S) * DAY_S
        with self.session() as session:
            for subject in _subjects(principal):
                self._add(session, subject, "tokens", day, int(tokens))
            if int(now) % 97 == 0:  # now and then: forget windows nobody reads any more
                session.execute(
                    delete(QuotaCounterRecord).where(
                        QuotaCounterRecord.window_start < int(now) - KEEP_WINDOWS_S
                    )
                )

    def usage(self, principal: Principal) -> dict[str, Any]:
        """Counters and limits of ``principal``'s subjects, for ``GET /api/me/usage``."""
        now = self.clock()
        minute = int(now // MINUTE_S) * MINUTE_S
        day = int(now // DAY_S) * DAY_S
        out: dict[str, Any] = {}
        with self.session() as session:
            for subject, limits in self.effective(principal, session).items():
                out["key" if subject.startswith("key:") else "user"] = {
                    "requests_per_minute": {
                        "limit": limits.requests_per_minute,
                        "used": self._used(session, subject, "requests", minute),
                        "resets_in_s": math.ceil(minute + MINUTE_S - now),
                    },
                    "tokens_per_day": {
                        "limit": limits.tokens_per_day,
                        "used": self._used(session, subject, "tokens", day),
                        "resets_in_s": math.ceil(day + DAY_S - now),
                    },
                }
        return out


def _pick(own: int | None, default: int) -> int:
    return default if own is None else own


# -- middleware -------------------------------------------------------------------------


def counted(path: str, method: str, via: str) -> bool:
    """Whether a request counts against the limits (not static, pages or a page's reads)."""
    if path.startswith("/static/") or path in EXEMPT_PATHS:
        return False
    if not path.startswith(("/api/", "/v1/")):
        return method not in ("GET", "HEAD")  # pages are free; form posts are counted
    return not (via == "session" and method in ("GET", "HEAD", "OPTIONS"))


class QuotaMiddleware:
    """Answer 429 to requests over a limit; charge the tokens a request reports."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        principal: Principal | None = state.get("principal")
        quotas: QuotaStore | None = getattr(scope["app"].state, "quotas", None)
        path, method = scope["path"], scope["method"]
        if principal is None or quotas is None or not counted(path, method, principal.via):
            await self.app(scope, receive, send)
            return
        needs = method == "POST" and bool(TOKEN_PATHS.match(path))
        verdict = await anyio.to_thread.run_sync(
            lambda: quotas.admit(principal, needs_tokens=needs)
        )
        if not verdict.allowed:
            await _too_many(send, path, verdict)
            return
        extra = []
        if verdict.remaining is not None:
            extra = [
                (b"x-ratelimit-limit-requests", str(verdict.limit).encode()),
                (b"x-ratelimit-remaining-requests", str(verdict.remaining).encode()),
            ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            tokens = state.get("usage_tokens")
            if isinstance(tokens, int) and tokens > 0:
                await anyio.to_thread.run_sync(quotas.charge_tokens, principal, tokens)


async def _too_many(send: Send, path: str, verdict: Verdict) -> None:
    content = error_content(path, 429, verdict.detail, code=verdict.code)
    body = json.dumps(content).encode()
    await send({
        "type": "http.response.start", "status": 429,
        "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(max(1, verdict.retry_after)).encode()),
            (b"x-ratelimit-limit-requests", str(verdict.limit).encode()),
            (b"x-ratelimit-remaining-requests", b"0"),
        ],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


# -- API --------------------------------------------------------------------------------

router = APIRouter(tags=["accounts"])


class LimitsIn(BaseModel):
    """Limits to set; null = the default applies (for a key: only the user's), 0 = unlimited."""

    model_config = ConfigDict(extra="forbid")
    requests_per_minute: int | None = Field(None, ge=0, le=10**9)
    tokens_per_day: int | None = Field(None, ge=0, le=10**15)

    def limits(self) -> Limits:
        return Limits(self.requests_per_minute, self.tokens_per_day)


class LimitsOut(LimitsIn):
    """Limits stored for a user or key."""

    model_config = ConfigDict(extra="ignore")


def get_quotas(request: Request) -> QuotaStore:
    """The quota store opened at startup."""
    return request.app.state.quotas


QuotasDep = Annotated[QuotaStore, Depends(get_quotas)]


@router.get("/api/me/usage", summary="My requests and tokens, with their limits")
def my_usage(user: UserDep, quotas: QuotasDep) -> dict[str, Any]:
    """Counters of this minute and this UTC day, for you and (with a key) the key used."""
    return quotas.usage(user)


@router.put("/api/me/keys/{key_id}/limits", summary="Limit one of my API keys")
def set_key_limits(
    key_id: str, body: LimitsIn, user: UserDep, accounts: AccountsDep, quotas: QuotasDep
) -> LimitsOut:
    """Give your key its own limits (your user's limits apply as well; 0 = none of its own)."""
    if key_id not in {k.id for k in accounts.list_api_keys(user.id)}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id!r} of yours")
    stored = quotas.set_limits(f"key:{key_id}", body.limits())
    return LimitsOut(**stored.__dict__)


@router.get("/api/admin/users/{user_id}/limits", tags=["admin"], summary="A user's limits")
def get_user_limits(
    user_id: str, _admin: AdminDep, accounts: AccountsDep, quotas: QuotasDep
) -> LimitsOut:
    """The limits set for a user (null: the server's default applies)."""
    info = accounts.user_info(user_id)
    return LimitsOut(**quotas.limits_of(f"user:{info.id}").__dict__)


@router.put("/api/admin/users/{user_id}/limits", tags=["admin"], summary="Set a user's limits")
def set_user_limits(
    user_id: str, body: LimitsIn, _admin: AdminDep, accounts: AccountsDep, quotas: QuotasDep
) -> LimitsOut:
    """Override the default limits for a user (by name or id); null restores the default."""
    info = accounts.user_info(user_id)
    stored = quotas.set_limits(f"user:{info.id}", body.limits())
    return LimitsOut(**stored.__dict__)
