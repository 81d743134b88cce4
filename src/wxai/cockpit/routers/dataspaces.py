"""``/api/dataspaces``: private and group dataspaces, their members, files and search.

Every route checks the caller's access in :class:`~wxai.cockpit.dataspaces.DataspaceStore`;
a dataspace or file the caller may not use answers 404 exactly like a missing one.
Uploads are ``multipart/form-data`` with the file in the field ``file``, read as a
stream and refused with 413 as soon as they pass ``WXAI_UPLOAD_MAX_MB``, or when they
would take the dataspace past ``WXAI_DATASPACE_QUOTA_MB``. A full disk answers 507;
the files already stored are kept.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from wxai.cockpit.auth import UserDep
from wxai.cockpit.dataspaces import DataspaceInfo, DataspaceStore, FileRecord, SearchHit
from wxai.cockpit.form_stream import read_form
from wxai.cockpit.schemas import ErrorOut
from wxai.cockpit.uploads import QuotaExceeded, UploadError, check_quota, is_disk_full, safe_name

router = APIRouter(tags=["dataspaces"])

_BINARY = {"type": "string", "format": "binary"}
_NOT_FOUND = {404: {"model": ErrorOut, "description": "No such dataspace or file you may use"}}
_BAD = {400: {"model": ErrorOut, "description": "Invalid request"}}


def get_dataspaces(request: Request) -> DataspaceStore:
    """The dataspace store opened at startup."""
    return request.app.state.dataspaces


DataspacesDep = Annotated[DataspaceStore, Depends(get_dataspaces)]


class MemberOut(BaseModel):
    """A user or group holding a role in a dataspace."""

    kind: Literal["user", "group"]
    name: str
    role: str


class DataspaceOut(BaseModel):
    """A dataspace as the caller sees it (``role``: the caller's; ``admin`` manages only)."""

    id: str
    name: str
    kind: Literal["private", "group"]
    role: str
    created_at: datetime
    members: list[MemberOut]


class DataspaceIn(BaseModel):
    """Body of ``POST /api/dataspaces``: a group dataspace, shared with ``group`` (readers)."""

    name: str = Field(min_length=1, max_length=200)
    group: str | None = Field(default=None, max_length=64)


class MemberIn(BaseModel):
    """Body of ``PUT /api/dataspaces/{id}/members``: a user or a group, and its role."""

    user: str | None = Field(default=None, max_length=64)
    group: str | None = Field(default=None, max_length=64)
    role: Literal["owner", "editor", "reader"] = "reader"


class FileOut(BaseModel):
    """A file of a dataspace; ``summary`` holds variables, grid and times of data files."""

    id: str
    dataspace_id: str
    name: str
    kind: Literal["document", "data", "image"]
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime
    summary: dict[str, Any] | None
    index_status: Literal["indexed", "queued", "failed", "not indexed"] = Field(
        description="Whether search finds its passages: `queued` until a task worker has "
        "embedded it (where workers index uploads), `not indexed` for pictures"
    )
    url: str


class UploadOut(BaseModel):
    """The stored file and whether it was ``added``, ``updated`` or ``unchanged``."""

    file: FileOut
    status: Literal["added", "updated", "unchanged"]


def _space_out(info: DataspaceInfo) -> DataspaceOut:
    return DataspaceOut(
        id=info.id,
        name=info.name,
        kind=info.kind,  # type: ignore[arg-type]
        role=info.role,
        created_at=info.created_at,
        members=[MemberOut(kind=m.kind, name=m.name, role=m.role) for m in info.members],  # type: ignore[arg-type]
    )


def _file_out(record: FileRecord) -> FileOut:
    return FileOut(
        id=record.id,
        dataspace_id=record.dataspace_id,
        name=record.name,
        kind=record.kind,  # type: ignore[arg-type]
        media_type=record.media_type,
        size=record.size,
        sha256=record.sha256,
        uploaded_by=record.uploaded_by,
        created_at=record.created_at,
        summary=record.summary,
        index_status=record.index_status,
        url=record.url,
    )


@router.get("/api/dataspaces", summary="List your dataspaces")
def list_dataspaces(user: UserDep, spaces: DataspacesDep) -> list[DataspaceOut]:
    """Your private dataspace first, then the group dataspaces you belong to."""
    return [_space_out(info) for info in spaces.list_for(user)]


@router.post(
    "/api/dataspaces",
    summary="Create a group dataspace",
    status_code=status.HTTP_201_CREATED,
    responses=_BAD,
)
def create_dataspace(body: DataspaceIn, user: UserDep, spaces: DataspacesDep) -> DataspaceOut:
    """You become its owner; the members of ``group`` (one of yours) may read it."""
    return _space_out(spaces.create(user, body.name, body.group))


@router.get("/api/dataspaces/{dataspace_id}", summary="One dataspace", responses=_NOT_FOUND)
def get_dataspace(dataspace_id: str, user: UserDep, spaces: DataspacesDep) -> DataspaceOut:
    """The dataspace with its members and your role."""
    return _space_out(spaces.get(user, dataspace_id))


@router.delete(
    "/api/dataspaces/{dataspace_id}",
    summary="Delete a dataspace",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def delete_dataspace(dataspace_id: str, user: UserDep, spaces: DataspacesDep) -> Response:
    """Delete it with its files and index (owners; admins for group dataspaces)."""
    spaces.delete(user, dataspace_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/api/dataspaces/{dataspace_id}/members",
    summary="Give a user or group a role",
    responses={**_NOT_FOUND, **_BAD},
)
def set_member(
    dataspace_id: str, body: MemberIn, user: UserDep, spaces: DataspacesDep
) -> DataspaceOut:
    """Add a member or change their role (owners; admins for group dataspaces)."""
    info = spaces.set_member(user, dataspace_id, user=body.user, group=body.group, role=body.role)
    return _space_out(info)


@router.delete(
    "/api/dataspaces/{dataspace_id}/members/{kind}/{name}",
    summary="Remove a member",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, **_BAD},
)
def remove_member(
    dataspace_id: str,
    kind: Literal["user", "group"],
    name: str,
    user: UserDep,
    spaces: DataspacesDep,
) -> Response:
    """Take a user's or group's role away (a dataspace keeps at least one owner)."""
    target = {"user": name} if kind == "user" else {"group": name}
    spaces.remove_member(user, dataspace_id, **target)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/dataspaces/{dataspace_id}/files", summary="List the files", responses=_NOT_FOUND)
def list_files(dataspace_id: str, user: UserDep, spaces: DataspacesDep) -> list[FileOut]:
    """The files of a dataspace you may read, by name."""
    return [_file_out(record) for record in spaces.list_files(user, dataspace_id)]


@router.post(
    "/api/dataspaces/{dataspace_id}/files",
    summary="Upload a document or data file",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_NOT_FOUND,
        200: {"description": "A file of that name was replaced (or was unchanged)"},
        400: {"model": ErrorOut, "description": "Bad name or type, or a file that cannot be read"},
        413: {
            "model": ErrorOut,
            "description": "Larger than WXAI_UPLOAD_MAX_MB, or past WXAI_DATASPACE_QUOTA_MB",
        },
        507: {"model": ErrorOut, "description": "The server's disk is full; nothing was stored"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": _BINARY},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def upload_file(
    dataspace_id: str, request: Request, response: Response, user: UserDep, spaces: DataspacesDep
) -> UploadOut:
    """Store and index a file (editors and owners).

    Accepted: PDF, UTF-8 text, Markdown, HTML, NetCDF, GRIB, ODIM_H5 radar composites,
    PNG and JPEG (at most 20 MiB); the type is read from the content and must match the
    name. A file that cannot be read (a corrupt PDF
    or NetCDF file) answers 400 and keeps the previous version of the same name.
    Where task workers index uploads (``WXAI_RAG_INGEST``), the file's ``index_status``
    is ``queued`` until one has embedded it (then ``indexed``, or ``failed``).
    """
    await run_in_threadpool(spaces.check, user, dataspace_id, "write")
    settings = request.app.state.settings
    limit = int(settings.upload_max_mb * 2**20)
    form = await read_form(request, limit)
    filename, data = form.filename, form.data
    quota = int(getattr(settings, "dataspace_quota_mb", 0) * 2**20)
    try:
        if quota:
            await run_in_threadpool(
                _check_quota,
                spaces,
                user,
                dataspace_id,
                filename=filename,
                size=len(data),
                quota=quota,
            )
        record, state = await run_in_threadpool(spaces.add_file, user, dataspace_id, filename, data)
    except QuotaExceeded as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except (OSError, UploadError, sqlite3.OperationalError, OperationalError) as exc:
        if not is_disk_full(exc):
            raise
        raise HTTPException(
            status.HTTP_507_INSUFFICIENT_STORAGE,
            "the server's disk is full: the upload was not stored and the dataspace's "
            "other files are unchanged; try again later and tell the administrator",
        ) from None
    if record.index_status == "queued":
        request.app.state.worker.wake()  # this server's worker, if it runs one
    if state != "added":
        response.status_code = status.HTTP_200_OK
    return UploadOut(file=_file_out(record), status=state)  # type: ignore[arg-type]


def _check_quota(
    spaces: DataspaceStore, user: Any, dataspace_id: str, *, filename: str, size: int, quota: int
) -> None:
    """Raise QuotaExceeded unless the dataspace has room for ``size`` more bytes.

    A stored file of the same name would be replaced, so its size is not counted.
    """
    name = safe_name(filename)
    used = sum(f.size for f in spaces.list_files(user, dataspace_id) if f.name != name)
    check_quota(name, used, size, quota)


@router.get(
    "/api/dataspaces/{dataspace_id}/files/{file_id}",
    summary="Download a file",
    responses={**_NOT_FOUND, 200: {"content": {"application/octet-stream": {"schema": _BINARY}}}},
    response_class=FileResponse,
)
def download_file(
    dataspace_id: str, file_id: str, user: UserDep, spaces: DataspacesDep
) -> FileResponse:
    """The file's bytes as an attachment, with the type read from its content."""
    record, path = spaces.open_file(user, dataspace_id, file_id)
    return FileResponse(
        path,
        media_type=record.media_type,
        filename=record.name,
        content_disposition_type="attachment",
    )


@router.delete(
    "/api/dataspaces/{dataspace_id}/files/{file_id}",
    summary="Delete a file",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def delete_file(dataspace_id: str, file_id: str, user: UserDep, spaces: DataspacesDep) -> Response:
    """Remove the file and its passages from the index (editors and owners)."""
    spaces.delete_file(user, dataspace_id, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


QueryDep = Annotated[str, Query(min_length=1, max_length=2000, description="the query")]
KDep = Annotated[int, Query(ge=1, le=50, description="number of passages")]


@router.get(
    "/api/dataspaces/{dataspace_id}/search", summary="Search one dataspace", responses=_NOT_FOUND
)
def search_dataspace(
    dataspace_id: str, q: QueryDep, user: UserDep, spaces: DataspacesDep, k: KDep = 5
) -> list[SearchHit]:
    """The ``k`` best passages of one dataspace you may read (BM25 and vectors fused)."""
    return spaces.search(user, q, k, dataspace_ids=[dataspace_id])


@router.get("/api/search", summary="Search all your dataspaces")
def search_all(q: QueryDep, user: UserDep, spaces: DataspacesDep, k: KDep = 5) -> list[SearchHit]:
    """The ``k`` best passages over every dataspace you may read."""
    return spaces.search(user, q, k)
