"""Signing in and out, the caller's own account and API keys, and user administration.

Pages: ``GET/POST /login``, ``GET /auth/link?token=...`` (one-time links such as the
first-start link printed on the console), ``POST /logout``.
REST: ``/api/me`` (who am I, my CSRF token, password, API keys) and ``/api/admin/...``
(users and groups; admins only, others get 404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from wxai.cockpit.accounts import AccountError, UserInfo
from wxai.cockpit.auth import SESSION_COOKIE, AccountsDep, AdminDep, UserDep
from wxai.cockpit.deps import SettingsDep
from wxai.cockpit.quotas import LimitsIn, QuotasDep
from wxai.cockpit.routers.pages import templates

router = APIRouter(tags=["accounts"])


def safe_next(target: str | None) -> str:
    """A post-login destination on this site only (``/``-relative, not ``//host``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request, *, error: str = "", username: str = "", next_url: str = "/", code: int = 200
) -> HTMLResponse:
    return templates().TemplateResponse(
        request,
        "login.html",
        {"error": error, "username": username, "next_url": next_url},
        status_code=code,
    )


def _signed_in(response: Response, token: str, settings: SettingsDep) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.get("/login", include_in_schema=False, response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form (already signed-in users go straight on)."""
    if getattr(request.state, "principal", None) is not None:
        return RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)  # type: ignore[return-value]
    return _login_page(request, next_url=safe_next(next))


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    *,
    accounts: AccountsDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Check the password; on success set the session cookie and go on."""
    user = await run_in_threadpool(accounts.verify_password, username, password)
    if user is None:
        return _login_page(
            request,
            error="Wrong user name or password, or the account is disabled.",
            username=username,
            next_url=safe_next(next),
            code=status.HTTP_401_UNAUTHORIZED,
        )
    issued = accounts.start_session(user.id, settings.session_hours)
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    return _signed_in(response, issued.token, settings)


@router.get("/auth/link", include_in_schema=False)
def login_link(
    request: Request, accounts: AccountsDep, settings: SettingsDep, token: str = ""
) -> Response:
    """Redeem a one-time sign-in link; it cannot be used twice."""
    principal = accounts.redeem_login_link(token)
    if principal is None:
        return _login_page(
            request,
            error="This sign-in link is not valid (used already, expired, or mistyped).",
            code=status.HTTP_401_UNAUTHORIZED,
        )
    issued = accounts.start_session(principal.id, settings.session_hours)
    response = RedirectResponse("/?welcome=1", status.HTTP_303_SEE_OTHER)
    return _signed_in(response, issued.token, settings)


@router.post("/logout", include_in_schema=False)
def logout(user: UserDep, accounts: AccountsDep) -> Response:
    """End this browser session."""
    if user.via == "session":
        accounts.end_session(user.credential_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the caller's own account -----------------------------------------------------------


class MeOut(BaseModel):
    """The signed-in user."""

    id: str
    name: str
    role: str
    groups: list[str]
    csrf_token: str = Field(description="Send as X-CSRF-Token with state-changing requests")


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current: str = Field(max_length=1024)
    new: str = Field(min_length=8, max_length=1024)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=128)
    limits: LimitsIn | None = Field(default=None, description="The key's own, lower limits")


class KeyOut(BaseModel):
    id: str
    label: str
    created_at: datetime
    last_used_at: datetime | None = None
    key: str | None = Field(default=None, description="The key itself, shown only once")


@router.get("/api/me", tags=["accounts"], summary="Who is signed in")
def me(user: UserDep, accounts: AccountsDep) -> MeOut:
    """The caller's name, role, groups and CSRF token."""
    info = accounts.user_info(user.id)
    return MeOut(
        id=user.id, name=user.name, role=user.role, groups=list(info.groups),
        csrf_token=user.csrf_token,
    )  # fmt: skip


@router.post(
    "/api/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password",
    responses={400: {"description": "Wrong current password or a too short new one"}},
)
async def change_password(body: PasswordIn, user: UserDep, accounts: AccountsDep) -> Response:
    """Set a new password; browser sessions of this user end (sign in again).

    A user who has no password yet (signed in with a one-time link) leaves
    ``current`` empty.
    """
    if accounts.has_password(user.id) and (
        await run_in_threadpool(accounts.verify_password, user.name, body.current) is None
    ):
        raise AccountError("the current password is wrong")
    accounts.set_password(user.id, body.new)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/me/keys", summary="List my API keys")
def list_keys(user: UserDep, accounts: AccountsDep) -> list[KeyOut]:
    """The caller's API keys, without the secrets."""
    return [
        KeyOut(id=k.id, label=k.label, created_at=k.created_at, last_used_at=k.last_used_at)
        for k in accounts.list_api_keys(user.id)
    ]


@router.post("/api/me/keys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_key(body: KeyIn, user: UserDep, accounts: AccountsDep, quotas: QuotasDep) -> KeyOut:
    """A new API key for programs (``Authorization: Bearer <key>``); shown once."""
    issued = accounts.create_api_key(user.id, body.label)
    if body.limits is not None:
        quotas.set_limits(f"key:{issued.id}", body.limits.limits())
    record = next(k for k in accounts.list_api_keys(user.id) if k.id == issued.id)
    return KeyOut(id=issued.id, label=record.label, created_at=record.created_at, key=issued.token)


@router.delete(
    "/api/me/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key"
)
def revoke_key(key_id: str, user: UserDep, accounts: AccountsDep) -> Response:
    """Revoke one of the caller's keys (another user's key id answers 404)."""
    accounts.revoke(user.id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- administration ---------------------------------------------------------------------


class UserOut(BaseModel):
    id: str
    name: str
    role: str
    disabled: bool
    groups: list[str]
    created_at: datetime

    @classmethod
    def of(cls, info: UserInfo) -> UserOut:
        return cls(
            id=info.id, name=info.name, role=info.role, disabled=info.disabled,
            groups=list(info.groups), created_at=info.created_at,
        )  # fmt: skip


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    role: str = "user"
    groups: list[str] = Field(default_factory=list, max_length=50)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: bool | None = None
    role: str | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)


class GroupOut(BaseModel):
    id: str
    name: str
    members: list[str]


class LinkOut(BaseModel):
    url: str
    expires_at: datetime | None


@router.get("/api/admin/users", tags=["admin"], summary="List users")
def list_users(_admin: AdminDep, accounts: AccountsDep) -> list[UserOut]:
    """Every user with role, state and groups."""
    return [UserOut.of(info) for info in accounts.list_users()]


@router.post(
    "/api/admin/users", tags=["admin"], status_code=status.HTTP_201_CREATED, summary="Add a user"
)
def add_user(body: UserIn, _admin: AdminDep, accounts: AccountsDep) -> UserOut:
    """Create a user (without a password they sign in by a link from ``.../link``)."""
    for group in body.groups:
        accounts.group_id(group)  # unknown groups fail before the user exists
    info = accounts.add_user(body.name, body.password, body.role)
    for group in body.groups:
        accounts.set_member(group, info.id)
    return UserOut.of(accounts.user_info(info.id))


@router.patch("/api/admin/users/{user_id}", tags=["admin"], summary="Change a user")
def patch_user(user_id: str, body: UserPatch, _admin: AdminDep, accounts: AccountsDep) -> UserOut:
    """Disable or enable, change the role, or set a password."""
    if body.role is not None:
        accounts.set_role(user_id, body.role)
    if body.password is not None:
        accounts.set_password(user_id, body.password)
    if body.disabled is not None:
        accounts.set_disabled(user_id, body.disabled)
    return UserOut.of(accounts.user_info(user_id))


@router.post("/api/admin/users/{user_id}/link", tags=["admin"], summary="One-time sign-in link")
def user_link(user_id: str, request: Request, _admin: AdminDep, accounts: AccountsDep) -> LinkOut:
    """A sign-in link for a user without a password (or who lost it), valid 24 h, once."""
    issued = accounts.create_login_link(user_id)
    base = str(request.base_url).rstrip("/")
    return LinkOut(url=f"{base}/auth/link?token={issued.token}", expires_at=issued.expires_at)


@router.get("/api/admin/groups", tags=["admin"], summary="List groups")
def list_groups(_admin: AdminDep, accounts: AccountsDep) -> list[GroupOut]:
    """Every group with its members."""
    return [GroupOut(id=i, name=n, members=list(m)) for i, n, m in accounts.list_groups()]


@router.post(
    "/api/admin/groups", tags=["admin"], status_code=status.HTTP_201_CREATED, summary="Add group"
)
def add_group(body: GroupIn, _admin: AdminDep, accounts: AccountsDep) -> GroupOut:
    """Create an empty group."""
    group_id = accounts.add_group(body.name)
    return GroupOut(id=group_id, name=body.name, members=[])


@router.put(
    "/api/admin/groups/{group_id}/members/{user_id}",
    tags=["admin"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Add a member",
)
def add_member(group_id: str, user_id: str, _admin: AdminDep, accounts: AccountsDep) -> Response:
    """Put a user into a group (group and user by id or name)."""
    accounts.set_member(group_id, user_id, True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/api/admin/groups/{group_id}/members/{user_id}",
    tags=["admin"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
)
def remove_member(group_id: str, user_id: str, _admin: AdminDep, accounts: AccountsDep) -> Response:
    """Take a user out of a group."""
    accounts.set_member(group_id, user_id, False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/api/admin/groups/{group_id}",
    tags=["admin"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a group",
)
def delete_group(group_id: str, _admin: AdminDep, accounts: AccountsDep) -> Response:
    """Delete a group; its members keep their accounts."""
    accounts.delete_group(group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
