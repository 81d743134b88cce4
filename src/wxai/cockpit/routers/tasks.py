"""``/api/tasks``: long-running work (lab runs, later trainings) as REST resources.

A task is created (``POST``), checked and executed by the worker, observed
(``GET``), cancelled (``PUT {"action": "cancel"}``) and deleted (``DELETE``).
Each task belongs to the user who created it; other users get 404 for it, as for
a task that does not exist. Admins see and manage every task.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import ValidationError

from wxai.cockpit.accounts import Principal
from wxai.cockpit.auth import UserDep
from wxai.cockpit.deps import StoreDep, WorkerDep
from wxai.cockpit.errors import format_validation_errors
from wxai.cockpit.schemas import ErrorOut, TaskAction, TaskCreate, TaskOut
from wxai.cockpit.storage import TaskNotFoundError, TaskRecord, TaskState, TaskStore
from wxai.cockpit.task_types import client_task_type
from wxai.core.errors import UnknownNameError

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

_BAD_REQUEST: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorOut}}


def owned_task(store: TaskStore, task_id: str, user: Principal) -> TaskRecord:
    """Task ``task_id`` if ``user`` may see it (owner or admin), else TaskNotFoundError."""
    record = store.get(task_id)
    if record.owner_id != user.id and not user.is_admin:
        raise TaskNotFoundError(task_id)
    return record


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a task",
    responses=_BAD_REQUEST,
)
def create_task(body: TaskCreate, user: UserDep, store: StoreDep, worker: WorkerDep) -> TaskOut:
    """Queue a task; the worker checks it, then executes it.

    The ``params`` are validated against the task type's schema here; whether the
    lab exists and its overrides compose is checked by the worker (state ``checked``
    or ``failed`` with the reason).
    """
    try:
        task_type = client_task_type(body.type)  # internal types (indexing) are not offered
    except UnknownNameError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    try:
        params = task_type.params.model_validate(body.params)
    except ValidationError as exc:
        detail = format_validation_errors(exc.errors())
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"invalid params for task type {body.type!r}: {detail}"
        ) from None
    data = {"type": body.type, "params": params.model_dump(mode="json")}
    record = store.add(body.type, data, owner_id=user.id)
    worker.wake()
    return TaskOut.from_record(record)


@router.get("", summary="List tasks")
def list_tasks(
    user: UserDep,
    store: StoreDep,
    state: Annotated[TaskState | None, Query(description="Only tasks in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many tasks")] = 100,
) -> list[TaskOut]:
    """The caller's tasks (an admin's: everyone's), newest first."""
    owner = None if user.is_admin else user.id
    records = store.list_tasks(None if state is None else [state], limit=limit, owner_id=owner)
    return [TaskOut.from_record(record) for record in records]


@router.get("/{task_id}", summary="Get a task", responses=_NOT_FOUND)
def get_task(task_id: str, user: UserDep, store: StoreDep) -> TaskOut:
    """One task: state, progress, message, and its result once completed."""
    return TaskOut.from_record(owned_task(store, task_id, user))


@router.put(
    "/{task_id}",
    summary="Act on a task (cancel)",
    responses={**_BAD_REQUEST, **_NOT_FOUND, **_CONFLICT},
)
def act_on_task(task_id: str, body: TaskAction, user: UserDep, store: StoreDep) -> TaskOut:
    """``{"action": "cancel"}``: a created or checked task is cancelled at once; an
    executing one stops at its next progress report (``cancel_requested`` is true
    until then). Completed, failed or cancelled tasks answer 409.
    """
    owned_task(store, task_id, user)
    if body.action == "cancel":
        return TaskOut.from_record(store.request_cancel(task_id))
    raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown action {body.action!r}")


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a task",
    responses={**_NOT_FOUND, **_CONFLICT},
)
def delete_task(task_id: str, user: UserDep, store: StoreDep) -> Response:
    """Delete a task that is not executing (409 while it executes: cancel it first)."""
    owned_task(store, task_id, user)
    store.delete(task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
