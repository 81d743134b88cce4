"""Users, groups and their credentials: the cockpit's account tables and :class:`AccountStore`.

Passwords are stored as argon2id hashes (argon2-cffi). Every other secret the server
hands out (browser-session tokens, API keys, one-time login links) is a 256-bit
random token of which only the SHA-256 digest is stored, so a copy of the database
lets nobody log in. Each credential is checked against the user's ``disabled`` flag
on every request: disabling a user ends their logins, keys and live streams at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from wxai.cockpit.db import Base, DatabaseStore, UTCDateTime, utcnow
from wxai.core.errors import WxaiError

#: User and group names: a letter first, then letters, digits, ``.``, ``_``, ``-``.
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD_CHARS = 8
API_KEY_PREFIX = "wxai_"
LOGIN_LINK_HOURS = 24.0

_HASHER = PasswordHasher()


class Role(StrEnum):
    """What a user may do: ``admin`` manages users and groups; ``user`` works in their spaces."""

    ADMIN = "admin"
    USER = "user"


class AccountError(WxaiError, ValueError):
    """A request about accounts that cannot be carried out (bad name, short password, ...)."""


class AccountNotFound(WxaiError, LookupError):
    """No user, group or key with that name or id (or not one the caller may see)."""


class UserRecord(Base):
    """One person or program that logs in."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.USER)
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupRecord(Base):
    """A named set of users (a team, a course cohort) that dataspaces can be shared with."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupMemberRecord(Base):
    """Membership of one user in one group."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class CredentialRecord(Base):
    """A hashed secret that stands for a user: a browser login, an API key or a login link.

    ``kind`` is ``session`` (cookie, with its CSRF token), ``api_key`` (shown once,
    kept until revoked) or ``link`` (one-time login link, used once).
    """

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    csrf_token: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Principal:
    """Who is making a request, as resolved from one credential.

    ``via`` is ``session`` (browser cookie) or ``api_key``; ``csrf_token`` is set
    for browser sessions only.
    """

    id: str
    name: str
    role: str
    group_ids: frozenset[str]
    via: str
    credential_id: str
    csrf_token: str = ""

    @property
    def is_admin(self) -> bool:
        """Whether the user manages users and groups."""
        return self.role == Role.ADMIN


@dataclass(frozen=True)
class UserInfo:
    """A user as listed to administrators (never with a hash)."""

    id: str
    name: str
    role: str
    disabled: bool
    groups: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class IssuedSecret:
    """A secret handed out once: the plain token goes to the user, only its digest is kept."""

    id: str
    token: str
    expires_at: datetime | None


