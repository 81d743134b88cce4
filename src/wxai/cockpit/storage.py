"""Persistent task storage: one SQLAlchemy 2 table, accessed through :class:`TaskStore`.

Every state change is a compare-and-set ``UPDATE ... WHERE state IN (...)``, so the
HTTP handlers, the worker thread and other server processes sharing the database
can never move a task along two different paths at once. The worker's claim of a task
is the transition ``created -> checked``: of two workers only one wins it. On
PostgreSQL the claim also locks the row with ``SELECT ... FOR UPDATE SKIP LOCKED``, so
workers on many machines take different tasks without waiting for each other.

A claimed task records its worker (``worker_id``, host:pid:random) and the time the
worker last said it was alive (``heartbeat_at``); :meth:`TaskStore.fail_lost` fails the
tasks of workers that stopped sending heartbeats (killed, machine gone).
"""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
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
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from wxai.cockpit.db import Base, DatabaseStore, UTCDateTime, utcnow
from wxai.core.errors import TaskStateError, WxaiError

#: Error stored on tasks that were running when their server process stopped.
INTERRUPTED = "interrupted: the server stopped while the task was executing"
#: Start of the error stored on tasks whose worker stopped sending heartbeats.
WORKER_LOST = "worker lost"


def new_worker_id() -> str:
    """A name for a worker unique across machines: ``host:pid:random``."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


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


class TaskStore(DatabaseStore):
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
        from wxai.cockpit.schemas import finite  # schemas imports this module

        now = utcnow()
        record = TaskRecord(
            id=uuid.uuid4().hex,
            type=task_type,
            state=TaskState.CREATED,
            data=finite(data),
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
        if fields.get("result") is not None:  # PostgreSQL's JSON has no NaN or Infinity
            from wxai.cockpit.schemas import finite  # schemas imports this module

            fields["result"] = finite(fields["result"])
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

    def claim_next(self, worker_id: str) -> TaskRecord | None:
        """Claim the oldest ``created`` task for ``worker_id``: ``created -> checked``.

        PostgreSQL skips rows other workers hold locked (``FOR UPDATE SKIP LOCKED``);
        everywhere the update is also a compare-and-set on the state, so a task is
        claimed once whatever the database. The claim sets ``worker_id`` and
        ``heartbeat_at``.

        Returns
        -------
        TaskRecord or None
            The claimed task (state ``checked``), or None when nothing waits.
        """
        for _ in range(20):  # on SQLite another worker may win the row we saw
            with self._session.begin() as session:
                task_id = session.scalar(
                    select(TaskRecord.id)
                    .where(TaskRecord.state == TaskState.CREATED)
                    .order_by(TaskRecord.seq)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if task_id is None:
                    return None
                now = utcnow()
                claimed = session.execute(
                    update(TaskRecord)
                    .where(TaskRecord.id == task_id, TaskRecord.state == TaskState.CREATED)
                    .values(
                        state=TaskState.CHECKED,
                        worker_id=worker_id,
                        heartbeat_at=now,
                        updated_at=now,
                        message="checking the parameters",
                    )
                )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return self.get(task_id)
        return None

    def heartbeat(self, task_id: str, worker_id: str) -> bool:
        """Record that ``worker_id`` still runs ``task_id``; False if it no longer holds it."""
        statement = (
            update(TaskRecord)
            .where(
                TaskRecord.id == task_id,
                TaskRecord.worker_id == worker_id,
                TaskRecord.state.in_([TaskState.CHECKED, TaskState.EXECUTING]),
            )
            .values(heartbeat_at=utcnow())
        )
        with self._session.begin() as session:
            return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]

    def fail_lost(self, timeout: float) -> int:
        """Fail the ``checked``/``executing`` tasks whose worker is gone.

        A worker is gone when its task has had no heartbeat for ``timeout`` s (killed,
        machine stopped: error "worker lost: ..."), or at once when it ran on this
        machine and its process no longer exists (error "interrupted: ..."). Tasks of
        live workers are left alone, whichever process or machine they run in. A task
        claimed before heartbeats existed counts from its ``updated_at``.

        Returns
        -------
        int
            The number of tasks marked failed.
        """
        cutoff = utcnow() - timedelta(seconds=timeout)
        running = [TaskState.CHECKED, TaskState.EXECUTING]
        seen = func.coalesce(TaskRecord.heartbeat_at, TaskRecord.updated_at)
        with self._session() as session:
            rows = session.execute(
                select(TaskRecord.id, TaskRecord.worker_id, seen).where(
                    TaskRecord.state.in_(running)
                )
            ).all()
        failed = 0
        for task_id, worker_id, last_seen in rows:
            condition = [TaskRecord.id == task_id, TaskRecord.state.in_(running)]
            if _process_ended(worker_id):
                condition.append(TaskRecord.worker_id == worker_id)
                error = (
                    f"interrupted: the worker process {worker_id} stopped while the task "
                    "was executing; submit the task again"
                )
            elif last_seen is not None and _as_utc(last_seen) < cutoff:
                condition.append(seen < cutoff)
                error = (
                    f"{WORKER_LOST}: worker {worker_id or 'unknown'} sent no heartbeat since "
                    f"{_as_utc(last_seen).isoformat(timespec='seconds')} (timeout "
                    f"{timeout:g} s, WXAI_WORKER_HEARTBEAT_TIMEOUT); it was killed or its "
                    "machine stopped. Submit the task again"
                )
            else:
                continue
            statement = (
                update(TaskRecord)
                .where(*condition)
                .values(state=TaskState.FAILED, error=error, message="failed", updated_at=utcnow())
            )
            with self._session.begin() as session:
                failed += session.execute(statement).rowcount  # type: ignore[attr-defined]
        return failed


def _as_utc(value: datetime) -> datetime:
    """``value`` timezone-aware (``coalesce`` results skip the UTC column type)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _process_ended(worker_id: str | None) -> bool:
    """Whether ``worker_id`` (``host:pid:random``) names a process of this host that is gone.

    Only a definite answer counts: another host, an unparsable id or a process that
    exists (or that we may not signal) all give False, leaving the heartbeat to decide.
    """
    if not worker_id:
        return False
    parts = worker_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname()[:40] or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # this very process: alive (a stopped worker marks its own tasks)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
