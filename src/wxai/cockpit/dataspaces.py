"""Dataspaces: private and group collections of documents and data files, with access checks.

Each user has one private dataspace (created on first use). Group dataspaces are
shared through memberships: a user or a whole group holds a role.

=======  =================================================================
role     may
=======  =================================================================
reader   see the dataspace, list and download its files, search it
editor   also upload and delete files
owner    also add and remove members, delete the dataspace
=======  =================================================================

Admins have no implicit access to private dataspaces. On group dataspaces an admin
may see the dataspace and its members, manage members and delete it, but reads
no file and no search hit unless a membership grants it (an admin can add
themselves, which shows in the member list).

Every method takes the caller's :class:`~wxai.cockpit.accounts.Principal` and
checks access itself. No access answers :class:`DataspaceNotFound` with the same
message as a missing id, so a cross-user attempt learns nothing.

On disk (``root`` is ``<WXAI home>/dataspaces``)::

    <root>/<dataspace id>/files/<file id>   the uploaded bytes (the name is metadata)
    <root>/<dataspace id>/index/            the dataspace's RagStore (opened by path)
    <root>/<dataspace id>/.lock             serialises uploads into one dataspace

With the PostgreSQL retrieval backend the passages live in shared tables instead of
``index/``, and uploads may be indexed by task workers (``WXAI_RAG_INGEST``): the
upload checks that the file can be read, stores it as ``queued`` and adds a
``dataspace-index`` task (:mod:`wxai.cockpit.dataspace_tasks`) that any worker runs
through :meth:`DataspaceStore.index_file`. The file list shows ``queued``, then
``indexed`` (or ``failed``); search finds the passages once they are indexed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from wxai.assistant.rag.backend import ingest_by_worker, rag_database_url
from wxai.assistant.rag.documents import load_chunks
from wxai.assistant.rag.pg_schema import HnswParams
from wxai.assistant.rag.pg_store import PgRagStore, search_spaces
from wxai.assistant.rag.store import RagStore, file_sha256
from wxai.assistant.rag.summaries import describe_data_file
from wxai.cockpit.accounts import (
    AccountNotFound,
    GroupRecord,
    Principal,
    UserRecord,
)
from wxai.cockpit.db import Base, DatabaseStore, UTCDateTime, utcnow
from wxai.cockpit.uploads import UploadError, atomic_write, safe_name, sniff
from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError, WxaiError
from wxai.core.locking import exclusive

if TYPE_CHECKING:
    from wxai.cockpit.storage import TaskStore
    from wxai.core.settings import Settings

__all__ = [
    "DataspaceError",
    "DataspaceInfo",
    "DataspaceNotFound",
    "DataspaceStore",
    "FileRecord",
    "MemberInfo",
    "SearchHit",
    "SpaceRole",
]


class SpaceRole(StrEnum):
    """A member's role in a dataspace."""

    OWNER = "owner"
    EDITOR = "editor"
    READER = "reader"


_RANK = {SpaceRole.READER: 1, SpaceRole.EDITOR: 2, SpaceRole.OWNER: 3}
_CAPS = {
    SpaceRole.READER: frozenset({"view", "read"}),
    SpaceRole.EDITOR: frozenset({"view", "read", "write"}),
    SpaceRole.OWNER: frozenset({"view", "read", "write", "manage"}),
}
_ADMIN_CAPS = frozenset({"view", "manage"})


class DataspaceError(WxaiError, ValueError):
    """A dataspace request that cannot be carried out (bad role, last owner, private space)."""


class DataspaceNotFound(WxaiError, LookupError):
    """No such dataspace or file, or none the caller may use (the two are not told apart)."""


