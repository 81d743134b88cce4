"""Persistent task storage: one SQLAlchemy 2 table, accessed through :class:`TaskStore`.

Every state change is a compare-and-set ``UPDATE ... WHERE state IN (...)``, so the
HTTP handlers, the worker thread and other server processes sharing the database
can never move a task along two different paths at once. The worker's claim of a task
is the transition ``created -> checked``: of two workers only one wins it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Integer,
    String,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from wxai.cockpit.db import Base, UTCDateTime, make_engine, migrate, utcnow
from wxai.core.errors import TaskStateError, WxaiError

#: Error stored on tasks that were running when their server process stopped.
INTERRUPTED = "interrupted: the server stopped while the task was executing"


class TaskState(StrEnum):
    """The life cycle of a task.

    ``created -> checked -> executing -> completed | failed``; ``cancelled`` from any
    state that is not final.
    """

    CREATED = "created"
    CHECKED = "checked"
    EXECUTING = "executing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED})
WAITING_STATES = frozenset({TaskState.CREATED, TaskState.CHECKED})


class TaskNotFoundError(WxaiError, LookupError):
    """No task has the given id."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"no task with id {task_id!r}; list the tasks with GET /api/tasks")


class TaskRecord(Base):
    """One task: its input (``data``), where it stands and what it produced."""

    __tablename__ = "tasks"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    type: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TaskStore:
    """Tasks in a relational database (SQLite by default).

    Parameters
    ----------
    url:
        SQLAlchemy database URL, e.g. ``sqlite:////home/me/.wxai/cockpit.db``.

    Notes
    -----
    Records returned by the methods are detached snapshots: reading them never
    touches the database again.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def create_tables(self) -> None:
        """Bring the cockpit database to the newest schema (:func:`wxai.cockpit.db.migrate`)."""
        migrate(self.engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- reading -------------------------------------------------------------------------

    def get(self, task_id: str) -> TaskRecord:
        """The task ``task_id``.

        Raises
        ------
        TaskNotFoundError
            If there is no such task.
        """
        with self._session() as session:
            record = session.scalar(select(TaskRecord).where(TaskRecord.id == task_id))
        if record is None:
            raise TaskNotFoundError(task_id)
        return record

    def list_tasks(
        self,
        states: Iterable[str] | None = None,
        limit: int = 100,
        owner_id: str | None = None,
    ) -> list[TaskRecord]:
        """Tasks, newest first, optionally only those in ``states`` or of ``owner_id``."""
        query = select(TaskRecord).order_by(TaskRecord.seq.desc()).limit(limit)
        if states is not None:
            query = query.where(TaskRecord.state.in_([str(s) for s in states]))
        if owner_id is not None:
            query = query.where(TaskRecord.owner_id == owner_id)
        with self._session() as session:
            return list(session.scalars(query))

    def next_created(self) -> TaskRecord | None:
        """The oldest task still waiting in state ``created``, if any."""
        query = (
            select(TaskRecord)
            .where(TaskRecord.state == TaskState.CREATED)
            .order_by(TaskRecord.seq)
            .limit(1)
        )
        with self._session() as session:
            return session.scalar(query)

    # -- writing -------------------------------------------------------------------------

    def add(self, task_type: str, data: dict[str, Any], owner_id: str | None = None) -> TaskRecord:
        """Store a new task in state ``created`` and return it.

        Parameters
        ----------
        owner_id:
            The account the task belongs to (None: nobody in particular).
        """
        now = utcnow()
        record = TaskRecord(
            id=uuid.uuid4().hex,
            type=task_type,
            state=TaskState.CREATED,
            data=data,
            progress=0.0,
            message="waiting for the worker",
            result=None,
            error=None,
            cancel_requested=False,
            owner_id=owner_id,
            created_at=now,
            updated_at=now,
        )
        with self._session.begin() as session:
            session.add(record)
        return record

    def transition(
        self, task_id: str, from_states: Sequence[str], to_state: str, **fields: Any
    ) -> bool:
        """Move ``task_id`` to ``to_state`` if it is in one of ``from_states``.

        Parameters
        ----------
        fields:
            Other columns to set at the same time (``message``, ``error``, ``result``,
            ``progress``).

        Returns
        -------
        bool
            Whether the task was moved (False if it was in another state or is gone).
        """
        statement = (
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.state.in_([str(s) for s in from_states]))
            .values(state=str(to_state), updated_at=utcnow(), **fields)
        )
        with self._session.begin() as session:
            return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]

    def report_progress(self, task_id: str, fraction: float, message: str) -> bool:
        """Record the progress of an executing task; return whether a cancel was requested."""
        statement = (
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.state == TaskState.EXECUTING)
            .values(progress=fraction, message=message, updated_at=utcnow())
        )
        with self._session.begin() as session:
            session.execute(statement)
            flag = session.scalar(
                select(TaskRecord.cancel_requested).where(TaskRecord.id == task_id)
            )
        return bool(flag)

    def request_cancel(self, task_id: str) -> TaskRecord:
        """Cancel a task: at once if it waits, at its next progress report if it executes.

        Raises
        ------
        TaskNotFoundError
            If there is no such task.
        TaskStateError
            If the task is already completed, failed or cancelled.
        """
        for _ in range(5):  # the worker may move the task between our read and our write
            record = self.get(task_id)
            state = TaskState(record.state)
            if state in FINAL_STATES:
                raise TaskStateError(
                    f"task {task_id} is already {state.value}; only created, checked or "
                    "executing tasks can be cancelled"
                )
            if state in WAITING_STATES:
                if self.transition(
                    task_id, [state], TaskState.CANCELLED, message="cancelled before it started"
                ):
                    return self.get(task_id)
                continue
            statement = (
                update(TaskRecord)
                .where(TaskRecord.id == task_id, TaskRecord.state == TaskState.EXECUTING)
                .values(
                    cancel_requested=True,
                    message="cancel requested; the task stops at its next progress report",
                    updated_at=utcnow(),
                )
            )
            with self._session.begin() as session:
                flagged = session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
            if flagged:  # read after the commit
                return self.get(task_id)
        raise TaskStateError(f"task {task_id} changed state while being cancelled; try again")

    def delete(self, task_id: str) -> None:
        """Delete a task that is not executing.

        Raises
        ------
        TaskNotFoundError
            If there is no such task.
        TaskStateError
            If the task is executing (cancel it first).
        """
        statement = delete(TaskRecord).where(
            TaskRecord.id == task_id, TaskRecord.state != TaskState.EXECUTING
        )
        with self._session.begin() as session:
            deleted = session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
        if not deleted:
            record = self.get(task_id)  # raises TaskNotFoundError when it does not exist
            raise TaskStateError(
                f"task {task_id} is {record.state}; cancel it with PUT /api/tasks/{task_id} "
                '{"action": "cancel"} and delete it once it has stopped'
            )

    def fail_interrupted(self) -> int:
        """Mark tasks left ``checked`` or ``executing`` by a stopped process as failed.

        Returns
        -------
        int
            The number of tasks marked.
        """
        statement = (
            update(TaskRecord)
            .where(TaskRecord.state.in_([TaskState.CHECKED, TaskState.EXECUTING]))
            .values(
                state=TaskState.FAILED,
                error=INTERRUPTED,
                message="interrupted",
                updated_at=utcnow(),
            )
        )
        with self._session.begin() as session:
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