def digest(token: str) -> str:
    """SHA-256 hex digest of a token (tokens are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str, kind: str = "user") -> str:
    """``name`` if it is a valid user or group name, else :class:`AccountError`."""
    if not NAME_PATTERN.match(name or ""):
        raise AccountError(
            f"invalid {kind} name {name!r}: start with a letter, then up to 63 letters, "
            "digits, '.', '_' or '-'"
        )
    return name


def check_password(password: str) -> str:
    """``password`` if it is long enough, else :class:`AccountError`."""
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    return password


def _new_id() -> str:
    return uuid.uuid4().hex


class AccountStore(DatabaseStore):
    """Users, groups and credentials in the cockpit database.

    Parameters
    ----------
    url:
        SQLAlchemy URL of the cockpit database (the one the tasks live in).
    """

    # -- users -------------------------------------------------------------------------

    def add_user(self, name: str, password: str | None = None, role: str = Role.USER) -> UserInfo:
        """Create user ``name``; without a password they can log in only by a login link."""
        check_name(name)
        if role not in set(Role):
            raise AccountError(f"invalid role {role!r}: use 'admin' or 'user'")
        record = UserRecord(
            id=_new_id(),
            name=name,
            role=role,
            password_hash=_HASHER.hash(check_password(password)) if password else None,
            disabled=False,
            created_at=utcnow(),
        )
        try:
            with self.session() as session:
                session.add(record)
        except IntegrityError:
            raise AccountError(f"a user called {name!r} exists already") from None
        return self.user_info(name)

    def _user(self, session: Session, name_or_id: str) -> UserRecord:
        record = session.scalar(
            select(UserRecord).where(
                (UserRecord.name == name_or_id) | (UserRecord.id == name_or_id)
            )
        )
        if record is None:
            raise AccountNotFound(f"no user {name_or_id!r}; list them with `wxai users list`")
        return record

    def _groups_of(self, session: Session, user_id: str) -> list[GroupRecord]:
        query = (
            select(GroupRecord)
            .join(GroupMemberRecord, GroupMemberRecord.group_id == GroupRecord.id)
            .where(GroupMemberRecord.user_id == user_id)
            .order_by(GroupRecord.name)
        )
        return list(session.scalars(query))

    def _info(self, session: Session, record: UserRecord) -> UserInfo:
        groups = tuple(group.name for group in self._groups_of(session, record.id))
        return UserInfo(
            record.id, record.name, record.role, record.disabled, groups, record.created_at
        )

    def user_info(self, name_or_id: str) -> UserInfo:
        """One user by name or id."""
        with self._session() as session:
            return self._info(session, self._user(session, name_or_id))

    def list_users(self) -> list[UserInfo]:
        """Every user, by name."""
        with self._session() as session:
            records = session.scalars(select(UserRecord).order_by(UserRecord.name))
            return [self._info(session, record) for record in records]

    def set_password(self, name_or_id: str, password: str) -> None:
        """Give a user a new password; their browser logins end (API keys stay)."""
        hashed = _HASHER.hash(check_password(password))
        with self.session() as session:
            record = self._user(session, name_or_id)
            record.password_hash = hashed
            session.execute(
                delete(CredentialRecord).where(
                    CredentialRecord.user_id == record.id, CredentialRecord.kind == "session"
                )
            )

    def set_disabled(self, name_or_id: str, disabled: bool) -> None:
        """Disable (or enable) a user: a disabled user's every credential stops working."""
        with self.session() as session:
            record = self._user(session, name_or_id)
            if disabled and record.role == Role.ADMIN and self._active_admins(session) <= 1:
                raise AccountError("the last active admin cannot be disabled")
            record.disabled = disabled

    def set_role(self, name_or_id: str, role: str) -> None:
        """Make a user an admin or a plain user."""
        if role not in set(Role):
            raise AccountError(f"invalid role {role!r}: use 'admin' or 'user'")
        with self.session() as session:
            record = self._user(session, name_or_id)
            if (
                record.role == Role.ADMIN
                and role != Role.ADMIN
                and self._active_admins(session) <= 1
            ):
                raise AccountError("the last active admin cannot lose the admin role")
            record.role = role

    def _active_admins(self, session: Session) -> int:
        query = select(func.count()).where(
            UserRecord.role == Role.ADMIN, UserRecord.disabled.is_(False)
        )
        return int(session.scalar(query.select_from(UserRecord)) or 0)

    def has_password(self, user_id: str) -> bool:
        """Whether the user has set a password (users made with a sign-in link have none)."""
        with self._session() as session:
            record = session.get(UserRecord, user_id)
            return record is not None and record.password_hash is not None

    def still_valid(self, user_id: str, credential_id: str) -> bool:
        """Whether a credential still exists, has not expired, and its user is active."""
        with self._session() as session:
            credential = session.get(CredentialRecord, credential_id)
            if credential is None or credential.user_id != user_id:
                return False
            if credential.expires_at is not None and credential.expires_at <= utcnow():
                return False
            user = session.get(UserRecord, user_id)
            return user is not None and not user.disabled

    def verify_password(self, name: str, password: str) -> UserInfo | None:
        """The user if ``name`` and ``password`` match an active account, else None."""
        with self._session() as session:
            record = session.scalar(select(UserRecord).where(UserRecord.name == name))
            if record is None or record.password_hash is None:
                _HASHER.hash("timing-equaliser")  # as slow as a real check
                return None
            try:
                _HASHER.verify(record.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if record.disabled:
                return None
            return self._info(session, record)

    # -- groups ------------------------------------------------------------------------

    def add_group(self, name: str) -> str:
        """Create group ``name``; return its id."""
        check_name(name, "group")
        group_id = _new_id()
        try:
            with self.session() as session:
                session.add(GroupRecord(id=group_id, name=name, created_at=utcnow()))
        except IntegrityError:
            raise AccountError(f"a group called {name!r} exists already") from None
        return group_id

    def _group(self, session: Session, name_or_id: str) -> GroupRecord:
        record = session.scalar(
            select(GroupRecord).where(
                (GroupRecord.name == name_or_id) | (GroupRecord.id == name_or_id)
            )
        )
        if record is None:
            raise AccountNotFound(f"no group {name_or_id!r}")
        return record

    def list_groups(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Every group as ``(id, name, member names)``."""
        with self._session() as session:
            out = []
            for group in session.scalars(select(GroupRecord).order_by(GroupRecord.name)):
                members = session.scalars(
                    select(UserRecord.name)
                    .join(GroupMemberRecord, GroupMemberRecord.user_id == UserRecord.id)
                    .where(GroupMemberRecord.group_id == group.id)
                    .order_by(UserRecord.name)
                )
                out.append((group.id, group.name, tuple(members)))
            return out

    def group_id(self, name_or_id: str) -> str:
        """The id of a group given by name or id."""
        with self._session() as session:
            return self._group(session, name_or_id).id

    def set_member(self, group: str, user: str, member: bool = True) -> None:
        """Add ``user`` to ``group`` (or remove them with ``member=False``)."""
        with self.session() as session:
            group_id = self._group(session, group).id
            user_id = self._user(session, user).id
            existing = session.scalar(
                select(GroupMemberRecord).where(
                    GroupMemberRecord.group_id == group_id, GroupMemberRecord.user_id == user_id
                )
            )
            if member and existing is None:
                session.add(GroupMemberRecord(group_id=group_id, user_id=user_id))
            elif not member and existing is not None:
                session.delete(existing)

    def delete_group(self, name_or_id: str) -> None:
        """Delete a group and its memberships."""
        with self.session() as session:
            group = self._group(session, name_or_id)
            session.execute(delete(GroupMemberRecord).where(GroupMemberRecord.group_id == group.id))
            session.delete(group)

    # -- credentials -------------------------------------------------------------------

    def _issue(
        self, user: str, kind: str, *, label: str = "", hours: float | None = None
    ) -> IssuedSecret:
        token = secrets.token_urlsafe(32)
        if kind == "api_key":
            token = API_KEY_PREFIX + token
        csrf = secrets.token_urlsafe(24) if kind == "session" else ""
        expires = utcnow() + timedelta(hours=hours) if hours else None
        credential_id = _new_id()
        with self.session() as session:
            record = self._user(session, user)
            if record.disabled:
                raise AccountError(f"user {record.name!r} is disabled")
            session.add(
                CredentialRecord(
                    id=credential_id,
                    digest=digest(token),
                    kind=kind,
                    user_id=record.id,
                    label=label[:128],
                    csrf_token=csrf,
                    created_at=utcnow(),
                    expires_at=expires,
                )
            )
        return IssuedSecret(credential_id, token, expires)

    def start_session(self, user: str, hours: float) -> IssuedSecret:
        """A browser login for ``hours`` (its CSRF token is kept with the credential)."""
        return self._issue(user, "session", hours=hours)

    def create_api_key(self, user: str, label: str = "") -> IssuedSecret:
        """A new API key for ``user``; the token is shown this once."""
        return self._issue(user, "api_key", label=label)

    def create_login_link(self, user: str, hours: float = LOGIN_LINK_HOURS) -> IssuedSecret:
        """A one-time login token for ``user``, valid ``hours``."""
        return self._issue(user, "link", hours=hours)

    def list_api_keys(self, user_id: str) -> list[CredentialRecord]:
        """A user's API keys (without secrets), newest first."""
        query = (
            select(CredentialRecord)
            .where(CredentialRecord.user_id == user_id, CredentialRecord.kind == "api_key")
            .order_by(CredentialRecord.created_at.desc())
        )
        with self._session() as session:
            return list(session.scalars(query))

    def revoke(self, user_id: str, credential_id: str) -> None:
        """Delete one of the user's own credentials (another user's answers not found)."""
        with self.session() as session:
            record = session.get(CredentialRecord, credential_id)
            if record is None or record.user_id != user_id:
                raise AccountNotFound(f"no key {credential_id!r}")
            session.delete(record)

    def resolve(self, token: str, kind: str) -> Principal | None:
        """The principal a token of ``kind`` stands for, or None if it is not valid now.

        A token is invalid when unknown, expired, or its user is disabled.
        """
        if not token or len(token) > 256:
            return None
        with self.session() as session:
            credential = session.scalar(
                select(CredentialRecord).where(
                    CredentialRecord.digest == digest(token), CredentialRecord.kind == kind
                )
            )
            if credential is None:
                return None
            now = utcnow()
            if credential.expires_at is not None and credential.expires_at <= now:
                session.delete(credential)
                return None
            user = session.get(UserRecord, credential.user_id)
            if user is None or user.disabled:
                return None
            if credential.last_used_at is None or now - credential.last_used_at > timedelta(
                minutes=1
            ):
                credential.last_used_at = now
            groups = frozenset(group.id for group in self._groups_of(session, user.id))
            return Principal(
                user.id, user.name, user.role, groups, kind, credential.id, credential.csrf_token
            )

    def redeem_login_link(self, token: str) -> Principal | None:
        """Use a one-time login link: its principal, and the link is gone; None if invalid."""
        principal = self.resolve(token, "link")
        if principal is not None:
            with self.session() as session:
                session.execute(
                    delete(CredentialRecord).where(CredentialRecord.id == principal.credential_id)
                )
        return principal

    def end_session(self, credential_id: str) -> None:
        """Log a browser session out."""
        with self.session() as session:
            session.execute(delete(CredentialRecord).where(CredentialRecord.id == credential_id))

    def ensure_first_admin(self, name: str = "admin") -> IssuedSecret | None:
        """On a database without an admin: create admin ``name`` and a login link for them.

        Returns the link's secret, or None when an admin exists already (also when
        another server process created one at the same moment) or the name is taken.
        """
        with self._session() as session:
            if session.scalar(select(UserRecord.id).where(UserRecord.role == Role.ADMIN)):
                return None
        try:
            self.add_user(name, role=Role.ADMIN)
        except AccountError:
            return None
        return self.create_login_link(name)