class DataspaceRecord(Base):
    """A collection of files: ``private`` (one per user) or ``group`` (shared)."""

    __tablename__ = "dataspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    private_of: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DataspaceMemberRecord(Base):
    """A role in one dataspace held by one user or by every member of one group."""

    __tablename__ = "dataspace_members"
    __table_args__ = (UniqueConstraint("dataspace_id", "user_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dataspace_id: Mapped[str] = mapped_column(
        ForeignKey("dataspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(16))


class DataspaceFileRecord(Base):
    """One uploaded file: its display name is metadata, its bytes are stored under its id."""

    __tablename__ = "dataspace_files"
    __table_args__ = (UniqueConstraint("dataspace_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataspace_id: Mapped[str] = mapped_column(
        ForeignKey("dataspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    index_status: Mapped[str] = mapped_column(String(16), default="indexed")


@dataclass(frozen=True)
class MemberInfo:
    """A membership as shown to people: ``kind`` is ``user`` or ``group``."""

    kind: str
    name: str
    role: str


@dataclass(frozen=True)
class DataspaceInfo:
    """A dataspace as the caller sees it; ``role`` is the caller's (``admin``: manage only)."""

    id: str
    name: str
    kind: str
    role: str
    created_at: datetime
    members: tuple[MemberInfo, ...]


@dataclass(frozen=True)
class FileRecord:
    """A file of a dataspace (``summary``: variables, grid and times of a data file)."""

    id: str
    dataspace_id: str
    dataspace_name: str
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime
    summary: dict[str, Any] | None
    index_status: str

    @property
    def url(self) -> str:
        """The download URL of the file."""
        return f"/api/dataspaces/{self.dataspace_id}/files/{self.id}"


@dataclass(frozen=True)
class SearchHit:
    """One retrieved passage, with where it came from and the file's download URL."""

    dataspace_id: str
    dataspace_name: str
    file_id: str
    source: str
    text: str
    score: float
    page: int | None
    url: str


def _image_summary(name: str, content: bytes) -> dict[str, Any]:
    """Format and size of an uploaded PNG or JPEG, checked by Pillow (at most 20 MiB)."""
    from PIL import Image

    from wxai.assistant.read_image import check_image

    try:
        found = check_image(content)
    except DataFormatError as exc:
        raise UploadError(f"{name}: {exc}") from None
    with Image.open(io.BytesIO(content)) as image:
        width, height = image.size
    return {"format": found.lower(), "width": width, "height": height}


def _new_id() -> str:
    return uuid.uuid4().hex


def _not_found(dataspace_id: str) -> DataspaceNotFound:
    return DataspaceNotFound(
        f"no dataspace {dataspace_id!r} that you may use; list yours with GET /api/dataspaces"
    )


class DataspaceStore(DatabaseStore):
    """Dataspaces, their members and files, in the cockpit database and under ``root``.

    Parameters
    ----------
    url:
        SQLAlchemy URL of the cockpit database (the accounts live there too).
    root:
        Directory of the dataspaces' files and indexes (``<WXAI home>/dataspaces``).
    max_bytes:
        Largest file :meth:`add_file` accepts (None: no limit here; the router checks).
    rag_url:
        PostgreSQL URL of the shared retrieval index (pgvector and full-text search,
        :mod:`wxai.assistant.rag.pg_store`); None keeps one FAISS + SQLite index per
        dataspace under ``root`` (see :func:`wxai.assistant.rag.backend.rag_database_url`).
    index_tasks:
        The task store whose workers index uploads (needs ``rag_url``); None indexes
        each upload in :meth:`add_file` itself.
    hnsw:
        Vector-index parameters of the PostgreSQL backend (default :class:`HnswParams`).
    """

    def __init__(
        self,
        url: str,
        root: Path,
        *,
        max_bytes: int | None = None,
        rag_url: str | None = None,
        index_tasks: TaskStore | None = None,
        hnsw: HnswParams | None = None,
    ) -> None:
        super().__init__(url)
        self.hnsw = hnsw or HnswParams()
        if index_tasks is not None and not rag_url:
            raise ConfigError("indexing by task workers needs the PostgreSQL retrieval backend")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.rag_url = rag_url
        self.index_tasks = index_tasks
        self._rag_engine: Engine | None = None
        self._embedder: Any = None
        self._stores: dict[str, RagStore | PgRagStore] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @property
    def backend(self) -> str:
        """``"postgres"`` (one shared index) or ``"files"`` (an index per dataspace)."""
        return "postgres" if self.rag_url else "files"

    def close(self) -> None:
        """Release the database connections and the open indexes."""
        with self._guard:
            self._stores.clear()
        self.engine.dispose()
        if self._rag_engine is not None:
            self._rag_engine.dispose()

    def _shared_index(self) -> tuple[Engine, Any]:
        """The retrieval engine and embedder of the PostgreSQL backend (made once, with
        the tables, so a search before the first upload finds nothing rather than fails)."""
        from sqlalchemy import create_engine

        from wxai.assistant.rag.embedding import Embedder
        from wxai.assistant.rag.pg_schema import ensure_schema

        with self._guard:
            if self._rag_engine is None:
                assert self.rag_url is not None
                engine = create_engine(self.rag_url, pool_pre_ping=True)
                self._embedder = Embedder()
                dim, model = self._embedder.dim, self._embedder.asset
                ensure_schema(engine, dim=dim, model=model, hnsw=self.hnsw)
                self._rag_engine = engine
            return self._rag_engine, self._embedder

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._session() as session, session.begin():
            yield session

    # -- access ------------------------------------------------------------------------

    def _role(self, session: Session, principal: Principal, space: DataspaceRecord) -> str | None:
        query = select(DataspaceMemberRecord.role).where(
            DataspaceMemberRecord.dataspace_id == space.id,
            or_(
                DataspaceMemberRecord.user_id == principal.id,
                DataspaceMemberRecord.group_id.in_(list(principal.group_ids)),
            ),
        )
        roles = [SpaceRole(role) for role in session.scalars(query)]
        if roles:
            return max(roles, key=_RANK.__getitem__).value
        if principal.is_admin and space.kind == "group":
            return "admin"
        return None

    def _caps(self, session: Session, principal: Principal, space: DataspaceRecord) -> frozenset:
        role = self._role(session, principal, space)
        caps = _ADMIN_CAPS if role == "admin" else _CAPS[SpaceRole(role)] if role else frozenset()
        if principal.is_admin and space.kind == "group":
            caps = caps | _ADMIN_CAPS
        return caps

    def _space(
        self, session: Session, principal: Principal, dataspace_id: str, need: str
    ) -> DataspaceRecord:
        space = session.get(DataspaceRecord, str(dataspace_id)[:64])
        if space is None or need not in self._caps(session, principal, space):
            raise _not_found(dataspace_id)
        return space

    def _readable_ids(self, session: Session, principal: Principal) -> list[str]:
        return [
            space.id
            for space in self._visible(session, principal)
            if "read" in self._caps(session, principal, space)
        ]

    def _visible(self, session: Session, principal: Principal) -> list[DataspaceRecord]:
        member_of = select(DataspaceMemberRecord.dataspace_id).where(
            or_(
                DataspaceMemberRecord.user_id == principal.id,
                DataspaceMemberRecord.group_id.in_(list(principal.group_ids)),
            )
        )
        condition = DataspaceRecord.id.in_(member_of)
        if principal.is_admin:
            condition = or_(condition, DataspaceRecord.kind == "group")
        query = select(DataspaceRecord).where(condition).order_by(DataspaceRecord.created_at)
        return list(session.scalars(query))

    def _info(
        self, session: Session, principal: Principal, space: DataspaceRecord
    ) -> DataspaceInfo:
        members = []
        rows = session.scalars(
            select(DataspaceMemberRecord).where(DataspaceMemberRecord.dataspace_id == space.id)
        )
        for row in rows:
            if row.user_id is not None:
                user = session.get(UserRecord, row.user_id)
                members.append(MemberInfo("user", user.name if user else row.user_id, row.role))
            elif row.group_id is not None:
                group = session.get(GroupRecord, row.group_id)
                members.append(MemberInfo("group", group.name if group else row.group_id, row.role))
        members.sort(key=lambda m: (m.kind, m.name))
        role = self._role(session, principal, space) or "none"
        return DataspaceInfo(
            space.id, space.name, space.kind, role, space.created_at, tuple(members)
        )

    # -- dataspaces --------------------------------------------------------------------

    def ensure_private(self, principal: Principal) -> DataspaceInfo:
        """The caller's private dataspace, created on first use."""
        with self._tx() as session:
            space = session.scalar(
                select(DataspaceRecord).where(DataspaceRecord.private_of == principal.id)
            )
            if space is not None:
                return self._info(session, principal, space)
        space_id = _new_id()
        try:
            with self._tx() as session:
                session.add(
                    DataspaceRecord(
                        id=space_id,
                        name=f"{principal.name} (private)",
                        kind="private",
                        private_of=principal.id,
                        created_at=utcnow(),
                    )
                )
                session.flush()
                session.add(
                    DataspaceMemberRecord(
                        dataspace_id=space_id, user_id=principal.id, role=SpaceRole.OWNER
                    )
                )
        except IntegrityError:  # created at the same moment by another request
            pass
        return self.ensure_private(principal)

    def list_for(self, principal: Principal) -> list[DataspaceInfo]:
        """Every dataspace the caller may see, their private one first."""
        self.ensure_private(principal)
        with self._session() as session:
            spaces = self._visible(session, principal)
            spaces.sort(key=lambda s: (s.private_of != principal.id, s.created_at))
            return [self._info(session, principal, space) for space in spaces]

    def get(self, principal: Principal, dataspace_id: str) -> DataspaceInfo:
        """One dataspace the caller may see."""
        with self._session() as session:
            space = self._space(session, principal, dataspace_id, "view")
            return self._info(session, principal, space)

    def create(self, principal: Principal, name: str, group: str | None = None) -> DataspaceInfo:
        """A group dataspace called ``name``: the caller owns it, ``group``'s members read it.

        Raises
        ------
        DataspaceError
            An empty name, or a group the caller is not a member of (admins may use any).
        """
        name = " ".join(str(name or "").split())[:200]
        if not name:
            raise DataspaceError("give the dataspace a name")
        space_id = _new_id()
        with self._tx() as session:
            group_id = None
            if group is not None:
                record = session.scalar(
                    select(GroupRecord).where(
                        (GroupRecord.name == group) | (GroupRecord.id == group)
                    )
                )
                if record is None or (
                    record.id not in principal.group_ids and not principal.is_admin
                ):
                    raise DataspaceError(
                        f"you are not a member of a group {group!r}; share with one of your groups"
                    )
                group_id = record.id
            session.add(DataspaceRecord(id=space_id, name=name, kind="group", created_at=utcnow()))
            session.flush()
            session.add(
                DataspaceMemberRecord(
                    dataspace_id=space_id, user_id=principal.id, role=SpaceRole.OWNER
                )
            )
            if group_id is not None:
                session.add(
                    DataspaceMemberRecord(
                        dataspace_id=space_id, group_id=group_id, role=SpaceRole.READER
                    )
                )
        return self.get(principal, space_id)

    def _member_target(
        self, session: Session, user: str | None, group: str | None
    ) -> tuple[str | None, str | None]:
        if (user is None) == (group is None):
            raise DataspaceError("name either a user or a group")
        if user is not None:
            record = session.scalar(
                select(UserRecord).where((UserRecord.name == user) | (UserRecord.id == user))
            )
            if record is None:
                raise AccountNotFound(f"no user {user!r}")
            return record.id, None
        record = session.scalar(
            select(GroupRecord).where((GroupRecord.name == group) | (GroupRecord.id == group))
        )
        if record is None:
            raise AccountNotFound(f"no group {group!r}")
        return None, record.id

    def _owners_left(self, session: Session, space_id: str) -> int:
        rows = session.scalars(
            select(DataspaceMemberRecord).where(
                DataspaceMemberRecord.dataspace_id == space_id,
                DataspaceMemberRecord.role == SpaceRole.OWNER,
            )
        )
        return len(list(rows))

    def set_member(
        self,
        principal: Principal,
        dataspace_id: str,
        *,
        user: str | None = None,
        group: str | None = None,
        role: str = SpaceRole.READER,
    ) -> DataspaceInfo:
        """Give a user or a group ``role`` (owner|editor|reader) in a group dataspace."""
        if role not in set(SpaceRole):
            raise DataspaceError(f"invalid role {role!r}: use owner, editor or reader")
        with self._tx() as session:
            space = self._space(session, principal, dataspace_id, "manage")
            if space.kind == "private":
                raise DataspaceError(
                    "a private dataspace cannot be shared; create a group dataspace instead"
                )
            user_id, group_id = self._member_target(session, user, group)
            row = session.scalar(
                select(DataspaceMemberRecord).where(
                    DataspaceMemberRecord.dataspace_id == space.id,
                    DataspaceMemberRecord.user_id.is_(None)
                    if user_id is None
                    else DataspaceMemberRecord.user_id == user_id,
                    DataspaceMemberRecord.group_id.is_(None)
                    if group_id is None
                    else DataspaceMemberRecord.group_id == group_id,
                )
            )
            if row is None:
                session.add(
                    DataspaceMemberRecord(
                        dataspace_id=space.id, user_id=user_id, group_id=group_id, role=role
                    )
                )
            else:
                if (
                    row.role == SpaceRole.OWNER
                    and role != SpaceRole.OWNER
                    and self._owners_left(session, space.id) <= 1
                ):
                    raise DataspaceError("a dataspace keeps at least one owner")
                row.role = role
        return self.get(principal, dataspace_id)

    def remove_member(
        self,
        principal: Principal,
        dataspace_id: str,
        *,
        user: str | None = None,
        group: str | None = None,
    ) -> DataspaceInfo | None:
        """Take a user's or group's role away; None if the caller thereby lost sight of it."""
        with self._tx() as session:
            space = self._space(session, principal, dataspace_id, "manage")
            if space.kind == "private":
                raise DataspaceError("a private dataspace has no members but its owner")
            user_id, group_id = self._member_target(session, user, group)
            row = session.scalar(
                select(DataspaceMemberRecord).where(
                    DataspaceMemberRecord.dataspace_id == space.id,
                    DataspaceMemberRecord.user_id == user_id
                    if user_id
                    else DataspaceMemberRecord.group_id == group_id,
                )
            )
            if row is None:
                raise DataspaceNotFound(f"{user or group!r} is not a member of this dataspace")
            if row.role == SpaceRole.OWNER and self._owners_left(session, space.id) <= 1:
                raise DataspaceError("a dataspace keeps at least one owner")
            session.delete(row)
        try:
            return self.get(principal, dataspace_id)
        except DataspaceNotFound:
            return None

    def delete(self, principal: Principal, dataspace_id: str) -> None:
        """Delete a dataspace with its files and index (owners; admins for group spaces)."""
        with self._tx() as session:
            space = self._space(session, principal, dataspace_id, "manage")
            session.execute(
                delete(DataspaceFileRecord).where(DataspaceFileRecord.dataspace_id == space.id)
            )
            session.execute(
                delete(DataspaceMemberRecord).where(DataspaceMemberRecord.dataspace_id == space.id)
            )
            session.delete(space)
            space_id = space.id
        if self.rag_url:
            index = self._index(space_id, create=False)
            assert isinstance(index, PgRagStore)
            index.clear()
        with self._guard:
            self._stores.pop(space_id, None)
        shutil.rmtree(self.root / space_id, ignore_errors=True)

    # -- files -------------------------------------------------------------------------

    def _record(self, row: DataspaceFileRecord, space_name: str) -> FileRecord:
        return FileRecord(
            row.id,
            row.dataspace_id,
            space_name,
            row.name,
            row.kind,
            row.media_type,
            row.size,
            row.sha256,
            row.uploaded_by,
            row.created_at,
            json.loads(row.summary) if row.summary else None,
            row.index_status,
        )

    def _files_dir(self, space_id: str) -> Path:
        return self.root / space_id / "files"

    def _index(self, space_id: str, *, create: bool) -> RagStore | PgRagStore | None:
        if self.rag_url:
            engine, embedder = self._shared_index()
            with self._guard:
                store = self._stores.get(space_id)
                if store is None:
                    store = PgRagStore(engine, space_id, embedder=embedder, hnsw=self.hnsw)
                    self._stores[space_id] = store
                return store
        with self._guard:
            store = self._stores.get(space_id)
            if store is not None:
                return store
            directory = self.root / space_id / "index"
            if not create and not (directory / "meta.sqlite").is_file():
                return None
            store = RagStore.open(directory)
            self._stores[space_id] = store
            return store

    @contextlib.contextmanager
    def _upload_lock(self, space_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(space_id, threading.Lock())
        directory = self.root / space_id
        directory.mkdir(parents=True, exist_ok=True)
        with exclusive(directory / ".lock", lock):
            yield

    def check(self, principal: Principal, dataspace_id: str, need: str = "write") -> None:
        """Raise DataspaceNotFound unless the caller may ``need`` (view|read|write|manage)."""
        with self._session() as session:
            self._space(session, principal, dataspace_id, need)

    def list_files(self, principal: Principal, dataspace_id: str) -> list[FileRecord]:
        """The files of a dataspace the caller may read, by name."""
        with self._session() as session:
            space = self._space(session, principal, dataspace_id, "read")
            rows = session.scalars(
                select(DataspaceFileRecord)
                .where(DataspaceFileRecord.dataspace_id == space.id)
                .order_by(DataspaceFileRecord.name)
            )
            return [self._record(row, space.name) for row in rows]

    def add_file(
        self, principal: Principal, dataspace_id: str, filename: str, data: bytes | os.PathLike
    ) -> tuple[FileRecord, str]:
        """Store and index an upload; a file of the same name is replaced only on success.

        Returns the record and ``added``, ``updated`` or ``unchanged``.

        Raises
        ------
        UploadError
            A bad name, a type that is not accepted or does not match the name, a file
            larger than ``max_bytes``, or one that cannot be read (corrupt PDF, NetCDF).
        DataspaceNotFound
            The caller may not write to the dataspace.
        """
        self.check(principal, dataspace_id, "write")
        content = data if isinstance(data, bytes) else Path(data).read_bytes()
        name = safe_name(filename)
        if not content:
            raise UploadError(f"{name}: the file is empty")
        if self.max_bytes is not None and len(content) > self.max_bytes:
            raise UploadError(f"{name}: larger than {self.max_bytes} bytes")
        sniffed = sniff(name, content)
        sha = hashlib.sha256(content).hexdigest()
        with self._upload_lock(dataspace_id):
            with self._session() as session:
                space = self._space(session, principal, dataspace_id, "write")
                existing = session.scalar(
                    select(DataspaceFileRecord).where(
                        DataspaceFileRecord.dataspace_id == space.id,
                        DataspaceFileRecord.name == name,
                    )
                )
                file_id = existing.id if existing is not None else _new_id()
                old_sha = existing.sha256 if existing is not None else None
                old_status = existing.index_status if existing is not None else None
            files = self._files_dir(space.id)
            files.mkdir(parents=True, exist_ok=True)
            staging = files / f".staging-{secrets.token_hex(8)}"
            staging.mkdir()
            staged = staging / name  # the readers cite the file by this name
            try:
                atomic_write(staged, content)
                summary = None
                if sniffed.kind == "image":
                    summary = _image_summary(name, content)
                elif sniffed.kind == "data":
                    try:
                        summary = describe_data_file(staged)
                    except (WxaiError, OSError, ValueError) as exc:
                        reason = str(exc).replace(str(staged), name)
                        raise UploadError(
                            f"{name}: cannot be read as {sniffed.format}: {reason}"
                        ) from None
                index_status = "not indexed"  # pictures have no text to retrieve
                if sniffed.kind != "image":
                    index_status = self._index_or_queue(staged, name, space.id)
                known = old_sha == sha and old_status in {"indexed", "queued"}
                queue_task = index_status == "queued" and not known
                if index_status == "queued" and known:
                    index_status = old_status  # indexed already, or its task is on its way
                staged.replace(files / file_id)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            with self._tx() as session:
                row = session.get(DataspaceFileRecord, file_id)
                if row is None:
                    row = DataspaceFileRecord(id=file_id, dataspace_id=space.id, name=name)
                    session.add(row)
                row.kind = sniffed.kind
                row.media_type = sniffed.media_type
                row.size = len(content)
                row.sha256 = sha
                row.uploaded_by = principal.name
                row.created_at = utcnow()
                row.summary = json.dumps(summary) if summary is not None else None
                row.index_status = index_status
                session.flush()
                record = self._record(row, space.name)
            if queue_task:
                self._queue_index(principal, record)
        status = "added" if old_sha is None else "unchanged" if old_sha == sha else "updated"
        return record, status

    def _index_or_queue(self, staged: Path, name: str, space_id: str) -> str:
        """Index the staged upload now, or check it can be read and leave it to a worker.

        Returns the file's index status, ``indexed`` or ``queued``; raises UploadError
        for a file that cannot be read (the previous version stays).
        """
        if self.index_tasks is None:
            index = self._index(space_id, create=True)
            assert index is not None
            report = index.add_document(staged, name)
            if report.failed:
                raise UploadError(f"{name}: {report.failed[0][1]}")
            return "indexed"
        try:  # reading is quick; embedding is the work the worker does
            load_chunks(staged, source=name)
        except (WxaiError, OSError, ValueError) as exc:
            raise UploadError(f"{name}: {str(exc).replace(str(staged), name)}") from None
        return "queued"

    def _queue_index(self, principal: Principal, record: FileRecord) -> None:
        """Add the ``dataspace-index`` task of this version of the file."""
        from wxai.cockpit.dataspace_tasks import INDEX_TASK, index_task_data

        assert self.index_tasks is not None
        data = index_task_data(record.dataspace_id, record.id, record.sha256, record.name)
        self.index_tasks.add(INDEX_TASK, data, owner_id=principal.id)

    def index_file(
        self,
        dataspace_id: str,
        file_id: str,
        sha256: str,
        progress: Callable[[float, str], None] | None = None,
    ) -> dict[str, Any]:
        """Index one uploaded version of a file: the work of a ``dataspace-index`` task.

        Idempotent: a version already in the index is left alone. A version that is no
        longer the file's (a newer upload, or the file was deleted) is not written, even
        when that is found only just before writing (under the document's lock).

        Returns
        -------
        dict
            ``file`` (name), ``status`` (``indexed``, ``unchanged``, ``superseded`` or
            ``deleted``) and ``chunks`` (passages written).

        Raises
        ------
        UploadError
            The file cannot be read; its index status becomes ``failed``.
        """
        report = progress or (lambda fraction, message="": None)
        with self._session() as session:
            row = session.get(DataspaceFileRecord, file_id)
            if row is None or row.dataspace_id != dataspace_id:
                return {"file": file_id, "status": "deleted", "chunks": 0}
            name, current_sha = row.name, row.sha256
        outcome = {"file": name, "status": "superseded", "chunks": 0}
        if current_sha != sha256:
            return outcome
        index = self._index(dataspace_id, create=True)
        assert isinstance(index, PgRagStore), "indexing by workers needs the PostgreSQL backend"
        with tempfile.TemporaryDirectory(prefix="wxai-index-") as staging:
            staged = Path(staging) / name  # passages cite the file by this name
            try:
                shutil.copyfile(self._files_dir(dataspace_id) / file_id, staged)
            except FileNotFoundError:
                return {**outcome, "status": "deleted"}
            if file_sha256(staged) != sha256:  # replaced by a newer upload meanwhile
                return outcome
            report(0.1, f"reading and embedding {name}")
            done = index.add_document(
                staged, name, still_current=lambda: self._is_version(file_id, sha256)
            )
        if done.superseded:
            return outcome
        if done.failed:
            self._set_index_status(file_id, sha256, "failed")
            raise UploadError(f"{name}: {done.failed[0][1]}")
        self._set_index_status(file_id, sha256, "indexed")
        status = "unchanged" if done.skipped else "indexed"
        return {**outcome, "status": status, "chunks": done.n_chunks}

    def _is_version(self, file_id: str, sha256: str) -> bool:
        with self._session() as session:
            row = session.get(DataspaceFileRecord, file_id)
            return row is not None and row.sha256 == sha256

    def _set_index_status(self, file_id: str, sha256: str, status: str) -> None:
        """Record ``status`` on the file if ``sha256`` is still its version."""
        with self._tx() as session:
            row = session.get(DataspaceFileRecord, file_id)
            if row is not None and row.sha256 == sha256:
                row.index_status = status

    def open_file(
        self, principal: Principal, dataspace_id: str, file_id: str
    ) -> tuple[FileRecord, Path]:
        """A file of a dataspace the caller may read, and where its bytes are."""
        with self._session() as session:
            space = self._space(session, principal, dataspace_id, "read")
            row = session.get(DataspaceFileRecord, str(file_id)[:64])
            if row is None or row.dataspace_id != space.id:
                raise DataspaceNotFound(f"no file {file_id!r} in this dataspace")
            return self._record(row, space.name), self._files_dir(space.id) / row.id

    def delete_file(self, principal: Principal, dataspace_id: str, file_id: str) -> None:
        """Remove a file and its passages (editors and owners)."""
        with (
            self._upload_lock(str(dataspace_id)[:64])
            if self._exists(dataspace_id)
            else (contextlib.nullcontext())
        ):
            with self._tx() as session:
                space = self._space(session, principal, dataspace_id, "write")
                row = session.get(DataspaceFileRecord, str(file_id)[:64])
                if row is None or row.dataspace_id != space.id:
                    raise DataspaceNotFound(f"no file {file_id!r} in this dataspace")
                name, space_id = row.name, space.id
                session.delete(row)
            index = self._index(space_id, create=False)
            if index is not None:
                with contextlib.suppress(UnknownNameError):
                    index.remove(name)
            (self._files_dir(space_id) / str(file_id)).unlink(missing_ok=True)

    def _exists(self, dataspace_id: str) -> bool:
        with self._session() as session:
            return session.get(DataspaceRecord, str(dataspace_id)[:64]) is not None

    # -- retrieval ---------------------------------------------------------------------

    def search(
        self,
        principal: Principal,
        query: str,
        k: int = 5,
        dataspace_ids: list[str] | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best passages over the dataspaces the caller may read.

        ``dataspace_ids`` narrows the search; one the caller may not read raises
        :class:`DataspaceNotFound`. Access is checked again for every hit, after
        retrieval, so a membership removed meanwhile returns nothing from that space.
        """
        with self._session() as session:
            readable = self._readable_ids(session, principal)
            if dataspace_ids is not None:
                for space_id in dataspace_ids:
                    if space_id not in readable:
                        raise _not_found(space_id)
                readable = [s for s in readable if s in set(dataspace_ids)]
        candidates: list[tuple[str, Any]] = []
        if self.rag_url:  # one query; the readable spaces are a condition of its SQL
            engine, embedder = self._shared_index()
            candidates = search_spaces(
                engine, readable, query, k, embedder=embedder, ef_search=self.hnsw.ef_search
            )
        else:
            for space_id in readable:
                index = self._index(space_id, create=False)
                if index is not None:
                    candidates.extend((space_id, hit) for hit in index.search(query, k=k))
        hits: list[SearchHit] = []
        with self._session() as session:
            allowed: dict[str, DataspaceRecord | None] = {}
            for space_id, hit in candidates:
                if space_id not in allowed:
                    space = session.get(DataspaceRecord, space_id)
                    ok = space is not None and "read" in self._caps(session, principal, space)
                    allowed[space_id] = space if ok else None
                space = allowed[space_id]
                if space is None:
                    continue
                row = session.scalar(
                    select(DataspaceFileRecord).where(
                        DataspaceFileRecord.dataspace_id == space_id,
                        DataspaceFileRecord.name == hit.chunk.source,
                    )
                )
                if row is None:
                    continue
                hits.append(
                    SearchHit(
                        space_id,
                        space.name,
                        row.id,
                        row.name,
                        hit.chunk.text,
                        float(hit.score),
                        hit.chunk.page,
                        f"/api/dataspaces/{space_id}/files/{row.id}",
                    )
                )
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]

    def list_data_files(
        self, principal: Principal, kinds: tuple[str, ...] = ("data",)
    ) -> list[FileRecord]:
        """The GRIB, NetCDF and ODIM files (``kinds``: also ``"image"``) of every dataspace
        the caller may read."""
        with self._session() as session:
            readable = self._readable_ids(session, principal)
            names = {
                s.id: s.name
                for s in session.scalars(
                    select(DataspaceRecord).where(DataspaceRecord.id.in_(readable))
                )
            }
            rows = session.scalars(
                select(DataspaceFileRecord)
                .where(
                    DataspaceFileRecord.dataspace_id.in_(readable),
                    DataspaceFileRecord.kind.in_(kinds),
                )
                .order_by(DataspaceFileRecord.name)
            )
            return [self._record(row, names[row.dataspace_id]) for row in rows]

    def data_file(
        self, principal: Principal, ref: str, kinds: tuple[str, ...] = ("data",)
    ) -> tuple[FileRecord, Path]:
        """A data file (``kinds``: or image) the caller may read, by file id or display name.

        Raises
        ------
        DataspaceNotFound
            No readable data file has that id or name (the message lists the names).
        DataspaceError
            Several readable data files share the name (use the id).
        """
        files = self.list_data_files(principal, kinds)
        matches = [f for f in files if f.id == ref] or [f for f in files if f.name == ref]
        if not matches:
            known = ", ".join(sorted({f.name for f in files})) or "none"
            what = "data file" if kinds == ("data",) else "data file or image"
            raise DataspaceNotFound(
                f"no {what} {ref!r} in your dataspaces; the {what}s you can read: {known}"
            )
        if len(matches) > 1:
            places = ", ".join(f"{f.id} ({f.dataspace_name})" for f in matches)
            raise DataspaceError(f"several data files are called {ref!r}; use one id: {places}")
        record = matches[0]
        return record, self._files_dir(record.dataspace_id) / record.id


def open_dataspaces(settings: Settings, index_tasks: TaskStore | None = None) -> DataspaceStore:
    """The dataspaces of a deployment, configured as its settings say.

    Retrieval goes to PostgreSQL or files (``WXAI_RAG_BACKEND``); ``index_tasks`` is
    used only when uploads are indexed by workers (``WXAI_RAG_INGEST``).
    """
    rag_url = rag_database_url(
        settings.rag_backend, settings.resolved_database_url, settings.rag_database_url
    )
    by_worker = ingest_by_worker(settings.rag_ingest, rag_url)
    return DataspaceStore(
        settings.resolved_database_url,
        settings.home / "dataspaces",
        rag_url=rag_url,
        index_tasks=index_tasks if by_worker else None,
        hnsw=hnsw_params(settings),
    )


def hnsw_params(settings: Settings) -> HnswParams:
    """The vector-index parameters set by ``WXAI_RAG_HNSW_M``, ``_EF_CONSTRUCTION``,
    ``_EF_SEARCH``."""
    return HnswParams(
        m=settings.rag_hnsw_m,
        ef_construction=settings.rag_hnsw_ef_construction,
        ef_search=settings.rag_hnsw_ef_search,
    )
