"""The cockpit's front door: one middleware that every request passes, and its dependencies.

:class:`GuardMiddleware` runs before any route, mount or docs page:

1. the ``Host`` header must be one of ``WXAI_ALLOWED_HOSTS`` (DNS rebinding);
2. the credential is resolved: the ``wxai_session`` cookie (browsers) or an
   ``Authorization: Bearer wxai_...`` API key (programs); no other transport is read;
3. requests without a valid credential get 401 (API) or a redirect to ``/login``
   (pages), except for the few public paths (login page, static files, health);
4. a state-changing request made with the cookie must carry the session's CSRF
   token in ``X-CSRF-Token`` and, when the browser sends one, a same-origin ``Origin``;
5. every answer gets strict security headers: a Content-Security-Policy without
   inline script, no framing, no sniffing, no referrer.

Route handlers take the caller as :data:`UserDep` (or :data:`AdminDep`); a handler
can never be reached without one, because the middleware has already answered.
"""

from __future__ import annotations

import json
import time
from typing import Annotated
from urllib.parse import quote, urlsplit

import anyio
from fastapi import Depends, HTTPException, Request, status
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wxai.cockpit.accounts import API_KEY_PREFIX, AccountStore, Principal
from wxai.cockpit.errors import error_content

SESSION_COOKIE = "wxai_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Paths anyone may open: the login page and what it needs, and liveness.
PUBLIC_PATHS = frozenset({"/login", "/auth/link", "/api/health", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer makes Chromium send Origin: null
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=(self)"),
]


def is_public(path: str) -> bool:
    """Whether ``path`` is served without a login."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def host_allowed(host_header: str, allowed: frozenset[str]) -> bool:
    """Whether a ``Host`` header names one of the ``allowed`` hosts (any port)."""
    host = host_header.strip().lower()
    if not host:
        return False
    if host.startswith("["):  # [::1]:8000
        name = host[: host.find("]") + 1] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in allowed or "*" in allowed


def parse_hosts(value: str) -> frozenset[str]:
    """The comma-separated host list of ``WXAI_ALLOWED_HOSTS`` as a set of lower-case names."""
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def _cookie(headers: Headers, name: str) -> str:
    for chunk in headers.getlist("cookie"):
        for part in chunk.split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
    return ""


def resolve_principal(accounts: AccountStore, headers: Headers) -> Principal | None:
    """The caller named by the request's one credential, or None.

    An ``Authorization`` header wins over the cookie; a header that is present but
    invalid is not overridden by a valid cookie (no mixing of transports).
    """
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(API_KEY_PREFIX):
            return None
        return accounts.resolve(token, "api_key")
    cookie = _cookie(headers, SESSION_COOKIE)
    return accounts.resolve(cookie, "session") if cookie else None


def same_origin(headers: Headers, scheme: str) -> bool:
    """Whether the browser's ``Origin`` (when sent) matches the host the request came to."""
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser, or a same-origin GET-like navigation
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == headers.get("host", "").lower()


class GuardMiddleware:
    """Host check, authentication, CSRF and security headers for every HTTP request.

    Parameters
    ----------
    app:
        The ASGI app behind the guard.
    allowed_hosts:
        Host names the server answers to.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {key.lower() for key, _ in message.get("headers", [])}
                extra = [item for item in SECURITY_HEADERS if item[0] not in existing]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if not host_allowed(headers.get("host", ""), self.allowed_hosts):
            await _answer(send_with_headers, 400, "this server does not answer to that host name")
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith(PUBLIC_PREFIXES):  # static files: no database lookup per file
            await self.app(scope, receive, send_with_headers)
            return
        accounts: AccountStore = scope["app"].state.accounts
        principal = await anyio.to_thread.run_sync(resolve_principal, accounts, headers)
        scope.setdefault("state", {})["principal"] = principal
        if principal is None and not is_public(path):
            if (
                method == "GET"
                and not path.startswith("/api/")
                and "html" in headers.get("accept", "")
            ):
                target = path + (
                    f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
                )
                await _redirect(send_with_headers, "/login?next=" + quote(target, safe=""))
            else:
                await _answer(send_with_headers, 401, "log in first, or send an API key", path)
            return
        if method not in SAFE_METHODS and not same_origin(headers, scope.get("scheme", "http")):
            await _answer(send_with_headers, 403, "cross-origin request refused", path)
            return
        if (
            principal is not None
            and principal.via == "session"
            and method not in SAFE_METHODS
            and not is_public(path)  # the login form: Origin-checked above, no token yet
            and headers.get(CSRF_HEADER, "") != principal.csrf_token
        ):
            await _answer(
                send_with_headers, 403, "missing or wrong CSRF token: reload the page", path
            )
            return
        await self.app(scope, receive, send_with_headers)


async def _answer(send: Send, code: int, detail: str, path: str = "") -> None:
    body = json.dumps(error_content(path, code, detail)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def current_user(request: Request) -> Principal:
    """The caller the guard resolved (401 if none, which the guard already prevents)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first, or send an API key")
    return principal


def current_admin(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    """The caller, who must be an admin (others get 404: admin pages do not exist for them)."""
    if not user.is_admin:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return user


def get_accounts(request: Request) -> AccountStore:
    """The account store opened at startup."""
    return request.app.state.accounts


UserDep = Annotated[Principal, Depends(current_user)]
AdminDep = Annotated[Principal, Depends(current_admin)]
AccountsDep = Annotated[AccountStore, Depends(get_accounts)]


def still_signed_in(accounts: AccountStore, principal: Principal) -> bool:
    """Whether ``principal``'s credential and user are still valid (checked during streams)."""
    return accounts.still_valid(principal.id, principal.credential_id)


#: Chat parts that bring no result (:mod:`wxai.cockpit.chat`): a stream may send them
#: without a fresh sign-in check, within :class:`SignInWatch`'s interval.
ROUTINE_PARTS = frozenset({"session", "text", "done"})


class SignInWatch:
    """Re-checks a streaming user's sign-in, at most every ``interval`` seconds.

    A database query per streamed part cost more CPU than the part; a disabled user
    or a revoked key still loses the stream within ``interval``, and at once at parts
    that bring results (``due(important=True)``). The guard has just checked the
    credential when a stream starts, so the first routine check waits too.
    """

    def __init__(self, accounts: AccountStore, principal: Principal, interval: float = 1.0) -> None:
        self.accounts = accounts
        self.principal = principal
        self.interval = interval
        self._checked = time.monotonic()  # the guard checked it for this very request

    def due(self, *, important: bool = False) -> bool:
        """Whether the next part needs a check first."""
        return important or time.monotonic() - self._checked >= self.interval

    def check(self) -> bool:
        """Ask the database now (blocking): is the credential still valid?"""
        self._checked = time.monotonic()
        return still_signed_in(self.accounts, self.principal)

    def __call__(self, *, important: bool = False) -> bool:
        """Still signed in (asks the database only when :meth:`due`)."""
        return self.check() if self.due(important=important) else True
